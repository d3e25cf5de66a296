// A minimal IMD v3 engine for the decode benchmark: serves one client `frames` frames of `atoms` atoms with
// time, energies, box, positions, velocities and forces, as fast as the client reads (pace 0) or one every
// `pace` ms. The TIME packet's `time` field carries the wall clock (ms) at which the frame was written, so
// the client can measure latency. Prints "PORT <n>", then serves, then exits.
import { createServer } from 'node:net';
import { energiesBody, floatsBody, handshake, header, ImdType, sessionInfo, timeBody } from '../../packages/imd/dist/index.js';

const [frames, atoms, pace] = process.argv.slice(2).map(Number);
const le = true;
const xs = (k) =>
  floatsBody(
    Float32Array.from({ length: 3 * atoms }, (_, i) => k + i * 1e-3),
    le,
  );
const energies = { step: 0, temperature: 300, total: -1, potential: -2, vdw: 0, coulomb: 0, bonds: 0, angles: 0, dihedrals: 0, impropers: 0 };
const rest = Buffer.concat([
  header(ImdType.ENERGIES, 1),
  energiesBody(energies, le),
  header(ImdType.BOX, 1),
  floatsBody([50, 0, 0, 0, 50, 0, 0, 0, 50], le),
  header(ImdType.FCOORDS, atoms),
  xs(1),
  header(ImdType.VELOCITIES, atoms),
  xs(2),
  header(ImdType.FORCES, atoms),
  xs(3),
]);
const now = () => performance.timeOrigin + performance.now();

const server = createServer({ noDelay: true }, (s) => {
  s.write(
    Buffer.concat([handshake(3, le), sessionInfo({ time: true, energies: true, box: true, positions: true, wrapped: false, velocities: true, forces: true })]),
  );
  s.once('data', async () => {
    s.on('data', () => undefined);
    for (let i = 0; i < frames; i++) {
      if (pace > 0) await new Promise((r) => setTimeout(r, pace));
      s.cork();
      s.write(Buffer.concat([header(ImdType.TIME, 1), timeBody(0.002, now(), i, le)]));
      const ok = s.write(rest);
      s.uncork();
      if (!ok) await new Promise((r) => s.once('drain', r));
    }
    s.end();
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));

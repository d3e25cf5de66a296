/**
 * A private single-node SLURM cluster for a test: munged, slurmctld and slurmd from Debian's packages, with
 * their own key, socket, ports, state and logs in a temporary directory. Stopped by pid.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

export interface PrivateSlurm {
  readonly dir: string;
  /** The environment SLURM's client commands (sbatch, squeue, scancel) need. */
  readonly env: NodeJS.ProcessEnv;
  run(cmd: string, args: string[], extra?: Record<string, string>): { code: number | null; stdout: string; stderr: string };
  stop(): void;
}

const pidOf = (file: string): number | undefined => {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
};

export async function startSlurm(): Promise<PrivateSlurm> {
  const dir = mkdtempSync(join(tmpdir(), 'westream-slurm-'));
  for (const d of ['state', 'spool', 'munge']) mkdirSync(join(dir, d), { mode: 0o700 });
  const must = (cmd: string, args: string[]): void => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  };
  const key = join(dir, 'munge/munge.key');
  must('mungekey', ['-c', '-k', key]);
  const sock = join(dir, 'munge/munge.sock');
  must('munged', [
    '--key-file',
    key,
    '--socket',
    sock,
    '--pid-file',
    join(dir, 'munge/munged.pid'),
    '--log-file',
    join(dir, 'munge/munged.log'),
    '--seed-file',
    join(dir, 'munge/seed'),
    '-f',
  ]);
  const conf = join(dir, 'slurm.conf');
  const node = hostname();
  writeFileSync(
    conf,
    [
      'ClusterName=westream-test',
      `SlurmctldHost=${node}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${await freePort()}`,
      `SlurmdPort=${await freePort()}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${sock}`,
      'CredType=cred/munge',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      'JobAcctGatherType=jobacct_gather/none',
      'KillWait=5',
      // More CPUs than the machine has, so that several one-CPU jobs run at once on this one node.
      'SlurmdParameters=config_overrides',
      `NodeName=${node} CPUs=8 RealMemory=1000 State=UNKNOWN`,
      `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const run = (cmd: string, args: string[], extra: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...env, ...extra } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const stop = (): void => {
    for (const f of ['slurmd.pid', 'slurmctld.pid', 'munge/munged.pid']) {
      const pid = pidOf(join(dir, f));
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
    }
  };
  try {
    must('slurmctld', ['-f', conf]);
    must('slurmd', ['-f', conf]);
    const end = Date.now() + 30_000;
    for (;;) {
      const s = run('sinfo', ['-h', '-o', '%T']).stdout.trim();
      if (s === 'idle') break;
      if (Date.now() > end) throw new Error(`SLURM did not come up (sinfo: '${s}'):\n${readFileSync(join(dir, 'slurmctld.log'), 'utf8').slice(-2000)}`);
      spawnSync('sleep', ['0.2']);
    }
  } catch (e) {
    stop();
    throw e;
  }
  return { dir, env, run, stop };
}

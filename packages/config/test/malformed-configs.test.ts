/**
 * A corpus of broken configs. Each names the problem the user must see: file:line:col, the key path,
 * what was expected and what was found. Every case is a small edit of a valid config.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, loadConfigText } from '@westream/config';

const minimal = readFileSync(fileURLToPath(new URL('./fixtures/minimal.yaml', import.meta.url)), 'utf8');

interface Case {
  readonly name: string;
  readonly edit: (text: string) => string;
  /** Expected error lines (regexes over `file:line:col: path: message`), in file order. */
  readonly errors: RegExp[];
}

const sub = (from: string | RegExp, to: string) => (t: string) => {
  const out = t.replace(from, to);
  if (out === t) throw new Error(`test edit did not apply: ${String(from)}`);
  return out;
};
const append = (more: string) => (t: string) => t + more;

const cases: Case[] = [
  { name: 'pcoord_len is a string', edit: sub('pcoord_len: 11', 'pcoord_len: eleven'), errors: [/^west\.yaml:5:7: west\.system\.system_options\.pcoord_len: expected an integer ≥ 1, found "eleven" \(string\)$/] },
  { name: 'pcoord_len is zero', edit: sub('pcoord_len: 11', 'pcoord_len: 0'), errors: [/:5:7: west\.system\.system_options\.pcoord_len: expected an integer ≥ 1, found 0 \(integer\)$/] },
  { name: 'pcoord_ndim is fractional', edit: sub('pcoord_ndim: 1', 'pcoord_ndim: 1.5'), errors: [/:4:7: .*pcoord_ndim: expected an integer ≥ 1, found 1\.5 \(number\)$/] },
  { name: 'pcoord_dtype unsupported', edit: sub('numpy.float32', 'numpy.int8'), errors: [/:6:7: .*pcoord_dtype: expected !!python\/name:numpy\.float32 or !!python\/name:numpy\.float64, found 'numpy\.int8'$/] },
  { name: 'pcoord_len missing without a driver', edit: sub('      pcoord_len: 11\n', ''), errors: [/:3:5: west\.system\.system_options\.pcoord_len: missing; WESTPA requires it when no system driver is given$/] },
  { name: 'bins missing', edit: sub(/      bins:\n.*\n.*\n/, ''), errors: [/:3:5: west\.system\.system_options\.bins: missing; WESTPA requires it when no system driver is given$/] },
  { name: 'unsupported bin mapper type', edit: sub('type: RectilinearBinMapper', 'type: VoronoiBinMapper'), errors: [/:8:9: .*bins\.type: bin mapper type 'VoronoiBinMapper' is not supported; supported: RectilinearBinMapper, RecursiveBinMapper/] },
  { name: 'boundary is not a number', edit: sub('0.0, 1.0, 2.0', '0.0, one, 2.0'), errors: [/:9:\d+: .*bins\.boundaries\.0\.2: expected a number, 'inf' or '-inf', found "one" \(string\)$/] },
  { name: 'boundaries decrease', edit: sub('0.0, 1.0, 2.0', '0.0, 2.0, 1.0'), errors: [/:9:9: .*bins\.boundaries: boundaries\[0\] must increase strictly: entry 3 \(1\) is not above entry 2 \(2\)$/] },
  { name: 'boundaries equal once rounded to float32', edit: sub('0.0, 1.0, 2.0', '0.0, 1.0, 1.00000001'), errors: [/boundaries\[0\] must increase strictly: entry 3 .* once rounded to float32, as WESTPA compares them$/] },
  { name: 'boundaries not a list', edit: sub('boundaries: [[-inf, 0.0, 1.0, 2.0, inf]]', 'boundaries: 3'), errors: [/:9:9: .*bins\.boundaries: expected a list with one list of boundaries per dimension, found 3 \(integer\)$/] },
  { name: 'unevaluable boundary expression', edit: sub('[[-inf, 0.0, 1.0, 2.0, inf]]', "['np.random.rand(5)']"), errors: [/bins\.boundaries\.0: westream cannot evaluate the boundary expression 'np\.random\.rand\(5\)'; write the boundaries as a list/] },
  { name: 'bins dimensions differ from pcoord_ndim', edit: sub('pcoord_ndim: 1', 'pcoord_ndim: 2'), errors: [/:7:7: .*bins: the bin mapper has 1 dimension but pcoord_ndim is 2$/] },
  { name: 'target count list of the wrong length', edit: sub('bin_target_counts: 4', 'bin_target_counts: [4, 4]'), errors: [/:10:7: .*bin_target_counts: has 2 entries but the bins define 4 bins; give one count per bin, or one integer for all$/] },
  { name: 'target count negative', edit: sub('bin_target_counts: 4', 'bin_target_counts: -1'), errors: [/bin_target_counts: expected an integer ≥ 0 or a list of integers ≥ 0, found -1 \(integer\)$/] },
  { name: 'recursive mapper without base', edit: sub(/type: RectilinearBinMapper\n\s+boundaries: .*\n/, 'type: RecursiveBinMapper\n        mappers: []\n'), errors: [/:7:7: .*bins\.base: missing; RecursiveBinMapper needs a base mapper/] },
  { name: 'recursive child without at', edit: sub(/type: RectilinearBinMapper\n\s+boundaries: .*\n/, 'type: RecursiveBinMapper\n        base: {type: RectilinearBinMapper, boundaries: [[0, 1, inf]]}\n        mappers: [{type: RectilinearBinMapper, boundaries: [[0, 0.5, 1]]}]\n'), errors: [/bins\.mappers\.0\.replaces_bin_at: expected the point whose bin is replaced, e\.g\. \[1\.5\], found nothing$/] },
  { name: 'wallclock malformed', edit: sub('max_run_wallclock: 1:00:00', 'max_run_wallclock: 1h'), errors: [/:13:5: west\.propagation\.max_run_wallclock: expected seconds, HH:MM:SS or DD:HH:MM:SS, found "1h" \(string\)$/] },
  { name: 'max_total_iterations negative', edit: sub('max_total_iterations: 10', 'max_total_iterations: -3'), errors: [/:12:5: west\.propagation\.max_total_iterations: expected an integer ≥ 1, found -3 \(integer\)$/] },
  { name: 'propagator neither executable nor module.Class', edit: sub('propagator: executable', 'propagator: odld'), errors: [/:14:5: west\.propagation\.propagator: expected 'executable' or a Python class as module\.Class, found 'odld'$/] },
  { name: 'Python system driver of a config not on disk', edit: sub('  system:\n', '  system:\n    driver: odld_system.ODLDSystem\n'), errors: [/:3:5: west\.system\.driver: the config must be a file on disk for westpa to read it/] },
  { name: 'we setting of the wrong type', edit: append('  we:\n    adjust_counts: maybe\n'), errors: [/:27:5: west\.we\.adjust_counts: expected true or false, found "maybe" \(string\)$/] },
  { name: 'thresholds inverted', edit: append('  we:\n    smallest_allowed_weight: 0.5\n    largest_allowed_weight: 0.1\n'), errors: [/west\.we\.smallest_allowed_weight: must be below largest_allowed_weight \(0\.1\), found 0\.5$/] },
  { name: 'data_refs.segment missing', edit: sub(/      segment: .*\n/, ''), errors: [/:17:5: west\.data\.data_refs\.segment: missing; expected a string$/] },
  { name: 'template field unknown', edit: sub('{segment.seg_id:06d}\n      basis', '{segment.segid:06d}\n      basis'), errors: [/:18:7: west\.data\.data_refs\.segment: \{segment\.segid\}: segment has no 'segid'; known: n_iter, seg_id/] },
  { name: 'template brace unclosed', edit: sub('{basis_state.auxref}', '{basis_state.auxref'), errors: [/west\.data\.data_refs\.basis_state: bad template '.*': unclosed '\{' at column \d+$/] },
  { name: 'propagator executable missing', edit: sub(/    propagator:\n      executable: .*\n/, '    propagator:\n'), errors: [/:22:5: west\.executable\.propagator\.executable: missing; expected a non-empty string$/] },
  { name: 'propagator section absent', edit: sub(/    propagator:\n(      .*\n)+/, ''), errors: [/:21:3: west\.executable\.propagator: missing; the executable propagator needs west\.executable\.propagator\.executable \(your runseg\.sh\)$/] },
  { name: 'propagator executable empty', edit: sub('executable: $WEST_SIM_ROOT/westpa_scripts/runseg.sh', "executable: ''"), errors: [/:23:7: west\.executable\.propagator\.executable: expected a non-empty string, found "" \(string\)$/] },
  { name: 'gen_istates without gen_istate', edit: sub('propagator: executable\n', 'propagator: executable\n    gen_istates: true\n'), errors: [/west\.propagation\.gen_istates: is true but west\.executable\.gen_istate is not configured/] },
  { name: 'loader not a function name', edit: append('    datasets:\n      - name: rmsd\n        loader: load rmsd\n'), errors: [/west\.data\.datasets\.0\.loader: expected aux_data_loader, npy_data_loader or your Python function as module\.function, found 'load rmsd'$/] },
  { name: 'westream key misspelt', edit: append('  westream:\n    work_manger: bullmq\n'), errors: [/:27:5: west\.westream\.work_manger: unknown key; did you mean 'work_manager'\?$/] },
  { name: 'westream work manager unknown', edit: append('  westream:\n    work_manager: zmq\n'), errors: [/west\.westream\.work_manager: expected 'local' or 'bullmq', found "zmq" \(string\)$/] },
  { name: 'westream seed too large', edit: append('  westream:\n    seed: "18446744073709551616"\n'), errors: [/west\.westream\.seed: expected a whole number 0 ≤ seed < 2\^64, found 18446744073709551616$/] },
  { name: 'api port out of range', edit: append('  westream:\n    api:\n      port: 70000\n'), errors: [/west\.westream\.api\.port: expected an integer ≥ 0 and ≤ 65535, found 70000 \(integer\)$/] },
  { name: 'Python object tag', edit: sub('bin_target_counts: 4', 'bin_target_counts: !!python/object/apply:os.system ["true"]'), errors: [/:10:7: west\.system\.system_options\.bin_target_counts: the tag !!python\/object\/apply:os\.system runs Python code/] },
  { name: 'YAML syntax error', edit: sub('  propagation:\n', '  propagation:\n   - bad: [\n'), errors: [/^west\.yaml:\d+:\d+: YAML syntax: /] },
  { name: 'not a WESTPA config at all', edit: () => '- just\n- a list\n', errors: [/^west\.yaml:1:1: expected a mapping with a top-level "west:" key; is this a west\.cfg\?$/] },
  { name: 'several problems at once, in file order', edit: (t) => sub('pcoord_len: 11', 'pcoord_len: x')(sub('max_total_iterations: 10', 'max_total_iterations: y')(t)), errors: [/:5:7: .*pcoord_len: expected an integer/, /:12:5: .*max_total_iterations: expected an integer/] },
  // stream_trajectory (westream's live analysis)
  { name: 'stream_trajectory without an analysis', edit: append('    stream_trajectory:\n      port_discovery: engine\n'), errors: [/:26:5: west\.executable\.stream_trajectory: needs an analysis: set 'executable' \(your program\) or 'builtin' \(pcoord, guard, record\)$/] },
  { name: 'builtin record with an unknown field', edit: append('    stream_trajectory:\n      builtin: record\n      record: {fields: [positions]}\n'), errors: [/west\.executable\.stream_trajectory\.record\.fields\.0: expected 'position', 'velocity' or 'force', found "positions" \(string\)$/] },
  { name: 'stream_trajectory builtin unknown', edit: append('    stream_trajectory:\n      builtin: rmsd\n'), errors: [/:27:7: west\.executable\.stream_trajectory\.builtin: expected .*'pcoord'.*found "rmsd" \(string\)$/] },
  { name: 'builtin pcoord without atoms', edit: append('    stream_trajectory:\n      builtin: pcoord\n'), errors: [/west\.executable\.stream_trajectory\.pcoord: builtin pcoord needs 'pcoord: \{atoms: \[i, j\]\}'/] },
  { name: 'builtin pcoord with atoms and groups', edit: append('    stream_trajectory:\n      builtin: pcoord\n      pcoord: {atoms: [0, 1], groups: [[0], [1]]}\n'), errors: [/stream_trajectory\.pcoord: give exactly one of 'atoms' \(two atom indices\) or 'groups'/] },
  { name: 'builtin pcoord with one atom', edit: append('    stream_trajectory:\n      builtin: pcoord\n      pcoord: {atoms: [3]}\n'), errors: [/:28:16: west\.executable\.stream_trajectory\.pcoord\.atoms: expected a list of 2 integers ≥ 0, found a list of 1 item$/] },
  { name: 'builtin guard without a limit', edit: append('    stream_trajectory:\n      builtin: guard\n'), errors: [/stream_trajectory\.guard: builtin guard needs 'guard: \{max_displacement: <Å between frames>\}'$/] },
  { name: 'port pattern without a group', edit: append("    stream_trajectory:\n      builtin: guard\n      guard: {max_displacement: 3}\n      port_pattern: 'port \\d+'\n"), errors: [/stream_trajectory\.port_pattern: 'port \\d\+' has no group: put the port in parentheses/] },
  { name: 'port pattern not a regular expression', edit: append("    stream_trajectory:\n      builtin: guard\n      guard: {max_displacement: 3}\n      port_pattern: 'port (\\d+'\n"), errors: [/stream_trajectory\.port_pattern: 'port \(\\d\+' is not a regular expression/] },
  { name: 'port discovery from a log that is not kept', edit: (t) => sub(/      stdout: .*\n      stderr: stdout\n/, '')(t) + '    stream_trajectory:\n      builtin: guard\n      guard: {max_displacement: 3}\n', errors: [/stream_trajectory\.port_discovery: 'engine' reads the port from the propagator's log, but west\.executable\.propagator\.stdout is not set/] },
  { name: 'port discovery strategy unknown', edit: append('    stream_trajectory:\n      builtin: guard\n      guard: {max_displacement: 3}\n      port_discovery: fixed\n'), errors: [/stream_trajectory\.port_discovery: expected 'engine' or 'reserve', found "fixed" \(string\)$/] },
];

describe('malformed configs: one located message per problem', () => {
  it('has a corpus of at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it.each(cases)('$name', ({ edit, errors }) => {
    let thrown: unknown;
    try {
      loadConfigText(edit(minimal), 'west.yaml');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const lines = (thrown as ConfigError).issues.filter((i) => i.severity === 'error').map(formatIssue);
    expect(lines, lines.join("\n")).toHaveLength(errors.length);
    errors.forEach((re, i) => expect(lines[i]).toMatch(re));
  });
});

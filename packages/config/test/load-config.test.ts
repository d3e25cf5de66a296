import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadConfigText, mapperFromSpec } from '@westream/config';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('WESTPA tutorial west.cfg (basic_nacl_gmx) loads unchanged', () => {
  const { config, warnings } = loadConfig(fixture('westpa-tutorial-nacl.cfg'));

  it('reads system_options as WESTPA does', () => {
    expect(config.system.pcoordLen).toBe(51);
    expect(config.system.pcoordNdim).toBe(1);
    expect(config.system.pcoordDtype).toBe('float32');
    expect(config.system.nbins).toBe(22);
    expect(config.system.binTargetCounts).toEqual(new Array(22).fill(2));
    const b = config.system.bins;
    expect(b.type).toBe('RectilinearBinMapper');
    if (b.type === 'RectilinearBinMapper') {
      expect(b.boundaries[0]?.[0]).toBe(0);
      expect(b.boundaries[0]?.at(-1)).toBe(Infinity); // the quoted 'inf'
      expect(b.boundaries[0]?.length).toBe(23);
    }
    // a point the tutorial's bins put in bin 9 ([4.5, 5.0))
    expect(mapperFromSpec(config.system.bins).assignPoint([4.7], 0)).toBe(9);
  });

  it('reads propagation, data and executables with WESTPA defaults', () => {
    expect(config.propagation).toEqual({
      maxTotalIterations: 2,
      maxRunWallclock: 259200,
      propagator: 'executable',
      pythonPropagator: null,
      genIstates: true,
      blockSize: 1,
      saveTransitionMatrices: false,
    });
    expect(config.we).toEqual({
      adjustCounts: true,
      thresholds: true,
      weightSplitThreshold: 2,
      weightMergeCutoff: 1,
      largestAllowedWeight: 1,
      smallestAllowedWeight: 1e-310,
    });
    expect(config.data.westDataFile).toBe('west.h5');
    expect(config.data.dataRefs.segment).toBe('$WEST_SIM_ROOT/traj_segs/{segment.n_iter:06d}/{segment.seg_id:06d}');
    expect(config.data.dataRefs.iteration).toBe('$WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5');
    expect(config.data.datasets).toEqual([expect.objectContaining({ name: 'pcoord', scaleoffset: 4, h5path: 'pcoord' })]);
    expect(config.executable.environ).toEqual({ PROPAGATION_DEBUG: '1' });
    expect(config.executable.propagator).toEqual({
      executable: '$WEST_SIM_ROOT/westpa_scripts/runseg.sh',
      stdin: null,
      stdout: '$WEST_SIM_ROOT/seg_logs/{segment.n_iter:06d}-{segment.seg_id:06d}.log',
      stderr: 'stdout',
      cwd: null,
      environ: { SEG_DEBUG: '1' },
      enabled: true,
    });
    expect(config.executable.preIteration?.enabled).toBe(false);
    expect(config.executable.postIteration?.enabled).toBe(true);
    expect(config.executable.genIstate?.executable).toBe('$WEST_SIM_ROOT/westpa_scripts/gen_istate.sh');
    expect(config.westream.workManager).toBe('local');
    expect(config.westream.api).toEqual({ host: '127.0.0.1', port: 8080, allowedHosts: [] });
    // Its one warning: scaleoffset (lossy in WESTPA) is not applied. data_refs.iteration turns on the HDF5 framework.
    expect(warnings.map((w) => `${w.path}`).sort()).toEqual(['west.data.datasets.0.scaleoffset']);
    expect(config.data.trajectoryLoader).toBe('mdtraj_trajectory_loader');
  });
});

const minimal = readFileSync(fixture('minimal.yaml'), 'utf8');

describe('value forms WESTPA accepts', () => {
  const load = (text: string) => loadConfigText(text, 'west.yaml').config;

  it('max_run_wallclock: HH:MM:SS, DD:HH:MM:SS (quoted), seconds', () => {
    expect(load(minimal).propagation.maxRunWallclock).toBe(3600);
    expect(load(minimal.replace('1:00:00', "'2:01:00:30'")).propagation.maxRunWallclock).toBe(2 * 86400 + 3600 + 30);
    expect(load(minimal.replace('1:00:00', '7200')).propagation.maxRunWallclock).toBe(7200);
  });

  it('warns that an unquoted DD:HH:MM:SS means something else to PyYAML', () => {
    const { config, warnings } = loadConfigText(minimal.replace('1:00:00', '3:00:00:00'), 'west.yaml');
    expect(config.propagation.maxRunWallclock).toBe(3 * 86400);
    expect(warnings.map((w) => w.message).join()).toMatch(/base-60 number \(648000 s\)/);
  });

  it('bin_target_counts as a list, float64 dtype, numeric strings and np.arange boundaries', () => {
    const c = load(
      minimal
        .replace('bin_target_counts: 4', 'bin_target_counts: [1, 2, 3, 4]')
        .replace('numpy.float32', 'numpy.float64')
        .replace('[[-inf, 0.0, 1.0, 2.0, inf]]', "[['-inf', '0', 1e0, 2.0, 'inf']]"),
    );
    expect(c.system.binTargetCounts).toEqual([1, 2, 3, 4]);
    expect(c.system.pcoordDtype).toBe('float64');
    expect(c.system.bins).toEqual({ type: 'RectilinearBinMapper', boundaries: [[-Infinity, 0, 1, 2, Infinity]] });
    const arange = load(minimal.replace('[[-inf, 0.0, 1.0, 2.0, inf]]', "['np.arange(0, 2.5, 0.5)']").replace('bin_target_counts: 4', 'bin_target_counts: 2'));
    expect(arange.system.bins).toEqual({ type: 'RectilinearBinMapper', boundaries: [[0, 0.5, 1, 1.5, 2]] });
  });

  it('RecursiveBinMapper with base/at and base_mapper/replaces_bin_at, numbered as WESTPA numbers them', () => {
    const rec = `{type: RecursiveBinMapper, base: {type: RectilinearBinMapper, boundaries: [[-inf, 0.0, 1.0, 2.0, inf]]},
            mappers: [{type: RectilinearBinMapper, boundaries: [[0.0, 0.25, 0.5, 0.75, 1.0]], at: [0.5]}]}`;
    const c = load(minimal.replace(/type: RectilinearBinMapper\n\s+boundaries: \[\[-inf, 0.0, 1.0, 2.0, inf\]\]/, rec));
    expect(c.system.nbins).toBe(7);
    const m = mapperFromSpec(c.system.bins);
    // base bins 0,2,3 keep indices 0,1,2; the replaced bin [0,1) becomes bins 3..6
    expect([-5, 0.1, 0.3, 0.6, 0.9, 1.5, 7].map((x) => m.assignPoint([x], 0))).toEqual([0, 3, 4, 5, 6, 1, 2]);
    const alt = load(
      minimal.replace(
        /type: RectilinearBinMapper\n\s+boundaries: \[\[-inf, 0.0, 1.0, 2.0, inf\]\]/,
        rec.replace('base:', 'base_mapper:').replace('at: [0.5]', 'replaces_bin_at: [0.5]'),
      ),
    );
    expect(alt.system.bins).toEqual(c.system.bins);
  });

  it('accepts WESTPA sections it does not run, with a warning naming them', () => {
    const { warnings } = loadConfigText(
      `${minimal}  analysis:\n    directory: ANALYSIS\n  drivers:\n    module_path: [lib]\n    data_manager: hdf5\n  extra_thing: 1\n`,
      'west.yaml',
    );
    const text = warnings.map((w) => `${w.line}:${w.path}: ${w.message}`);
    expect(text).toEqual([expect.stringMatching(/^31:west\.extra_thing: unknown key, ignored/)]);
  });

  it('refuses plugins and custom WE drivers, naming each and saying what westream does instead', () => {
    const text = `${minimal}  plugins:\n    - plugin: westpa.westext.wess.WESSDriver\n      enabled: true\n  drivers:\n    we_driver: mymod.MyDriver\n    subgroup_function: mymod.group_by_parent\n    subgroup_arguments: [1]\n`;
    let thrown: unknown;
    try {
      loadConfigText(text, 'west.yaml');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const lines = (thrown as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^west\.plugins\.0: WESTPA plugin westpa\.westext\.wess\.WESSDriver hooks Python into the run loop .* remove west\.plugins/),
        expect.stringMatching(
          /^west\.drivers\.we_driver: 'mymod\.MyDriver' is a custom Python WE driver; .* remove west\.drivers\.we_driver .*or run this set-up with w_run/,
        ),
        expect.stringMatching(/^west\.drivers\.subgroup_arguments: expected a mapping of keyword arguments for mymod\.group_by_parent, found/),
      ]),
    );
  });

  it("takes a subgroup function and its keyword arguments; WESTPA's identity function by name is the default", () => {
    const { config } = loadConfigText(
      `${minimal}  drivers:\n    subgroup_function: groups.by_history\n    subgroup_arguments:\n      hist_length: 5\n`,
      'west.yaml',
    );
    expect(config.subgroup).toEqual({ function: 'groups.by_history', arguments: { hist_length: 5 } });
    expect(
      loadConfigText(`${minimal}  drivers:\n    subgroup_function: westpa.core.we_driver._group_walkers_identity\n`, 'west.yaml').config.subgroup,
    ).toBeNull();
    expect(loadConfigText(`${minimal}  drivers:\n    subgroup_function: default\n`, 'west.yaml').config.subgroup).toBeNull();
  });

  it("data_refs.iteration: WESTPA's HDF5 framework, its trajectory loader taken from the 'trajectory' dataset", () => {
    const framework = (datasets: string): string =>
      minimal.replace('    data_refs:\n', `${datasets}    data_refs:\n      iteration: $WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5\n`);
    const plain = loadConfigText(framework(''), 'west.yaml').config;
    expect(plain.data.dataRefs.iteration).toBe('$WEST_SIM_ROOT/traj_segs/iter_{n_iter:06d}.h5');
    expect(plain.data.trajectoryLoader).toBe('mdtraj_trajectory_loader');
    const mda = loadConfigText(
      framework('    datasets:\n      - name: trajectory\n        loader: mdanalysis_trajectory_loader\n      - name: restart\n      - name: energy\n'),
      'west.yaml',
    ).config;
    expect(mda.data.trajectoryLoader).toBe('mdanalysis_trajectory_loader');
    // trajectory, restart and log are the framework's, not auxdata
    expect(mda.data.datasets.map((d) => d.name).sort()).toEqual(['energy', 'pcoord']);
    expect(loadConfigText(minimal, 'west.yaml').config.data.trajectoryLoader).toBeNull();
    expect(() => loadConfigText(framework('    datasets:\n      - name: trajectory\n        loader: "my loader()"\n'), 'west.yaml')).toThrow(
      /west\.data\.datasets\.0\.loader: expected one of WESTPA's trajectory loaders/,
    );
  });

  it('a key given twice: the last one wins, as in PyYAML, with a warning naming both lines', () => {
    const text = minimal
      .replace('    max_run_wallclock: 1:00:00\n', '    max_run_wallclock: 1:00:00\n    max_total_iterations: 25\n')
      .replace(
        '      bin_target_counts: 4\n',
        '      bin_target_counts: 4\n      bins:\n        type: RectilinearBinMapper\n        boundaries: [[-inf, 5.0, inf]]\n',
      );
    const { config, warnings } = loadConfigText(text, 'west.yaml');
    expect(config.propagation.maxTotalIterations).toBe(25);
    expect(config.system.bins).toEqual({ type: 'RectilinearBinMapper', boundaries: [[-Infinity, 5, Infinity]] });
    expect(config.system.nbins).toBe(2);
    const dup = warnings.filter((w) => /given twice/.test(w.message)).map((w) => `${w.line}:${w.path}: ${w.message}`);
    expect(dup).toEqual([
      "11:west.system.system_options.bins: given twice (lines 7 and 11); like PyYAML (WESTPA's reader), the last one (line 11) is used: delete the other",
      "17:west.propagation.max_total_iterations: given twice (lines 15 and 17); like PyYAML (WESTPA's reader), the last one (line 17) is used: delete the other",
    ]);
  });

  it('westream section: seed read exactly (64-bit), defaults filled', () => {
    const c = load(`${minimal}  westream:\n    seed: 18446744073709551615\n    work_manager: bullmq\n    slots: 3\n`);
    expect(c.westream.seed).toBe('18446744073709551615');
    expect(c.westream.workManager).toBe('bullmq');
    expect(c.westream.slots).toBe(3);
    expect(c.westream.maxSegmentRetries).toBe(2);
  });

  it('throws a ConfigError (not a crash) for a missing file', () => {
    expect(() => loadConfig('/nonexistent/west.cfg')).toThrow(ConfigError);
    expect(() => loadConfig('/nonexistent/west.cfg')).toThrow(/no such file; pass --config/);
  });
});

/** west.system.driver: the user's own WESTSystem subclass, built in their Python by westpa, as the config loader sees it. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, mapperFromSpec } from '@westream/config';
import { pythonModuleMissing, skipWithoutPeer } from '../../../test/support/peers.js';
import { odldBody, pythonSimRoot } from '../../../test/support/python-setups.js';

const noWestpa = skipWithoutPeer('python westpa', pythonModuleMissing('westpa'));

const errorsOf = (file: string): string[] => {
  try {
    loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.filter((i) => i.severity === 'error').map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};

describe.skipIf(noWestpa)("west.system.driver: the user's Python system", () => {
  it('a WESTSystem subclass with a rectilinear mapper loads as native bins (no Python in the run loop)', () => {
    const { cfg } = pythonSimRoot(odldBody());
    const { config } = loadConfig(cfg);
    expect(config.system).toMatchObject({ pcoordNdim: 1, pcoordLen: 11, pcoordDtype: 'float32', nbins: 12, driver: 'odld_like.DoubleWellSystem' });
    expect(config.system.bins).toEqual({ type: 'RectilinearBinMapper', boundaries: [[0, 1, 2, 3, 4, 4.5, 5, 5.5, 6, 7, 8, 9, Infinity]] });
    expect(config.system.binTargetCounts).toEqual(new Array(12).fill(4));
    expect(config.propagation).toMatchObject({ propagator: 'python', pythonPropagator: 'odld_like.DoubleWellPropagator', blockSize: 10 });
  });

  it("system_options on top of the driver, as WESTPA's update_from_yaml does", () => {
    const { cfg } = pythonSimRoot(
      odldBody().replace(
        '    driver: odld_like.DoubleWellSystem\n',
        '    driver: odld_like.DoubleWellSystem\n    system_options:\n      bin_target_counts: 2\n      pcoord_len: 6\n',
      ),
    );
    const { config } = loadConfig(cfg);
    expect(config.system.pcoordLen).toBe(6);
    expect(config.system.binTargetCounts).toEqual(new Array(12).fill(2));
  });

  it("a RecursiveBinMapper translates to the native spec with WESTPA's bin numbering (checked on 2,000 points)", () => {
    const { root, cfg } = pythonSimRoot(odldBody({ driver: 'odld_like.RecursiveSystem' }));
    const { config } = loadConfig(cfg);
    expect(config.system.bins.type).toBe('RecursiveBinMapper');
    expect(config.system.nbins).toBe(8);
    const mapper = mapperFromSpec(config.system.bins);
    const pts = Array.from({ length: 2000 }, (_, i) => (i * 12.5) / 2000);
    const code =
      'import sys, json, numpy as np\nsys.path.insert(0, sys.argv[1])\nimport odld_like\ns = odld_like.RecursiveSystem(); s.initialize()\npts = np.array(json.loads(sys.stdin.read()), dtype=np.float32).reshape(-1, 1)\nprint(json.dumps(s.bin_mapper.assign(pts).tolist()))';
    const r = spawnSync('python3', ['-c', code, root], { input: JSON.stringify(pts), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const westpa = JSON.parse(r.stdout) as number[];
    expect(pts.map((p) => mapper.assignPoint([p], 0))).toEqual(westpa);
    expect(new Set(westpa).size).toBe(8);
  });

  it('a FuncBinMapper stays in Python: the spec says so and names the class', () => {
    const { cfg } = pythonSimRoot(odldBody({ driver: 'odld_like.FuncSystem' }));
    const { config } = loadConfig(cfg);
    expect(config.system.bins).toEqual({ type: 'python', class: 'westpa.core.binning.assign.FuncBinMapper', nbins: 8, ndim: 1 });
  });

  it("WESTPA's MABBinMapper from the system (nested in fixed bins) translates to westream's native MAB, same bin count", () => {
    const { cfg } = pythonSimRoot(odldBody({ driver: 'odld_like.MabSystem' }));
    const { config } = loadConfig(cfg);
    const bins = config.system.bins;
    expect(bins.type).toBe('RecursiveBinMapper');
    if (bins.type !== 'RecursiveBinMapper') return;
    expect(bins.mappers[0]?.mapper).toMatchObject({ type: 'MABBinMapper', nbins: [6], direction: [-1], skip: [0], bottleneck: true, pca: false });
    expect(mapperFromSpec(bins).nbins).toBe(config.system.nbins); // WESTPA's own count, from the helper
  });

  it("a BinlessMapper with the user's own grouping function is refused, naming it and the system (westream groups only as WESTPA's identity does)", () => {
    const { cfg } = pythonSimRoot(odldBody({ driver: 'odld_like.CustomBinlessSystem' }));
    expect(errorsOf(cfg)).toEqual([
      expect.stringMatching(/^west\.system\.driver: the bins\.group_function of 'odld_like\.CustomBinlessSystem': .*odld_like\.my_grouping/),
    ]);
  });

  it("driver: westpa.WESTSystem is WESTPA 2's WESTSystem: system_options alone, no Python started", () => {
    const body = `  system:
    driver: westpa.WESTSystem
    system_options:
      pcoord_ndim: 1
      pcoord_len: 3
      pcoord_dtype: !!python/name:numpy.float32
      bins:
        type: RectilinearBinMapper
        boundaries: [[0, 1, inf]]
      bin_target_counts: 2
  propagation:
    propagator: odld_like.DoubleWellPropagator
  data: {}
  westream:
    python: /nonexistent/python
`;
    const { cfg } = pythonSimRoot(body);
    expect(loadConfig(cfg).config.system).toMatchObject({ driver: null, nbins: 2, pcoordLen: 3 });
  });

  it("one pass reports every blocker: the driver's import error, and what the executable propagator lacks", () => {
    // no system_options at all (WESTPA needs none with a driver): the driver is still tried, and the rest reported
    const { cfg } = pythonSimRoot(odldBody({ driver: 'broken_import.System', propagator: 'executable' }));
    const errors = errorsOf(cfg);
    expect(
      errors.some((e) => /^west\.system\.driver: west\.system\.driver: cannot load 'broken_import\.System' in python3: .*a_module_nobody_has/.test(e)),
      errors.join('\n'),
    ).toBe(true);
    expect(errors.some((e) => e.startsWith('west.data.data_refs: missing; the executable propagator needs'))).toBe(true);
    expect(errors.some((e) => e.startsWith('west.executable.propagator: missing'))).toBe(true);
  });

  it('a Python propagator needs no data_refs and no executable section', () => {
    const { cfg } = pythonSimRoot(odldBody());
    expect(errorsOf(cfg)).toEqual([]);
  });

  it('a missing interpreter is a config error at west.system.driver that says what to set', () => {
    const { cfg } = pythonSimRoot(odldBody() + '  westream:\n    python: /nonexistent/python3\n');
    expect(errorsOf(cfg).join('\n')).toMatch(
      /west\.system\.driver: west\.system\.driver 'odld_like\.DoubleWellSystem' needs Python with westpa, but the interpreter '\/nonexistent\/python3' \(from west\.westream\.python\) was not found; set west\.westream\.python/,
    );
  });
});

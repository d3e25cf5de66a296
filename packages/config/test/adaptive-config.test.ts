/**
 * MAB and binless in west.cfg as WESTPA's tutorials write them: nested in a RecursiveBinMapper, dotted
 * type names, WESTPA's own drivers named; and the mistakes, each with the key and what to do.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, loadConfigText, mapperFromSpec } from '@westream/config';

const minimal = readFileSync(fileURLToPath(new URL('./fixtures/minimal.yaml', import.meta.url)), 'utf8');

/** minimal.yaml with its bins (and counts) replaced, and more text after `west:`. */
function cfg(bins: string, counts = '4', extra = ''): string {
  const out = minimal
    .replace('        type: RectilinearBinMapper\n        boundaries: [[-inf, 0.0, 1.0, 2.0, inf]]\n', bins)
    .replace('bin_target_counts: 4', `bin_target_counts: ${counts}`)
    .replace(/^west:\n/, `west:\n${extra}`);
  if (!out.includes(bins)) throw new Error('edit did not apply');
  return out;
}

function errors(text: string): string[] {
  try {
    loadConfigText(text, 'west.cfg');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(formatIssue);
    throw e;
  }
  return [];
}

// WESTPA's MAB tutorial form: fixed outer bins, MAB inside the middle one
const nestedMab = `        type: RecursiveBinMapper
        base:
          type: RectilinearBinMapper
          boundaries: [[-inf, 1.0, 12.0, inf]]
        mappers:
          - type: MABBinMapper
            nbins: [10]
            direction: [86]
            bottleneck: true
            bin_log: true
            at: [5.0]
`;

describe('MAB and binless config', () => {
  it("accepts the tutorial form: MAB nested in a recursive mapper, with WESTPA's MAB driver and sim manager named", () => {
    const drivers = '  drivers:\n    we_driver: westpa.core.binning.mab_driver.MABDriver\n    sim_manager: westpa.core.binning.mab_manager.MABSimManager\n';
    const { config, warnings } = loadConfigText(cfg(nestedMab, '8', drivers), 'west.cfg');
    const m = mapperFromSpec(config.system.bins);
    // 2 fixed bins + 10 linear + 2 bottleneck (direction 86: no leading or lagging bin)
    expect(m.nbins).toBe(14);
    expect(m.adaptive).toBe(true);
    expect(warnings.filter((w) => w.path.startsWith('west.drivers'))).toEqual([]);
    const spec = config.system.bins;
    expect(spec.type === 'RecursiveBinMapper' && spec.mappers[0]?.mapper).toMatchObject({
      type: 'MABBinMapper',
      nbins: [10],
      direction: [86],
      skip: [0],
      bottleneck: true,
      bin_log: true,
      bin_log_path: '$WEST_SIM_ROOT/binbounds.log',
    });
  });

  it('accepts dotted class names and a top-level 2-D MAB', () => {
    const text = cfg('        type: westpa.core.binning.mab.MABBinMapper\n        nbins: [4, 3]\n        skip: [0, 1]\n', '2').replace(
      'pcoord_ndim: 1',
      'pcoord_ndim: 2',
    );
    const m = mapperFromSpec(loadConfigText(text, 'west.cfg').config.system.bins);
    expect(m.nbins).toBe(4 + 4); // linear 4×1, then leading, lagging and two bottlenecks of dimension 0
    expect(m.ndim).toBe(2);
  });

  it("accepts binless with WESTPA's default grouping", () => {
    const bins =
      '        type: RecursiveBinMapper\n        base:\n          type: RectilinearBinMapper\n          boundaries: [[-inf, 1.0, inf]]\n        mappers:\n          - type: westpa.core.binning.binless.BinlessMapper\n            ngroups: 3\n            ndims: 1\n            group_function: westpa.core.binning.binless._binless_group_walkers_identity\n            at: [0]\n';
    const m = mapperFromSpec(
      loadConfigText(cfg(bins, '4', '  drivers:\n    we_driver: westpa.core.binning.binless_driver.BinlessDriver\n'), 'west.cfg').config.system.bins,
    );
    expect(m.nbins).toBe(1 + 3);
  });

  it('names each mistake: unknown key, bad direction, pca in 1-D, Python group function, custom or plain WE driver', () => {
    expect(errors(cfg(nestedMab.replace('bottleneck: true', 'bottlenecks: true'), '8'))).toEqual([
      expect.stringMatching(/bins\.mappers\.0\.bottlenecks: MABBinMapper takes no 'bottlenecks'; it takes nbins, direction/),
    ]);
    expect(errors(cfg(nestedMab.replace('direction: [86]', 'direction: [2]'), '8'))).toEqual([
      expect.stringMatching(/bins\.mappers\.0\.direction\.0: 2 is not a MAB direction; use 0 .* or 86/),
    ]);
    expect(errors(cfg(nestedMab.replace('bottleneck: true', 'pca: true'), '8'))).toEqual([
      expect.stringMatching(/bins\.mappers\.0\.pca: pca needs 2 or more dimensions/),
    ]);
    expect(errors(cfg(nestedMab.replace('nbins: [10]', 'nbins: 10'), '8'))).toEqual([
      expect.stringMatching(/bins\.mappers\.0\.nbins: expected the number of linear bins per dimension, e.g\. \[10\]/),
    ]);
    const binless = '        type: BinlessMapper\n        ngroups: 2\n        ndims: 1\n        group_function: mybins.kmeans\n';
    expect(errors(cfg(binless, '2'))).toEqual([
      expect.stringMatching(/bins\.group_function: 'mybins\.kmeans' is a Python function; westream's native BinlessMapper has only WESTPA's default grouping/),
    ]);
    expect(errors(cfg(nestedMab, '8', '  drivers:\n    we_driver: my_driver.MyDriver\n'))).toEqual([
      expect.stringMatching(
        /west\.drivers\.we_driver: 'my_driver\.MyDriver' is a custom Python WE driver; westream runs WESTPA's WEDriver, MABDriver and BinlessDriver only/,
      ),
    ]);
    expect(errors(cfg(nestedMab, '8', '  drivers:\n    we_driver: westpa.core.we_driver.WEDriver\n'))).toEqual([
      expect.stringMatching(/we_driver: 'westpa\.core\.we_driver\.WEDriver' bins MAB or binless walkers without their special bins/),
    ]);
    expect(errors(cfg(nestedMab, '[1, 2, 3]'))).toEqual([expect.stringMatching(/bin_target_counts: has 3 entries but the bins define 14 bins/)]);
  });

  it('warns, as WESTPA does, about a direction list of the wrong length, and uses the default', () => {
    const { config, warnings } = loadConfigText(cfg(nestedMab.replace('direction: [86]', 'direction: [1, 1]'), '8'), 'west.cfg');
    expect(warnings.map(formatIssue)).toContainEqual(expect.stringMatching(/direction: has 2 entries for 1 dimensions; WESTPA then uses the default/));
    expect(mapperFromSpec(config.system.bins).nbins).toBe(2 + 10 + 4);
  });
});

"""Runs WESTPA's own WEDriver, bin mappers and numpy's sum on cases read as JSON from stdin.

Used by westpa-cross-check.test.ts (and bench/resample) to compare westream's WE core with the real thing.
Prints one JSON document: a list of results in the order of the cases.
"""
import json
import sys
import time

import numpy as np
import westpa
from westpa.core.binning import BinlessMapper, MABBinMapper, MABDriver, BinlessDriver, RectilinearBinMapper, RecursiveBinMapper
from westpa.core.segment import Segment
from westpa.core.states import InitialState, TargetState
from westpa.core.systems import WESTSystem
from westpa.core.we_driver import WEDriver


def mapper_from(spec):
    if spec['type'] == 'RectilinearBinMapper':
        return RectilinearBinMapper([[float(b) for b in dim] for dim in spec['boundaries']])
    if spec['type'] == 'MABBinMapper':
        kw = {k: spec[k] for k in ('direction', 'skip', 'bottleneck', 'pca') if k in spec}
        return MABBinMapper(spec['nbins'], **kw)
    if spec['type'] == 'BinlessMapper':
        return BinlessMapper(spec['ngroups'], spec['ndims'], 'westpa.core.binning.binless._binless_group_walkers_identity')
    rec = RecursiveBinMapper(mapper_from(spec['base']))
    for child in spec['mappers']:
        rec.add_mapper(mapper_from(child['mapper']), child['at'])
    return rec


def run_we(case):
    ndim = case['ndim']
    system = WESTSystem(rc=westpa.rc)
    system.pcoord_ndim, system.pcoord_len, system.pcoord_dtype = ndim, 2, np.float32
    system.bin_mapper = mapper_from(case['bins'])
    system.bin_target_counts = np.array(case['counts'])
    driver = {'MABDriver': MABDriver, 'BinlessDriver': BinlessDriver}.get(case.get('driver'), WEDriver)(rc=westpa.rc, system=system)
    driver.rng = np.random.default_rng(case.get('seed', 0))
    labels = case.get('groups')
    if labels is not None:
        # a subgroup function as users write one: group the bin's walkers by a label of their lineage
        def by_label(we_driver, ibin, **kwargs):
            groups = {}
            for seg in we_driver.next_iter_binning[ibin]:
                groups.setdefault(labels[min(seg.wtg_parent_ids)], set()).add(seg)
            return list(groups.values())

        driver.subgroup_function = by_label
    tstates = [TargetState(state_id=i, label=f't{i}', pcoord=np.array(p, dtype=np.float32)) for i, p in enumerate(case['tstates'])]
    istates = [
        InitialState(state_id=s['id'], basis_state_id=0, iter_created=1, istate_type=InitialState.ISTATE_TYPE_BASIS,
                     pcoord=np.array(s['pcoord'], dtype=np.float32))
        for s in case['istates']
    ]
    segments = []
    for i, w in enumerate(case['weights']):
        seg = Segment(n_iter=1, seg_id=i, weight=w, parent_id=-1, wtg_parent_ids={-1},
                      pcoord=np.zeros((2, ndim), dtype=np.float32), status=Segment.SEG_STATUS_COMPLETE)
        seg.pcoord[0] = case['inits'][i]
        seg.pcoord[1] = case['finals'][i]
        segments.append(seg)
    t0 = time.perf_counter()
    driver.new_iteration(initial_states=istates, target_states=tstates)
    driver.assign(segments)
    driver.construct_next()
    elapsed = time.perf_counter() - t0
    bins = {}
    for ibin, b in enumerate(driver.next_iter_binning):
        if len(b):
            if labels is None:
                bins[ibin] = sorted(seg.weight for seg in b)
            else:  # per bin, per label: "bin/label"
                for seg in b:
                    bins.setdefault(f'{ibin}/{labels[min(seg.wtg_parent_ids)]}', []).append(seg.weight)
                for k in bins:
                    bins[k].sort()
    flux = {}
    for e in driver.new_weights:
        flux[e.target_state_id] = flux.get(e.target_state_id, 0.0) + e.weight
    recycled = sorted(e.weight for e in driver.new_weights)
    return {'bins': bins, 'flux': flux, 'recycled': recycled, 'n_recycled': len(recycled), 'seconds': elapsed}


def run(case):
    kind = case['kind']
    if kind == 'assign':
        mapper = mapper_from(case['bins'])
        coords = np.array(case['points'], dtype=np.float32).reshape(-1, case['ndim'])
        return {'nbins': int(mapper.nbins), 'bins': mapper.assign(coords).tolist()}
    if kind == 'driver_assign':
        # MABDriver.assign's array: every initial point, then every final point, each with [weight, is_final]
        mapper = mapper_from(case['bins'])
        ndim = case['ndim']
        init = np.array(case['inits'], dtype=np.float32).reshape(-1, ndim)
        fin = np.array(case['finals'], dtype=np.float32).reshape(-1, ndim)
        n = len(init)
        rows = np.empty((2 * n, ndim + 2), dtype=np.float32)
        w = np.array(case['weights'], dtype=np.float64)
        for i in range(n):
            rows[i] = np.append(init[i], [w[i], 0.0])
            rows[n + i] = np.append(fin[i], [w[i], 1.0])
        return {'nbins': int(mapper.nbins), 'bins': mapper.assign(rows).tolist()}
    if kind == 'sum32':
        return {'sum': float(np.array(case['values'], dtype=np.float32).sum())}
    if kind == 'sum':
        return {'sum': float(np.array(case['values'], dtype=np.float64).sum())}
    if kind == 'we':
        return run_we(case)
    raise ValueError(kind)


if __name__ == '__main__':
    cases = json.load(sys.stdin)
    json.dump([run(c) for c in cases], sys.stdout)

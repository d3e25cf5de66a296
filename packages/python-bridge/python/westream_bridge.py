"""westream's Python bridge: runs a WESTPA user's own Python pieces (system driver, bin mapper, propagator,
dataset loaders, subgroup function) in the user's own interpreter, with the user's own westpa.

westream starts one of these per process and talks to it over the pipes it was started with:

    frame  = u32 LE total length (of what follows) | u32 LE header length | header (UTF-8 JSON) | buffers
    header = {"id": n, "op": "...", ..., "arrays": [{"dtype": "<f8", "shape": [..]}, ...]}

The buffers are the arrays of "arrays", in order, as raw little-endian bytes (never JSON numbers). Replies
carry the request's id and {"ok": true, ...} or {"ok": false, "error": {"kind", "message", "traceback"}}.
The first frame is the helper's hello: {"op": "hello", "protocol": PROTOCOL, ...}.

It needs only the standard library, numpy and westpa. It ends when its input pipe closes (EOF) and when the
process that started it dies (Linux: PR_SET_PDEATHSIG; elsewhere the parent pid is polled), so it never
outlives westream, even one killed with kill -9.
"""

import json
import os
import struct
import sys
import threading
import time
import traceback

PROTOCOL = 1

# The protocol owns the original stdout; whatever user code prints goes to stderr (westream's log).
_proto_out = os.fdopen(os.dup(1), 'wb', buffering=0)
os.dup2(2, 1)
sys.stdout = sys.stderr
_proto_in = os.fdopen(os.dup(0), 'rb', buffering=0)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)


def _die_with_parent():
    parent = os.getppid()
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


_die_with_parent()


def read_exact(n):
    chunks = []
    while n > 0:
        b = _proto_in.read(n)
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b''.join(chunks)


def read_into(total):
    # one buffer, filled in place: no copies of a large array's bytes
    buf = bytearray(total)
    view = memoryview(buf)
    pos = 0
    while pos < total:
        n = _proto_in.readinto(view[pos:])
        if not n:
            return None
        pos += n
    return buf


def read_frame():
    head = read_exact(4)
    if head is None:
        return None
    (total,) = struct.unpack('<I', head)
    body = read_into(total)
    if body is None:
        return None
    (hlen,) = struct.unpack('<I', body[:4])
    header = json.loads(body[4 : 4 + hlen].decode('utf-8'))
    arrays = []
    pos = 4 + hlen
    import numpy as np

    for spec in header.get('arrays', []):
        dt = np.dtype(spec['dtype'])
        count = 1
        for s in spec['shape']:
            count *= s
        nbytes = count * dt.itemsize
        arrays.append(np.frombuffer(body, dtype=dt, count=count, offset=pos).reshape(spec['shape']))
        pos += nbytes
    return header, arrays


def write_frame(header, arrays=()):
    bufs = []
    specs = []
    for a in arrays:
        import numpy as np

        a = np.ascontiguousarray(a)
        if a.dtype.byteorder == '>' or (a.dtype.byteorder == '=' and sys.byteorder == 'big'):
            a = a.astype(a.dtype.newbyteorder('<'))
        specs.append({'dtype': a.dtype.str, 'shape': list(a.shape)})
        bufs.append(memoryview(a.reshape(-1)).cast('B') if a.size else b'')
    header = dict(header)
    header['arrays'] = specs
    h = json.dumps(header, allow_nan=False, default=_json_default).encode('utf-8')
    total = 4 + len(h) + sum(len(b) for b in bufs)
    _write_all(struct.pack('<II', total, len(h)) + h)
    for b in bufs:
        _write_all(b)


def _write_all(b):
    view = memoryview(b)
    while len(view):
        n = _proto_out.write(view)
        view = view[n:]


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return repr(o)


class UserError(Exception):
    """An exception raised by the user's code: its traceback is theirs to see."""

    def __init__(self, where, exc):
        super().__init__(str(exc))
        self.where = where
        self.exc = exc
        self.tb = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class ImportFailure(Exception):
    def __init__(self, key, name, exc):
        super().__init__(str(exc))
        self.key = key
        self.name = name
        self.tb = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class Bridge:
    def __init__(self):
        self.rc = None
        self.system = None
        self.mapper = None
        self.propagator = None
        self.loaders = {}
        self.subgroup = None

    # --- set-up: WESTPA's own run-control object reads the config, as w_run does
    def op_init(self, h, arrays):
        import westpa
        from westpa.core import extloader

        sim_root = h['sim_root']
        os.environ['WEST_SIM_ROOT'] = sim_root
        os.chdir(sim_root)
        rc = westpa.rc
        rc.read_config(h['config_file'])
        rc.process_config()  # west.drivers.module_path and the sim root on sys.path, as WESTPA does
        for p in h.get('module_path', []):
            if p not in sys.path:
                sys.path.append(p)
        self.rc = rc
        self.extloader = extloader
        return {'westpa': getattr(westpa, '__version__', '?'), 'sys_path': sys.path[-3:]}, []

    def get_object(self, key, name):
        try:
            return self.extloader.get_object(name)
        except Exception as e:  # ImportError, AttributeError, a SyntaxError in the user's module, ...
            raise ImportFailure(key, name, e)

    # --- the system driver
    def op_system(self, h, arrays):
        import numpy as np

        rc = self.rc
        name = rc.config.get(['west', 'system', 'driver'])
        if name:
            self.get_object('west.system.driver', name)  # an import error names the key, not WESTPA's internals
        try:
            system = rc.get_system_driver()
        except ImportFailure:
            raise
        except Exception as e:
            raise UserError('building the system (west.system.driver / system_options)', e)
        self.system = system
        self.mapper = system.bin_mapper
        out_arrays = []
        spec = describe_mapper(system.bin_mapper, out_arrays)
        counts = np.asarray(system.bin_target_counts, dtype=np.float64).reshape(-1)
        out_arrays.append(counts)
        return {
            'pcoord_ndim': int(system.pcoord_ndim),
            'pcoord_len': int(system.pcoord_len),
            'pcoord_dtype': np.dtype(system.pcoord_dtype).name,
            'nbins': int(system.bin_mapper.nbins),
            'mapper': spec,
            'labels': [str(x) for x in list(system.bin_mapper.labels)][:100000],
        }, out_arrays

    def op_assign(self, h, arrays):
        import numpy as np

        if self.mapper is None:
            raise RuntimeError('assign before system')
        coords = np.require(arrays[0], dtype=np.dtype(self.system.pcoord_dtype))
        t0 = time.perf_counter()
        try:
            out = self.mapper.assign(coords)
        except Exception as e:
            raise UserError(h.get('where', 'assigning bins'), e)
        assign_ms = (time.perf_counter() - t0) * 1000
        out = np.asarray(out)
        nbins = self.mapper.nbins
        bad = np.flatnonzero((out < 0) | (out >= nbins)) if out.dtype.kind == 'i' else np.flatnonzero(out >= nbins)
        if len(bad):
            i = int(bad[0])
            raise UserError(
                h.get('where', 'assigning bins'),
                ValueError(f'the bin mapper returned bin {int(out[i])} for point {i} ({coords[i].tolist()}); it has {nbins} bins (0..{nbins - 1})'),
            )
        # WESTPA's own index dtype (uint16) when the bins fit: half the bytes back
        return {'assign_ms': assign_ms}, [out.astype(np.uint16 if nbins <= 0xFFFF else np.uint32, copy=False)]

    # --- the propagator
    def op_propagator(self, h, arrays):
        rc = self.rc
        name = rc.config.get(['west', 'propagation', 'propagator'])
        self.get_object('west.propagation.propagator', name)
        if self.system is None:
            self.op_system({}, [])
        try:
            self.propagator = rc.get_propagator()
        except Exception as e:
            raise UserError(f'constructing the propagator {name}', e)
        return {}, []

    def _states(self, h):
        from westpa.core.states import BasisState, InitialState
        import numpy as np

        bstates = {}
        for b in h.get('bstates', []):
            bstates[b['id']] = BasisState(b['label'], b['probability'], pcoord=np.array(b.get('pcoord') or [], dtype=float) if b.get('pcoord') else None, auxref=b['auxref'] or None, state_id=b['id'])
        istates = {}
        for i in h.get('istates', []):
            istates[i['id']] = InitialState(
                state_id=i['id'], basis_state_id=i['basisStateId'], iter_created=i['iterCreated'], iter_used=i['iterUsed'],
                istate_type=i['type'], istate_status=i['status'], pcoord=np.array(i['pcoord'], dtype=float) if i.get('pcoord') else None,
                basis_state=bstates.get(i['basisStateId']), basis_auxref=i['basisAuxref'] or None,
            )
        return bstates, istates

    def op_propagate(self, h, arrays):
        import numpy as np
        from westpa.core.segment import Segment

        sysd = self.system
        bstates, istates = self._states(h)
        self.propagator.clear_basis_initial_states()
        self.propagator.update_basis_initial_states(list(bstates.values()), list(istates.values()))
        init = arrays[0]
        segs = []
        for k, s in enumerate(h['segments']):
            pc = np.zeros((sysd.pcoord_len, sysd.pcoord_ndim), dtype=sysd.pcoord_dtype)
            pc[0] = init[k]
            seg = Segment(n_iter=s['n_iter'], seg_id=s['seg_id'], weight=s['weight'], parent_id=s['parent_id'],
                          wtg_parent_ids=[s['parent_id']], pcoord=pc, status=Segment.SEG_STATUS_PREPARED)
            segs.append(seg)
        env = h.get('environ') or {}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # WEST_RAND* of the block's first segment, for a propagator that seeds from them
        t0 = time.time()
        try:
            self.propagator.propagate(segs)
        except Exception as e:
            ids = ', '.join(str(s.seg_id) for s in segs)
            raise UserError(f'propagating segment(s) {ids} of iteration {segs[0].n_iter}', e)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        wall = time.time() - t0
        out = []
        results = []
        for seg in segs:
            r = {'seg_id': seg.seg_id, 'status': int(seg.status or 0), 'walltime': float(seg.walltime or wall / len(segs)),
                 'cputime': float(seg.cputime or 0.0), 'data': []}
            out.append(np.asarray(seg.pcoord, dtype=np.float64).reshape(-1))
            self._data_arrays(seg, r, out)
            results.append(r)
        return {'results': results}, out

    def _data_arrays(self, seg, r, out):
        import numpy as np

        for name, value in (seg.data or {}).items():
            if isinstance(value, np.ndarray) or isinstance(value, (int, float, list, tuple)):
                a = np.asarray(value)
                if a.dtype.kind in 'biuf':
                    r['data'].append({'name': name, 'dtype': a.dtype.str})
                    out.append(a.astype(np.float64))

    def op_get_pcoord(self, h, arrays):
        import numpy as np

        bstates, istates = self._states(h)
        state = istates[h['istate']] if h.get('istate') is not None else bstates[h['bstate']]
        try:
            self.propagator.get_pcoord(state)
        except Exception as e:
            raise UserError(f"get_pcoord for {'initial' if h.get('istate') is not None else 'basis'} state {state.state_id}", e)
        return {}, [np.asarray(state.pcoord, dtype=np.float64).reshape(-1)]

    def op_gen_istate(self, h, arrays):
        import numpy as np

        bstates, istates = self._states(h)
        istate = istates[h['istate']]
        bstate = bstates[istate.basis_state_id]
        try:
            istate = self.propagator.gen_istate(bstate, istate) or istate
        except Exception as e:
            raise UserError(f'gen_istate for initial state {istate.state_id}', e)
        pc = getattr(istate, 'pcoord', None)
        if pc is None or np.asarray(pc).size == 0 or not np.all(np.isfinite(np.asarray(pc, dtype=float))):
            self.propagator.get_pcoord(istate)
        return {}, [np.asarray(istate.pcoord, dtype=np.float64).reshape(-1)]

    # --- dataset loaders: WESTPA's signature (fieldname, filename, segment, single_point)
    def op_load(self, h, arrays):
        import numpy as np
        from westpa.core.segment import Segment

        s = h['segment']
        seg = Segment(n_iter=s['n_iter'], seg_id=s['seg_id'], weight=s['weight'], parent_id=s['parent_id'],
                      wtg_parent_ids=[s['parent_id']], pcoord=arrays[0] if arrays else None, status=Segment.SEG_STATUS_COMPLETE)
        seg.data = {}
        for d in h['datasets']:
            fn = self.loaders.get(d['loader'])
            if fn is None:
                fn = self.loaders[d['loader']] = self.get_object(f"datasets[{d['name']}].loader", d['loader'])
            try:
                fn(d['name'], d['filename'], seg, False)
            except Exception as e:
                raise UserError(f"loader {d['loader']} for dataset '{d['name']}' of segment {seg.seg_id} of iteration {seg.n_iter}", e)
        r = {'data': []}
        out = []
        self._data_arrays(seg, r, out)
        return r, out

    # --- the HDF5 framework's trajectory: WESTPA's own trajectory loader on WEST_TRAJECTORY_RETURN
    def op_load_trajectory(self, h, arrays):
        """Loads the segment's trajectory directory as WESTPA does (the loader named by the 'trajectory' dataset,
        default mdtraj's) and replies with the frames as float32 arrays (nm, ps, degrees) and the topology as
        mdtraj's HDF5 topology JSON. WESTPA's loaders only log a warning when they cannot read the files (its
        issue #373); here that warning, or the loader's exception, fails the segment."""
        import logging
        import numpy as np
        from mdtraj.formats import HDF5TrajectoryFile
        from westpa.core.propagators.loaders import trajectory_loaders
        from westpa.core.segment import Segment

        s = h['segment']
        where = f"the trajectory of segment {s['seg_id']} of iteration {s['n_iter']} ({h['dir']})"
        name = h['loader']
        fn = self.loaders.get(('trajectory', name))
        if fn is None:
            fn = trajectory_loaders.get(name) or self.get_object('datasets[trajectory].loader', name)
            self.loaders[('trajectory', name)] = fn
        seg = Segment(n_iter=s['n_iter'], seg_id=s['seg_id'], weight=s['weight'], parent_id=s['parent_id'])
        seg.data = {}
        warnings = []

        class Catch(logging.Handler):
            def emit(self, record):
                if record.levelno >= logging.WARNING:
                    warnings.append(record.getMessage())

        catch = Catch()
        logging.getLogger('westpa').addHandler(catch)
        try:
            fn('trajectory', h['dir'], seg, False)
        except Exception as e:
            raise UserError(f'loader {name} for {where}', e)
        finally:
            logging.getLogger('westpa').removeHandler(catch)
        t = seg.data.get('iterh5/trajectory')
        if t is None:
            raise UserError(f'loader {name} for {where}', ValueError('; '.join(warnings) or 'the loader stored no trajectory'))
        top = json.dumps(HDF5TrajectoryFile.convert_topology_to_dict(t.topology))
        out = [np.ascontiguousarray(t.xyz, dtype=np.float32)]
        r = {'topology': top, 'atoms': int(t.n_atoms), 'frames': int(t.n_frames), 'time': t.time is not None, 'cell': t.unitcell_lengths is not None}
        if r['time']:
            out.append(np.ascontiguousarray(t.time, dtype=np.float32))
        if r['cell']:
            out.append(np.ascontiguousarray(t.unitcell_lengths, dtype=np.float32))
            out.append(np.ascontiguousarray(t.unitcell_angles, dtype=np.float32))
        return r, out

    # --- subgroup function (west.drivers.subgroup_function, with west.drivers.subgroup_arguments)
    def op_subgroup(self, h, arrays):
        """Groups the walkers of each staged bin as WESTPA's WEDriver would: the user's function is called once
        per non-empty bin as fn(we_driver, ibin, **subgroup_arguments), with we_driver.next_iter_binning holding
        the next iteration's segments (after recycling), and returns a list of sets; the reply is each walker's
        group index, in the order the walkers came."""
        import numpy as np
        from westpa.core.segment import Segment
        from westpa.core.we_driver import WEDriver

        name = h['function']
        if self.subgroup is None or self.subgroup[0] != name:
            fn = self.get_object('west.drivers.subgroup_function', name)
            if self.system is None:
                self.op_system({}, [])
            try:
                driver = WEDriver(rc=self.rc, system=self.system)
            except Exception as e:
                raise UserError('building the WE driver (west.we) for the subgroup function', e)
            driver.bin_mapper = self.system.bin_mapper
            driver.bin_target_counts = np.array(self.system.bin_target_counts)
            driver.subgroup_function = fn
            self.rc._we_driver = driver  # westpa.rc.get_we_driver() in the user's code finds this one
            self.subgroup = (name, fn, driver)
        _, fn, driver = self.subgroup
        kwargs = dict(h.get('arguments') or {})
        driver.subgroup_function_kwargs = kwargs
        weights, parents, wtg_offsets, wtg_ids, points = arrays
        n_iter = int(h['n_iter'])
        binning = driver.bin_mapper.construct_bins()
        driver.next_iter_binning = binning
        segs = []
        k = 0
        for ibin, count in zip(h['bins'], h['counts']):
            for _ in range(count):
                pc = self.system.new_pcoord_array()
                pc[0] = points[k]
                seg = Segment(n_iter=n_iter, weight=float(weights[k]), parent_id=int(parents[k]),
                              wtg_parent_ids=set(int(x) for x in wtg_ids[wtg_offsets[k]:wtg_offsets[k + 1]]),
                              pcoord=pc, status=Segment.SEG_STATUS_PREPARED)
                segs.append(seg)
                binning[ibin].add(seg)
                k += 1
        dm = self._open_data_manager()
        labels = np.empty(len(segs), dtype=np.int32)
        try:
            k = 0
            for ibin, count in zip(h['bins'], h['counts']):
                mine = segs[k:k + count]
                where = f'subgroup function {name} for bin {ibin} of iteration {n_iter}'
                try:
                    groups = list(fn(driver, ibin, **kwargs))
                except Exception as e:
                    raise UserError(where, e)
                index = {id(s): j for j, s in enumerate(mine)}
                got = np.full(count, -1, dtype=np.int64)
                for g, group in enumerate(groups):
                    for seg in group:
                        j = index.get(id(seg))
                        if j is None:
                            raise UserError(where, ValueError(f'group {g} holds {seg!r}, which is not a walker of bin {ibin}'))
                        if got[j] >= 0:
                            raise UserError(where, ValueError(f'walker {mine[j]!r} is in groups {int(got[j])} and {g}; each walker belongs to one group'))
                        got[j] = g
                missing = np.flatnonzero(got < 0)
                if len(missing):
                    raise UserError(where, ValueError(f'{len(missing)} of the bin\'s {count} walkers are in no group (first: {mine[int(missing[0])]!r}); every walker must be in one'))
                labels[k:k + count] = got
                k += count
        finally:
            if dm is not None:
                dm.close_backing()
        return {}, [labels]

    def _open_data_manager(self):
        """westpa.rc.get_data_manager() on the last committed west.h5, read-only, for a function that reads history
        (e.g. grouping by ancestry); opened per call, since each commit renames a new file into place."""
        try:
            dm = self.rc.get_data_manager()
            if dm.we_h5file is None and os.path.exists(dm.we_h5filename):
                dm.open_backing(mode='r')
                return dm
        except Exception:
            pass  # a function that needs it fails with its own error
        return None


def describe_mapper(mapper, out_arrays, top=True):
    """The mapper as westream's native spec where westream has it natively; else {'type': 'python', ...}."""
    import numpy as np
    from westpa.core.binning import RectilinearBinMapper, RecursiveBinMapper

    cls = type(mapper)
    if cls is RectilinearBinMapper:
        dims = []
        for b in mapper.boundaries:
            out_arrays.append(np.asarray(b, dtype=np.float64))
            dims.append(len(out_arrays) - 1)
        return {'type': 'RectilinearBinMapper', 'boundaries': dims}
    # a child's start_index is its offset inside its parent: only the outermost must start at 0
    if cls is RecursiveBinMapper and (mapper.start_index == 0 or not top):
        mark = len(out_arrays)
        base = describe_mapper(mapper.base_mapper, out_arrays, False)
        if not top and not mapper._recursion_targets and base['type'] != 'python':
            return base  # WESTPA wraps each child of add_mapper in a RecursiveBinMapper: a plain child is its base
        children = []
        ok = base['type'] == 'RectilinearBinMapper'
        for ibin, child in mapper._recursion_targets.items():
            at = point_in_bin(mapper.base_mapper, ibin) if ok else None
            if at is None:
                ok = False
                break
            spec = describe_mapper(child, out_arrays, False)
            # WESTPA wraps each child in a RecursiveBinMapper; a plain child is its base
            if spec['type'] == 'RecursiveBinMapper' and not spec['mappers']:
                spec = spec['base']
            if spec['type'] == 'python':
                ok = False
                break
            children.append({'mapper': spec, 'at': [float(x) for x in at]})
        if ok:
            return {'type': 'RecursiveBinMapper', 'base': base, 'mappers': children}
        del out_arrays[mark:]
    # WESTPA's adaptive mappers, as the keyword arguments they were built with: westream runs its native twins
    # (their assign needs the WE driver's weights and initial/final flags, which a plain assign call lacks).
    from westpa.core.binning import BinlessMapper, MABBinMapper

    if cls is MABBinMapper:
        k = mapper.kwargs
        return {'type': 'MABBinMapper', 'nbins': [int(x) for x in k['nbins_per_dim']], 'direction': [int(x) for x in k['direction']],
                'skip': [int(x) for x in k['skip']], 'bottleneck': bool(k['bottleneck']), 'pca': bool(k['pca']),
                'mab_log': bool(k['mab_log']), 'bin_log': bool(k['bin_log']), 'bin_log_path': str(k['bin_log_path'])}
    if cls is BinlessMapper:
        k = mapper.kwargs
        gf = k['group_function']
        name = gf if isinstance(gf, str) else f"{getattr(gf, '__module__', '?')}.{getattr(gf, '__qualname__', repr(gf))}"
        return {'type': 'BinlessMapper', 'ngroups': int(k['n_groups']), 'ndims': int(k['n_dims']), 'group_function': name}
    return {'type': 'python', 'class': f'{cls.__module__}.{cls.__qualname__}', 'nbins': int(mapper.nbins)}


def point_in_bin(rect, ibin):
    """A point of rectilinear bin `ibin`, checked by WESTPA's own assign; None when none is found."""
    import numpy as np

    shape = [len(b) - 1 for b in rect.boundaries]
    idx = np.unravel_index(ibin, shape)
    pt = []
    for d, i in enumerate(idx):
        lo, hi = float(rect.boundaries[d][i]), float(rect.boundaries[d][i + 1])
        if np.isinf(lo) and np.isinf(hi):
            x = 0.0
        elif np.isinf(lo):
            x = hi - max(1.0, abs(hi))
        elif np.isinf(hi):
            x = lo + max(1.0, abs(lo))
        else:
            x = lo + (hi - lo) / 2
        pt.append(x)
    p = np.array([pt], dtype=np.float32)
    return pt if int(rect.assign(p)[0]) == ibin else None


def main():
    try:
        import numpy  # noqa: F401
        import westpa
    except Exception as e:
        write_frame({'op': 'hello', 'protocol': PROTOCOL, 'ok': False, 'python': sys.executable,
                     'error': {'kind': 'missing-westpa', 'message': f'{type(e).__name__}: {e}', 'traceback': ''}})
        sys.exit(2)
    write_frame({'op': 'hello', 'protocol': PROTOCOL, 'ok': True, 'python': sys.executable,
                 'python_version': sys.version.split()[0], 'westpa': getattr(westpa, '__version__', '?')})
    bridge = Bridge()
    while True:
        frame = read_frame()
        if frame is None:
            return  # westream is gone (EOF on our pipe)
        h, arrays = frame
        rid = h.get('id')
        op = getattr(bridge, 'op_' + str(h.get('op')), None)
        try:
            if op is None:
                raise RuntimeError(f"unknown op {h.get('op')!r} (protocol {PROTOCOL})")
            reply, out = op(h, arrays)
            reply = dict(reply)
            reply.update({'id': rid, 'ok': True})
            write_frame(reply, out)
        except ImportFailure as e:
            write_frame({'id': rid, 'ok': False, 'error': {'kind': 'import', 'key': e.key, 'name': e.name, 'message': str(e), 'traceback': e.tb}})
        except UserError as e:
            write_frame({'id': rid, 'ok': False, 'error': {'kind': 'user', 'where': e.where, 'message': f'{type(e.exc).__name__}: {e}', 'traceback': e.tb}})
        except Exception as e:
            tb = traceback.format_exc()
            write_frame({'id': rid, 'ok': False, 'error': {'kind': 'internal', 'message': f'{type(e).__name__}: {e}', 'traceback': tb}})


if __name__ == '__main__':
    main()

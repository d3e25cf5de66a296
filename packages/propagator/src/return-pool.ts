/**
 * The return files of a runner (WEST_PCOORD_RETURN, WEST_<DATASET>_RETURN) in one private temp directory. Like
 * WESTPA's mkstemp, each `take` gives files that exist and are empty when the child starts. They are reused from
 * a pool instead of created and deleted per segment: inode churn made ext4's directory allocator the largest cost
 * of a short segment (perf: ~25% of the sim-manager's CPU in find_inode_bit). Truncating before each use means a
 * child that writes nothing is seen as empty, never as the previous segment's data.
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WestConfig } from '@westream/config';
import { makeReturnsDir } from './returns-dir.js';

export interface ReturnSet {
  readonly auxNames: readonly string[];
  readonly pcoord: string;
  /** Dataset name → its return file. */
  readonly aux: Map<string, string>;
  /** The WEST_*_RETURN variables that point the child at these files. */
  readonly vars: Record<string, string>;
  /** The files in the private directory (a dataset's own `filename` is the user's, and left alone). */
  readonly owned: readonly string[];
}

export class ReturnPool {
  private dirPath: string | undefined;
  private seq = 0;
  private readonly free: ReturnSet[] = [];

  /** `render`: expands a dataset's own `filename` template (data_refs and the environment). */
  constructor(
    private readonly config: WestConfig,
    private readonly render: (template: string) => string,
  ) {}

  /** The private directory (made at the first use): WESTPA's HDF5-framework returns live there too. */
  get dir(): string {
    this.dirPath ??= makeReturnsDir();
    return this.dirPath;
  }

  /** Return files for one child: the pcoord's, and with `withAux` those of the auxiliary datasets. */
  take(withAux: boolean): ReturnSet {
    const auxNames = withAux ? this.auxDatasets() : [];
    const i = this.free.findIndex((r) => sameNames(r.auxNames, auxNames));
    const set = i >= 0 ? (this.free.splice(i, 1)[0] as ReturnSet) : this.newSet(String(this.seq++), auxNames);
    for (const f of set.owned) closeSync(openSync(f, 'w')); // create or truncate: never stale, never absent
    return set;
  }

  release(set: ReturnSet): void {
    this.free.push(set);
  }

  /** Removes the directory (a later `take` makes a new one). */
  close(): void {
    if (this.dirPath) rmSync(this.dirPath, { recursive: true, force: true });
    this.dirPath = undefined;
    this.free.length = 0;
  }

  /** Datasets a child returns through a file (not pcoord, not a directory dataset, not an .npy loader's). */
  private auxDatasets(): string[] {
    return this.config.data.datasets.filter((ds) => ds.name !== 'pcoord' && ds.enabled && !ds.dir && ds.loader !== 'npy_data_loader').map((ds) => ds.name);
  }

  private newSet(tag: string, auxNames: readonly string[]): ReturnSet {
    const pcoord = join(this.dir, `${tag}.pcoord`);
    const vars: Record<string, string> = { WEST_PCOORD_RETURN: pcoord };
    const aux = new Map<string, string>();
    const owned = [pcoord];
    for (const name of auxNames) {
      const ds = this.config.data.datasets.find((d) => d.name === name);
      const file = ds?.filename ? this.render(ds.filename) : join(this.dir, `${tag}.${name}`);
      if (!ds?.filename) owned.push(file);
      aux.set(name, file);
      vars[`WEST_${name.toUpperCase()}_RETURN`] = file;
    }
    return { auxNames, pcoord, aux, vars, owned };
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** h5wasm, loaded once. Its Node build reads and writes the real file system directly. */
import h5wasm from 'h5wasm/node';

export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Group = InstanceType<typeof h5wasm.Group>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
export type H5Module = Awaited<typeof h5wasm.ready>;

let ready: Promise<H5Module> | undefined;

export async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

/** The low-level module: its calls return HDF5's status, which h5wasm's File.flush() drops. */
export async function h5Module(): Promise<H5Module> {
  ready ??= h5wasm.ready;
  return ready;
}

export function isGroup(x: unknown): x is H5Group {
  return x instanceof h5wasm.Group;
}

export function isDataset(x: unknown): x is H5Dataset {
  return x instanceof h5wasm.Dataset;
}

/** h5wasm, loaded once. Its Node build reads and writes the real file system directly. */
import h5wasm from 'h5wasm/node';

export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Group = InstanceType<typeof h5wasm.Group>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

let ready: Promise<void> | undefined;

export async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready.then(() => undefined);
  await ready;
  return h5wasm;
}

export function isGroup(x: unknown): x is H5Group {
  return x instanceof h5wasm.Group;
}

export function isDataset(x: unknown): x is H5Dataset {
  return x instanceof h5wasm.Dataset;
}

/**
 * westream's version, as west.h5 records it (`west_version`). Its own module, free of h5wasm, so that
 * `westream --version` and `--help` answer without loading HDF5.
 */
export const WESTREAM_VERSION = '0.1.0';

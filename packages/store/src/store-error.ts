/** The store's errors: a user can act on each; none is a bug of westream's. */
import { codedError } from '@westream/we';

export class StoreError extends codedError('StoreError', 'STORE_ERR_RECORD') {}

/**
 * The file system has no room for a commit. Nothing recorded is lost: the previous west.h5 is still in place,
 * whole; the message says how much to free and where.
 */
export class DiskFullError extends StoreError {
  override readonly code = 'STORE_ERR_DISK_FULL';
  constructor(
    readonly dir: string,
    readonly bytesToFree: number,
    then: string,
    detail: string,
  ) {
    super(`disk full: free ${bytesToFree} bytes (${mib(bytesToFree)}) at ${dir}, then ${then}; ${detail}`);
    this.name = 'DiskFullError';
  }
}

function mib(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

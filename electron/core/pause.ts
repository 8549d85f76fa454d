/**
 * Block this thread for `ms` milliseconds. Used only where a synchronous engine call must wait
 * a moment for another process (a lock holder, a token store being rewritten) before looking again.
 */
export function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

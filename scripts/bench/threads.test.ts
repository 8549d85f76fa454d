/**
 * Section 1 says which thread limits the in-flight rate from threads.ts: the split must put work
 * done on the main thread there, and work done on a worker thread among the others.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { threadCpuMs, threadSplit } from './threads';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy on purpose */ }
}

test('CPU spent on the main thread counts as main, and CPU spent on a worker as another thread', async (t) => {
  if (!threadCpuMs()) {
    t.skip('no /proc/self/task here (not Linux): section 1 prints no per-thread split either');
    return;
  }
  const a = threadCpuMs()!;
  spin(300);
  const b = threadCpuMs()!;
  const onMain = threadSplit(a, b);
  assert.ok(onMain.mainMs >= 200, `300 ms of spinning here read ${onMain.mainMs} ms on the main thread`);
  assert.ok(onMain.othersMs < 150, `no other thread worked, yet they read ${onMain.othersMs} ms`);

  // The worker spins while this thread waits on its message without using CPU.
  const w = new Worker('const e = performance.now() + 300; while (performance.now() < e) {} require("node:worker_threads").parentPort.postMessage(1);', { eval: true });
  const c = threadCpuMs()!;
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  const d = threadCpuMs()!;
  await w.terminate();
  const onWorker = threadSplit(c, d);
  assert.ok(onWorker.busiestOtherMs >= 200, `300 ms of spinning on a worker read ${onWorker.busiestOtherMs} ms on its thread`);
  assert.ok(onWorker.othersMs >= onWorker.busiestOtherMs);
  assert.ok(onWorker.mainMs < 150, `the main thread only waited, yet it read ${onWorker.mainMs} ms`);
});

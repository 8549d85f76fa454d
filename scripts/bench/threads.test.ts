/**
 * Section 1 says which thread limits the in-flight rate from threads.ts: the split must put work
 * done on the main thread there, and work done on a worker thread among the others.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { cpuMsOfStat, threadCpuMs, threadSplit } from './threads';

/** This thread's own CPU ms (Linux /proc/thread-self): spinning on it, not on the clock, stays right on a loaded machine. */
function ownCpuMs(): number {
  return cpuMsOfStat(readFileSync('/proc/thread-self/stat', 'utf8'));
}

/** The worker's program (self-contained: it runs from source, without this project's modules): the same spin on its own thread's clock, then it stays alive (listening) until terminated, since a thread that has ended is gone from /proc's task list. */
const WORKER = `const fs = require('node:fs');
const own = () => { const st = fs.readFileSync('/proc/thread-self/stat', 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const end = own() + 300;
while (own() < end) {}
const { parentPort } = require('node:worker_threads');
parentPort.on('message', () => {});
parentPort.postMessage(1);`;

function spinCpu(ms: number): void {
  const end = ownCpuMs() + ms;
  while (ownCpuMs() < end) { /* busy on purpose */ }
}

test('CPU spent on the main thread counts as main, and CPU spent on a worker as another thread', async (t) => {
  if (!threadCpuMs()) {
    t.skip('no /proc/self/task here (not Linux): section 1 prints no per-thread split either');
    return;
  }
  const a = threadCpuMs()!;
  spinCpu(300);
  const b = threadCpuMs()!;
  const onMain = threadSplit(a, b);
  assert.ok(onMain.mainMs >= 200, `300 ms of CPU spun here read ${onMain.mainMs} ms on the main thread`);
  assert.ok(onMain.othersMs < 150, `no other thread worked, yet they read ${onMain.othersMs} ms`);

  // The worker spins while this thread waits on its message without using CPU.
  const w = new Worker(WORKER, { eval: true });
  const c = threadCpuMs()!;
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  const d = threadCpuMs()!;
  await w.terminate();
  const onWorker = threadSplit(c, d);
  assert.ok(onWorker.busiestOtherMs >= 200, `300 ms of CPU spun on a worker read ${onWorker.busiestOtherMs} ms on its thread`);
  // One thread did that work: a split that spread it over the others, or summed a thread twice, would fail here.
  assert.ok(onWorker.busiestOtherMs >= onWorker.othersMs / 2, `the worker's thread read ${onWorker.busiestOtherMs} ms of the others' ${onWorker.othersMs} ms`);
  assert.ok(onWorker.mainMs < 150, `the main thread only waited, yet it read ${onWorker.mainMs} ms`);
});

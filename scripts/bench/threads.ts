/**
 * CPU time per thread of this process, from Linux's /proc/self/task/<tid>/stat. Node 20 has no
 * per-thread CPU clock (process.threadCpuUsage came in Node 23), and process.cpuUsage() sums every
 * thread: with 64 callers in flight on a 2-core machine it cannot say whether the main thread,
 * which signs and writes, is the one that limits the rate.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc's utime and stime are in USER_HZ ticks, which Linux fixes at 100 per second on every architecture. */
const MS_PER_TICK = 10;

/** CPU ms (user + system) by thread id; the main thread's id is the process id. Undefined where /proc has no task list (not Linux). */
export function threadCpuMs(): Map<number, number> | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const out = new Map<number, number>();
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    out.set(Number(tid), cpuMsOfStat(stat));
  }
  return out;
}

/** User + system CPU ms from the text of a /proc .../stat file. */
export function cpuMsOfStat(stat: string): number {
  // The command name (in parentheses) may hold spaces: fields are counted after its closing one.
  // There, field 0 is the state; utime and stime are stat's 14th and 15th fields overall.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * MS_PER_TICK;
}

export interface ThreadSplit {
  /** CPU ms of the main thread between the two readings. */
  mainMs: number;
  /** CPU ms of every other thread (worker threads, V8's compiler and GC helpers, libuv's pool). */
  othersMs: number;
  /** The largest share of othersMs taken by one thread. */
  busiestOtherMs: number;
}

/** What each side used between `before` and `after` (threads that ended in between are not counted). */
export function threadSplit(before: Map<number, number>, after: Map<number, number>): ThreadSplit {
  let mainMs = 0;
  let othersMs = 0;
  let busiestOtherMs = 0;
  for (const [tid, ms] of after) {
    const d = ms - (before.get(tid) ?? 0);
    if (tid === process.pid) mainMs = d;
    else {
      othersMs += d;
      busiestOtherMs = Math.max(busiestOtherMs, d);
    }
  }
  return { mainMs, othersMs, busiestOtherMs };
}

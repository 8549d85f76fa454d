/**
 * Section 5: a long session against SoftHSM2 — many issuances from one CA in one process. The
 * issue asks that sessions and object handles do not leak, memory stays flat and the rate stays
 * steady. Every block we record the block's rate, resident size, heap after a full GC, the
 * engine's open sessions, the token's own session count and the objects on the token.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openBenchCa, RawSession, fixedSubjectSpki, type BenchHsm } from './hsm';
import { formatNumber, say, type Report } from './report';

const SECTION = '5 load';
const MB = 1024 * 1024;

export interface Checkpoint {
  issued: number;
  blockPerSec: number | null;
  rssMb: number;
  heapUsedMb: number;
  engineSessions: number;
  /** The token's own count (C_GetTokenInfo ulSessionCount); null where the token does not report it. */
  tokenSessions: number | null;
  tokenObjects: number;
  indexKb: number;
  elapsedSec: number;
}

/** A full GC before reading the heap, so "heap used" is what is really retained. */
function collector(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    return () => gc();
  } catch {
    return () => undefined;
  }
}

export async function benchLoad(hsm: BenchHsm, report: Report, opts: { total: number; block: number; budgetSec: number }): Promise<Checkpoint[]> {
  const gc = collector();
  const { mod, session, ca, dir, subjectProfile } = await openBenchCa(hsm, 'load-ca', 'load-ca-key');
  const spki = fixedSubjectSpki();
  const raw = new RawSession(mod.lib, session.slot, hsm.pin);
  const started = performance.now();
  const point = (issued: number, blockPerSec: number | null): Checkpoint => {
    gc();
    const mem = process.memoryUsage();
    return {
      issued,
      blockPerSec,
      rssMb: mem.rss / MB,
      heapUsedMb: mem.heapUsed / MB,
      engineSessions: mod.openSessions(),
      tokenSessions: reported(mod.lib.C_GetTokenInfo(session.slot).sessionCount),
      tokenObjects: raw.countObjects(),
      indexKb: statSync(join(dir, 'index.txt')).size / 1024,
      elapsedSec: (performance.now() - started) / 1000,
    };
  };
  const line = (c: Checkpoint) =>
    `  ${String(c.issued).padStart(6)}  ${(c.blockPerSec === null ? '-' : c.blockPerSec.toFixed(1)).padStart(8)}  ${c.rssMb.toFixed(1).padStart(7)}  ${c.heapUsedMb.toFixed(1).padStart(7)}  ${String(c.engineSessions).padStart(8)}  ${String(c.tokenSessions ?? 'n/a').padStart(8)}  ${String(c.tokenObjects).padStart(7)}  ${c.indexKb.toFixed(0).padStart(8)}  ${c.elapsedSec.toFixed(1).padStart(7)}`;

  const points: Checkpoint[] = [];
  let stopReason = '';
  try {
    const base = point(0, null);
    points.push(base);
    say(`  issued  cert/s    RSS MB  heap MB  eng.sess  tok.sess  objects  index KB  elapsed`);
    say(line(base));
    let n = 0;
    const blockSecs: number[] = [];
    while (n < opts.total) {
      const size = Math.min(opts.block, opts.total - n);
      const t0 = performance.now();
      for (let i = 0; i < size; i++) {
        await ca.issue({ profile: subjectProfile, vars: { cn: `load-${n + i}.bench.example` }, spki });
      }
      const secs = (performance.now() - t0) / 1000;
      blockSecs.push(secs);
      n += size;
      const c = point(n, size / secs);
      points.push(c);
      say(line(c));
      if (n >= opts.total) break;
      // Stop before a block that would run past the budget; project the rest from the trend.
      const projected = projectRemaining(blockSecs, Math.ceil((opts.total - n) / opts.block));
      const nextBlock = projectRemaining(blockSecs, 1);
      if (c.elapsedSec + nextBlock > opts.budgetSec) {
        stopReason = `stopped after ${n} of ${opts.total}: the next block of ${opts.block} would end past the ${opts.budgetSec} s budget; ` +
          `projected time for all ${opts.total}: ${(c.elapsedSec + projected).toFixed(0)} s (run with --load-full to do them all)`;
        report.add({ section: SECTION, name: `projected time for ${opts.total} issuances`, value: c.elapsedSec + projected, unit: 's', note: stopReason });
        say('  ' + stopReason);
        break;
      }
    }
  } finally {
    raw.close();
    await (ca as { close?: () => Promise<void> }).close?.();
    session.close();
  }

  reportLoad(report, points, stopReason);
  return points;
}

/** The figures and checks of a load run: rates first and last, growth of memory, sessions and objects. */
function reportLoad(report: Report, points: Checkpoint[], stopReason: string): void {
  const first = points[1];
  const last = points[points.length - 1];
  const base = points[0];
  report.add({ section: SECTION, name: 'issuances in one session', value: last.issued, unit: '', note: stopReason || undefined });
  report.add({ section: SECTION, name: 'total time', value: last.elapsedSec, unit: 's' });
  if (first) {
    report.add({ section: SECTION, name: `rate, first block (${first.issued})`, value: first.blockPerSec!, unit: 'cert/s' });
    report.add({ section: SECTION, name: `rate, last block (to ${last.issued})`, value: last.blockPerSec!, unit: 'cert/s' });
    const drift = ((last.blockPerSec! - first.blockPerSec!) / first.blockPerSec!) * 100;
    report.check(SECTION, 'rate drift, last block vs first', Math.round(drift * 10) / 10, '%', { atLeast: -10 }, 'steady rate: at most 10 % slower at the end');
    report.check(SECTION, `RSS growth ${first.issued} → ${last.issued}`, Math.round((last.rssMb - first.rssMb) * 10) / 10, 'MB', { atMost: 32 });
    report.check(SECTION, `heap (after GC) growth ${first.issued} → ${last.issued}`, Math.round((last.heapUsedMb - first.heapUsedMb) * 10) / 10, 'MB', { atMost: 8 });
  }
  report.check(SECTION, 'engine open sessions growth', last.engineSessions - base.engineSessions, '', { atMost: 0 });
  if (last.tokenSessions !== null && base.tokenSessions !== null) report.check(SECTION, 'token session count growth', last.tokenSessions - base.tokenSessions, '', { atMost: 0 });
  else report.add({ section: SECTION, name: 'token session count', value: null, unit: '', note: 'the token does not report it (CK_UNAVAILABLE_INFORMATION)' });
  report.check(SECTION, 'objects on the token growth', last.tokenObjects - base.tokenObjects, '', { atMost: 0 });
  report.add({ section: SECTION, name: 'index.txt size at the end', value: last.indexKb, unit: 'KB' });
  report.detail('load', { checkpoints: points, stopReason: stopReason || null });
  say(`  RSS ${formatNumber(base.rssMb)} MB at start, ${formatNumber(last.rssMb)} MB at the end`);
}

/** PKCS#11 reports "unavailable" as all ones in a CK_ULONG. */
function reported(n: number): number | null {
  return n >= 0xffffffff ? null : n;
}

/**
 * Time for `blocks` more blocks, extrapolating the per-block time linearly (issuance cost grows
 * with the size of index.txt, which is read and rewritten whole each time).
 */
function projectRemaining(blockSecs: number[], blocks: number): number {
  const k = blockSecs.length;
  const lastT = blockSecs[k - 1];
  const slope = k >= 2 ? Math.max(0, (blockSecs[k - 1] - blockSecs[0]) / (k - 1)) : 0;
  let sum = 0;
  for (let j = 1; j <= blocks; j++) sum += lastT + slope * j;
  return sum;
}

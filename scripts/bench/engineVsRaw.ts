/**
 * Section 1: how much of the token's raw signing rate survives the engine. Same token, same
 * P-256 key, same run: raw C_SignInit+C_Sign through pkcs11js, then the engine's Signer, then
 * whole issuances (certificate, files, index, journal). Issue target: issuance ≥ 25 % of raw.
 */
import { createHash, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { writeFileAtomic } from '../../electron/core/ca/fsx';
import { openBenchCa, RawSession, fixedSubjectSpki, type BenchHsm } from './hsm';
import { breakdown, formatBreakdown, profileInProcess, type Breakdown } from './profile';
import { median, say, type Report } from './report';
import { threadCpuMs, threadSplit, type ThreadSplit } from './threads';

const SECTION = '1 engine vs raw';
const TARGET_RATIO = 0.25;

/** Run `op` repeatedly for about `ms` milliseconds (after a short warm-up); operations per second. */
export async function rateFor(ms: number, op: (i: number) => unknown | Promise<unknown>, warmup = 20): Promise<{ perSec: number; count: number; ms: number }> {
  for (let i = 0; i < warmup; i++) await op(i);
  const start = performance.now();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    await op(count);
    count++;
    elapsed = performance.now() - start;
  }
  return { perSec: (count * 1000) / elapsed, count, ms: elapsed };
}

// eslint-disable-next-line max-lines-per-function -- a benchmark: measure and print, in sequence
export async function benchEngineVsRaw(hsm: BenchHsm, report: Report, opts: { seconds: number; profileDir: string }): Promise<{ msPerIssuance: number; breakdown?: Breakdown }> {
  const keyLabel = 'bench-ca-key';
  const { mod, session, ca, subjectProfile } = await openBenchCa(hsm, 'engine-ca', keyLabel);
  const unjournaled = unjournaledExt4(hsm.store.dir);
  if (unjournaled) {
    say(`  note: ${hsm.store.dir} is on ${unjournaled}, ext4 without a journal: there, creating a file costs more for some minutes after`);
    say('  many files were deleted nearby (a test run, an earlier bench run); figures taken then read low');
  }
  await settleFileCreation(hsm.store.dir, report);
  const spki = fixedSubjectSpki();
  const runMs = opts.seconds * 1000;

  // (a) Raw: our own session on the same module, the CA's private key, a 32-byte digest.
  const raw = new RawSession(mod.lib, session.slot, hsm.pin);
  const rawKey = raw.privateKey(keyLabel);
  const digest = createHash('sha256').update('bench').digest();
  const rawOut = Buffer.alloc(256);
  const rawWindow = (ms: number) =>
    rateFor(ms, () => {
      mod.lib.C_SignInit(raw.handle, { mechanism: pkcs11js.CKM_ECDSA }, rawKey);
      mod.lib.C_Sign(raw.handle, digest, rawOut);
    }, 100);
  let rawRate: number;
  {
    const r = await rawWindow(runMs);
    rawRate = r.perSec;
    say(`  raw C_Sign (P-256, CKM_ECDSA): ${r.perSec.toFixed(0)}/s over ${r.count}`);
  }

  // Intermediate: the engine's Signer alone (hash + C_Sign + r‖s → DER).
  const tbsLike = new Uint8Array(600).fill(7);
  const s = await rateFor(runMs / 2, () => ca.signer.sign('ecdsa-sha256', tbsLike), 50);
  say(`  engine Signer.sign: ${s.perSec.toFixed(0)}/s over ${s.count}`);

  // (b) Whole issuances into a fresh CA directory, one at a time, each durable when it returns.
  let n = 0;
  const issueOnce = () => ca.issue({ profile: subjectProfile, vars: { cn: `host-${n++}.bench.example` }, spki });
  const iss = await rateFor(runMs, issueOnce, 10);
  const ratio = iss.perSec / rawRate;
  const msPerIssuance = 1000 / iss.perSec;
  say(`  ca.issue, one at a time: ${iss.perSec.toFixed(1)}/s over ${iss.count} (${msPerIssuance.toFixed(2)} ms each)`);

  report.add({ section: SECTION, name: 'raw C_Sign rate (P-256)', value: rawRate, unit: 'sig/s' });
  report.add({ section: SECTION, name: 'engine Signer.sign rate', value: s.perSec, unit: 'sig/s' });
  report.add({ section: SECTION, name: 'ca.issue rate, one at a time (ec/tls-server)', value: iss.perSec, unit: 'cert/s' });
  report.add({ section: SECTION, name: 'time per issuance, one at a time', value: msPerIssuance, unit: 'ms' });
  report.check(SECTION, 'issuance / raw C_Sign, one at a time', Math.round(ratio * 1000) / 10, '%', { atLeast: TARGET_RATIO * 100 });

  // Engines that queue issuances and share one flush among those finishing together (group
  // commit) are also measured with callers in flight, and with durability deferred to the end.
  const groupCommit = typeof (ca as { flush?: unknown }).flush === 'function';
  let concurrent: number | null = null;
  let deferred: number | null = null;
  if (groupCommit) {
    // Callers issuing at once are written as shared batches (group commit); every certificate
    // is still on disk when its caller resumes.
    const inFlightWindow = (inFlight: number, ms: number) =>
      rateFor(ms, () => Promise.all(Array.from({ length: inFlight }, issueOnce)), 1).then((c) => ({ rate: c.perSec * inFlight, count: c.count * inFlight }));
    {
      const c = await inFlightWindow(16, runMs);
      say(`  ca.issue, 16 callers in flight: ${c.rate.toFixed(1)}/s over ${c.count}`);
      report.add({ section: SECTION, name: 'ca.issue rate, 16 in flight (group commit, durable)', value: c.rate, unit: 'cert/s' });
      report.check(SECTION, 'issuance / raw C_Sign, 16 in flight', Math.round((c.rate / rawRate) * 1000) / 10, '%', { atLeast: TARGET_RATIO * 100 });
    }
    // The figure the target is judged on: this machine's speed drifts (a shared virtual CPU, a
    // disk whose latency swings after large deletes), so raw signing and 64 callers in flight
    // are measured in alternating windows and the median of the per-window ratios is reported.
    const windows = 5;
    const ratios: number[] = [];
    const rates: number[] = [];
    const raws: number[] = [];
    const fileCosts: { cpuMs: number; sysMs: number }[] = [];
    const ceilings: number[] = [];
    // Verifying a P-256 signature costs the same in every window; it is measured once, first.
    const verifyMs = verifyCost();
    // Which thread limits the rate: CPU per issuance on the main thread (which signs and writes)
    // and on all others (the verify worker, V8's compiler and GC helpers), and how busy main was.
    const splits: (ThreadSplit & { wallMs: number; count: number })[] = [];
    for (let w = 0; w < windows; w++) {
      const r = await rawWindow(runMs / 2);
      const before = threadCpuMs();
      const wall0 = performance.now();
      const c = await inFlightWindow(64, runMs / 2);
      const wallMs = performance.now() - wall0;
      const after = threadCpuMs();
      // The thread readings also span inFlightWindow's one warm-up round of 64.
      const split = before && after ? { ...threadSplit(before, after), wallMs, count: c.count + 64 } : undefined;
      if (split) splits.push(split);
      raws.push(r.perSec);
      rates.push(c.rate);
      // Creating files costs more or less from one minute to the next (see fileCreationCost), so
      // it is sampled beside each window, and each window gets the ceiling its own costs allow.
      const file = fileCreationCost(join(hsm.store.dir, `file-cost-${w}`), 300);
      fileCosts.push(file);
      const signMs = 1000 / r.perSec;
      ceilings.push(signMs / (signMs + verifyMs + file.cpuMs));
      ratios.push(c.rate / r.perSec);
      say(`  window ${w + 1}/${windows}: raw ${r.perSec.toFixed(0)}/s, 64 callers in flight ${c.rate.toFixed(0)}/s (${((c.rate / r.perSec) * 100).toFixed(1)} %; ceiling here ${(ceilings[w] * 100).toFixed(1)} %, one file ${file.cpuMs.toFixed(2)} ms)`);
      if (split) {
        const mainPer = split.mainMs / split.count;
        say(`    threads: main ${mainPer.toFixed(3)} ms CPU per issuance, busy ${((split.mainMs / split.wallMs) * 100).toFixed(0)} % of the window; all others ${(split.othersMs / split.count).toFixed(3)} ms (the busiest one ${(split.busiestOtherMs / split.count).toFixed(3)})`);
        // The target's budget in CPU terms: at 25 % of this window's raw rate, one issuance may take
        // this much wall, which bounds main's CPU and, over every core, all threads' CPU together.
        const budgetMs = signMs / TARGET_RATIO;
        const cores = availableParallelism();
        say(`    at ${TARGET_RATIO * 100} % of raw here: ${budgetMs.toFixed(3)} ms of wall per issuance, so at most ${budgetMs.toFixed(3)} ms of main's CPU and ${(budgetMs * cores).toFixed(3)} ms of all threads' on ${cores} cores (now ${mainPer.toFixed(3)} and ${((split.mainMs + split.othersMs) / split.count).toFixed(3)})`);
      }
    }
    // Main's CPU per issuance, the median of the windows (undefined where no split was read).
    const mainMs = splits.length ? median(splits.map((x) => x.mainMs / x.count)) : undefined;
    if (mainMs !== undefined) {
      report.add({ section: SECTION, name: '  64 in flight: main thread CPU per issuance (median of the windows)', value: mainMs, unit: 'ms' });
      report.add({ section: SECTION, name: '  64 in flight: main thread busy, share of the window (median)', value: Math.round(median(splits.map((x) => x.mainMs / x.wallMs)) * 100), unit: '%' });
      report.add({ section: SECTION, name: '  64 in flight: all other threads\' CPU per issuance (median)', value: median(splits.map((x) => x.othersMs / x.count)), unit: 'ms' });
      report.add({ section: SECTION, name: '    of which the busiest other thread (the verify worker)', value: median(splits.map((x) => x.busiestOtherMs / x.count)), unit: 'ms' });
    } else {
      say('  threads: no per-thread CPU here (no /proc/self/task)');
    }
    concurrent = median(rates);
    const ratio64 = median(ratios);
    report.add({ section: SECTION, name: 'ca.issue rate, 64 in flight (group commit, durable), median', value: concurrent, unit: 'cert/s' });
    report.add({ section: SECTION, name: '  raw C_Sign in the same windows, median', value: median(raws), unit: 'sig/s' });
    // Issue 15 asks every window to reach the target, not only their median.
    report.check(SECTION, 'issuance / raw C_Sign, 64 in flight (lowest of 5 windows)', Math.round(Math.min(...ratios) * 1000) / 10, '%', { atLeast: TARGET_RATIO * 100 });
    report.add({ section: SECTION, name: '  highest window ratio', value: Math.round(Math.max(...ratios) * 1000) / 10, unit: '%' });
    report.check(SECTION, 'issuance / raw C_Sign, 64 in flight (median of 5 windows)', Math.round(ratio64 * 1000) / 10, '%', { atLeast: TARGET_RATIO * 100 });
    // What no issuance can skip, measured alone: the token's signature (raw C_Sign), checking it
    // (the standard: every signature is verified before it is written) and creating the one new
    // certificate file, on the filesystem the CA lives on. Their sum bounds the ratio above.
    const floor = { signMs: 1000 / median(raws), verifyMs, fileCpuMs: median(fileCosts.map((f) => f.cpuMs)), fileSysMs: median(fileCosts.map((f) => f.sysMs)) };
    report.add({ section: SECTION, name: '  unavoidable per issuance: C_Sign (raw rate)', value: floor.signMs, unit: 'ms' });
    report.add({ section: SECTION, name: '  unavoidable per issuance: verify the P-256 signature (node:crypto)', value: floor.verifyMs, unit: 'ms' });
    report.add({ section: SECTION, name: '  unavoidable per issuance: create one file here (CPU, median of the windows)', value: floor.fileCpuMs, unit: 'ms' });
    report.add({ section: SECTION, name: '    of which in the kernel', value: floor.fileSysMs, unit: 'ms' });
    // Each window's ceiling from that window's own raw rate and file cost: a single ceiling from
    // medians measured at different moments once read below the ratio actually reached.
    report.add({ section: SECTION, name: '  ceiling: issuance / raw C_Sign if nothing else took time (median of the windows\' own)', value: Math.round(median(ceilings) * 1000) / 10, unit: '%' });
    report.add({ section: SECTION, name: '    lowest window ceiling', value: Math.round(Math.min(...ceilings) * 1000) / 10, unit: '%' });
    report.add({ section: SECTION, name: '    highest window ceiling', value: Math.round(Math.max(...ceilings) * 1000) / 10, unit: '%' });
    report.detail('engineVsRawWindows', raws.map((raw, k) => ({ rawSignPerSec: raw, issuePerSec: rates[k], ratio: ratios[k], ceiling: ceilings[k], fileCpuMs: fileCosts[k].cpuMs })));
    if (mainMs !== undefined) {
      // The main thread's own steps, each run alone (warm, same CA, profile and key): what taking
      // one of them off the main thread could give at most, against its CPU per issuance above.
      const noAvoid = new Set<string>();
      let m = 0;
      const prepareMs = 1000 / (await rateFor(runMs / 3, () => ca.prepareCertificate({ profile: subjectProfile, vars: { cn: `step-${m++}.bench.example` }, spki }, noAvoid), 50)).perSec;
      const fixed = ca.prepareCertificate({ profile: subjectProfile, vars: { cn: 'gate.bench.example' }, spki }, noAvoid);
      const lintMs = 1000 / (await rateFor(runMs / 3, () => ca.lintCertificate(fixed), 50)).perSec;
      const signMs = 1000 / s.perSec;
      const restMs = mainMs - prepareMs - lintMs - signMs;
      say(`  main thread, ${mainMs.toFixed(3)} ms per issuance at 64 in flight, by step run alone: prepare ${prepareMs.toFixed(3)}, lint gate ${lintMs.toFixed(3)}, sign ${signMs.toFixed(3)} (hash, C_SignInit, C_Sign), the rest ${restMs.toFixed(3)} (journal, files, index, fsyncs, verify hand-off, batching)`);
      report.add({ section: SECTION, name: '  main thread per issuance, run alone: prepare (subject, extensions, TBS)', value: prepareMs, unit: 'ms' });
      report.add({ section: SECTION, name: '  main thread per issuance, run alone: lint gate (before signing)', value: lintMs, unit: 'ms' });
      report.add({ section: SECTION, name: '  main thread per issuance, run alone: sign (Signer.sign)', value: signMs, unit: 'ms' });
      report.add({ section: SECTION, name: '  main thread per issuance: the rest (64 in flight minus the three)', value: restMs, unit: 'ms' });
    }
    const tunable = ca as unknown as { durability?: string; flush(): Promise<void> };
    if ('durability' in tunable) {
      tunable.durability = 'deferred';
      try {
        // The flush at the end belongs to the measured run, so time it from outside rateFor.
        const warmup = 10;
        const t0 = performance.now();
        const d = await rateFor(runMs, issueOnce, warmup);
        await tunable.flush();
        deferred = ((d.count + warmup) * 1000) / (performance.now() - t0);
        say(`  ca.issue, durability deferred to one flush at the end: ${deferred.toFixed(1)}/s over ${d.count}`);
        report.add({ section: SECTION, name: 'ca.issue rate, durability deferred (bulk mode)', value: deferred, unit: 'cert/s' });
      } finally {
        tunable.durability = 'each';
      }
    }
  } else {
    say('  this engine locks the CA directory per issuance without a shared flush: no in-flight measurement');
  }
  raw.close();
  report.detail('engineVsRaw', { rawSignPerSec: rawRate, signerPerSec: s.perSec, issuePerSec: iss.perSec, issued: iss.count, ratio, concurrentPerSec: concurrent, deferredPerSec: deferred });

  // Where the time goes, always measured (the lead needs it whether or not the target is met).
  const profileCount = 300;
  const path = join(opts.profileDir, 'issue.cpuprofile');
  const { profile } = await profileInProcess(path, async () => {
    for (let i = 0; i < profileCount; i++) await issueOnce();
  });
  const b = breakdown(profile, profileCount);
  say(`  profile of ${profileCount} issuances one at a time (saved to ${path}):`);
  say(formatBreakdown(b));
  report.detail('issueProfile', b);
  const byComponent = new Map<string, number>();
  for (const r of b.rows) byComponent.set(r.component, (byComponent.get(r.component) ?? 0) + r.msPerIssuance);
  for (const [component, ms] of [...byComponent.entries()].sort((a, b2) => b2[1] - a[1])) {
    if (component !== 'idle' && (ms / b.perIssuance >= 0.02 || component.startsWith('certificate'))) report.add({ section: SECTION, name: `  per issuance: ${component}`, value: ms, unit: 'ms' });
  }
  const fsyncMs = b.rows.filter((r) => r.kind === 'fsync').reduce((a, r) => a + r.msPerIssuance, 0);
  report.add({ section: SECTION, name: '  per issuance: all fsync calls', value: fsyncMs, unit: 'ms' });
  await (ca as { close?: () => Promise<void> }).close?.();
  session.close();
  return { msPerIssuance, breakdown: b };
}

/**
 * A per-issuance cost no engine avoids besides C_Sign (taken from the raw rate): one ECDSA P-256
 * verify of a certificate-sized message (the standard: every signature is checked before it is written).
 */
function verifyCost(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tbs = new Uint8Array(600).fill(7);
  const sig = nodeSign('sha256', tbs, privateKey);
  const verifies = 2000;
  for (let i = 0; i < 100; i++) nodeVerify('sha256', tbs, publicKey, sig);
  const t0 = performance.now();
  for (let i = 0; i < verifies; i++) if (!nodeVerify('sha256', tbs, publicKey, sig)) throw new Error('the bench signature does not verify');
  return (performance.now() - t0) / verifies;
}

/** The device of `dir` when it is an ext4 filesystem mounted without a journal (Linux: no /proc/fs/jbd2 entry), else undefined. */
function unjournaledExt4(dir: string): string | undefined {
  let mounts: string[][];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  } catch {
    return undefined; // not Linux
  }
  // The mount holding dir is the one with the longest mount point that is a prefix of it.
  const m = mounts.filter((f) => f.length > 2 && (dir === f[1] || dir.startsWith(f[1].endsWith('/') ? f[1] : `${f[1]}/`))).sort((a, b) => b[1].length - a[1].length)[0];
  if (!m || m[2] !== 'ext4' || !m[0].startsWith('/dev/')) return undefined;
  // jbd2 names a journal by the kernel's device name (dm-0, not /dev/mapper/vg-root).
  let dev: string;
  try {
    dev = basename(realpathSync(m[0]));
  } catch {
    return undefined; // a name such as /dev/root that is no device node here: say nothing rather than guess
  }
  return existsSync(`/proc/fs/jbd2/${dev}-8`) ? undefined : m[0];
}

/** A new file costing this much CPU or less: a folder with no large deletion nearby lately (0.02 to 0.05 ms measured here). */
const SETTLED_FILE_MS = 0.08;
const SETTLE_MAX_SEC = 150;

/**
 * Wait, up to SETTLE_MAX_SEC, until creating a file beside the CA costs what it does in a quiet
 * folder: after a test run or an earlier bench run has deleted thousands of files nearby, it
 * costs up to 0.8 ms for the next minute or so (see fileCreationCost), and windows measured then
 * read the filesystem's recovery, not the engine (6.9 % in a first window, 18 % in a later one of
 * the same run). Every wait, and the cost it ended at, is printed and kept in the report.
 */
async function settleFileCreation(dir: string, report: Report): Promise<void> {
  const t0 = performance.now();
  const first = fileCreationCost(join(dir, 'settle-0'), 200).cpuMs;
  let last = first;
  let k = 1;
  while (last > SETTLED_FILE_MS && (performance.now() - t0) / 1000 < SETTLE_MAX_SEC) {
    await new Promise((r) => setTimeout(r, 5000));
    // A new folder each time, kept: deleting the probe's files would be what it waits out.
    last = fileCreationCost(join(dir, `settle-${k++}`), 200).cpuMs;
  }
  const waited = (performance.now() - t0) / 1000;
  if (first > SETTLED_FILE_MS) {
    say(`  waited ${waited.toFixed(0)} s for file creation here to settle: ${first.toFixed(2)} → ${last.toFixed(2)} ms per file${last > SETTLED_FILE_MS ? ` (still above ${SETTLED_FILE_MS} ms after ${SETTLE_MAX_SEC} s: figures below read low)` : ''}`);
  }
  report.add({ section: SECTION, name: 'wait before measuring, for file creation to settle', value: Math.round(waited), unit: 's' });
  report.add({ section: SECTION, name: '  one file here (CPU) when the wait began', value: first, unit: 'ms' });
  report.add({ section: SECTION, name: '  one file here (CPU) when it ended', value: last, unit: 'ms' });
}

/**
 * One new file written as certificate files are (fsx.ts writeFileAtomic: temporary name, write,
 * close, link, unlink), as CPU time per file. On ext4 mounted without a journal (this kind of
 * virtual machine's root), creating a file skips every inode freed in the last minutes
 * (ext4's recently_deleted, read from the inode table one by one), so its cost grows with what
 * was deleted nearby just before: 0.02 ms per file in a quiet folder, 0.8 ms beside one where
 * thousands of files had just been removed (a perf profile of it is all recently_deleted). The
 * probe's files are therefore kept until the bench's store is removed at the end: deleting
 * them here made every later window, and its issuances, slower than the one before. The
 * engine itself frees no inode per issuance (the temporary name is unlinked after the link).
 */
function fileCreationCost(dir: string, files: number): { cpuMs: number; sysMs: number } {
  mkdirSync(dir, { recursive: true });
  const pem = Buffer.alloc(800, 0x41);
  const cpu0 = process.cpuUsage();
  // The engine's own call for a certificate file (authority.ts writeBatch), so this is its cost exactly.
  for (let i = 0; i < files; i++) writeFileAtomic(join(dir, `${i.toString(16).padStart(20, '0')}.crt`), pem, { createOnly: true, sync: false });
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / files, sysMs: cpu.system / 1000 / files };
}

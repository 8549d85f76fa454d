/**
 * Crash safety: a child process issues certificates in a loop and is SIGKILLed at random moments,
 * many times. After every kill `qpki ca check` must find the directory consistent — index, serial
 * file, certificates and journal agree, no serial used twice, at most the issuances in flight
 * missing and named by the journal — and `--repair` must leave it clean for the next issuance.
 * Some kills are followed by a simulated torn journal write (what a power cut mid-append leaves;
 * a SIGKILL alone cannot tear a single write), which `ca check` must report and `--repair` set aside.
 *
 * Sizes: QPKI_CRASH_KILLS (software CA key, default 40), QPKI_CRASH_BATCH_KILLS (software key, 8 callers
 * at once, default 20), QPKI_CRASH_TOKEN_KILLS (SoftHSM2 key, default 10).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { makeSoftHsmStore, SOFTHSM_LIB, type SoftHsmStore } from '../softhsm';
import { ensureCliBuilt, qpki, ROOT, type CliResult } from './helpers';
import type { CaCheckResult, CaRepairResult } from '../../electron/core/ca/check';
import { createInterface } from 'node:readline';

const KILLS = Number(process.env.QPKI_CRASH_KILLS ?? 40);
const TOKEN_KILLS = Number(process.env.QPKI_CRASH_TOKEN_KILLS ?? 10);
const BATCH_KILLS = Number(process.env.QPKI_CRASH_BATCH_KILLS ?? 20);
/**
 * How long a victim lives after it says ready: up to this many ms, at random. Every issuance now
 * also passes the lint gate (a throwaway signature and our lints before the CA key signs), so the
 * window covers a few issuances on a loaded 2-core machine, not only the first one.
 */
const KILL_WINDOW_MS = 150;
const PIN = 'crash-pin-123456';
let work: string;
let loop: string;
let store: SoftHsmStore;

before(async () => {
  await ensureCliBuilt();
  work = mkdtempSync(join(tmpdir(), 'qpki-crash-'));
  // Bundled once, so each victim starts in a fraction of a second and most kills land mid-issuance.
  loop = join(work, 'issue-loop.cjs');
  await build({ entryPoints: [join(__dirname, 'issue-loop.ts')], outfile: loop, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['pkcs11js', '@oqs/liboqs-js'], logLevel: 'warning' });
  store = makeSoftHsmStore();
  store.initToken('Crash Token', 'crash-so-123456', PIN);
});
after(() => {
  rmSync(work, { recursive: true, force: true });
  store.cleanup();
});

function json<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`not JSON (exit ${r.status}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 1000)}`);
  }
}

interface Victim { issued: string[]; killedAfterMs: number; exit: string }

/** Start the loop, wait until it is ready, let it run a random while, SIGKILL it. */
/**
 * `afterFirst`: the kill's random delay starts at the victim's first issuance rather than at
 * "ready", so that on a slow or busy machine some kills still land after issuances (and the
 * check below that victims issued between kills tests the directory, not the machine's speed).
 */
function runAndKill(dir: string, env: NodeJS.ProcessEnv, maxMs: number, callers: number, afterFirst = false): Promise<Victim> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [loop, dir, String(callers)], { env: { ...env, NODE_PATH: join(ROOT, 'node_modules') }, stdio: ['ignore', 'pipe', 'pipe'] });
    const issued: string[] = [];
    let err = '';
    let killedAfterMs = -1;
    let firstGuard: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => fail(new Error(`the issuance loop never became ready: ${err}`)), 30_000);
    child.stderr.on('data', (d) => (err += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const schedule = () => {
        killedAfterMs = Math.floor(Math.random() * maxMs);
        setTimeout(() => child.kill('SIGKILL'), killedAfterMs);
      };
      if (line === 'ready') {
        clearTimeout(guard);
        if (!afterFirst) schedule();
        else firstGuard = setTimeout(() => { child.kill('SIGKILL'); fail(new Error(`the issuance loop issued nothing in 30 s: ${err}`)); }, 30_000);
      } else if (line.startsWith('issued ')) {
        issued.push(line.slice(7));
        if (afterFirst && issued.length === 1) {
          clearTimeout(firstGuard);
          schedule();
        }
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') fail(new Error(`the issuance loop stopped by itself (exit ${code}): ${err}`));
      else done({ issued, killedAfterMs, exit: String(signal) });
    });
  });
}

/** Cut the journal's last line short, as a power cut in the middle of an append would. */
function tearJournal(dir: string): boolean {
  const p = join(dir, 'journal.jsonl');
  const text = readFileSync(p, 'utf8');
  const start = text.lastIndexOf('\n', text.length - 2) + 1;
  const lastLine = text.slice(start, -1);
  if (!/"kind":"certificate\.signed"/.test(lastLine)) return false;
  truncateSync(p, Buffer.byteLength(text.slice(0, start)) + 1 + Math.floor(Math.random() * (Buffer.byteLength(lastLine) - 2)));
  return true;
}

function journalEntries(dir: string): { kind: string; facts: Record<string, unknown> }[] {
  const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n');
  lines.pop(); // empty, or the torn fragment of a simulated power cut
  return lines.map((l) => JSON.parse(l));
}

async function crashRun(label: string, dir: string, env: NodeJS.ProcessEnv, kills: number, maxMs: number, tearEvery: number, callers = 1): Promise<Record<string, number>> {
  const stats: Record<string, number> = { kills: 0, reportedIssued: 0, midIssuance: 0, 'not-signed': 0, 'signed-not-indexed': 0, 'indexed-not-journaled': 0, tornTails: 0, tempFilesRemoved: 0, repairs: 0 };
  const delivered = new Set<string>();
  for (let k = 0; k < kills; k++) {
    let t = performance.now();
    // One kill in five comes after the victim's first issuance; the others at any point from "ready".
    const v = await runAndKill(dir, env, maxMs, callers, k % 5 === 4);
    stats.msVictim = (stats.msVictim ?? 0) + performance.now() - t;
    t = performance.now();
    stats.kills++;
    stats.reportedIssued += v.issued.length;
    v.issued.forEach((s) => delivered.add(s));
    const simulated = k % tearEvery === tearEvery - 1 && tearJournal(dir);

    const r = qpki(['--json', 'ca', 'check', '--ca-dir', dir], { env });
    const c = json<CaCheckResult>(r);
    // The kill itself can tear the last line too: Linux ends a write(2) short when a fatal signal
    // arrives between two pages it copies, so a line that crosses a page boundary may be cut.
    // Either way the same rules hold: ca check says so, and --repair sets exactly that fragment aside.
    const torn = simulated || !!c.journalTornTail;
    if (simulated) stats.tornTails++;
    else if (torn) stats.tornByKill = (stats.tornByKill ?? 0) + 1;
    const ctx = `${label} kill ${k + 1} after ${v.killedAfterMs} ms: ${JSON.stringify({ problems: c.problems, notes: c.notes })}`;
    if (torn) {
      assert.equal(r.status, 1, ctx);
      assert.ok(c.journalTornTail && c.journalTornTail.bytes > 0, ctx);
      assert.equal(c.problems.length, 1, ctx);
      assert.match(c.problems[0], /cut short by a crash.*--repair/, ctx);
      assert.match(r.stdout + qpki(['ca', 'check', '--ca-dir', dir], { env }).stdout, /--repair/);
    } else {
      assert.equal(r.status, 0, ctx);
      assert.deepEqual(c.problems, [], ctx);
    }
    assert.ok(c.inFlight.length <= callers, `at most the issuances in flight (${callers}) are missing: ${ctx}`);
    for (const i of c.interrupted.filter((x) => !x.recorded)) stats[i.state]++;
    if (c.inFlight.length) stats.midIssuance++;
    stats.msCheck = (stats.msCheck ?? 0) + performance.now() - t;
    t = performance.now();

    // Everything the victim reported as issued is in the index, under the serial it reported.
    const index = readFileSync(join(dir, 'index.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[3]);
    for (const s of delivered) assert.ok(index.includes(s), `${label}: issued ${s} is in index.txt`);
    // No serial used twice: in the index, on disk, or among the issuances the journal started.
    assert.equal(new Set(index).size, index.length, `${label}: no serial twice in index.txt`);
    const started = journalEntries(dir).filter((e) => e.kind === 'issuance.started').map((e) => String(e.facts.serial));
    assert.equal(new Set(started).size, started.length, `${label}: no serial started twice`);
    const startedSet = new Set(started);
    for (const f of readdirSync(join(dir, 'certs')).filter((x) => x.endsWith('.crt'))) assert.ok(startedSet.has(f.slice(0, -4)), `${label}: certs/${f} was started in the journal`);

    if (c.repairable) {
      const before = JSON.stringify(readdirSync(join(dir, 'certs')).filter((x) => x.endsWith('.crt')).sort()) + readFileSync(join(dir, 'index.txt'), 'utf8');
      const rr = qpki(['--json', 'ca', 'check', '--repair', '--ca-dir', dir], { env });
      const rep = json<CaRepairResult>(rr);
      assert.equal(rr.status, 0, `${ctx}\n${rr.stderr}`);
      stats.repairs++;
      stats.tempFilesRemoved += rep.removedTempFiles.length;
      if (torn) assert.ok(rep.journal && rep.journal.removedBytes === c.journalTornTail!.bytes, ctx);
      assert.deepEqual(rep.recordedInterruptions, c.inFlight, ctx);
      assert.equal(rep.after.ok, true, ctx);
      assert.equal(rep.after.repairable, false, ctx);
      assert.deepEqual(rep.after.inFlight, [], ctx);
      const after = JSON.stringify(readdirSync(join(dir, 'certs')).filter((x) => x.endsWith('.crt')).sort()) + readFileSync(join(dir, 'index.txt'), 'utf8');
      assert.equal(after, before, `${label}: the repair changed no certificate and not the index`);
    }
    stats.msRepair = (stats.msRepair ?? 0) + performance.now() - t;
  }
  return stats;
}

function finalIssuanceWorks(dir: string, env: NodeJS.ProcessEnv, extra: string[]): void {
  const r = qpki(['--json', 'credential', 'enroll', '--ca-dir', dir, '--profile', 'ec/tls-server', '--var', 'cn=after-the-crashes.example.com', '--cred-dir', join(work, 'creds'), '--unencrypted-key', ...extra], { env });
  assert.equal(r.status, 0, r.stderr);
  const c = json<CaCheckResult>(qpki(['--json', 'ca', 'check', '--ca-dir', dir], { env }));
  assert.equal(c.ok, true, JSON.stringify(c.problems));
  assert.equal(c.repairable, false);
  assert.deepEqual(c.inFlight, []);
}

test(`software CA key: ${KILLS} SIGKILLs mid-issuance, every one leaves a consistent CA directory`, { timeout: 600_000 }, async () => {
  const dir = join(work, 'soft-ca');
  const init = qpki(['ca', 'init', '--profile', 'ec/root-ca', '--unencrypted-key', '--var', 'cn=Crash Root', '--dir', dir]);
  assert.equal(init.status, 0, init.stderr);
  const stats = await crashRun('software', dir, process.env, KILLS, KILL_WINDOW_MS, 5);
  finalIssuanceWorks(dir, process.env, []);
  const certs = readdirSync(join(dir, 'certs')).length;
  console.log(`# crash (software key): ${JSON.stringify(stats)}; certificates in the CA: ${certs}; journal ${statSync(join(dir, 'journal.jsonl')).size} bytes`);
  assert.equal(stats.kills, KILLS);
  assert.ok(stats.reportedIssued > 0, 'the victims issued certificates between kills');
});

test(`software CA key, 8 callers issuing at once (shared batches): ${BATCH_KILLS} SIGKILLs`, { timeout: 600_000 }, async () => {
  const dir = join(work, 'batch-ca');
  const init = qpki(['ca', 'init', '--profile', 'ec/root-ca', '--unencrypted-key', '--var', 'cn=Crash Batch Root', '--dir', dir]);
  assert.equal(init.status, 0, init.stderr);
  const stats = await crashRun('batches', dir, process.env, BATCH_KILLS, KILL_WINDOW_MS, 5, 8);
  finalIssuanceWorks(dir, process.env, []);
  console.log(`# crash (8 callers at once): ${JSON.stringify(stats)}; certificates in the CA: ${readdirSync(join(dir, 'certs')).length}`);
  assert.equal(stats.kills, BATCH_KILLS);
  assert.ok(stats.reportedIssued > 0, 'the victims issued certificates between kills');
});

test(`token CA key (SoftHSM2): ${TOKEN_KILLS} SIGKILLs mid-issuance`, { timeout: 600_000 }, async () => {
  const dir = join(work, 'token-ca');
  const env = { ...store.env, QPKI_LOOP_PIN: PIN, CRASH_PIN: PIN };
  const tok = ['--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Crash Token', '--pkcs11-pin-env', 'CRASH_PIN'];
  const init = qpki(['ca', 'init', '--profile', 'ec/root-ca', ...tok, '--pkcs11-key-label', 'crash-ca', '--var', 'cn=Crash Token Root', '--dir', dir], { env });
  assert.equal(init.status, 0, init.stderr);
  const stats = await crashRun('token', dir, env, TOKEN_KILLS, 120, 4);
  finalIssuanceWorks(dir, env, ['--pkcs11-pin-env', 'CRASH_PIN']);
  console.log(`# crash (token key): ${JSON.stringify(stats)}; certificates in the CA: ${readdirSync(join(dir, 'certs')).length}`);
  assert.equal(stats.kills, TOKEN_KILLS);
});

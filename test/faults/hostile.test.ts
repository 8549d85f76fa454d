/**
 * Hostile input: several hundred malformed certificates, CSRs, CRLs, PEM files, profiles and
 * variable values (scripts/make-hostile-corpus.ts) through the real entry points — `cert show`,
 * `cert issue --csr` against a real CA, `ca init --profile`, `--var`/`--var-file`. Every case must
 * end in a clear error with a stable code (never INTERNAL, never a stack trace), within a time
 * limit, and leave the CA directory as it was. All cases run through the CLI's main() in one
 * runner process; a sample also runs through the built `qpki` binary.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeHostileCorpus, type HostileCase } from '../../scripts/make-hostile-corpus';
import { ERROR_CODES } from '../../electron/core/errors';
import { ensureCliBuilt, qpki, qpkiAsync } from './helpers';
import { createInterface } from 'node:readline';

const CASE_TIMEOUT_MS = Number(process.env.QPKI_HOSTILE_CASE_TIMEOUT_MS ?? 10_000);
const STACK = /^\s+at .+:\d+:\d+\)?$/m;
let work: string;
let corpus: string;
let caDir: string;
let scratch: string;
let cases: HostileCase[];

interface Outcome { i: number; status: number; ms: number; code?: string; stderr: string; stdoutBytes: number; shownInvalid?: boolean; caChanged: boolean; journalAdded: string[]; leftovers: string[]; hung?: boolean }

before(async () => {
  await ensureCliBuilt();
  work = mkdtempSync(join(tmpdir(), 'qpki-hostile-'));
  corpus = join(work, 'corpus');
  scratch = join(work, 'scratch');
  mkdirSync(scratch);
  cases = await makeHostileCorpus(corpus);
  caDir = join(work, 'ca');
  const r = qpki(['ca', 'init', '--profile', 'ec/root-ca', '--unencrypted-key', '--var', 'cn=Hostile Input Root', '--dir', caDir]);
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the cases from `first` on; a case that takes too long is killed, recorded as hung, and the run goes on after it. */
function runFrom(first: number, outcomes: Outcome[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--stack-size=984', '--import', 'tsx', join(__dirname, 'hostile-runner.ts'), corpus, caDir, scratch, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let next = first;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), ms);
    };
    arm(CASE_TIMEOUT_MS + 15_000); // start-up
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('CASE ')) return;
      const o = JSON.parse(line.slice(5)) as Outcome;
      outcomes.push(o);
      next = o.i + 1;
      arm(CASE_TIMEOUT_MS);
    });
    child.stderr.on('data', () => {});
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (next < cases.length) {
        outcomes.push({ i: next, status: -1, ms: CASE_TIMEOUT_MS, stderr: `runner ${signal ? 'killed (' + signal + ')' : 'stopped'}`, stdoutBytes: 0, caChanged: false, journalAdded: [], leftovers: [], hung: !!signal });
        done(next + 1);
      } else done(cases.length);
    });
  });
}

test('every hostile case is refused with a stable code, quickly, without touching the CA', { timeout: 900_000 }, async () => {
  const outcomes: Outcome[] = [];
  for (let first = 0; first < cases.length; ) first = await runFrom(first, outcomes);
  assert.equal(outcomes.length, cases.length, 'every case ran');

  const perCategory: Record<string, Record<string, number>> = {};
  const perCode: Record<string, number> = {};
  const failures: string[] = [];
  let slowest = 0;
  for (const o of outcomes) {
    const c = cases[o.i];
    // `cert show` on a well-formed document whose signature fails prints INVALID and exits 1.
    const shown = o.status === 1 && !o.code && o.shownInvalid && c.target === 'document';
    const code = o.status === 0 ? 'accepted' : shown ? 'shown, signature INVALID' : o.code ?? (o.hung ? 'HUNG' : o.status === 2 ? 'USAGE' : 'NO_CODE');
    perCode[code] = (perCode[code] ?? 0) + 1;
    (perCategory[c.category] ??= {})[code] = (perCategory[c.category][code] ?? 0) + 1;
    slowest = Math.max(slowest, o.ms);
    const where = `${c.file} (${c.description})`;
    if (o.hung || o.status === -1) failures.push(`${where}: hung or crashed the runner: ${o.stderr}`);
    else if ((o.status === 0 || shown) && c.expect === 'error') failures.push(`${where}: ${code}`);
    else if (o.status !== 0 && !o.code && !shown) failures.push(`${where}: exit ${o.status} without an error code: ${o.stderr.slice(0, 300)}`);
    if (o.code === 'INTERNAL') failures.push(`${where}: INTERNAL: ${o.stderr.slice(0, 300)}`);
    if (o.code && !(ERROR_CODES as readonly string[]).includes(o.code)) failures.push(`${where}: unknown code ${o.code}`);
    if (STACK.test(o.stderr)) failures.push(`${where}: stack trace in the output`);
    if (o.caChanged) failures.push(`${where}: the CA directory changed (journal gained ${o.journalAdded.join(', ')})`);
    if (o.leftovers.length) failures.push(`${where}: left ${o.leftovers.join(', ')}`);
    if (o.status !== 0 && o.code) assert.match(o.stderr, /^error \[[A-Z_0-9]+\]: \S.{10,}/m, `${where}: a one-line message with words`);
  }
  console.log(`# hostile corpus: ${cases.length} cases, slowest ${slowest} ms`);
  for (const [cat, codes] of Object.entries(perCategory)) console.log(`#   ${cat}: ${Object.entries(codes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`# per code: ${Object.entries(perCode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.deepEqual(failures, []);
  assert.ok(cases.length >= 300, 'several hundred cases');
});

test('a sample of the corpus through the built qpki binary gives the same codes', { timeout: 300_000 }, async () => {
  const sample = cases.map((c, i) => ({ c, i })).filter(({ c, i }) => i % 15 === 0 || c.category === 'deep nesting' || c.category === 'bad profile' && i % 3 === 0);
  const results: { i: number; code?: string; status: number | null; stderr: string; timedOut: boolean }[] = [];
  for (let k = 0; k < sample.length; k += 2) {
    const batch = sample.slice(k, k + 2);
    const rs = await Promise.all(batch.map(({ c, i }) => {
      const file = join(corpus, c.file);
      const args = c.target === 'document' ? ['cert', 'show', file]
        : c.target === 'csr' ? ['cert', 'issue', '--csr', file, '--profile', 'ec/tls-server', '--out', join(scratch, `bin-cert-${i}.pem`), '--ca-dir', caDir]
        : c.target === 'profile' ? ['ca', 'init', '--profile', file, '--unencrypted-key', '--var', 'cn=Corpus Root', '--dir', join(scratch, `bin-ca-${i}`)]
        : ['ca', 'init', '--profile', 'ec/root-ca', '--unencrypted-key', '--dir', join(scratch, `bin-ca-${i}`), ...(c.varArgs ? c.varArgs.flatMap((v) => ['--var', v]) : ['--var-file', file])];
      return qpkiAsync(args, { timeout: CASE_TIMEOUT_MS + 5_000 });
    }));
    rs.forEach((r, j) => results.push({ i: batch[j].i, code: r.code, status: r.status, stderr: r.stderr, timedOut: r.timedOut }));
  }
  const bad = results.filter((r) => {
    const c = cases[r.i];
    return r.timedOut || r.code === 'INTERNAL' || STACK.test(r.stderr) || (r.status !== 0 && !r.code) || (r.status === 0 && c.expect === 'error' && c.target !== 'vars');
  });
  console.log(`# through the binary: ${results.length} cases, codes ${JSON.stringify(results.reduce((a, r) => ((a[r.code ?? 'accepted'] = (a[r.code ?? 'accepted'] ?? 0) + 1), a), {} as Record<string, number>))}`);
  assert.deepEqual(bad.map((r) => `${cases[r.i].file}: ${r.code} ${r.stderr.slice(0, 200)}`), []);
});

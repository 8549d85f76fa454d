/**
 * Runs hostile corpus cases through the real command line entry point, `main()` of electron/cli/main.ts,
 * in one process (spawning a CLI per case would take minutes). Usage:
 *   hostile-runner.ts <corpus-dir> <ca-dir> <scratch-dir> <first-index>
 * Prints one `CASE {json}` line per case, written straight to fd 1 so the CLI's own output,
 * which is captured per case, cannot interleave with it.
 */
import { existsSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../electron/cli/main';
import type { HostileCase } from '../../scripts/make-hostile-corpus';
import { hashTree } from './helpers';

const [corpus, caDir, scratch, first] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as HostileCase[];

function argsFor(c: HostileCase, i: number): { args: string[]; newDir?: string } {
  const file = join(corpus, c.file);
  const newDir = join(scratch, `ca-${i}`);
  switch (c.target) {
    case 'document':
      return { args: ['cert', 'show', file] };
    case 'csr':
      return { args: ['cert', 'issue', '--csr', file, '--profile', 'ec/tls-server', '--out', join(scratch, `cert-${i}.pem`), '--ca-dir', caDir] };
    case 'profile':
      return { args: ['ca', 'init', '--profile', file, '--unencrypted-key', '--var', 'cn=Corpus Root', '--dir', newDir], newDir };
    case 'vars': {
      const vars = c.varArgs ? c.varArgs.flatMap((v) => ['--var', v]) : ['--var-file', file];
      if (c.profile === 'ec/tls-server') return { args: ['credential', 'enroll', '--ca-dir', caDir, '--profile', 'ec/tls-server', '--unencrypted-key', '--cred-dir', join(scratch, `cred-${i}`), ...vars] };
      return { args: ['ca', 'init', '--profile', c.profile ?? 'ec/root-ca', '--unencrypted-key', '--dir', newDir, ...vars], newDir };
    }
  }
}

function journalKinds(text: string): string[] {
  return text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { kind: string }).kind);
}

async function run(): Promise<void> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  for (let i = Number(first); i < cases.length; i++) {
    const c = cases[i];
    const { args, newDir } = argsFor(c, i);
    const before = hashTree(caDir, (rel) => rel === 'journal.jsonl' || rel === '.lock');
    const journalBefore = readFileSync(join(caDir, 'journal.jsonl'), 'utf8');
    let stdout = '';
    let stderr = '';
    process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
    process.exitCode = undefined;
    const t0 = performance.now();
    let status: number;
    try {
      status = await main(args);
    } catch (e) {
      stderr += `escaped main(): ${(e as Error)?.stack ?? e}`;
      status = 99;
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      process.exitCode = undefined;
    }
    const ms = performance.now() - t0;
    const failed = status !== 0;
    // A refused input leaves the CA as it was; the journal may only gain csr.refused entries.
    const after = hashTree(caDir, (rel) => rel === 'journal.jsonl' || rel === '.lock');
    const journalAfter = readFileSync(join(caDir, 'journal.jsonl'), 'utf8');
    const added = journalAfter.startsWith(journalBefore) ? journalKinds(journalAfter.slice(journalBefore.length)) : ['<rewritten>'];
    const caChanged = failed && (JSON.stringify(before) !== JSON.stringify(after) || added.some((k) => k !== 'csr.refused'));
    const leftovers = failed && newDir ? (existsSync(newDir) ? [newDir] : []).concat(readdirSync(scratch).filter((n) => n.includes('.partial-'))) : [];
    writeSync(1, 'CASE ' + JSON.stringify({ i, status, ms: Math.round(ms), code: /^error \[([A-Z0-9_]+)\]/m.exec(stderr)?.[1], stderr: stderr.slice(0, 600), stdoutBytes: stdout.length, shownInvalid: /: INVALID/.test(stdout), caChanged, journalAdded: added, leftovers }) + '\n');
  }
}

run().then(() => process.exit(0));

/**
 * Shared by the fault tests: the real `qpki` run as a child process, and a fingerprint of a CA
 * directory so a test can prove a failed command wrote nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { ensureCliBuilt, QPKI, ROOT } from '../cli-build';

export { ensureCliBuilt, QPKI, ROOT };

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The stable code from `error [CODE]: …`, if the command failed with one. */
  code?: string;
  timedOut: boolean;
}

function result(status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, timedOut: boolean): CliResult {
  return { status, signal, stdout, stderr, code: /^error \[([A-Z0-9_]+)\]/m.exec(stderr)?.[1], timedOut };
}

export function qpki(args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [QPKI, ...args], { encoding: 'utf8', env: opts.env ?? process.env, timeout: opts.timeout ?? 60_000, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return result(r.status, r.signal, r.stdout ?? '', r.stderr ?? '', (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT');
}

/** The same, asynchronously, so a test can run several commands at once. */
export function qpkiAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [QPKI, ...args], { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeout ?? 30_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      done(result(status, signal, out, err, timedOut));
    });
  });
}

/** SHA-256 of every file under `dir` (path → hash), for before/after comparisons. */
export function hashTree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else out[rel] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

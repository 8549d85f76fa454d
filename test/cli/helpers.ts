/**
 * Running the real `qpki` command line as a child process against a private SoftHSM2 store,
 * and checking what it writes with tools that are not ours (openssl, certtool, python
 * cryptography, pkcs11-tool).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB, type SoftHsmModule, type SoftHsmStore } from '../softhsm';

export { SOFTHSM_LIB };
import { ensureCliBuilt, QPKI, ROOT } from '../cli-build';

export { ensureCliBuilt, QPKI, ROOT };

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every run's output, so the canary test can search all of it. */
export const transcript: RunResult[] = [];

export function qpki(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): RunResult {
  // stdin is a pipe (never a terminal), as in CI: nothing can be prompted for.
  const r = spawnSync(process.execPath, [QPKI, ...args], { env: opts.env, cwd: opts.cwd, input: opts.input ?? '', encoding: 'utf8', timeout: 60_000 });
  const out = { code: r.status, stdout: r.stdout, stderr: r.stderr };
  transcript.push(out);
  return out;
}

/** Asserts success and returns stdout; on failure the message shows what the CLI said. */
export function ok(r: RunResult): string {
  if (r.code !== 0) throw new Error(`qpki failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** A failed command ends with exactly one error line `error [CODE]: message` and no stack. */
export function errorLine(r: RunResult): { code: string; message: string; line: string } {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  const errors = lines.filter((l) => l.startsWith('error ['));
  if (errors.length !== 1) throw new Error(`expected one error line, got:\n${r.stderr}`);
  if (/^\s+at /m.test(r.stderr)) throw new Error(`stack trace printed:\n${r.stderr}`);
  const m = /^error \[([A-Z0-9_]+)\]: (.+)$/.exec(errors[0])!;
  return { code: m[1], message: m[2], line: errors[0] };
}

export interface Lab {
  store: SoftHsmStore;
  /** Working directory for CA dirs and outputs (inside the store's temp dir). */
  dir: string;
  env: NodeJS.ProcessEnv;
  serial: string;
  run(args: string[], extraEnv?: Record<string, string>, input?: string): RunResult;
  path(...p: string[]): string;
  cleanup(): void;
}

export const TOKEN_LABEL = 'CA Token';
export const USER_PIN = 'user-PIN-0123456789';
export const SO_PIN = 'so-PIN-0123456789';

/**
 * A private token store with one initialized token ("CA Token"), and a CLI runner bound to it.
 * `module`: the SoftHSM2 build that makes the store's tokens (Debian's unless given).
 */
export function makeLab(label = TOKEN_LABEL, pin = USER_PIN, module?: SoftHsmModule): Lab {
  const store = makeSoftHsmStore(module);
  const serial = store.initToken(label, SO_PIN, pin);
  const dir = join(store.dir, 'work');
  mkdirSync(dir);
  // QPKI_DEBUG would print stacks; the tests check the output users see.
  const env: NodeJS.ProcessEnv = { ...store.env, QPKI_DEBUG: '' };
  delete env.QPKI_DEBUG;
  return {
    store,
    dir,
    env,
    serial,
    run: (args, extraEnv, input) => qpki(args, { env: { ...env, ...extraEnv }, cwd: dir, input }),
    path: (...p) => join(dir, ...p),
    cleanup: () => store.cleanup(),
  };
}

/** Token options with the PIN from an environment variable (the recommended form). */
export function tokenArgs(label = TOKEN_LABEL, lib = SOFTHSM_LIB): string[] {
  return ['--pkcs11-lib', lib, '--pkcs11-token', label, '--pkcs11-pin-env', 'QPKI_TEST_PIN'];
}
export const PIN_ENV = { QPKI_TEST_PIN: USER_PIN };

export function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run a Python snippet (python3 with cryptography); argv after the snippet as sys.argv[1:]. */
export function python(code: string, args: string[]): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
}

/** SHA-256 of every file under a directory, keyed by relative path: proves it was left untouched. */
export function treeHash(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(p).isDirectory()) {
        out[r + '/'] = 'dir';
        walk(p, r);
      } else out[r] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

export function pemToDer(pem: string): Buffer {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

/** The first certificate of a PEM file. */
export function firstPem(text: string): string {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----\n?/.exec(text);
  if (!m) throw new Error('no PEM block');
  return m[0];
}

/** Paths the CLI printed after "wrote:" (credential enroll). */
export function wrotePaths(stdout: string): string[] {
  return [...stdout.matchAll(/^\s*wrote:\s+(.+)$/gm)].map((m) => m[1].trim());
}

/**
 * Run qpki on a pseudo-terminal (Python's pty module), answering each prompt (a line ending in
 * ':') with the next answer; '\x03' sends Ctrl-C. Returns everything the terminal showed.
 */
const PTY_RUN = `
import os, pty, sys, time, select, json
answers, cwd, cmd = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.execvp(cmd[0], cmd)
out, ai, seen = b'', 0, 0
deadline = time.time() + 40
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if not r:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if out.rstrip().endswith(b':') and len(out) > seen and ai < len(answers):
        seen = len(out)
        time.sleep(0.05)
        a = answers[ai]
        os.write(fd, a.encode() + (b'' if a == '\\x03' else b'\\r'))
        ai += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'code': os.waitstatus_to_exitcode(status), 'screen': out.decode('utf8', 'replace'), 'answered': ai}))
`;

export function qpkiOnTerminal(lab: Lab, args: string[], answers: string[]): { code: number; screen: string; answered: number } {
  const r = spawnSync('python3', ['-c', PTY_RUN, JSON.stringify(answers), lab.dir, process.execPath, QPKI, ...args], { env: lab.env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pty runner failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { code: number; screen: string; answered: number };
  transcript.push({ code: res.code, stdout: res.screen, stderr: '' });
  return res;
}

/** Like qpki(), but without blocking: for runs that must overlap. */
export function qpkiAsync(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [QPKI, ...args], { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const out = { code, stdout, stderr };
      transcript.push(out);
      resolvePromise(out);
    });
  });
}

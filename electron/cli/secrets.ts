import { readFileSync } from 'node:fs';
import { QpkiError } from '../core/errors';
import { writeErr } from './output';

/**
 * Secrets for the command line: a PIN or passphrase comes from an environment variable, a file,
 * or a hidden prompt on a terminal. A PIN given as an argument still works (the reference usage
 * shows it) but draws a warning, since other processes can read command lines.
 */
export type SecretCode = 'PIN_REQUIRED' | 'PASSPHRASE_REQUIRED';

export interface SecretSources {
  value?: string;
  env?: string;
  file?: string;
}

export function warn(msg: string): void {
  writeErr(`warning: ${msg}\n`);
}

function fromFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new QpkiError('INPUT_INVALID', `Cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
  // The first line is the secret; a trailing newline is not part of it.
  return text.split(/\r?\n/)[0];
}

/** Read a line from the terminal without echoing it. */
export function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) {
      reject(new QpkiError('PIN_REQUIRED', 'No terminal to prompt on.'));
      return;
    }
    writeErr(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      writeErr('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new QpkiError('INPUT_INVALID', 'Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Resolve a secret from its sources, in the order flag, environment, file, terminal prompt.
 * Returns undefined when none is given and there is no terminal (the caller decides whether
 * that is an error).
 */
export async function readSecret(what: string, flagName: string, s: SecretSources, opts: { confirm?: boolean; code?: SecretCode } = {}): Promise<string | undefined> {
  const code = opts.code ?? (/PIN/.test(what) ? 'PIN_REQUIRED' : 'PASSPHRASE_REQUIRED');
  if (s.value !== undefined) {
    warn(`a ${what} given with ${flagName} is visible to other processes and may stay in shell history; prefer ${flagName}-env, ${flagName}-file or the prompt.`);
    return s.value;
  }
  if (s.env !== undefined) {
    const v = process.env[s.env];
    // Unset and empty are both a missing secret (an empty PIN reaching C_Login says nothing useful).
    if (v === undefined) throw new QpkiError(code, `The environment variable ${s.env} (${what}) is not set; set it, or use ${flagName}-file or the prompt.`);
    if (v === '') throw new QpkiError(code, `The environment variable ${s.env} (${what}) is empty; set it to the ${what}.`);
    return v;
  }
  if (s.file !== undefined) {
    const v = fromFile(s.file, what);
    if (v === '') throw new QpkiError(code, `The ${what} file ${s.file} is empty (its first line is the ${what}).`);
    return v;
  }
  if (!process.stdin.isTTY) return undefined;
  const v = await promptHidden(`${what[0].toUpperCase()}${what.slice(1)}: `);
  if (opts.confirm) {
    const again = await promptHidden(`Repeat the ${what}: `);
    if (again !== v) throw new QpkiError('INPUT_INVALID', `The two ${what} entries differ.`);
  }
  return v;
}

/** A provider that asks once, lazily, and keeps the value only for this command's lifetime. */
export function lazySecret(what: string, flagName: string, s: SecretSources, code: SecretCode): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= readSecret(what, flagName, s, { code }).then((v) => {
      if (v === undefined) throw new QpkiError(code, `A ${what} is needed: give ${flagName}-env VAR, ${flagName}-file FILE, or run on a terminal to be prompted.`);
      return v;
    });
    return cached;
  };
}

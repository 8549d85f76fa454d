import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { QpkiError } from '../errors';

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some filesystems cannot fsync a directory; the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeTemp(path: string, data: string | Uint8Array, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/**
 * Write a file so that it appears whole or not at all: temporary file in the same directory,
 * fsync, then rename (replace) or link (create only: an existing file is never replaced), then
 * fsync the directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode?: number; createOnly?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = writeTemp(path, data, opts.mode ?? 0o644);
  try {
    if (opts.createOnly) {
      try {
        linkSync(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new QpkiError('OUTPUT_EXISTS', `${path} already exists; it is never overwritten.`);
        throw e;
      }
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
    }
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already moved or never written */ }
    if (e instanceof QpkiError) throw e;
    throw new QpkiError('IO_ERROR', `Cannot write ${path}: ${(e as Error).message}`);
  }
  fsyncDir(dirname(path));
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new QpkiError('IO_ERROR', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * One writer per CA directory: a lock file created exclusively with the owner's pid. A lock
 * left by a process that no longer exists (a crash) is taken over.
 */
export function lockCaDir(dir: string): () => void {
  const path = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try { unlinkSync(path); } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new QpkiError('IO_ERROR', `Cannot lock ${dir}: ${(e as Error).message}`);
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new QpkiError('CA_LOCKED', `The CA directory ${dir} is in use by process ${pid}. Wait for it to finish.`);
      }
      try { unlinkSync(path); } catch { /* raced with another taker */ }
    }
  }
  throw new QpkiError('CA_LOCKED', `The CA directory ${dir} is locked.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export { existsSync };

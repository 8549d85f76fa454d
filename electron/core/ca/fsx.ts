import { chmodSync, closeSync, existsSync, fsyncSync, ftruncateSync, linkSync, writeFileSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QpkiError } from '../errors';
import { pauseSync } from '../pause';
import { fsyncDir, makeDirs, makeDirsDurable, makeParents, PRIVATE_DIR_MODE } from '../dirs';

/** Random bytes for temporary names; node:crypto is loaded when first needed, not by every reader of a CA directory. */
function randomBytes(n: number): Buffer {
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);
}

/** Temporary names: pid and a counter, 12 hex digits (the pattern `ca check` recognizes). */
let tempCounter = 0;

function tempName(path: string): string {
  const id = (process.pid % 0x1000000).toString(16).padStart(6, '0') + (tempCounter++ % 0x1000000).toString(16).padStart(6, '0');
  return join(dirname(path), `.${basename(path)}.${id}.tmp`);
}

function writeTemp(path: string, data: string | Uint8Array, mode: number, sync: boolean): string {
  let tmp = tempName(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Missing folders are made; when this write is flushed, so are the entries of the folders it made.
    if (code === 'ENOENT') (sync ? makeDirsDurable : makeDirs)(dirname(path));
    // EEXIST: a file left by an earlier process that had the same pid; a random name cannot clash.
    else if (code === 'EEXIST') tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    else throw e;
    fd = openSync(tmp, 'wx', mode);
  }
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/**
 * Write a file so that it appears whole or not at all: temporary file in the same directory,
 * fsync, then rename (replace) or link (create only: an existing file is never replaced), then
 * fsync the directory. With `sync: false` the caller makes the write durable later, together
 * with others (see `syncPaths`); it is still whole-or-nothing if the process dies.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode?: number; createOnly?: boolean; sync?: boolean } = {}): void {
  const sync = opts.sync ?? true;
  const tmp = writeTemp(path, data, opts.mode ?? 0o644, sync);
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
  if (sync) fsyncDir(dirname(path));
}

/** fsync files and directories written with `sync: false`, in one go. */
export function syncPaths(paths: string[]): void {
  for (const p of paths) {
    let fd: number | undefined;
    try {
      fd = openSync(p, 'r');
      fsyncSync(fd);
    } catch (e) {
      // A directory some filesystems cannot fsync is not an error; a file that cannot be flushed is.
      if ((e as NodeJS.ErrnoException).code !== 'EISDIR' && (e as NodeJS.ErrnoException).code !== 'EINVAL') {
        throw new QpkiError('IO_ERROR', `Cannot flush ${p} to disk: ${(e as Error).message}`);
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new QpkiError('IO_ERROR', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** How long to wait for a CA directory another live process holds before refusing. */
const LOCK_WAIT_MS = 5000;

/** Locks this process holds, by CA directory: re-entrant, released when the count drops to 0. */
const held = new Map<string, number>();
let exitHook = false;

/**
 * One writer per CA directory: a lock file created exclusively with the owner's pid. A lock
 * left by a process that no longer exists (a crash) is taken over. Re-entrant within a process.
 */
export function lockCaDir(dir: string, waitMs = LOCK_WAIT_MS): () => void {
  const path = join(dir, '.lock');
  const count = held.get(path);
  if (count !== undefined) {
    held.set(path, count + 1);
    return once(() => release(path));
  }
  const deadline = Date.now() + waitMs;
  // Lost races (the lock vanished between our try and our read) are retried freely; taking
  // over a dead owner's lock is tried a few times at most.
  for (let takeovers = 0, races = 0; takeovers < 3 && races < 1000; ) {
    // The lock appears with its owner's pid already in it (written aside, then linked into
    // place), so nobody ever reads an empty lock and mistakes it for an abandoned one.
    const mine = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(mine, String(process.pid), { mode: 0o600, flag: 'wx' });
      linkSync(mine, path);
      held.set(path, 1);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', () => {
          for (const p of held.keys()) try { unlinkSync(p); } catch { /* already gone */ }
        });
      }
      return once(() => release(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new QpkiError('IO_ERROR', `Cannot lock ${dir}: ${(e as Error).message}`);
      const pid = lockOwner(path);
      if (pid === undefined) {
        races++; // released meanwhile: try again
        continue;
      }
      if (pid !== 0 && isAlive(pid)) {
        // Another command is at work on this CA: wait a little (scripts run commands back to
        // back), then say who holds it.
        if (Date.now() < deadline) {
          pauseSync(25 + Math.floor(Math.random() * 50));
          continue;
        }
        throw new QpkiError('CA_LOCKED', `The CA directory ${dir} is in use by process ${pid}. Wait for it to finish, then run the command again.`);
      }
      takeOverStaleLock(path, pid);
      takeovers++;
    } finally {
      try { unlinkSync(mine); } catch { /* never written */ }
    }
  }
  throw new QpkiError('CA_LOCKED', `The CA directory ${dir} is locked.`);
}

function lockOwner(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return undefined;
  }
}

/**
 * Remove a lock whose owner died. Moved aside first (atomic), then checked: if what was moved
 * is not the dead owner's lock (another process took over in between), it is put back.
 */
function takeOverStaleLock(path: string, deadPid: number): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it
  }
  if (lockOwner(aside) !== deadPid) {
    try { linkSync(aside, path); } catch { /* a new owner exists already */ }
  }
  try { unlinkSync(aside); } catch { /* gone */ }
}

function release(path: string): void {
  const n = (held.get(path) ?? 1) - 1;
  if (n > 0) {
    held.set(path, n);
    return;
  }
  held.delete(path);
  try { unlinkSync(path); } catch { /* already gone */ }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}

/**
 * Replace a small file's content in place (one write at offset 0, then truncate): no new block
 * is allocated and none freed, which keeps frequent updates (the serial file) cheap.
 */
export function overwriteSmallFile(path: string, content: string): void {
  const buf = Buffer.from(content, 'utf8');
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w', 0o644);
  try {
    writeSync(fd, buf, 0, buf.length, 0);
    ftruncateSync(fd, buf.length);
  } finally {
    closeSync(fd);
  }
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

/**
 * A fresh staging directory beside `dir` (same filesystem, so the final rename is atomic), for
 * assembling a new CA directory that appears whole or not at all.
 */
export function makeStagingDir(dir: string): string {
  makeParents(dir);
  const stage = join(dirname(dir), `.${basename(dir)}.partial-${randomBytes(4).toString('hex')}`);
  // Not recursive: a clash must fail, never reuse a directory someone else made. Private whatever the umask (dirs.ts).
  mkdirSync(stage, { mode: PRIVATE_DIR_MODE });
  chmodSync(stage, PRIVATE_DIR_MODE);
  return stage;
}

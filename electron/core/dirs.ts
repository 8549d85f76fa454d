/**
 * The modes of the directories qpki and the app create. mkdir's mode is masked by the umask: a
 * umask of 0 turned a plain mkdirSync into a world-writable 0777 directory inside a CA, where
 * anyone could replace a certificate or set a file aside. So every directory is made with an
 * explicit mode, and the private ones are chmod-ed to it after, whatever the umask:
 *
 *   CA directory (and its staging twin), every folder inside it (versions/, keys/, certs/, crl/),
 *   a journal directory, a credential directory, the app's development token store: 0700.
 *   Key files: 0600 (keys/software.ts). Public files inside: 0644 less the umask — the 0700
 *   directory above them is what keeps others out.
 *   Parents created on the way to a directory the operator named: 0755 less the umask — theirs,
 *   not CA material, and never writable by others.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PARENT_DIR_MODE = 0o755;

/**
 * mkdir -p where every directory this call creates ends with exactly `mode`. One that already
 * existed keeps its mode: it is not ours to change. Returns whether `path` was created.
 */
export function makeDirs(path: string, mode: number = PRIVATE_DIR_MODE): boolean {
  const abs = resolve(path);
  // The mode given to mkdir is already at most `mode`, so no directory is ever wider than meant.
  const first = mkdirSync(abs, { recursive: true, mode });
  if (first === undefined) return false;
  for (let d = abs; ; d = dirname(d)) {
    chmodSync(d, mode);
    if (d === first || dirname(d) === d) break;
  }
  return true;
}

/** The parents of `path` that are missing, made 0755 less the umask (see above). */
export function makeParents(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: PARENT_DIR_MODE });
}

/**
 * fsync a directory, so the entries made in it (a file linked or renamed there, a new folder)
 * survive a power cut. Best effort: some platforms (Windows) and filesystems cannot fsync a
 * directory, and the file itself was already flushed.
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* see above */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * makeDirs (with the parents it makes given `parentMode`, 0755 for a folder the operator named
 * inside their own), then the parent of each folder it created is fsynced: a folder made for
 * files that must survive (a credential's key, a journal) is otherwise lost with its entry in a
 * power cut after its files were flushed. Folders that existed are left as they were.
 */
export function makeDirsDurable(path: string, mode: number = PRIVATE_DIR_MODE, parentMode: number = mode): void {
  const abs = resolve(path);
  let existing = abs;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (existing === abs) return;
  if (parentMode !== mode) mkdirSync(dirname(abs), { recursive: true, mode: parentMode });
  makeDirs(abs, mode);
  for (let d = abs; d !== existing; d = dirname(d)) fsyncDir(dirname(d));
}

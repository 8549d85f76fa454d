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
import { chmodSync, mkdirSync } from 'node:fs';
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

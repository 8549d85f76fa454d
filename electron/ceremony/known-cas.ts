/**
 * The CA directories this app has created or opened, and the public keys their certificates
 * carry: so that a key which already backs one CA is never made the key of another without the
 * operator saying so (a second "root" under the same key would chain wherever the first does).
 * Kept in the app's data folder; it holds paths, names and fingerprints, never a secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/ca/fsx';

export interface KnownCa {
  dir: string;
  subject: string;
  /** SHA-256 (hex) of each public key in the CA's certificate (the primary, and a Catalyst alternative). */
  keys: string[];
}

const FILE = 'known-cas.json';
const MAX = 1000;

export function readKnownCas(dataDir: string): KnownCa[] {
  const p = join(dataDir, FILE);
  if (!existsSync(p)) return [];
  try {
    const v = JSON.parse(readFileSync(p, 'utf8')) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is KnownCa => !!x && typeof x.dir === 'string' && typeof x.subject === 'string' && Array.isArray(x.keys) && x.keys.every((k: unknown) => typeof k === 'string'));
  } catch {
    // A damaged list is not a reason to stop a ceremony; it is rebuilt as CAs are opened again.
    return [];
  }
}

export function rememberCa(dataDir: string, ca: KnownCa): void {
  const list = readKnownCas(dataDir).filter((c) => c.dir !== ca.dir);
  list.unshift({ dir: ca.dir, subject: ca.subject, keys: [...ca.keys] });
  writeFileAtomic(join(dataDir, FILE), JSON.stringify(list.slice(0, MAX), null, 2) + '\n', { mode: 0o600 });
}

/** The known CA directories (still present) whose certificate carries the key `sha256`, other than `except`. */
export function casBackedBy(dataDir: string, sha256: string, except?: string): { dir: string; subject: string }[] {
  return readKnownCas(dataDir)
    .filter((c) => c.dir !== except && c.keys.includes(sha256.toLowerCase()) && existsSync(join(c.dir, 'ca.meta.json')))
    .map((c) => ({ dir: c.dir, subject: c.subject }));
}

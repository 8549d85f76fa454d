/**
 * Fingerprints for the record: "the SHA-256 of the running app's files" (ceremony.opened) and
 * "the SHA-256 of the PKCS#11 library file" (module.loaded).
 *
 * The app fingerprint is the SHA-256 of a sha256sum-style listing — one line
 * `<sha256 hex>  <relative/path>\n` per file, sorted by path in byte order — so an auditor can
 * recompute it without this app:
 *
 *   cd <app root> && find dist -type f | LC_ALL=C sort | xargs sha256sum | sha256sum
 *
 * (with the default set when there is no dist/:
 *  `find electron shared resources package.json package-lock.json -type f | LC_ALL=C sort | …`)
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { QpkiError } from '../errors';

const DEFAULT_SOURCES = ['electron', 'shared', 'resources', 'package.json', 'package-lock.json'];

export function fileSha256(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    throw new QpkiError('IO_ERROR', `Cannot read ${path} to fingerprint it${code ? ` (${code})` : ''}.`);
  }
}

/**
 * `files` are paths relative to `rootDir` (files or folders, folders taken whole).
 * Default: `dist/` when it exists (the packaged app), otherwise the sources listed above.
 */
export function appFingerprint(rootDir: string, files?: string[]): { sha256: string; files: number } {
  const roots = files ?? (existsSync(join(rootDir, 'dist')) ? ['dist'] : DEFAULT_SOURCES.filter((p) => existsSync(join(rootDir, p))));
  const found = new Set<string>();
  for (const r of roots) collect(rootDir, join(rootDir, r), found);
  if (found.size === 0) throw new QpkiError('IO_ERROR', `No app files found under ${rootDir} to fingerprint.`);
  // Byte order of the UTF-8 path, as `LC_ALL=C sort` orders it.
  const paths = [...found].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const listing = createHash('sha256');
  for (const p of paths) listing.update(`${fileSha256(join(rootDir, p))}  ${p}\n`);
  return { sha256: listing.digest('hex'), files: paths.length };
}

function collect(rootDir: string, abs: string, out: Set<string>): void {
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new QpkiError('IO_ERROR', `Cannot fingerprint ${abs}: it does not exist.`);
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(abs)) collect(rootDir, join(abs, name), out);
  } else if (st.isFile()) {
    out.add(relative(rootDir, abs).split(sep).join('/'));
  }
}

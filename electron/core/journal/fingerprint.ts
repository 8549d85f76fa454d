/**
 * Fingerprints for the record: "the SHA-256 of the running app's files" (ceremony.opened) and
 * "the SHA-256 of the PKCS#11 library file" (module.loaded).
 *
 * The app fingerprint is the SHA-256 of a sha256sum-style listing — one line
 * `<sha256 hex>  <relative/path>\n` per file, sorted by path in byte order — so an auditor can
 * recompute it without this app:
 *
 *   cd <app root> && find -L dist bin resources package.json node_modules/pkcs11js/package.json \
 *     node_modules/pkcs11js/index.js node_modules/pkcs11js/build/Release/pkcs11.node \
 *     -type f | LC_ALL=C sort | xargs sha256sum | sha256sum
 *
 * (names that do not exist are left out; with no dist/, the sources instead:
 *  `electron shared resources bin package.json package-lock.json` and the same pkcs11js files).
 *
 * It covers what runs: the bundles (dist/: the command line, main, preload, renderer — they
 * carry every JavaScript dependency but pkcs11js, and the command line's own copy of pkcs11js's
 * JavaScript, dist/pkcs11js.cjs, scripts/build-cli.mjs), the launcher (bin/), the built-in
 * profiles (resources/) and pkcs11js, the one package loaded from node_modules: its JavaScript
 * and its native .node. Nothing in these folders may change by merely running the app — which
 * is why the command line's V8 code caches live in a per-user cache folder (bin/qpki.cjs), not in dist/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { QpkiError } from '../errors';

/** node:crypto is loaded when something is fingerprinted: the command line loads this module for every command, most never fingerprint. */
function createHash(algorithm: string): import('node:crypto').Hash {
  return (require('node:crypto') as typeof import('node:crypto')).createHash(algorithm);
}

/** The native PKCS#11 binding, loaded at run time from node_modules (never bundled). */
const NATIVE = ['node_modules/pkcs11js/package.json', 'node_modules/pkcs11js/index.js', 'node_modules/pkcs11js/build/Release/pkcs11.node'];
/** A built app: what runs is the bundles and the files beside them. */
export const BUILT_APP_FILES = ['dist', 'bin', 'resources', 'package.json', ...NATIVE];
/** An app run from its sources (tsx), before any build. */
export const SOURCE_APP_FILES = ['electron', 'shared', 'resources', 'bin', 'package.json', 'package-lock.json', ...NATIVE];

export function fileSha256(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    throw new QpkiError('IO_ERROR', `Cannot read ${path} to fingerprint it${code ? ` (${code})` : ''}.`);
  }
}

/**
 * `files` are paths relative to `rootDir` (files or folders, folders taken whole, links followed).
 * Default: BUILT_APP_FILES when dist/ exists (an installed or packaged app), otherwise
 * SOURCE_APP_FILES; of either, the names that exist.
 */
export function appFingerprint(rootDir: string, files?: string[]): { sha256: string; files: number } {
  const roots = files ?? (existsSync(join(rootDir, 'dist')) ? BUILT_APP_FILES : SOURCE_APP_FILES).filter((p) => existsSync(join(rootDir, p)));
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

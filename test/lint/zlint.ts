/**
 * zlint for the tests: $QPKI_ZLINT, else `zlint` on the PATH, else the copy test/lint/fetch-zlint.sh
 * unpacks from Debian trixie into .tmp/tools (gitignored), fetched once. Returns its path, or why
 * it is not available so the caller can print one line and skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findZlint } from '../../electron/core/lint/external';

const ROOT = join(__dirname, '..', '..');
const CACHE = process.env.QPKI_ZLINT_DIR ?? join(ROOT, '.tmp', 'tools', 'zlint');

export function ensureZlint(): { path: string; version: string } | { missing: string } {
  let path = findZlint();
  if (!path) {
    const cached = join(CACHE, 'zlint');
    if (!existsSync(cached)) {
      mkdirSync(CACHE, { recursive: true });
      const r = spawnSync('bash', [join(__dirname, 'fetch-zlint.sh'), CACHE], { encoding: 'utf8', timeout: 240_000 });
      if (r.status !== 0 || !existsSync(cached)) return { missing: `could not fetch zlint from Debian trixie (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})` };
    }
    path = cached;
  }
  process.env.QPKI_ZLINT = path;
  const v = spawnSync(path, ['-version'], { encoding: 'utf8' });
  return { path, version: (v.stdout || v.stderr).trim() };
}

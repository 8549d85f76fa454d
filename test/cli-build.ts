/**
 * The CLI tests run bin/qpki.cjs, which loads dist/cli.cjs: rebuild it (with the release build
 * script) when a source is newer, so no test passes against a stale bundle.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(__dirname, '..');
export const QPKI = join(ROOT, 'bin', 'qpki.cjs');
const BUNDLE = join(ROOT, 'dist', 'cli.cjs');

function newestMtime(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const n of readdirSync(p)) m = Math.max(m, newestMtime(join(p, n)));
  return m;
}

export async function ensureCliBuilt(): Promise<void> {
  const sources = Math.max(newestMtime(join(ROOT, 'electron', 'cli')), newestMtime(join(ROOT, 'electron', 'core')), newestMtime(join(ROOT, 'shared')));
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= sources) return;
  const { buildCli } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build-cli.mjs')).href)) as { buildCli: () => Promise<void> };
  await buildCli();
}

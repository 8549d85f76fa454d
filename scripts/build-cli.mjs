// Bundles the command line into one file so start-up loads only what it needs.
import { build } from 'esbuild';
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Build dist/cli.cjs. Written to a private file and renamed into place, so a concurrent reader
 * (another test file) never loads half a bundle; the V8 code cache of the previous bundle goes.
 */
export async function buildCli() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const outfile = join(root, 'dist', 'cli.cjs');
  const tmp = `${outfile}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, 'electron', 'cli.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['pkcs11js', '@oqs/liboqs-js'],
    define: { QPKI_VERSION: JSON.stringify(pkg.version) },
    sourcemap: false,
    minify: true,
    keepNames: true,
    logLevel: 'warning',
  });
  renameSync(tmp, outfile);
  // The V8 code caches bin/qpki.cjs keeps beside the bundle belong to the previous build.
  for (const f of readdirSync(dirname(outfile))) if (/^cli\.cjs\.(.*\.)?cache(\.commands)?$/.test(f)) rmSync(join(dirname(outfile), f), { force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildCli();

// Bundles the command line into one file so start-up loads only what it needs.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: ['electron/cli.ts'],
  outfile: 'dist/cli.cjs',
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

// The V8 code cache belongs to the previous bundle.
rmSync('dist/cli.cjs.cache', { force: true });

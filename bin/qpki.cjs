#!/usr/bin/env node
// Runs the bundled command line (built by `npm ci` / `npm run build:cli`).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write('qpki is not built yet: run `npm run build:cli` (npm ci does it).\n');
  process.exit(1);
}
require(bundle).main(process.argv.slice(2)).then((code) => process.exit(code));

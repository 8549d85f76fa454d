#!/usr/bin/env -S NODE_EXTRA_CA_CERTS= node
// The shebang empties NODE_EXTRA_CA_CERTS: when it names a CA bundle, Node 20 parses every
// certificate in it at start-up (~50 ms for Debian's bundle), and qpki, an offline tool, never
// opens a TLS connection. An empty value is what Node treats as "none".
// Runs the bundled command line (built by `npm ci` / `npm run build:cli`).
// Start-up matters for scripted ceremonies: the bundle is compiled with a V8 code cache kept
// beside it (made on the first run, remade when V8 rejects it), so later runs skip compilation.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'cli.cjs');
const cacheFile = bundle + '.cache';
let code;
try {
  code = fs.readFileSync(bundle, 'utf8');
} catch {
  process.stderr.write('qpki is not built yet: run `npm run build:cli` (npm ci does it).\n');
  process.exit(1);
}
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(code), { filename: bundle, cachedData });
const mod = { exports: {} };
script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
const needCache = cachedData === undefined || script.cachedDataRejected;

mod.exports.main(process.argv.slice(2)).then((code) => {
  if (needCache) {
    // After the run, the cache also holds the functions this command compiled.
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      /* a read-only install simply runs without the cache */
    }
  }
  process.exit(code);
});

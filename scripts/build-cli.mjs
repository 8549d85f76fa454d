// Bundles the command line into one file so start-up loads only what it needs.
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const EXTERNAL = ['pkcs11js', '@oqs/liboqs-js'];

/** What every bundle built here shares: one CommonJS file for Node 20, native modules left out. */
const NODE_BUNDLE = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: EXTERNAL, logLevel: 'warning' };

/**
 * The built-in profiles compiled by the profile code itself (bundled for the purpose), keyed by
 * name, with the SHA-256 of the YAML text each came from. The command line uses one only when the
 * file it reads has that same text, and skips parsing and checking it (loader.ts, `precompiled`).
 * A profile that does not compile is left out: it fails at run time exactly as it would without this.
 */
async function compileBuiltinProfiles(dir) {
  const tmp = join(dir, `profiles.${process.pid}.tmp.cjs`);
  await build({
    stdin: {
      contents: `
        import { createHash } from 'node:crypto';
        import { readdirSync, readFileSync } from 'node:fs';
        import { join, relative, sep } from 'node:path';
        import { builtinProfilesDir, loadProfile } from './electron/core/profiles/loader';
        export function compile() {
          const dir = builtinProfilesDir();
          const out = {};
          const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.yaml'));
          for (const file of files) {
            const name = file.slice(0, -'.yaml'.length).split(sep).join('/');
            const text = readFileSync(join(dir, file), 'utf8');
            let profile;
            try {
              profile = loadProfile(name);
            } catch {
              continue;
            }
            out[name] = { sha256: createHash('sha256').update(text).digest('hex'), profile: JSON.stringify(profile) };
          }
          return out;
        }
      `,
      resolveDir: root,
      loader: 'ts',
    },
    outfile: tmp,
    ...NODE_BUNDLE,
  });
  const saved = process.env.QPKI_PROFILES_DIR;
  process.env.QPKI_PROFILES_DIR = join(root, 'resources', 'profiles');
  try {
    return createRequire(import.meta.url)(tmp).compile();
  } finally {
    if (saved === undefined) delete process.env.QPKI_PROFILES_DIR;
    else process.env.QPKI_PROFILES_DIR = saved;
    rmSync(tmp, { force: true });
  }
}

/**
 * commander requires node:child_process at load, for executable subcommands qpki does not have;
 * loading it (and net, stream…) costs every run a few milliseconds. Required on use instead.
 */
const lazyChildProcessInCommander = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!src.includes(eager)) throw new Error(`${args.path}: the child_process require to make lazy is not there any more; update ${fileURLToPath(import.meta.url)}`);
      return { contents: src.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

/**
 * pkcs11js's index.js ends with `module.exports = { ...pkcs11, PKCS11 }`: a spread of the addon's
 * 656 constants into a new object, one property (and hidden class) at a time, about 4 ms of every
 * run that opens a token (measured: `{ ...require('pkcs11js/build/Release/pkcs11.node') }` in a
 * bare node). The command line requires a copy of that file, dist/pkcs11js.cjs, with the line as
 * `pkcs11.PKCS11 = PKCS11; module.exports = pkcs11;`, the way the same file already adds
 * NativeError and Pkcs11Error to the addon's exports: the same names and values, own and
 * enumerable, in constant time. Its one require of the addon names it through pkcs11js's folder.
 * A file beside the bundle rather than inside it: CPU profiles still tell pkcs11js's frames by
 * their file (the bench's summary, scripts/bench/process.ts), and dist/ is fingerprinted whole.
 * (The app's main process still loads pkcs11js unchanged from node_modules.)
 */
function writePkcs11jsWithoutSpread(outfile) {
  const from = createRequire(import.meta.url).resolve('pkcs11js');
  let src = readFileSync(from, 'utf8');
  const rewrites = [
    ['const pkcs11 = require("./build/Release/pkcs11.node");', 'const pkcs11 = require("pkcs11js/build/Release/pkcs11.node");'],
    ['module.exports = { ...pkcs11, PKCS11 };', 'pkcs11.PKCS11 = PKCS11;\nmodule.exports = pkcs11;'],
  ];
  for (const [text, replacement] of rewrites) {
    if (src.split(text).length !== 2) throw new Error(`${from}: the line \`${text}\` to rewrite is not there once any more; update ${fileURLToPath(import.meta.url)}`);
    src = src.replace(text, replacement);
  }
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, `// pkcs11js ${JSON.parse(readFileSync(join(dirname(from), 'package.json'), 'utf8')).version} index.js, two lines rewritten by scripts/build-cli.mjs.\n${src}`);
  renameSync(tmp, outfile);
}

/** The bundle's `require('pkcs11js')` becomes `require('./pkcs11js.cjs')` (writePkcs11jsWithoutSpread). */
const pkcs11jsBesideTheBundle = {
  name: 'pkcs11js-beside-the-bundle',
  setup(b) {
    b.onResolve({ filter: /^pkcs11js$/ }, () => ({ path: './pkcs11js.cjs', external: true }));
  },
};

/**
 * The bundle in ASCII only, so that bin/qpki.cjs can decode it as Latin-1, several times faster
 * than UTF-8 for a megabyte. esbuild already escapes strings, templates and identifiers, but
 * copies regular expression literals and comments as written: a non-ASCII UTF-16 unit left there
 * is written as \uXXXX, which means the same in a regular expression (with or without the u flag,
 * a surrogate pair written as two escapes is still one character) and nothing in a comment. An
 * identity escape (\µ) becomes the escape alone (\u00b5). Each escape made is pushed to `shifts`
 * (its line and column in `code`, and the characters it added) when given.
 */
export function asciiOnly(code, shifts) {
  return code
    .split('\n')
    .map((line, n) =>
      line.replace(/(\\*)([^\x00-\x7f])/g, (match, slashes, ch, at) => {
        const escaped = (slashes.length % 2 ? slashes.slice(1) : slashes) + '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
        shifts?.push({ line: n, column: at, added: escaped.length - match.length });
        return escaped;
      }),
    )
    .join('\n');
}

/**
 * esbuild's source map, moved to the columns of the bundle as written: asciiOnly lengthens a
 * line at each character it escapes, and every mapping after that point on the line moves by as
 * much. For the bench only (scripts/bench/cliProfile.ts): no map ships beside the bundle.
 */
export function shiftSourceMap(mapText, shifts) {
  const map = JSON.parse(mapText);
  const lines = decode(map.mappings);
  const byLine = new Map();
  for (const s of shifts) byLine.set(s.line, [...(byLine.get(s.line) ?? []), s]);
  for (const [line, escapes] of byLine) {
    // Each mapping moves by what the escapes before it added, all compared in esbuild's columns.
    for (const seg of lines[line] ?? []) seg[0] += escapes.reduce((sum, e) => (seg[0] > e.column ? sum + e.added : sum), 0);
  }
  map.mappings = encode(lines);
  return JSON.stringify(map);
}

/**
 * Build dist/cli.cjs. Written to a private file and renamed into place, so a concurrent reader
 * (another test file) never loads half a bundle. `outfile` elsewhere and `sourceMap` (a path)
 * are for the bench, which builds the same bundle again to read its CPU profiles by source
 * name; the bundle is the same bytes with or without the map.
 */
export async function buildCli({ outfile = join(root, 'dist', 'cli.cjs'), sourceMap } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const tmp = `${outfile}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, 'electron', 'cli', 'main.ts')],
    outfile: tmp,
    ...NODE_BUNDLE,
    external: EXTERNAL.filter((e) => e !== 'pkcs11js'),
    define: { QPKI_VERSION: JSON.stringify(pkg.version), QPKI_BUILTIN_PROFILES: JSON.stringify(await compileBuiltinProfiles(dirname(outfile))) },
    plugins: [lazyChildProcessInCommander, pkcs11jsBesideTheBundle],
    // 'external' writes the map beside the output and leaves the output itself as without one.
    sourcemap: sourceMap ? 'external' : false,
    minify: true,
    keepNames: true,
  });
  const shifts = [];
  writeFileSync(tmp, asciiOnly(readFileSync(tmp, 'utf8'), shifts));
  if (sourceMap) {
    writeFileSync(sourceMap, shiftSourceMap(readFileSync(`${tmp}.map`, 'utf8'), shifts));
    rmSync(`${tmp}.map`, { force: true });
  }
  // Before the bundle that requires it is in place.
  writePkcs11jsWithoutSpread(join(dirname(outfile), 'pkcs11js.cjs'));
  renameSync(tmp, outfile);
  // bin/qpki.cjs used to keep its V8 code caches beside the bundle; they now live in a per-user
  // cache folder (keyed by the bundle's size and time, so a new build never meets an old cache).
  // Any left here by an older bin would sit among the fingerprinted app files: they go.
  for (const f of readdirSync(dirname(outfile))) if (/^cli\.cjs\.(.*\.)?cache(\.commands)?$/.test(f)) rmSync(join(dirname(outfile), f), { force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildCli();

#!/usr/bin/env -S NODE_EXTRA_CA_CERTS=${QPKI_NODE_EXTRA_CA_CERTS} node
// The shebang empties NODE_EXTRA_CA_CERTS: when it names a CA bundle, Node 20 parses every
// certificate in it at start-up (~50 ms for Debian's bundle), and qpki, an offline tool, never
// opens a TLS connection. An empty value is what Node treats as "none". It is written as
// ${QPKI_NODE_EXTRA_CA_CERTS} (unset, so empty) rather than as a bare `NODE_EXTRA_CA_CERTS=`
// because npm's Windows shims (cmd-shim) read only non-empty assignments from a shebang: the bare
// form made the .cmd and .ps1 shims take "NODE_EXTRA_CA_CERTS=" for the program; with this one
// they run node. Limits: `env -S` needs GNU coreutils 8.30+, macOS or FreeBSD (BusyBox has no -S),
// and cmd-shim's sh shim for Git Bash on Windows writes `exec VAR=… node`, which sh refuses: run
// `node bin/qpki.cjs` there.
//
// Runs the bundled command line (built by `npm ci` / `npm run build:cli`). Start-up matters for
// scripted ceremonies, so the bundle is compiled with a V8 code cache. The caches live in a
// per-user cache folder ($XDG_CACHE_HOME/qpki-ceremony, else ~/.cache/qpki-ceremony; the
// platform's own on macOS and Windows), created 0700, never beside the bundle: the ceremony record
// fingerprints the app's files (dist/, bin/, the native module), and a cache written there made
// that fingerprint change from one run to the next. A cache is code V8 runs, so a cache folder
// that another user could write (not ours, group/world-writable, a symbolic link) is not used.
// - one cache file per bundle build and per V8 configuration (Node version, architecture, flags):
//   V8 rejects a cache made under other flags, and a shared file would be rewritten back and forth
//   by runs that alternate flags (`node --cpu-prof bin/qpki.cjs` vs the plain bin);
// - and one per command: the bundle loads a command's code only when that command runs and V8
//   compiles functions when first called, so the cache written after a command's first successful
//   run holds what that command needs. V8 deserializes a cache whole: one cache grown to hold
//   eight commands made `credential enroll` 2-4 ms slower than its own, and `--version` or
//   `--help` would pay that for almost nothing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const os = require('node:os');
const { isAscii } = require('node:buffer');

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'cli.cjs');
const args = process.argv.slice(2);

/** Where this user's caches go, never inside the app's own folders; null when there is no home to put them in. */
function cacheDir() {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'qpki-ceremony');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'qpki-ceremony', 'Cache');
  let home;
  try {
    home = os.homedir();
  } catch {
    return null;
  }
  if (!home) return null;
  return path.join(home, ...(process.platform === 'darwin' ? ['Library', 'Caches'] : ['.cache']), 'qpki-ceremony');
}

/** The folder is ours alone: a directory (not a link), owned by this user, writable by nobody else. */
function trusted(dir) {
  if (dir === null) return false;
  let st;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return false;
  }
  if (!st.isDirectory()) return false;
  // Windows has no uid or mode bits to check; its per-user LOCALAPPDATA is private by its ACL.
  if (typeof process.getuid !== 'function') return true;
  return st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** Makes the cache folder (0700, whatever the umask) when missing; true when it can be used. */
function ensureCacheDir(dir) {
  if (dir === null) return false;
  try {
    if (fs.mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) fs.chmodSync(dir, 0o700);
  } catch {
    return false;
  }
  return trusted(dir);
}

/** The top-level commands (electron/cli/main.ts). A name missing here only means a shared cache. */
const COMMANDS = new Set(['ca', 'cert', 'crl', 'credential', 'token', 'key', 'journal', 'profile']);

/**
 * Which cache this run uses: `credential-enroll` and the like, `bare` for `--version`/`--help`/no
 * command. Global options (and their values) may come first, so the first command name is looked
 * for; only the choice of cache file depends on this guess, never what the command does.
 */
function cacheSlot() {
  const i = args.findIndex((a) => COMMANDS.has(a));
  if (i < 0) return args.some((a) => !a.startsWith('-')) ? 'other' : 'bare';
  const sub = args[i + 1];
  return sub && /^[a-z][a-z-]{0,30}$/.test(sub) ? `${args[i]}-${sub}` : args[i];
}

/** A short name for a string (FNV-1a, 32 bits): enough to tell configurations apart, and node:crypto stays unloaded. */
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/** Read the bundle and its code cache, compile, run the bundle's top level. Named for CPU profiles. */
function loadBundle() {
  let code;
  let stat;
  try {
    // The build writes the bundle in ASCII: then Latin-1 decodes it to the same text, much faster than UTF-8.
    const bytes = fs.readFileSync(bundle);
    code = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
    stat = fs.statSync(bundle);
  } catch {
    process.stderr.write('qpki is not built yet: run `npm run build:cli` (npm ci does it).\n');
    process.exit(1);
  }
  // V8 checks a cache against the source's length, not its text: the build stamp keeps a cache
  // from ever meeting another build of the same length. The install's path keeps two installs
  // (two checkouts, two versions) of one user apart in the one cache folder.
  const build = `${stat.size.toString(36)}-${Math.round(stat.mtimeMs).toString(36)}`;
  const install = fnv1a(bundle);
  const flags = fnv1a([process.version, process.arch, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0'));
  const dir = cacheDir();
  const cacheFile = dir && path.join(dir, `cli.${install}.${build}.${flags}.${cacheSlot()}.cache`);
  let cachedData;
  if (trusted(dir)) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      /* no cache yet: written after this run */
    }
  }
  const script = new vm.Script(Module.wrap(code), { filename: bundle, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  const rejected = cachedData === undefined || script.cachedDataRejected;
  // Only after a success: a run refused early compiled too little of its command to cache.
  const saveCache = (status) => {
    if (!rejected || status !== 0 || !ensureCacheDir(dir)) return;
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, cacheFile);
      // This install's caches of earlier builds are of no use any more.
      const mine = `cli.${install}.`;
      for (const f of fs.readdirSync(dir)) {
        if (f.startsWith(mine) && !f.startsWith(`${mine}${build}.`) && f.endsWith('.cache')) fs.rmSync(path.join(dir, f), { force: true });
      }
    } catch {
      /* an unwritable cache folder simply means running without the cache */
    }
  };
  return { main: mod.exports.main, useDirectOutput: mod.exports.useDirectOutput, exitAfterOutput: mod.exports.exitAfterOutput, saveCache };
}

/** Run the command; afterwards the cache also holds the functions it compiled. Named for CPU profiles. */
function runCommand({ main, useDirectOutput, exitAfterOutput, saveCache }) {
  // The command writes to descriptors 1 and 2 directly, and exits once all it wrote is out
  // (electron/cli/output.ts).
  useDirectOutput();
  main(args).then((status) => {
    saveCache(status);
    exitAfterOutput(status);
  });
}

runCommand(loadBundle());

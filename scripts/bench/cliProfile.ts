/**
 * Where one command-line run spends its time, from `node --cpu-prof` profiles of bin/qpki.cjs:
 * by phase (node's start-up, loading the bundle, the command), by kind of work, by source module
 * and by function. The bundle is minified, so its frames are read through a source map of the
 * very same bundle (bundleSourceMap): without one, bundled functions keep their minified names
 * and module top levels cannot be told apart, and the summary says so.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import type { CpuProfile } from './profile';

const ROOT = resolve(__dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'cli.cjs');

/** Profiled runs summarized per command: one run is a few hundred samples at 200 µs. */
export const PROFILED_RUNS = 5;

export interface Frame { functionName: string; url: string; lineNumber: number; columnNumber?: number }
/** A bundled function as written: its source file (repository-relative), line, and name. */
export interface SourcePlace { source: string; line: number; name: string | null; moduleTop: boolean }
export type WhereInBundle = (frame: Frame) => SourcePlace | undefined;

/**
 * A source map for dist/cli.cjs as it is: the bundle is built again beside a temporary map, and
 * used only if that build is the same bytes (the sources have not changed since `npm run
 * build:cli`). The reason is returned instead when it cannot be.
 */
export async function bundleSourceMap(): Promise<{ where: WhereInBundle } | { missing: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-bench-map-'));
  try {
    const { buildCli } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build-cli.mjs')).href)) as {
      buildCli: (o: { outfile: string; sourceMap: string }) => Promise<void>;
    };
    const outfile = join(dir, 'cli.cjs');
    const mapFile = join(dir, 'cli.cjs.map');
    await buildCli({ outfile, sourceMap: mapFile });
    if (!readFileSync(outfile).equals(readFileSync(BUNDLE))) return { missing: 'dist/cli.cjs is not what the sources build now (run `npm run build:cli`)' };
    const map = new TraceMap(readFileSync(mapFile, 'utf8'));
    const cache = new Map<string, SourcePlace | undefined>();
    const where: WhereInBundle = (f) => {
      if (!f.url.endsWith('/dist/cli.cjs')) return undefined;
      const key = `${f.lineNumber}:${f.columnNumber ?? 0}`;
      if (cache.has(key)) return cache.get(key);
      // V8's frames count lines and columns from 0; source maps, lines from 1.
      const o = originalPositionFor(map, { line: f.lineNumber + 1, column: f.columnNumber ?? 0 });
      const place = o.source
        ? {
            source: relative(ROOT, resolve(dirname(mapFile), o.source)),
            line: o.line,
            name: o.name,
            // esbuild wraps each module's top level in one function, mapped to the module's first character.
            moduleTop: o.line === 1 && o.column === 0,
          }
        : undefined;
      cache.set(key, place);
      return place;
    };
    return { where };
  } catch (e) {
    return { missing: `the bundle's source map could not be built: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A package (node_modules/@scope/name) or one of our folders (electron/core/lint). */
function moduleGroup(source: string): string {
  const nm = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (nm) return nm[1];
  return dirname(source);
}

/** pkcs11js: its package, or the command line's copy of its wrapper, dist/pkcs11js.cjs (scripts/build-cli.mjs). */
const isPkcs11js = (f: Frame) => /\/pkcs11js(\/|\.cjs$)/.test(f.url);

/** Within loading: reading the bundle, compiling it, native addons, or running module top levels. */
function loadPart(stack: Frame[]): string {
  if (stack.some(isPkcs11js)) return 'pkcs11js native addon';
  if (stack.some((f) => f.functionName === 'wrapSafe' || f.functionName === 'compileFunction' || (f.functionName === 'Script' && f.url === 'node:vm'))) return 'compiling dist/cli.cjs (with its code cache)';
  if (stack.some((f) => f.functionName === 'loadSource' || f.functionName === 'readFileSync')) return 'reading files';
  if (stack.some((f) => f.functionName === '(garbage collector)')) return 'GC';
  return 'module top-level code';
}

/**
 * The main thread idle in the event loop, waiting for work on another thread. In credential
 * enroll that is the token generating the key on libuv's pool (C_GenerateKeyPairAsync): the
 * token's time, not ours.
 */
export const WAITING = 'main thread idle, waiting for another thread (in credential enroll: the token generating the key)';

/**
 * Within the command, innermost first so that a signature made while a module loads counts as
 * the signature: native modules, node's own modules, and bundled modules' top levels.
 */
export function commandPart(stack: Frame[], where?: WhereInBundle): string {
  // V8 samples these with no JavaScript frame above them: they were counted as our code.
  const leaf = stack[stack.length - 1]?.functionName;
  if (leaf === '(idle)') return WAITING;
  if (leaf === '(program)') return 'V8 and Node themselves ((program): no JavaScript function running)';
  for (let i = stack.length - 1; i >= 0; i--) {
    const f = stack[i];
    if (isPkcs11js(f)) return 'PKCS#11 (pkcs11js: C_Initialize, login, find, sign)';
    if (f.functionName === '(garbage collector)') return 'GC';
    if (f.url === 'node:fs' && /sync/i.test(f.functionName)) return 'file system calls (node:fs, fsync included)';
    if (/crypto/.test(f.url)) return 'software crypto (node:crypto: loading it, hashes, verifies)';
    if (where?.(f)?.moduleTop) return 'bundled modules\' top-level code, on first use';
  }
  return 'our code and its libraries (ASN.1, profiles, lint, journal, CLI)';
}

const COMMANDER_PLUMBING = new Set(['main', 'parseAsync', 'parse', '_parseCommand', '_dispatchSubcommand', '_chainOrCall', 'listener', 'wrapped', 'action']);

export interface CliProfileSummary {
  /** Milliseconds per run, averaged over the profiles. */
  phases: Record<string, number>;
  loading: Record<string, number>;
  command: Record<string, number>;
  lines: string[];
}

/**
 * Split each profile along its timeline (node's own start-up, loading the bundle, then the
 * command from the first sample inside the bin's `runCommand`) and average over the profiles:
 * one run sampled every 200 µs is a few hundred samples, too few to rank functions by alone.
 */
export function summarizeCliProfiles(profiles: CpuProfile[], where?: WhereInBundle, whyNoNames?: string): CliProfileSummary {
  const phases = new Map<string, number>();
  const loadParts = new Map<string, number>();
  const commandParts = new Map<string, number>();
  const moduleTops = new Map<string, number>();
  const selfBySource = new Map<string, number>();
  const inCommand = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const label = (f: Frame): string | undefined => {
    const w = where?.(f);
    if (w) {
      if (w.moduleTop) return undefined;
      const name = w.name ?? (f.functionName || '(anonymous)');
      return COMMANDER_PLUMBING.has(name) && w.source.includes('commander') ? undefined : `${name} (${w.source}:${w.line})`;
    }
    if (f.url.endsWith('/dist/cli.cjs')) {
      if (!f.functionName || COMMANDER_PLUMBING.has(f.functionName)) return undefined;
      // Mapped to no source: esbuild's own helpers (module wrappers, __toESM and the like).
      return where ? `${f.functionName} (esbuild's module helpers)` : f.functionName;
    }
    return f.url === 'node:fs' && /Sync$/.test(f.functionName) ? `fs.${f.functionName}` : undefined;
  };
  for (const p of profiles) {
    const parent = new Map<number, number>();
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stackOf = (id: number) => {
      const s: Frame[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) s.push(byId.get(cur)!.callFrame);
      return s.reverse();
    };
    let commandStarted = false;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
      const stack = stackOf(p.samples[i]);
      // bin/qpki.cjs names its phases loadBundle and runCommand (it is not minified).
      if (!commandStarted && stack.some((f) => f.functionName === 'runCommand' && f.url.endsWith('/bin/qpki.cjs'))) commandStarted = true;
      // A module's top level counts once per sample, with what it loads; its source is its group.
      const tops = new Set<string>();
      for (const f of stack) {
        const w = where?.(f);
        if (w?.moduleTop) tops.add(moduleGroup(w.source));
      }
      for (const t of tops) add(moduleTops, t, dt);
      const innermost = [...stack].reverse().find((f) => f.url.endsWith('/dist/cli.cjs'));
      if (!commandStarted) {
        const loading = stack.some((f) => f.url.endsWith('/bin/qpki.cjs'));
        add(phases, loading ? 'loading the bundle (read, compile, top level)' : 'node start-up', dt);
        if (loading) add(loadParts, loadPart(stack), dt);
        continue;
      }
      add(phases, 'running the command', dt);
      add(commandParts, commandPart(stack, where), dt);
      const w = innermost && where?.(innermost);
      if (w && stack[stack.length - 1] === innermost) add(selfBySource, moduleGroup(w.source), dt);
      const seen = new Set<string>();
      for (const f of stack) {
        const k = label(f);
        if (k === undefined || seen.has(k)) continue;
        seen.add(k);
        add(inCommand, k, dt);
      }
    }
  }
  const n = Math.max(1, profiles.length);
  const avg = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, v]) => [k, v / n]));
  const top = (m: Map<string, number>, count: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, v]) => `  ${(v / n).toFixed(1).padStart(6)}  ${k}`);
  const lines = [`phase times (ms, CPU profile, mean of ${profiles.length} runs):`, ...top(phases, 3)];
  lines.push('loading the bundle, by kind of work (ms):', ...top(loadParts, 6));
  lines.push('running the command, by kind of work (ms; a wait inside a synchronous call, fsync or C_Sign, counts as that call):', ...top(commandParts, 8));
  if (where) {
    lines.push('bundled modules\' top-level code, at start-up and on first use, by package or folder (ms, with what each loads):', ...top(moduleTops, 10));
    lines.push('running the command, by the bundled source whose code was running (ms, self time):', ...top(selfBySource, 12));
    lines.push('heaviest functions while running the command (ms, inclusive):', ...top(inCommand, 16));
  } else {
    lines.push(`heaviest functions while running the command (ms, inclusive; names as minified: ${whyNoNames ?? 'no source map'}):`, ...top(inCommand, 16));
  }
  return { phases: avg(phases), loading: avg(loadParts), command: avg(commandParts), lines };
}

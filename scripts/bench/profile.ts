/**
 * Where issuance time goes: a V8 CPU profile (the same data `node --cpu-prof` writes), folded
 * into "which part of the engine" × "what kind of work", in milliseconds per issuance.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** Profile `run` in this process (sampling every 100 µs) and save the profile for DevTools. */
export async function profileInProcess<T>(savePath: string, run: () => Promise<T>): Promise<{ profile: CpuProfile; result: T }> {
  const session = new Session();
  session.connect();
  const post = <R>(method: string, params?: object) =>
    new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as R))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  let profile: CpuProfile | undefined;
  try {
    const result = await run();
    return { profile: (profile = await stop()), result };
  } finally {
    if (!profile) await stop().catch(() => undefined);
    session.disconnect();
  }

  async function stop(): Promise<CpuProfile> {
    const { profile: p } = await post<{ profile: CpuProfile }>('Profiler.stop');
    writeFileSync(savePath, JSON.stringify(p));
    return p;
  }
}

/**
 * Which part of the engine a stack belongs to: the outermost matching frame wins, so an fsync
 * inside the index rewrite counts for the index. Names cover the engine as it is and as it was
 * (whole-index rewrite, per-write fsync) so runs before and after a change stay comparable.
 */
const at = (file: string, names: string[]) => (f: CallFrame) => f.url.endsWith(file) && names.includes(f.functionName);
const COMPONENTS: { name: string; match: (f: CallFrame) => boolean }[] = [
  { name: 'durability flush (fsync journal, index, dirs)', match: (f) => at('journal.ts', ['sync'])(f) || at('fsx.ts', ['syncPaths'])(f) || at('authority.ts', ['flush'])(f) },
  { name: 'journal append (re-read tail, hash, write)', match: at('journal.ts', ['append', 'readTail', 'appendLine']) },
  { name: 'index.txt (read, parse, write)', match: (f) => at('indexFile.ts', ['readIndex', 'writeIndex', 'appendIndex', 'parseIndex'])(f) || at('authority.ts', ['issuedSerials'])(f) },
  { name: 'lock file', match: at('fsx.ts', ['lockCaDir']) },
  { name: 'certificate build + token signature', match: (f) => f.functionName === 'buildCertificate' },
  { name: 'cert + serial files', match: at('fsx.ts', ['writeFileAtomic', 'overwriteSmallFile']) },
  { name: 'subject, extensions, checks', match: (f) => ['prepareSubject', 'buildExtensions', 'keyAlgorithmOfSpki', 'nameString', 'opensslSubject', 'toPem', 'sha256Hex', 'newSerial'].includes(f.functionName) },
];

const FS_SYNC = new Set(['openSync', 'closeSync', 'writeSync', 'readSync', 'readFileSync', 'renameSync', 'linkSync', 'unlinkSync', 'fstatSync', 'statSync', 'existsSync', 'mkdirSync', 'ftruncateSync']);

/** What kind of work the innermost frames are doing. */
function kindOf(stack: CallFrame[]): string {
  for (let i = stack.length - 1; i >= 0; i--) {
    const n = stack[i].functionName;
    if (n === 'fsyncSync') return 'fsync';
    if (n === 'C_Sign' || n === 'C_SignInit') return 'token C_Sign';
    if (FS_SYNC.has(n)) return 'other fs calls';
    if (n === '(garbage collector)') return 'GC';
  }
  return 'JS';
}

function compOf(stack: CallFrame[], leaf: CallFrame): string {
  for (const f of stack) {
    const c = COMPONENTS.find((x) => x.match(f));
    if (c) return c.name;
  }
  if (stack.some((f) => f.url.includes('/electron/core/'))) return 'engine (other)';
  if (leaf.functionName === '(idle)') return 'idle';
  if (leaf.functionName === '(garbage collector)') return 'GC';
  return 'runtime (other)';
}

export interface Breakdown {
  totalMs: number;
  busyMs: number;
  perIssuance: number;
  rows: { component: string; kind: string; ms: number; msPerIssuance: number; share: number }[];
  topSelf: { fn: string; ms: number; share: number }[];
  /** Engine functions and synchronous fs calls, time including callees, per issuance. */
  topInclusive: { fn: string; msPerIssuance: number }[];
}

function frameKey(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}`;
}

const INCLUSIVE_OF_INTEREST = (f: CallFrame) =>
  /\/electron\/core\//.test(f.url) || (f.url === 'node:fs' && /Sync$/.test(f.functionName));

/**
 * Fold a profile taken while the process did nothing but issue (the work deferred to timers
 * and flushes included), into per-issuance costs.
 */
export function breakdown(p: CpuProfile, issuances: number): Breakdown {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stackCache = new Map<number, CallFrame[]>();
  const stackOf = (id: number): CallFrame[] => {
    let s = stackCache.get(id);
    if (s) return s;
    const frames: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) frames.push(byId.get(cur)!.callFrame);
    s = frames.reverse();
    stackCache.set(id, s);
    return s;
  };
  const compCache = new Map<number, string>();
  const cells = new Map<string, number>();
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    total += dt;
    const stack = stackOf(p.samples[i]);
    const leaf = stack[stack.length - 1];
    const leafKey = frameKey(leaf);
    self.set(leafKey, (self.get(leafKey) ?? 0) + dt);
    const comp = compCache.get(p.samples[i]) ?? compOf(stack, leaf);
    compCache.set(p.samples[i], comp);
    if (comp !== 'idle') busy += dt;
    const seen = new Set<string>();
    for (const f of stack) {
      if (!INCLUSIVE_OF_INTEREST(f)) continue;
      const k = frameKey(f);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
    const k = `${comp}\u0000${kindOf(stack)}`;
    cells.set(k, (cells.get(k) ?? 0) + dt);
  }
  const rows = [...cells.entries()]
    .map(([k, ms]) => {
      const [component, kind] = k.split('\u0000');
      return { component, kind, ms, msPerIssuance: ms / issuances, share: ms / total };
    })
    .sort((a, b) => b.ms - a.ms);
  const topSelf = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([fn, ms]) => ({ fn, ms, share: ms / total }));
  const topInclusive = [...incl.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 16)
    .map(([fn, ms]) => ({ fn, msPerIssuance: ms / issuances }));
  return { totalMs: total, busyMs: busy, perIssuance: busy / issuances, rows, topSelf, topInclusive };
}

export function formatBreakdown(b: Breakdown, minShare = 0.01): string {
  const out = [`  profiled ${b.totalMs.toFixed(0)} ms; busy ${b.perIssuance.toFixed(3)} ms per issuance (idle time left out)`];
  out.push('  ms/issuance  share  part of the engine / kind of work');
  for (const r of b.rows.filter((r) => r.share >= minShare)) {
    out.push(`  ${r.msPerIssuance.toFixed(3).padStart(11)}  ${(r.share * 100).toFixed(1).padStart(4)}%  ${r.component} / ${r.kind}`);
  }
  out.push('  engine functions and fs calls, including callees (ms/issuance):');
  for (const t of b.topInclusive) out.push(`  ${t.msPerIssuance.toFixed(3).padStart(11)}  ${t.fn}`);
  out.push('  top self time (whole profile):');
  for (const t of b.topSelf.slice(0, 8)) out.push(`  ${t.ms.toFixed(0).padStart(8)} ms  ${(t.share * 100).toFixed(1).padStart(4)}%  ${t.fn}`);
  return out.join('\n');
}

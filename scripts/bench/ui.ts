/**
 * Section 4: the UI figures come from scripts/bench-ui.ts (renderer size, first interactive, IPC
 * round trip), written separately. It is loaded by path so this script runs whether or not it
 * exists yet, and whatever shape of figures it returns is carried into the table.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { say, type Figure, type Report } from './report';

const SECTION = '4 UI';
const BENCH_UI = resolve(__dirname, '..', 'bench-ui.ts');

/** Targets from the issue, applied when bench-ui reports a figure of that kind without its own verdict. */
const KNOWN: { match: RegExp; atMost: number; unit: string }[] = [
  { match: /gzip/i, atMost: 350, unit: 'KB' },
  { match: /interactive/i, atMost: 800, unit: 'ms' },
];

export async function benchUiSection(report: Report): Promise<void> {
  if (!existsSync(BENCH_UI)) {
    report.note(SECTION, 'skipped', `${join('scripts', 'bench-ui.ts')} does not exist yet: no UI figures`);
    say('  scripts/bench-ui.ts does not exist yet: no UI figures');
    return;
  }
  const mod = (await import(pathToFileURL(BENCH_UI).href)) as { benchUi?: () => unknown; default?: { benchUi?: () => unknown } };
  const fn = mod.benchUi ?? mod.default?.benchUi;
  if (typeof fn !== 'function') throw new Error('scripts/bench-ui.ts does not export benchUi()');
  const result = await fn();
  report.detail('ui', result);
  for (const f of figuresFrom(result)) {
    report.add(f);
    say(`  ${f.name}: ${f.value ?? 'n/a'} ${f.unit}${f.target ? ` (target ${f.target}: ${f.pass ? 'PASS' : 'MISS'})` : ''}`);
  }
}

/** Accepts an array of figure-like objects or a flat record of numbers. */
function figuresFrom(result: unknown): Figure[] {
  const out: Figure[] = [];
  const push = (name: string, value: unknown, unit = '', target?: unknown, pass?: unknown) => {
    if (typeof value !== 'number' && value !== null) return;
    // A bare record says its unit in the key: rendererGzipBytes, firstInteractiveMsMedian.
    if (!unit && typeof value === 'number' && /bytes/i.test(name)) {
      value = Math.round((value / 1024) * 10) / 10;
      unit = 'KB';
    } else if (!unit && /ms/i.test(name)) unit = 'ms';
    const f: Figure = { section: SECTION, name, value: value as number | null, unit };
    if (typeof target === 'string') f.target = target;
    if (typeof pass === 'boolean') f.pass = pass;
    if (f.pass === undefined && typeof value === 'number') {
      const k = KNOWN.find((x) => x.match.test(name));
      if (k) {
        f.target = `≤ ${k.atMost} ${k.unit}`;
        f.pass = value <= k.atMost;
      }
    }
    out.push(f);
  };
  const list = Array.isArray(result) ? result : (result as { figures?: unknown })?.figures;
  if (Array.isArray(list)) {
    for (const x of list as Record<string, unknown>[]) push(String(x.name ?? x.label ?? '?'), x.value, String(x.unit ?? ''), x.target, x.pass);
  } else if (result && typeof result === 'object') {
    for (const [k, v] of Object.entries(result as Record<string, unknown>)) push(k, v);
  }
  if (!out.length) throw new Error(`benchUi() returned nothing this script can read: ${JSON.stringify(result)?.slice(0, 200)}`);
  return out;
}

/**
 * Figures collected by the benchmark sections: printed as one table at the end and written as
 * JSON, so runs can be compared by eye and by script.
 */
import { writeFileSync } from 'node:fs';

export interface Figure {
  section: string;
  name: string;
  value: number | null;
  unit: string;
  /** Human-readable target, e.g. "≥ 25 %". */
  target?: string;
  /** Set only for figures with a target. */
  pass?: boolean;
  note?: string;
}

export interface SectionNote {
  section: string;
  status: 'ok' | 'skipped' | 'failed';
  message?: string;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly sections: SectionNote[] = [];
  readonly details: Record<string, unknown> = {};

  add(f: Figure): Figure {
    this.figures.push(f);
    return f;
  }

  /** A figure compared against a bound; `atMost` for times and sizes, `atLeast` for rates and ratios. */
  check(section: string, name: string, value: number, unit: string, bound: { atLeast?: number; atMost?: number }, note?: string): Figure {
    const pass = bound.atLeast !== undefined ? value >= bound.atLeast : value <= bound.atMost!;
    const target = bound.atLeast !== undefined ? `≥ ${bound.atLeast} ${unit}` : `≤ ${bound.atMost} ${unit}`;
    return this.add({ section, name, value, unit, target, pass, note });
  }

  note(section: string, status: SectionNote['status'], message?: string): void {
    this.sections.push({ section, status, message });
  }

  detail(key: string, value: unknown): void {
    this.details[key] = value;
  }

  table(): string {
    const rows = this.figures.map((f) => [
      f.section,
      f.name,
      f.value === null ? 'n/a' : formatNumber(f.value) + (f.unit ? ' ' + f.unit : ''),
      f.target ?? '',
      f.pass === undefined ? '' : f.pass ? 'PASS' : 'MISS',
    ]);
    const head = ['section', 'figure', 'value', 'target', 'result'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
    const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
    let last = '';
    for (const r of rows) {
      if (last && r[0] !== last) out.push('');
      out.push(line(r));
      last = r[0];
    }
    const problems = this.sections.filter((s) => s.status !== 'ok');
    if (problems.length) {
      out.push('');
      for (const s of problems) out.push(`${s.section}: ${s.status} — ${s.message ?? ''}`);
    }
    return out.join('\n');
  }

  writeJson(path: string, meta: Record<string, unknown>): void {
    writeFileSync(path, JSON.stringify({ ...meta, figures: this.figures, sections: this.sections, details: this.details }, null, 2) + '\n');
  }
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return Math.round(v).toLocaleString('en-US');
  if (abs >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One line of progress while a section runs (the table comes at the end). */
export function say(msg: string): void {
  process.stdout.write(msg + '\n');
}

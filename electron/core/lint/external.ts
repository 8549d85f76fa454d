/**
 * Linters that are not ours, run where the machine has them: zlint (Go) and pkilint (Python).
 * Neither is required; absent, their runner returns null and the review shows our lints alone.
 * Their findings take our shape, named by their own lint names, so the gate and the review treat
 * them alike and an acceptance can name one.
 */
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { toPem } from '../x509/pem';
import type { DocumentKind, LintFinding, Severity } from './types';

/** node:child_process (and net, stream… with it) is loaded only when an external linter runs: every signing command loads this module, few ask for zlint. */
function runText(bin: string, args: string[]): import('node:child_process').SpawnSyncReturns<string> {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  return spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
}

/** One external lint's verdict as zlint reports it: pass, NA, NE (not yet effective), info, warn, error, fatal. */
export interface ZlintResult {
  result: string;
  details?: string;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The zlint binary: QPKI_ZLINT when set (a path), else `zlint` on the PATH, else null. */
export function findZlint(): string | null {
  const env = process.env.QPKI_ZLINT;
  if (env) {
    try {
      accessSync(env, constants.X_OK);
      return env;
    } catch {
      return null;
    }
  }
  return onPath('zlint');
}

function pemOf(der: Uint8Array, kind: DocumentKind): string {
  return toPem(der, kind === 'crl' ? 'X509 CRL' : 'CERTIFICATE');
}

function withTempFile<T>(text: string, run: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-lint-'));
  try {
    const file = join(dir, 'doc.pem');
    writeFileSync(file, text);
    return run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let zlintMeta: Map<string, { source: string; citation: string }> | undefined;

/** Each zlint lint's source and citation, from `zlint -list-lints-json`, read once. */
function zlintMetadata(bin: string): Map<string, { source: string; citation: string }> {
  if (zlintMeta) return zlintMeta;
  const m = new Map<string, { source: string; citation: string }>();
  const r = runText(bin, ['-list-lints-json']);
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as { name: string; source?: string; citation?: string };
      m.set(j.name, { source: j.source ?? '', citation: j.citation ?? '' });
    } catch {
      // a line that is not JSON carries no lint
    }
  }
  return (zlintMeta = m);
}

/** zlint's verdict for every lint it ran on a DER certificate or CRL; null when zlint is not installed. */
export function runZlintRaw(der: Uint8Array, kind: DocumentKind): Record<string, ZlintResult> | null {
  const bin = findZlint();
  if (!bin) return null;
  return withTempFile(pemOf(der, kind), (file) => {
    const r = runText(bin, [file]);
    if (r.status !== 0 || !r.stdout.trim()) throw new Error(`zlint failed: ${(r.stderr || r.stdout || String(r.error)).split('\n')[0]}`);
    return JSON.parse(r.stdout) as Record<string, ZlintResult>;
  });
}

const ZLINT_SEVERITY: Record<string, Severity> = { fatal: 'error', error: 'error', warn: 'warning', info: 'notice', notice: 'notice' };

/** zlint's findings in our shape (error, warning, notice); null when zlint is not installed. */
export function runZlint(der: Uint8Array, kind: DocumentKind): LintFinding[] | null {
  const raw = runZlintRaw(der, kind);
  if (!raw) return null;
  const meta = zlintMetadata(findZlint()!);
  return Object.entries(raw)
    .filter(([, v]) => ZLINT_SEVERITY[v.result])
    .map(([name, v]) => {
      const m = meta.get(name);
      return {
        lint: name,
        severity: ZLINT_SEVERITY[v.result],
        source: `zlint${m ? ` (${m.source}: ${m.citation})` : ''}`,
        message: v.details || (v.result === 'fatal' ? 'zlint could not run this lint' : 'zlint reports this lint'),
      };
    })
    .sort((a, b) => a.lint.localeCompare(b.lint));
}

const PKILINT_SEVERITY: Record<string, Severity> = { FATAL: 'error', ERROR: 'error', WARNING: 'warning', NOTICE: 'notice', INFO: 'notice' };

/**
 * pkilint's findings, where its command-line tools are on the PATH (lint_cabf_serverauth_cert for
 * publicly trusted TLS certificates, lint_pkix_cert for others, lint_crl for CRLs); null otherwise.
 * Its text report gives one `code (SEVERITY)` per line; a line we cannot read is left out.
 */
export function runPkilint(der: Uint8Array, kind: DocumentKind, pki: 'public-tls' | 'private' = 'public-tls'): LintFinding[] | null {
  const tool = kind === 'crl' ? 'lint_crl' : pki === 'public-tls' ? 'lint_cabf_serverauth_cert' : 'lint_pkix_cert';
  const bin = onPath(tool);
  if (!bin) return null;
  const args = tool === 'lint_cabf_serverauth_cert' ? ['lint', '-d'] : tool === 'lint_crl' ? ['lint', '-t', kind === 'crl' ? 'CRL' : 'ARL'] : ['lint'];
  return withTempFile(pemOf(der, kind), (file) => {
    const r = runText(bin, [...args, file]);
    const out: LintFinding[] = [];
    for (const line of (r.stdout ?? '').split('\n')) {
      const m = /^\s*([a-z][a-z0-9_.]+) \((FATAL|ERROR|WARNING|NOTICE|INFO)\)(?::\s*(.*))?$/.exec(line);
      if (m) out.push({ lint: m[1], severity: PKILINT_SEVERITY[m[2]], source: 'pkilint', message: m[3] ?? 'pkilint reports this finding' });
    }
    return out;
  });
}

/** Both external linters on one document; each null where it is not installed. */
export function runExternalLinters(der: Uint8Array, kind: DocumentKind, pki: 'public-tls' | 'private' = 'public-tls'): { zlint: LintFinding[] | null; pkilint: LintFinding[] | null } {
  return { zlint: runZlint(der, kind), pkilint: runPkilint(der, kind, pki) };
}

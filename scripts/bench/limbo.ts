/**
 * x509-limbo (../shared/fixtures/x509-limbo/limbo.json): each case's chain validated with our
 * path validator and the verdict compared with its expected_result, per feature and per
 * namespace. webpki:: cases use the webpki rules, every other case RFC 5280's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validatePath } from '../../electron/core/x509/validate/index';
import { pemOrDer } from '../../electron/core/x509/pem';

export interface LimboCase {
  id: string;
  features: string[] | null;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  expected_result: 'SUCCESS' | 'FAILURE';
  expected_peer_name: { kind: string; value: string } | null;
  extended_key_usage: string[];
  max_chain_depth: number | null;
  crls?: string[];
}

export interface LimboOutcome {
  id: string;
  expected: 'SUCCESS' | 'FAILURE';
  got: 'SUCCESS' | 'FAILURE';
  reason?: string;
  features: string[];
}

export const LIMBO_PATH = process.env.QPKI_LIMBO ?? join(__dirname, '..', '..', '..', 'shared', 'fixtures', 'x509-limbo', 'limbo.json');

export function limboAvailable(): boolean {
  return existsSync(LIMBO_PATH);
}

export function runLimboCase(t: LimboCase): LimboOutcome {
  const der = (p: string) => pemOrDer(p, ['CERTIFICATE']);
  const purpose = t.extended_key_usage?.[0] ?? (t.validation_kind === 'CLIENT' ? 'clientAuth' : 'serverAuth');
  let got: 'SUCCESS' | 'FAILURE';
  let reason: string | undefined;
  try {
    const r = validatePath(der(t.peer_certificate), {
      trusted: t.trusted_certs.map(der),
      untrusted: t.untrusted_intermediates.map(der),
      crls: (t.crls ?? []).map((c) => pemOrDer(c, ['X509 CRL'])),
      ...(t.validation_time && { at: new Date(t.validation_time) }),
      purpose,
      ...(t.expected_peer_name && t.expected_peer_name.kind !== 'RFC822' && { peerName: t.expected_peer_name.value }),
      rules: t.id.startsWith('webpki::') ? 'webpki' : 'rfc5280',
      ...(t.max_chain_depth !== null && { maxDepth: t.max_chain_depth }),
    });
    got = r.valid ? 'SUCCESS' : 'FAILURE';
    reason = r.reason;
  } catch (e) {
    got = 'FAILURE';
    reason = `threw: ${(e as Error).message}`;
  }
  return { id: t.id, expected: t.expected_result, got, reason, features: t.features ?? [] };
}

export function runLimbo(): LimboOutcome[] {
  const doc = JSON.parse(readFileSync(LIMBO_PATH, 'utf8')) as { testcases: LimboCase[] };
  return doc.testcases.map(runLimboCase);
}

/** Agreement by group: each feature, each namespace (the id up to its first "::"), and all. */
export function limboSummary(outcomes: LimboOutcome[]): { group: string; agree: number; total: number }[] {
  const groups = new Map<string, { agree: number; total: number }>();
  const add = (g: string, ok: boolean) => {
    const e = groups.get(g) ?? { agree: 0, total: 0 };
    e.total++;
    if (ok) e.agree++;
    groups.set(g, e);
  };
  for (const o of outcomes) {
    const ok = o.expected === o.got;
    add('all', ok);
    add(`namespace ${o.id.split('::')[0]}`, ok);
    for (const f of o.features.length ? o.features : ['(no feature)']) add(`feature ${f}`, ok);
  }
  return [...groups].map(([group, v]) => ({ group, ...v })).sort((a, b) => (a.group === 'all' ? -1 : b.group === 'all' ? 1 : a.group.localeCompare(b.group)));
}

/** Bench section 6: agreement per namespace and feature, and how long the 208 cases take. */
export async function benchLimbo(report: import('./report').Report): Promise<void> {
  const { say } = await import('./report');
  if (!limboAvailable()) throw new Error(`x509-limbo not found at ${LIMBO_PATH}`);
  const t0 = performance.now();
  const outcomes = runLimbo();
  const ms = performance.now() - t0;
  for (const s of limboSummary(outcomes)) {
    report.add({ section: '6 x509-limbo', name: `agree: ${s.group}`, value: s.agree, unit: `of ${s.total}` });
    say(`  ${s.group.padEnd(44)} ${s.agree}/${s.total}`);
  }
  report.add({ section: '6 x509-limbo', name: 'all cases validated in', value: Math.round(ms), unit: 'ms' });
  for (const o of outcomes.filter((x) => x.expected !== x.got)) say(`  disagrees: ${o.id} expected ${o.expected}, got ${o.got}${o.reason ? ` (${o.reason})` : ''}`);
  report.detail('limbo', outcomes.filter((x) => x.expected !== x.got));
}

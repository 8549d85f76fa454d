import type { LintReport } from '../core/lint/gate';

/** The lint gate's verdict on what was just signed, in one line, and each accepted lint with its reason. */
export function lintLines(r: LintReport | undefined): string[] {
  if (!r) return [];
  const of = (s: string) => r.findings.filter((f) => f.severity === s && !r.accepted.some((a) => a.lint === f.lint)).map((f) => f.lint);
  const part = (names: string[], one: string, many: string) => (names.length ? `${names.length} ${names.length === 1 ? one : many} (${names.join(', ')})` : '');
  const parts = [part(of('warning'), 'warning', 'warnings'), part(of('notice'), 'notice', 'notices')].filter(Boolean);
  const rules = r.pki === 'public-tls' ? 'public TLS rules' : 'private PKI rules';
  return [
    `  lint:    no error (${rules})${parts.length ? `; ${parts.join(', ')}` : ''}`,
    ...r.accepted.map((a) => `  lint accepted by the profile: ${a.lint} (${a.source}): ${a.reason}`),
  ];
}

/**
 * A profile variable's label and its problems in words for the operator and witnesses: acronyms
 * in capitals ("Policy OID", "CPS URL"), and each rule the core checks said plainly, with no
 * regular expression, no rule keyword and no JSON (main checks the same rules again; the core's
 * message stays in the journal and on the command line).
 */
import type { VariableDefT } from '../shared/contract';

const ACRONYMS = new Set(['oid', 'url', 'cps', 'crl', 'ocsp', 'dns', 'ip', 'ca', 'cn', 'ou', 'uri', 'id', 'aia', 'san']);

const KNOWN: Record<string, string> = {
  cn: 'Common name (CN)',
  o: 'Organization (O)',
  organization: 'Organization (O)',
  ou: 'Organizational unit (OU)',
  c: 'Country (C)',
  country: 'Country (C)',
  l: 'Locality (L)',
  locality: 'Locality (L)',
  st: 'State or province (ST)',
  state: 'State or province (ST)',
  dns_names: 'DNS names',
  ip_addresses: 'IP addresses',
  email: 'E-mail',
  crl_url: 'CRL distribution point URL',
  ca_issuers_url: 'CA issuers URL (where the issuer’s certificate is published)',
  ocsp_url: 'OCSP responder URL',
  cps_url: 'CPS URL',
  policy_oid: 'Policy OID',
  policy_notice: 'Policy notice',
  validity_days: 'Validity (days)',
};

/** A variable's name as a label: the known ones as written above, any other with its acronyms in capitals. */
export function variableLabel(name: string): string {
  if (KNOWN[name]) return KNOWN[name];
  const words = name.split(/[_\s]+/).filter(Boolean).map((w) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
  const text = words.join(' ');
  return text.replace(/^[a-z]/, (c) => c.toUpperCase());
}

/** What a pattern the embedded profiles use asks for, in words; null for any other (then the description says it). */
export function patternWords(pattern: string | undefined): string | null {
  if (!pattern) return null;
  if (pattern === '^[A-Z]{2}$') return 'two capital letters, such as FR';
  return null;
}

/** The hint under a field: the profile's description, and what its pattern asks for in words (never the pattern itself). */
export function variableHint(d: Pick<VariableDefT, 'description' | 'pattern'>): string {
  const form = patternWords(d.pattern);
  return [d.description, form ? `Form: ${form}.` : ''].filter(Boolean).join(' ');
}

/** One problem of a value, in words, from the rule the core names (QpkiError details.rule). */
export function variableProblem(d: Pick<VariableDefT, 'name' | 'pattern' | 'min' | 'max' | 'enum' | 'description'>, rule: string | undefined, value: unknown, coreMessage: string): string {
  const shown = Array.isArray(value) ? value.join(', ') : value === undefined || value === null ? '' : String(value);
  switch (rule) {
    case 'required': return 'Required: type a value.';
    case 'pattern': {
      const form = patternWords(d.pattern);
      return `“${shown}” is not in the form this field takes${form ? `: ${form}` : d.description ? ` (${d.description})` : ''}.`;
    }
    case 'enum': return `Choose one of: ${(d.enum ?? []).map(String).join(', ')}.`;
    case 'min': return `At least ${d.min}${d.max !== undefined ? ` and at most ${d.max}` : ''}.`;
    case 'max': return `At most ${d.max}${d.min !== undefined ? ` and at least ${d.min}` : ''}.`;
    default:
      // Other rules (types, DNS names, e-mail, IP ranges): the core's sentence without its variable prefix, quoted patterns, JSON or rule keywords.
      return coreMessage
        .replace(/^variable "[^"]*": /, '')
        .replace(/\s*\((required|enum)\)/g, '')
        .replace(/ pattern "[^"]*"/g, ' the form this field takes')
        .replace(/\[[^\]]*\]/g, (m) => { try { return (JSON.parse(m) as unknown[]).map(String).join(', '); } catch { return m; } })
        .replace(/^value /, '') + (/[.!?]$/.test(coreMessage) ? '' : '.');
  }
}

/** The validity a profile gives, in words, before the review: the variable's value when the profile lets one set it. */
export function validityWords(p: { validityDays: number; validityVariable: string | null }, vars: Record<string, unknown>): string {
  const set = p.validityVariable ? Number(vars[p.validityVariable]) : NaN;
  const days = Number.isFinite(set) && set > 0 ? set : p.validityDays;
  const years = days / 365.25;
  const about = years >= 1 ? ` (about ${Math.round(years * 10) / 10} year${Math.round(years * 10) / 10 === 1 ? '' : 's'})` : '';
  return `Valid for ${days} days${about} from signing${p.validityVariable ? `, as ${variableLabel(p.validityVariable)} says` : ''}; the review shows the exact dates, and an issuer's own end date is never passed.`;
}

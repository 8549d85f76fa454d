/**
 * A certificate request as the ceremony reads it: what it asks for in words, the profile values
 * it suggests, and every place the certificate to be signed differs from it. The same words
 * serve the app's review and the command line.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralNames, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import type { Profile } from '../core/profiles';
import type { ParsedCsr } from '../core/x509/csr';
import type { Described } from '../core/x509/describe';
import { sha256Hex } from '../core/ca';

export interface CsrFacts {
  subject: string;
  subjectAltNames: string[];
  keyAlgorithm: string;
  keyFingerprint: string;
  sha256: string;
}

const SUBJECT_VARS: Record<string, string[]> = {
  CN: ['cn'], O: ['organization', 'o'], C: ['country', 'c'], OU: ['organizational_unit', 'ou'], L: ['locality', 'l'], ST: ['state', 'st'],
};

/** The names a request's subjectAltName extension asks for, as `DNS:…`, `IP:…`, `email:…`, `URI:…`. */
export function requestedNames(csr: ParsedCsr): string[] {
  const ext = csr.requestedExtensions.find((e) => e.extnID === id_ce_subjectAltName);
  if (!ext) return [];
  try {
    return [...AsnConvert.parse(ext.extnValue.buffer, GeneralNames)].map((g) => {
      if (g.dNSName !== undefined) return `DNS:${g.dNSName}`;
      if (g.iPAddress !== undefined) return `IP:${g.iPAddress}`;
      if (g.rfc822Name !== undefined) return `email:${g.rfc822Name}`;
      if (g.uniformResourceIdentifier !== undefined) return `URI:${g.uniformResourceIdentifier}`;
      return 'another kind of name';
    });
  } catch {
    return ['(a subjectAltName that does not decode)'];
  }
}

export function csrFacts(csr: ParsedCsr, described: Described): CsrFacts {
  return {
    subject: described.subject ?? '',
    subjectAltNames: requestedNames(csr),
    keyAlgorithm: csr.keyAlgorithm,
    keyFingerprint: sha256Hex(csr.spki),
    sha256: sha256Hex(csr.der),
  };
}

/** Split an RFC 4514 subject string (as describeDocument gives it) into attribute/value pairs. */
function subjectParts(subject: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of subject.split(/,\s*(?=[A-Za-z.0-9]+=)/)) {
    const m = /^([A-Za-z.0-9]+)=(.*)$/.exec(part.trim());
    if (m) out.push([m[1].toUpperCase(), m[2].replace(/\\(.)/g, '$1')]);
  }
  return out;
}

/**
 * Profile values the request suggests (its subject attributes, its DNS names and IP addresses),
 * only for variables the profile has: what pre-fills the form and what the command line uses
 * where the operator gave no value.
 */
export function suggestedVars(profile: Profile, csr: ParsedCsr, subject: string): Record<string, string | string[]> {
  const names = new Set(profile.variables.map((v) => v.name));
  const out: Record<string, string | string[]> = {};
  for (const [attr, value] of subjectParts(subject)) {
    for (const n of SUBJECT_VARS[attr] ?? []) if (names.has(n) && out[n] === undefined) out[n] = value;
  }
  const sans = requestedNames(csr);
  const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)).filter((d) => d !== out.cn);
  const ips = sans.filter((s) => s.startsWith('IP:')).map((s) => s.slice(3));
  if (dns.length && names.has('dns_names')) out.dns_names = dns;
  if (ips.length && names.has('ip_addresses')) out.ip_addresses = ips;
  return out;
}

/**
 * Where the certificate will differ from what the request asks: its subject, its names, each
 * extension the request asks for that the certificate leaves out or fills otherwise. Extensions
 * the profile adds on its own are not differences (the request cannot ask for them all).
 */
export function csrDifferences(facts: CsrFacts, csrDescribed: Described, cert: Described): Array<{ field: string; requested: string; issued: string }> {
  const out: Array<{ field: string; requested: string; issued: string }> = [];
  if ((cert.subject ?? '') !== facts.subject) out.push({ field: 'Subject', requested: facts.subject || '(empty)', issued: cert.subject || '(empty)' });
  const certSan = cert.extensions.find((e) => e.oid === id_ce_subjectAltName);
  const certNames = new Set((certSan?.value ?? []).flatMap((l) => l.split(/,\s*/)).map(normalizeName).filter(Boolean));
  const asked = facts.subjectAltNames.map(normalizeName);
  const missing = asked.filter((n) => !certNames.has(n));
  const added = [...certNames].filter((n) => !asked.includes(n));
  if (missing.length || (asked.length && added.length)) {
    out.push({ field: 'Subject alternative names', requested: asked.join(', ') || '(none)', issued: [...certNames].join(', ') || '(none)' });
  }
  for (const e of csrDescribed.extensions) {
    if (e.oid === id_ce_subjectAltName) continue;
    const c = cert.extensions.find((x) => x.oid === e.oid);
    if (!c) out.push({ field: e.name, requested: e.value.join('; '), issued: '(left out: the profile decides this extension)' });
    else if (c.value.join('; ') !== e.value.join('; ') || c.critical !== e.critical) {
      out.push({ field: e.name, requested: `${e.critical ? 'critical: ' : ''}${e.value.join('; ')}`, issued: `${c.critical ? 'critical: ' : ''}${c.value.join('; ')}` });
    }
  }
  return out;
}

/** `DNS:example.com`, `IP Address:10.0.0.1`, `IP:10.0.0.1` read alike. */
function normalizeName(s: string): string {
  const t = s.trim();
  const m = /^(DNS|IP|IP Address|email|URI|URL)\s*:\s*(.*)$/i.exec(t);
  if (!m) return t;
  const kind = m[1].toUpperCase().startsWith('IP') ? 'IP' : m[1].toUpperCase() === 'DNS' ? 'DNS' : m[1].toUpperCase() === 'EMAIL' ? 'email' : 'URI';
  return `${kind}:${m[2]}`;
}

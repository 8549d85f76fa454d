/**
 * The subject DN: attribute rules (RFC 5280 upper bounds and string types) and building the
 * Name in the conventional order C, ST, L, O, OU, CN (serialNumber last), one attribute per RDN.
 */
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { hasControlChars } from './rules';
import type { SubjectKey } from './schema';
import { referencedVariables, renderScalar } from './template';
import type { Profile, VariableValues } from './types';

export const DN_RULES: Record<SubjectKey, { oid: string; max: number; printableOnly: boolean; label: string }> = {
  c: { oid: '2.5.4.6', max: 2, printableOnly: true, label: 'country (C)' },
  st: { oid: '2.5.4.8', max: 128, printableOnly: false, label: 'state or province (ST)' },
  l: { oid: '2.5.4.7', max: 128, printableOnly: false, label: 'locality (L)' },
  o: { oid: '2.5.4.10', max: 64, printableOnly: false, label: 'organization (O)' },
  ou: { oid: '2.5.4.11', max: 64, printableOnly: false, label: 'organizational unit (OU)' },
  cn: { oid: '2.5.4.3', max: 64, printableOnly: false, label: 'common name (CN)' },
  serialNumber: { oid: '2.5.4.5', max: 64, printableOnly: true, label: 'serial number' },
};

const DN_ORDER: SubjectKey[] = ['c', 'st', 'l', 'o', 'ou', 'cn', 'serialNumber'];
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Why a value cannot be this DN attribute, or null. */
export function dnValueProblem(key: SubjectKey, value: string, encoding: 'utf8' | 'printable'): string | null {
  const rule = DN_RULES[key];
  if (hasControlChars(value)) return 'contains a control character';
  if (value !== value.trim()) return 'starts or ends with a space';
  if (key === 'c' && !/^[A-Z]{2}$/.test(value)) return 'is not a two-letter ISO 3166 country code in capitals';
  if ([...value].length > rule.max) return `is longer than ${rule.max} characters, the limit for ${rule.label} (RFC 5280)`;
  if (encoding === 'printable' && !PRINTABLE.test(value)) return "has characters a PrintableString cannot hold (letters, digits, space and '()+,-./:=? only)";
  return null;
}

/** The rendered subject as key → value (only non-empty attributes), checked. */
/**
 * Subjects already rendered, per resolved-variables object and profile: issuance renders the
 * subject for the name, for its checks and for the SAN's CN, from the same values.
 */
const rendered = new WeakMap<VariableValues, WeakMap<Profile, Readonly<Partial<Record<SubjectKey, string>>>>>();

export function renderSubject(profile: Profile, values: VariableValues): Readonly<Partial<Record<SubjectKey, string>>> {
  let byProfile = rendered.get(values);
  const hit = byProfile?.get(profile);
  if (hit) return hit;
  const out = Object.freeze(renderSubjectOnce(profile, values));
  if (!byProfile) rendered.set(values, (byProfile = new WeakMap()));
  byProfile.set(profile, out);
  return out;
}

function renderSubjectOnce(profile: Profile, values: VariableValues): Partial<Record<SubjectKey, string>> {
  const out: Partial<Record<SubjectKey, string>> = {};
  for (const key of DN_ORDER) {
    const field = profile.subject[key];
    if (!field) continue;
    const value = renderScalar(field.template, values);
    if (value === undefined || value.trim() === '') continue;
    const problem = dnValueProblem(key, value, field.encoding);
    if (problem) {
      const vars = referencedVariables(field.template);
      const who = vars.length ? `variable "${vars.join('", "')}"` : `profile ${profile.name} subject ${key}`;
      throw new QpkiError('VARIABLE_INVALID', `${who}: value ${JSON.stringify(value)} cannot be the ${DN_RULES[key].label}: it ${problem}`, {
        variable: vars[0],
        rule: 'subject',
      });
    }
    out[key] = value;
  }
  return out;
}

export function buildSubject(profile: Profile, values: VariableValues): Name {
  const rendered = renderSubject(profile, values);
  const rdns: RelativeDistinguishedName[] = [];
  for (const key of DN_ORDER) {
    const value = rendered[key];
    if (value === undefined) continue;
    const encoding = profile.subject[key]!.encoding;
    const v = encoding === 'printable' ? new AttributeValue({ printableString: value }) : new AttributeValue({ utf8String: value });
    rdns.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type: DN_RULES[key].oid, value: v })]));
  }
  if (rdns.length === 0) throw new QpkiError('VARIABLE_INVALID', `profile ${profile.name}: the subject would be empty; give at least the cn variable`);
  return new Name(rdns);
}

/**
 * Turns a parsed profile document into a checked Profile. Everything that can be known before
 * any variable is given is checked here, so a broken profile fails when it is loaded, not in
 * the middle of a ceremony.
 */
import { QpkiError } from '../errors';
import {
  defaultSignatureAlgorithm,
  isKeyAlgorithm,
  keyFamily,
  signatureFitsKey,
  type KeyAlgorithm,
  type SignatureAlgorithm,
} from '../keys/algorithms';
import { DN_RULES, dnValueProblem } from './dn';
import {
  cidrHasHostBits,
  dnsNameProblem,
  emailProblem,
  isListType,
  normalizeDnsName,
  oidProblem,
  parseCidr,
  MAX_VALIDITY_DAYS,
  parseDurationSeconds,
  parseIp,
  uriProblem,
  validateVariable,
  VARIABLE_TYPES,
  type VariableDef,
  type VariableType,
} from './rules';
import { ProfileSchema, SUBJECT_KEYS, type RawExtensions, type RawProfile, type RawVariable } from './schema';
import { hasMalformedPlaceholder, referencedVariables, wholeVariable } from './template';
import type { Profile, SubjectField } from './types';

const ALGORITHM_ALIASES: Record<string, KeyAlgorithm> = {
  'ecdsa-p256': 'ec-p256',
  'ecdsa-p384': 'ec-p384',
  'ecdsa-p521': 'ec-p521',
};

export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];
const KEY_USAGE_ALIASES: Record<string, KeyUsageName> = { contentCommitment: 'nonRepudiation', crlSign: 'cRLSign' };

/** Key usages each key family may carry: RFC 5480 (EC), RFC 8410 (Ed25519), RFC 9881 (ML-DSA). */
const SIGN_ONLY: KeyUsageName[] = ['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign'];
const KEY_USAGE_BY_FAMILY: Record<ReturnType<typeof keyFamily>, ReadonlySet<KeyUsageName>> = {
  ec: new Set([...SIGN_ONLY, 'keyAgreement', 'encipherOnly', 'decipherOnly']),
  rsa: new Set([...SIGN_ONLY, 'keyEncipherment', 'dataEncipherment']),
  ed25519: new Set(SIGN_ONLY),
  'ml-dsa': new Set(SIGN_ONLY),
};

export const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  any: '2.5.29.37.0',
};

function invalid(source: string, what: string): never {
  throw new QpkiError('PROFILE_INVALID', `profile ${source}: ${what}`);
}

export function normalizeKeyUsage(name: string): KeyUsageName | undefined {
  const n = KEY_USAGE_ALIASES[name] ?? name;
  return (KEY_USAGE_NAMES as readonly string[]).includes(n) ? (n as KeyUsageName) : undefined;
}

function keyAlgorithm(source: string, name: string): KeyAlgorithm {
  const k = ALGORITHM_ALIASES[name] ?? name;
  if (!isKeyAlgorithm(k)) invalid(source, `unknown algorithm "${name}"`);
  return k;
}

function signatureAlgorithm(source: string, raw: RawProfile['signature'], key: KeyAlgorithm): SignatureAlgorithm | undefined {
  if (!raw) return undefined;
  const fam = keyFamily(key);
  if (fam === 'ml-dsa') invalid(source, 'an ML-DSA key has an intrinsic signature; remove the signature block');
  const hash = raw.hash ?? (fam === 'ec' ? defaultSignatureAlgorithm(key).replace('ecdsa-', '') : 'sha256');
  if (!['sha256', 'sha384', 'sha512'].includes(hash)) invalid(source, `signature hash "${hash}" is not supported (sha256, sha384, sha512)`);
  const scheme = raw.scheme ?? (fam === 'ec' ? 'ecdsa' : fam === 'rsa' ? 'rsassa-pss' : 'ed25519');
  const sig = (
    scheme === 'ecdsa' ? `ecdsa-${hash}` : scheme === 'pkcs1v15' ? `rsa-pkcs1-${hash}` : scheme === 'rsassa-pss' ? `rsa-pss-${hash}` : 'ed25519'
  ) as SignatureAlgorithm;
  if (!signatureFitsKey(sig, key)) invalid(source, `signature scheme "${scheme}" does not fit a ${key} key`);
  return sig;
}

function variableDef(source: string, name: string, raw: RawVariable): VariableDef {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) invalid(source, `variable name "${name}" must be letters, digits and underscores`);
  if (!(VARIABLE_TYPES as readonly string[]).includes(raw.type))
    invalid(source, `variable "${name}" has unknown type "${raw.type}" (known: ${VARIABLE_TYPES.join(', ')})`);
  const type = raw.type as VariableType;
  const list = isListType(type);
  const lengthy = ['string', 'dns_name', 'email', 'uri'].includes(type);
  const c = raw.constraints ?? {};
  const min = list ? (c.min_items ?? raw.min) : lengthy ? (raw.minLength ?? raw.min) : raw.min;
  const max = list ? (c.max_items ?? raw.max) : lengthy ? (raw.maxLength ?? raw.max) : raw.max;
  const constraints: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (k !== 'min_items' && k !== 'max_items') constraints[k] = v;
  if (raw.wildcard) constraints.wildcard = raw.wildcard;
  if (raw.allow_single_label !== undefined) constraints.allow_single_label = raw.allow_single_label;
  if (raw.min_duration !== undefined) constraints.min_duration = raw.min_duration;
  if (raw.max_duration !== undefined) constraints.max_duration = raw.max_duration;
  const def: VariableDef = {
    name,
    type,
    required: raw.required ?? false,
    ...(raw.description !== undefined && { description: raw.description }),
    ...(raw.default !== undefined && raw.default !== null && { default: raw.default }),
    ...(raw.pattern !== undefined && { pattern: raw.pattern }),
    ...(raw.enum !== undefined && { enum: raw.enum.map((e) => String(e)) }),
    ...(min !== undefined && { min }),
    ...(max !== undefined && { max }),
    ...(Object.keys(constraints).length > 0 && { constraints }),
  };
  if (def.pattern !== undefined) {
    try {
      new RegExp(def.pattern, 'u');
    } catch {
      invalid(source, `variable "${name}": pattern ${JSON.stringify(def.pattern)} is not a valid regular expression`);
    }
  }
  for (const r of (constraints.allowed_ranges as string[] | undefined) ?? [])
    if (!parseCidr(r)) invalid(source, `variable "${name}": allowed_ranges entry "${r}" is not a CIDR range`);
  for (const k of ['min_duration', 'max_duration'])
    if (constraints[k] !== undefined && parseDurationSeconds(String(constraints[k])) === null)
      invalid(source, `variable "${name}": ${k} "${String(constraints[k])}" is not a duration`);
  if (def.default !== undefined) {
    try {
      validateVariable({ ...def, required: false }, def.default);
    } catch (e) {
      invalid(source, `the default of ${(e as Error).message}`);
    }
  }
  return def;
}

/** Every template string of a profile, with where it sits, for reference checks. */
function templateFields(raw: RawProfile): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [{ where: 'validity', text: raw.validity }];
  for (const [k, v] of Object.entries(raw.subject)) if (v !== undefined) out.push({ where: `subject.${k}`, text: typeof v === 'string' ? v : v.value });
  const walk = (where: string, node: unknown): void => {
    if (typeof node === 'string') out.push({ where, text: node });
    else if (Array.isArray(node)) node.forEach((n, i) => walk(`${where}[${i}]`, n));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(`${where}.${k}`, v);
  };
  walk('extensions', raw.extensions ?? {});
  return out;
}

function asList(x: string | string[] | undefined): string[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

/** Fixed (non-templated) entries are checked now; templated ones when rendered. */
function fixed(x: string | string[] | undefined): string[] {
  return asList(x).filter((e) => referencedVariables(e).length === 0);
}

function checkExtensions(source: string, ext: RawExtensions, algs: KeyAlgorithm[]): void {
  const bc = ext.basicConstraints;
  if (bc) {
    if (bc.ca && bc.critical === false) invalid(source, 'basicConstraints must be critical in a CA certificate (RFC 5280)');
    if (!bc.ca && bc.pathLen !== undefined) invalid(source, 'basicConstraints pathLen is only allowed when ca is true');
  }
  if (ext.keyUsage) {
    for (const v of ext.keyUsage.values) {
      const ku = normalizeKeyUsage(v);
      if (!ku) invalid(source, `unknown keyUsage "${v}" (known: ${KEY_USAGE_NAMES.join(', ')})`);
      for (const a of algs)
        if (!KEY_USAGE_BY_FAMILY[keyFamily(a)].has(ku)) invalid(source, `keyUsage "${v}" is not allowed for a ${a} key`);
      if (ku === 'keyCertSign' && !bc?.ca) invalid(source, 'keyUsage keyCertSign needs basicConstraints ca: true (RFC 5280)');
    }
  }
  if (ext.extKeyUsage) {
    for (const v of ext.extKeyUsage.values)
      if (!EKU_OIDS[v] && oidProblem(v)) invalid(source, `unknown extKeyUsage "${v}" (a name such as serverAuth, or an OID)`);
  }
  const san = ext.subjectAltName;
  if (san) {
    for (const d of fixed(san.dns)) if (dnsNameProblem(normalizeDnsName(d), { wildcardAllowed: true })) invalid(source, `subjectAltName dns "${d}" is not a DNS name`);
    for (const i of fixed(san.ip)) if (!parseIp(i)) invalid(source, `subjectAltName ip "${i}" is not an IP address`);
    for (const e of fixed(san.email)) if (emailProblem(e.toLowerCase())) invalid(source, `subjectAltName email "${e}" is not an e-mail address`);
    for (const u of fixed(san.uri)) if (uriProblem(u)) invalid(source, `subjectAltName uri "${u}" is not a URI`);
  }
  for (const p of ext.certificatePolicies?.policies ?? []) {
    if (referencedVariables(p.oid).length === 0 && oidProblem(p.oid)) invalid(source, `certificatePolicies oid "${p.oid}" is not an OID`);
    for (const u of fixed(p.cps)) if (uriProblem(u)) invalid(source, `certificatePolicies cps "${u}" is not a URI`);
    if (p.userNotice !== undefined && p.userNotice.length > 200) invalid(source, 'certificatePolicies userNotice is longer than 200 characters (RFC 5280)');
  }
  for (const u of fixed(ext.crlDistributionPoints?.urls)) if (uriProblem(u)) invalid(source, `crlDistributionPoints url "${u}" is not a URI`);
  for (const u of [...fixed(ext.authorityInfoAccess?.ocsp), ...fixed(ext.authorityInfoAccess?.caIssuers)])
    if (uriProblem(u)) invalid(source, `authorityInfoAccess url "${u}" is not a URI`);
  if (ext.subjectKeyIdentifier?.include === false && bc?.ca) invalid(source, 'a CA certificate needs its subjectKeyIdentifier (RFC 5280 §4.2.1.2)');
  const nc = ext.nameConstraints;
  if (nc) {
    if (!bc?.ca) invalid(source, 'nameConstraints is only allowed in a CA certificate (RFC 5280)');
    if (nc.critical === false) invalid(source, 'nameConstraints must be critical (RFC 5280)');
    for (const [side, set] of [['permitted', nc.permitted], ['excluded', nc.excluded]] as const) {
      if (!set) continue;
      for (const d of fixed(set.dns)) {
        const n = normalizeDnsName(d.replace(/^\./, ''));
        if (dnsNameProblem(n, { allowSingleLabel: true })) invalid(source, `nameConstraints ${side} dns "${d}" is not a DNS name or domain`);
      }
      for (const e of fixed(set.email)) {
        const n = e.replace(/^[@.]/, '');
        if (n.includes('@') ? emailProblem(n) : dnsNameProblem(n.toLowerCase(), { allowSingleLabel: true }))
          invalid(source, `nameConstraints ${side} email "${e}" is not a mailbox, host or domain`);
      }
      for (const i of fixed(set.ip)) {
        const c = parseCidr(i);
        if (!c) invalid(source, `nameConstraints ${side} ip "${i}" is not a CIDR range`);
        if (cidrHasHostBits(c)) invalid(source, `nameConstraints ${side} ip "${i}" has bits set past its prefix length`);
      }
    }
  }
}

function subjectFields(source: string, raw: RawProfile): Partial<Record<(typeof SUBJECT_KEYS)[number], SubjectField>> {
  const out: Partial<Record<(typeof SUBJECT_KEYS)[number], SubjectField>> = {};
  for (const key of SUBJECT_KEYS) {
    const v = raw.subject[key];
    if (v === undefined) continue;
    const template = typeof v === 'string' ? v : v.value;
    const asked = typeof v === 'string' ? undefined : v.encoding;
    const rule = DN_RULES[key];
    if (asked === 'ia5') invalid(source, `subject ${key}: ia5 encoding is not used for this attribute`);
    if (asked && rule.printableOnly && asked !== 'printable') invalid(source, `subject ${key} must use printable encoding (RFC 5280)`);
    const encoding = asked ?? (rule.printableOnly ? 'printable' : 'utf8');
    if (referencedVariables(template).length === 0 && template.trim() !== '') {
      const p = dnValueProblem(key, template, encoding);
      if (p) invalid(source, `subject ${key} "${template}" ${p}`);
    }
    out[key] = { template, encoding };
  }
  if (Object.keys(out).length === 0) invalid(source, 'subject has no attribute');
  return out;
}

/** The document checked against the profile schema; `label` names it in refusals (a built-in profile by its name). */
function parseProfile(doc: unknown, source: string): { raw: RawProfile; label: string } {
  const label = source === 'builtin' && doc && typeof doc === 'object' && typeof (doc as { name?: unknown }).name === 'string'
    ? String((doc as { name: string }).name)
    : source;
  const parsed = ProfileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.');
    if (issue.code === 'unrecognized_keys' && where === 'extensions')
      invalid(label, `unknown extension ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
    if (issue.code === 'unrecognized_keys') invalid(label, `${where ? where + ': ' : ''}unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
    invalid(label, `${where || 'document'}: ${issue.message}`);
  }
  return { raw: parsed.data, label };
}

/** One key, or Catalyst's classical primary and ML-DSA alternative. */
function profileAlgorithms(src: string, raw: RawProfile): { algorithm: KeyAlgorithm; altAlgorithm?: KeyAlgorithm } {
  let algorithm: KeyAlgorithm;
  let altAlgorithm: KeyAlgorithm | undefined;
  const mode = raw.mode ?? (raw.algorithms && raw.algorithms.length > 1 ? 'catalyst' : 'simple');
  if (mode === 'simple') {
    const names = raw.algorithm !== undefined ? [raw.algorithm] : (raw.algorithms ?? []);
    if (names.length !== 1 || (raw.algorithm !== undefined && raw.algorithms !== undefined))
      invalid(src, 'a simple profile names exactly one algorithm');
    algorithm = keyAlgorithm(src, names[0]);
  } else if (mode === 'catalyst') {
    if (raw.algorithm !== undefined || !raw.algorithms || raw.algorithms.length !== 2)
      invalid(src, 'a catalyst profile names two algorithms under "algorithms": classical first, ML-DSA second');
    algorithm = keyAlgorithm(src, raw.algorithms[0]);
    altAlgorithm = keyAlgorithm(src, raw.algorithms[1]);
    if (keyFamily(algorithm) === 'ml-dsa') invalid(src, 'the first catalyst algorithm must be classical (EC, RSA or Ed25519)');
    if (keyFamily(altAlgorithm) !== 'ml-dsa') invalid(src, 'the second catalyst algorithm must be ML-DSA');
  } else {
    invalid(src, `mode "${mode}" is not supported (simple or catalyst)`);
  }
  return { algorithm, altAlgorithm };
}

/** Every placeholder names a declared variable, and lists only go where lists fit. */
function checkPlaceholders(src: string, raw: RawProfile, byName: Map<string, VariableDef>): void {
  const listFields = /^extensions\.(subjectAltName\.(dns|ip|email|uri)|crlDistributionPoints\.urls|authorityInfoAccess\.(ocsp|caIssuers)|nameConstraints\.(permitted|excluded)\.(dns|email|ip))(\[\d+\])?$/;
  for (const { where, text } of templateFields(raw)) {
    if (hasMalformedPlaceholder(text)) invalid(src, `${where}: malformed placeholder in "${text}"`);
    for (const name of referencedVariables(text)) {
      const def = byName.get(name);
      if (!def) invalid(src, `${where} refers to undeclared variable "${name}"`);
      if (isListType(def.type) && !(listFields.test(where) && wholeVariable(text) === name))
        invalid(src, `${where}: list variable "${name}" can only fill a whole list field`);
    }
  }
}

/** Validity: fixed, or a duration variable whose default stands as the profile's figure; and its schedule, if any. */
function profileValidity(src: string, raw: RawProfile, byName: Map<string, VariableDef>): Pick<Profile, 'validityDays' | 'validityVariable' | 'validitySchedule'> {
  let validityDays: number;
  let validityVariable: string | undefined;
  const vv = wholeVariable(raw.validity);
  if (vv !== undefined) {
    const def = byName.get(vv)!;
    if (def.type !== 'duration') invalid(src, `validity variable "${vv}" must be of type duration`);
    validityVariable = vv;
    const d = def.default !== undefined ? parseDurationSeconds(String(def.default)) : null;
    validityDays = d === null ? 0 : d / 86400;
  } else {
    const secs = parseDurationSeconds(raw.validity);
    if (secs === null || secs <= 0) invalid(src, `validity "${raw.validity}" is not a duration (such as 7300d, 8760h, 10y)`);
    validityDays = secs / 86400;
  }
  if (validityDays > MAX_VALIDITY_DAYS) invalid(src, `validity "${raw.validity}" is longer than ${MAX_VALIDITY_DAYS / 366} years`);
  const validitySchedule = raw.validity_schedule?.map((e, i) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.from) || Number.isNaN(Date.parse(`${e.from}T00:00:00Z`)))
      invalid(src, `validity_schedule[${i}].from "${e.from}" is not a date (YYYY-MM-DD)`);
    const secs = parseDurationSeconds(e.max);
    if (secs === null || secs <= 0) invalid(src, `validity_schedule[${i}].max "${e.max}" is not a duration`);
    return { from: e.from, maxDays: secs / 86400 };
  });
  validitySchedule?.forEach((e, i) => {
    if (i > 0 && e.from <= validitySchedule[i - 1].from) invalid(src, 'validity_schedule dates must be in increasing order');
  });
  return { validityDays, validityVariable, validitySchedule };
}

/** Builds a Profile from a parsed YAML document; `source` is 'builtin' or a file path. */
export function compileProfile(doc: unknown, source: string): Profile {
  const { raw, label } = parseProfile(doc, source);
  const src = label;

  const { algorithm, altAlgorithm } = profileAlgorithms(src, raw);
  const signature = signatureAlgorithm(src, raw.signature, algorithm);

  const variables = Object.entries(raw.variables ?? {}).map(([n, v]) => variableDef(src, n, v));
  const byName = new Map(variables.map((v) => [v.name, v]));

  checkPlaceholders(src, raw, byName);

  const { validityDays, validityVariable, validitySchedule } = profileValidity(src, raw, byName);
  const lintAccept = (raw.lint?.accept ?? []).map((a, i) => {
    // An acceptance is a decision someone signs off: without its reason it is refused here.
    if (a.reason.trim().length < 10) invalid(src, `lint.accept[${i}] (${a.lint}) needs a written reason of at least 10 characters`);
    return { lint: a.lint, reason: a.reason.trim() };
  });

  const extensions = raw.extensions ?? {};
  checkExtensions(src, extensions, altAlgorithm ? [algorithm, altAlgorithm] : [algorithm]);
  const subject = subjectFields(src, raw);

  const bc = extensions.basicConstraints;
  return {
    name: raw.name,
    description: raw.description ?? '',
    algorithm,
    ...(altAlgorithm && { altAlgorithm }),
    ...(signature && { signatureAlgorithm: signature }),
    validityDays,
    ...(validityVariable && { validityVariable }),
    ...(validitySchedule && { validitySchedule }),
    pki: raw.pki ?? 'private',
    lintAccept,
    isCa: bc?.ca === true,
    ...(bc?.ca && bc.pathLen !== undefined && { pathLen: bc.pathLen }),
    variables,
    source,
    subject,
    extensions,
  };
}

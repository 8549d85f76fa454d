/**
 * Variable rules for certificate profiles: types, coercion and every validation rule.
 *
 * This file is pure (no Node imports) so the renderer can run the very same rules on a form
 * that main runs before signing: an operator sees the refusal before the ceremony, not during it.
 */
import { QpkiError } from '../errors';

export const VARIABLE_TYPES = [
  'string',
  'integer',
  'boolean',
  'list',
  'ip_list',
  'dns_name',
  'dns_names',
  'email',
  'uri',
  'oid',
  'duration',
] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface VariableDef {
  name: string;
  type: VariableType;
  description?: string;
  required: boolean;
  default?: unknown;
  pattern?: string;
  enum?: string[];
  /** Length for strings, value for integers, item count for lists. */
  min?: number;
  max?: number;
  /**
   * Type-specific constraints, named as QPKI names them: allowed_suffixes, denied_prefixes,
   * allowed_ranges, allowed_schemes, allowed_hosts, wildcard, allow_single_label,
   * min_duration, max_duration.
   */
  constraints?: Record<string, unknown>;
}

export type VariableValue = string | number | boolean | string[];

const LIST_TYPES: ReadonlySet<VariableType> = new Set(['list', 'ip_list', 'dns_names']);

export function isListType(t: VariableType): boolean {
  return LIST_TYPES.has(t);
}

/** A hard ceiling on any single value, so a pasted megabyte never reaches a regex. */
export const MAX_VALUE_LENGTH = 4096;
const MAX_LIST_ITEMS = 1000;

// ---------------------------------------------------------------------------------------------
// Messages

function show(value: unknown): string {
  let s: string;
  if (Array.isArray(value)) s = value.map((v) => String(v)).join(',');
  else if (value === undefined || value === null) s = '';
  else s = String(value);
  if (s.length > 120) s = s.slice(0, 117) + '...';
  return JSON.stringify(s);
}

function fail(def: VariableDef, value: unknown, rule: string, text: string): never {
  throw new QpkiError('VARIABLE_INVALID', `variable "${def.name}": value ${show(value)} ${text}`, {
    variable: def.name,
    rule,
  });
}

// ---------------------------------------------------------------------------------------------
// Durations (Go units plus d, w, y; y = 365 days)

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  'µs': 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 7 * 86400,
  y: 365 * 86400,
};

/** Parses '7300d', '8760h', '1y', '30d12h', '1.5h' into seconds; null when malformed. */
/** Longest validity a profile or variable may ask for: past it dates overflow what X.509 can encode. */
export const MAX_VALIDITY_DAYS = 100 * 366;

export function parseDurationSeconds(text: string): number | null {
  const s = text.trim();
  if (!s || s.length > 64) return null;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  return Number.isFinite(total) ? total : null;
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/** Strict IPv4 / IPv6 parsing (dotted quad without leading zeros; RFC 4291 text forms). */
export function parseIp(text: string): Uint8Array | null {
  const s = text.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.');
    if (parts.some((p) => (p.length > 1 && p.startsWith('0')) || Number(p) > 255)) return null;
    return Uint8Array.from(parts.map(Number));
  }
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return null;
  let head = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) becomes its two hex groups.
    const v4 = parseIp(s.slice(lastColon + 1));
    if (!v4 || v4.length !== 4) return null;
    head = s.slice(0, lastColon + 1) + ((v4[0] << 8) | v4[1]).toString(16) + ':' + ((v4[2] << 8) | v4[3]).toString(16);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const groups = h.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (halves.length === 2) {
    const left = parseGroups(halves[0]);
    const right = parseGroups(halves[1]);
    if (!left || !right) return null;
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseGroups(halves[0]);
    if (!all) return null;
    groups = all;
    if (groups.length !== 8) return null;
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Canonical text of an address: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as ::). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

export interface Cidr {
  address: Uint8Array;
  prefix: number;
}

export function parseCidr(text: string): Cidr | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const address = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (!address || prefix > address.length * 8) return null;
  return { address, prefix };
}

export function cidrHasHostBits(c: Cidr): boolean {
  for (let bit = c.prefix; bit < c.address.length * 8; bit++) {
    if (c.address[bit >> 3] & (0x80 >> (bit & 7))) return true;
  }
  return false;
}

export function ipInCidr(ip: Uint8Array, c: Cidr): boolean {
  if (ip.length !== c.address.length) return false;
  for (let bit = 0; bit < c.prefix; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((ip[bit >> 3] & mask) !== (c.address[bit >> 3] & mask)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// DNS names, e-mail addresses, URIs, OIDs

export interface DnsOptions {
  wildcardAllowed?: boolean;
  allowSingleLabel?: boolean;
  forbidPublicSuffix?: boolean;
}

// A short list of second-level public suffixes under two-letter country codes. Without the full
// Public Suffix List this catches the common cases (*.co.uk, *.com.au); it is not exhaustive.
const COMMON_SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go']);

/** Returns why a (lowercase, dot-stripped) DNS name is invalid, or null when it is fine. */
export function dnsNameProblem(name: string, opts: DnsOptions = {}): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  const labels = name.split('.');
  if (labels.some((l) => l.length === 0)) return 'has an empty label';
  const wildcard = labels[0] === '*';
  if (name.includes('*')) {
    if (!opts.wildcardAllowed) return 'is a wildcard, which this variable does not allow (wildcard)';
    if (!wildcard || labels.slice(1).some((l) => l.includes('*')))
      return 'has a wildcard that is not the whole leftmost label (wildcard)';
    if (labels.length < 3) return 'is a wildcard over fewer than two labels (wildcard)';
    if (
      opts.forbidPublicSuffix &&
      labels.length === 3 &&
      labels[2].length === 2 &&
      COMMON_SECOND_LEVEL.has(labels[1])
    )
      return 'is a wildcard over a public suffix (wildcard forbid_public_suffix)';
  }
  for (const l of wildcard ? labels.slice(1) : labels) {
    if (l.length > 63) return `has a label longer than 63 characters`;
    if (!/^[a-z0-9-]+$/.test(l)) return 'has characters other than letters, digits and hyphens (use punycode for IDNs)';
    if (l.startsWith('-') || l.endsWith('-')) return 'has a label that starts or ends with a hyphen';
  }
  if (labels.length < 2 && !opts.allowSingleLabel)
    return 'is a single label; a fully qualified name is needed (allow_single_label)';
  return null;
}

export function normalizeDnsName(text: string): string {
  let s = text.trim().toLowerCase();
  if (s.endsWith('.') && s.length > 1) s = s.slice(0, -1);
  return s;
}

/** Whether a DNS name or e-mail domain ends with a suffix on a label boundary. */
function dnsSuffixMatch(name: string, suffix: string): boolean {
  const suf = suffix.toLowerCase();
  if (suf.startsWith('.')) return name === suf.slice(1) || name.endsWith(suf);
  return name === suf || name.endsWith('.' + suf);
}

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

export function emailProblem(addr: string): string | null {
  if (addr.length > 254) return 'is longer than 254 characters';
  const at = addr.lastIndexOf('@');
  if (at <= 0 || at === addr.length - 1) return 'is not an e-mail address (local@domain)';
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (local.length > 64 || !EMAIL_LOCAL.test(local)) return 'is not an e-mail address (bad local part)';
  const d = dnsNameProblem(domain);
  if (d) return 'is not an e-mail address (domain ' + d + ')';
  return null;
}

/** A URI as it goes into a certificate (IA5String): ASCII, a scheme, a host for hierarchical ones. */
export function uriProblem(text: string): string | null {
  if (!/^[\x21-\x7e]+$/.test(text)) return 'is not a URI (only printable ASCII without spaces is allowed)';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) return 'is not a URI (missing scheme)';
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'is not a valid URI';
  }
  if (['http:', 'https:', 'ldap:', 'ldaps:', 'ftp:'].includes(u.protocol) && !u.hostname) return 'is not a URI (missing host)';
  return null;
}

export function normalizeUri(text: string): string {
  const i = text.indexOf(':');
  return i > 0 ? text.slice(0, i).toLowerCase() + text.slice(i) : text;
}

export function oidProblem(text: string): string | null {
  if (!/^\d+(\.\d+)+$/.test(text)) return 'is not an OID in dotted form with at least two arcs';
  const arcs = text.split('.');
  if (arcs.some((a) => a.length > 1 && a.startsWith('0'))) return 'is not an OID (an arc has a leading zero)';
  if (arcs.some((a) => a.length > 15)) return 'is not an OID (an arc is too large)';
  const first = Number(arcs[0]);
  if (first > 2) return 'is not an OID (first arc must be 0, 1 or 2)';
  if (first < 2 && Number(arcs[1]) >= 40) return 'is not an OID (second arc must be below 40 under arc 0 or 1)';
  return null;
}

/** Control characters (C0, DEL, C1) and unpaired surrogates have no place in a certificate string. */
export function hasControlChars(s: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(s) || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// ---------------------------------------------------------------------------------------------
// Coercion from what a command line, a var file or a form gives

function isAbsent(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    (typeof v === 'string' && v.trim() === '') ||
    (Array.isArray(v) && v.length === 0)
  );
}

function toScalarString(def: VariableDef, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return fail(def, v, 'type', `is not a single ${def.type} value`);
}

function toList(def: VariableDef, v: unknown): string[] {
  let items: unknown[];
  // Only list-typed variables split on commas; a string variable keeps "ACME, Inc." whole.
  if (typeof v === 'string') items = v.split(',');
  else if (Array.isArray(v)) items = v;
  else return fail(def, v, 'type', `is not a ${def.type}`);
  if (items.length > MAX_LIST_ITEMS) fail(def, v, 'max', `has more than ${MAX_LIST_ITEMS} items`);
  return items.map((i) => toScalarString(def, i).trim()).filter((i) => i !== '');
}

function strList(x: unknown): string[] {
  return Array.isArray(x) ? x.map((i) => String(i)) : [];
}

function checkLength(def: VariableDef, value: string): void {
  if (value.length > MAX_VALUE_LENGTH) fail(def, value, 'max', `is longer than ${MAX_VALUE_LENGTH} characters`);
  if (hasControlChars(value)) fail(def, value, 'type', 'contains a control character');
}

function checkPatternEnum(def: VariableDef, value: string, shown: unknown = value): void {
  if (def.pattern !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(def.pattern, 'u');
    } catch {
      throw new QpkiError('PROFILE_INVALID', `variable "${def.name}": pattern "${def.pattern}" is not a valid regular expression`);
    }
    if (!re.test(value)) fail(def, shown, 'pattern', `does not match pattern ${JSON.stringify(def.pattern)}`);
  }
  if (def.enum && def.enum.length && !def.enum.includes(value))
    fail(def, shown, 'enum', `is not one of the allowed values (enum) ${JSON.stringify(def.enum)}`);
}

function checkStringLength(def: VariableDef, value: string): void {
  const n = [...value].length;
  if (def.min !== undefined && n < def.min) fail(def, value, 'min', `is shorter than the min length ${def.min}`);
  if (def.max !== undefined && n > def.max) fail(def, value, 'max', `is longer than the max length ${def.max}`);
}

function checkSuffixPrefix(
  def: VariableDef,
  item: string,
  match: (item: string, suffix: string) => boolean,
  prefixSubject: string = item,
): void {
  const c = def.constraints ?? {};
  const allowed = strList(c.allowed_suffixes);
  if (allowed.length && !allowed.some((s) => match(item, s)))
    fail(def, item, 'allowed_suffixes', `does not end with one of allowed_suffixes ${JSON.stringify(allowed)}`);
  for (const p of strList(c.denied_prefixes)) {
    if (prefixSubject.toLowerCase().startsWith(p.toLowerCase()))
      fail(def, item, 'denied_prefixes', `starts with ${JSON.stringify(p)}, which denied_prefixes refuses`);
  }
}

function checkCount(def: VariableDef, items: string[]): void {
  if (def.min !== undefined && items.length < def.min)
    fail(def, items, 'min', `has ${items.length} items, fewer than the min ${def.min}`);
  if (def.max !== undefined && items.length > def.max)
    fail(def, items, 'max', `has ${items.length} items, more than the max ${def.max}`);
}

function dnsOptions(def: VariableDef): DnsOptions {
  const c = def.constraints ?? {};
  const w = (c.wildcard ?? {}) as Record<string, unknown>;
  return {
    wildcardAllowed: w.allowed === true,
    forbidPublicSuffix: w.forbid_public_suffix === true,
    allowSingleLabel: c.allow_single_label === true,
  };
}

function validDnsName(def: VariableDef, raw: string): string {
  checkLength(def, raw);
  const name = normalizeDnsName(raw);
  const p = dnsNameProblem(name, dnsOptions(def));
  if (p) fail(def, raw, 'type', `is not a valid DNS name: it ${p}`);
  checkPatternEnum(def, name);
  checkSuffixPrefix(def, name, dnsSuffixMatch);
  return name;
}

function validIp(def: VariableDef, raw: string): string {
  const bytes = parseIp(raw);
  if (!bytes) fail(def, raw, 'type', 'is not an IPv4 or IPv6 address');
  const ranges = strList(def.constraints?.allowed_ranges);
  if (ranges.length) {
    const cidrs = ranges.map((r) => {
      const c = parseCidr(r);
      if (!c) throw new QpkiError('PROFILE_INVALID', `variable "${def.name}": allowed_ranges entry "${r}" is not a CIDR range`);
      return c;
    });
    if (!cidrs.some((c) => ipInCidr(bytes, c)))
      fail(def, raw, 'allowed_ranges', `is not inside allowed_ranges ${JSON.stringify(ranges)}`);
  }
  return formatIp(bytes);
}

function durationBound(def: VariableDef, key: 'min_duration' | 'max_duration'): number | undefined {
  const b = def.constraints?.[key];
  if (b === undefined) return undefined;
  const s = parseDurationSeconds(String(b));
  if (s === null) throw new QpkiError('PROFILE_INVALID', `variable "${def.name}": ${key} "${String(b)}" is not a duration`);
  return s;
}

// ---------------------------------------------------------------------------------------------

/**
 * Checks one value against its definition and returns it typed and normalized
 * (DNS names and e-mail lowercased, IPs canonical, lists as arrays, integers as numbers).
 * An absent value (undefined, blank, empty list) takes the default, fails `required`,
 * or resolves to undefined for an optional variable.
 */
// Long as a table is: one case per variable type, each a few lines of that type's rules.
// eslint-disable-next-line max-lines-per-function -- one case per variable type, each a few lines
export function validateVariable(def: VariableDef, value: unknown): VariableValue | undefined {
  if (isAbsent(value)) {
    if (!isAbsent(def.default)) return validateVariable({ ...def, default: undefined }, def.default);
    if (def.required) throw new QpkiError('VARIABLE_INVALID', `variable "${def.name}": a value is required (required) but none was given`, { variable: def.name, rule: 'required' });
    if (isListType(def.type) && Array.isArray(def.default)) return [];
    return undefined;
  }
  const c = def.constraints ?? {};
  switch (def.type) {
    case 'string': {
      const s = toScalarString(def, value);
      checkLength(def, s);
      checkStringLength(def, s);
      checkPatternEnum(def, s);
      checkSuffixPrefix(def, s, (i, suf) => i.endsWith(suf));
      return s;
    }
    case 'integer': {
      const s = toScalarString(def, value).trim();
      if (!/^[+-]?\d{1,15}$/.test(s)) fail(def, value, 'type', 'is not an integer');
      const n = Number(s);
      if (def.min !== undefined && n < def.min) fail(def, value, 'min', `is less than the min ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(def, value, 'max', `is greater than the max ${def.max}`);
      if (def.enum && def.enum.length && !def.enum.map(Number).includes(n))
        fail(def, value, 'enum', `is not one of the allowed values (enum) ${JSON.stringify(def.enum)}`);
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const s = toScalarString(def, value).trim().toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(s)) return true;
      if (['false', 'no', '0', 'off'].includes(s)) return false;
      return fail(def, value, 'type', 'is not a boolean (true or false)');
    }
    case 'list': {
      const items = toList(def, value);
      for (const i of items) {
        checkLength(def, i);
        checkPatternEnum(def, i);
        checkSuffixPrefix(def, i, (x, suf) => x.endsWith(suf));
      }
      checkCount(def, items);
      return items;
    }
    case 'ip_list': {
      const items = toList(def, value).map((i) => validIp(def, i));
      checkCount(def, items);
      return items;
    }
    case 'dns_names': {
      const items = toList(def, value).map((i) => validDnsName(def, i));
      checkCount(def, items);
      return [...new Set(items)];
    }
    case 'dns_name': {
      const s = validDnsName(def, toScalarString(def, value));
      checkStringLength(def, s);
      return s;
    }
    case 'email': {
      const raw = toScalarString(def, value).trim();
      checkLength(def, raw);
      const s = raw.toLowerCase();
      const p = emailProblem(s);
      if (p) fail(def, raw, 'type', p);
      checkStringLength(def, s);
      checkPatternEnum(def, s);
      const at = s.lastIndexOf('@');
      checkSuffixPrefix(
        def,
        s,
        (x, suf) => (suf.startsWith('@') ? x.endsWith(suf.toLowerCase()) : dnsSuffixMatch(x.slice(at + 1), suf)),
        s.slice(0, at),
      );
      return s;
    }
    case 'uri': {
      const raw = toScalarString(def, value).trim();
      checkLength(def, raw);
      const p = uriProblem(raw);
      if (p) fail(def, raw, 'type', p);
      const s = normalizeUri(raw);
      checkStringLength(def, s);
      checkPatternEnum(def, s);
      const u = new URL(s);
      const schemes = strList(c.allowed_schemes).map((x) => x.toLowerCase());
      if (schemes.length && !schemes.includes(u.protocol.slice(0, -1)))
        fail(def, raw, 'allowed_schemes', `has a scheme outside allowed_schemes ${JSON.stringify(schemes)}`);
      const hosts = strList(c.allowed_hosts).map((x) => x.toLowerCase());
      if (hosts.length && !hosts.includes(u.hostname.toLowerCase()))
        fail(def, raw, 'allowed_hosts', `has a host outside allowed_hosts ${JSON.stringify(hosts)}`);
      return s;
    }
    case 'oid': {
      const s = toScalarString(def, value).trim();
      checkLength(def, s);
      const p = oidProblem(s);
      if (p) fail(def, s, 'type', p);
      checkPatternEnum(def, s);
      // For OIDs QPKI reads allowed_suffixes as "under one of these arcs".
      const arcs = [...strList(c.allowed_suffixes), ...strList(c.allowed_prefixes)];
      if (arcs.length && !arcs.some((a) => s === a || s.startsWith(a + '.')))
        fail(def, s, 'allowed_suffixes', `is not under one of the allowed arcs ${JSON.stringify(arcs)}`);
      return s;
    }
    case 'duration': {
      const s = toScalarString(def, value).trim();
      const secs = parseDurationSeconds(s);
      if (secs === null || secs <= 0) fail(def, s, 'type', 'is not a duration (such as 365d, 8760h, 1y)');
      const lo = durationBound(def, 'min_duration');
      const hi = durationBound(def, 'max_duration');
      if (lo !== undefined && secs < lo) fail(def, s, 'min_duration', `is shorter than min_duration "${String(c.min_duration)}"`);
      if (hi !== undefined && secs > hi) fail(def, s, 'max_duration', `exceeds max_duration "${String(c.max_duration)}"`);
      checkPatternEnum(def, s);
      return s;
    }
  }
}

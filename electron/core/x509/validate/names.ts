/**
 * Names during path validation: comparing distinguished names (RFC 5280 §7.1), name constraints
 * (§4.2.1.10, §6.1.3 (b)-(c), §6.1.4 (g)) and matching a peer name to the subjectAltName
 * (RFC 9525: no CN fallback, wildcards only as a whole leftmost label).
 */
import { OIDS, bytesSame, type CertificateModel, type GeneralName, type GeneralSubtree, type NameModel } from '../model';

/** RFC 5280 §7.1: compare string values case-insensitively with whitespace folded, after a byte-exact check. */
function normalize(v: string): string {
  return v.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1e, 0x1c, 0x1a]);

function attributesEqual(a: NameModel['rdns'][number], b: NameModel['rdns'][number]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: (typeof a)[number]) => `${x.oid}=${STRING_TAGS.has(x.tag) ? normalize(x.value) : Buffer.from(x.raw).toString('hex')}`;
  const as = a.map(key).sort();
  const bs = b.map(key).sort();
  return as.every((k, i) => k === bs[i]);
}

export function namesEqual(a: NameModel, b: NameModel): boolean {
  if (bytesSame(a.der, b.der)) return true;
  return a.rdns.length === b.rdns.length && a.rdns.every((r, i) => attributesEqual(r, b.rdns[i]));
}

/** `base` is a prefix of `name` (RDN by RDN): the directoryName subtree rule. */
function dnWithin(name: NameModel, base: NameModel): boolean {
  return base.rdns.length <= name.rdns.length && base.rdns.every((r, i) => attributesEqual(r, name.rdns[i]));
}

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A DNS name as a host name (LDH labels, ASCII only, no empty label), lower-cased; undefined when it is not one. */
export function hostName(s: string, allowWildcard: boolean): string | undefined {
  const n = s.toLowerCase();
  if (!n || n.length > 253 || n.endsWith('.')) return undefined;
  const labels = n.split('.');
  for (let i = 0; i < labels.length; i++) {
    if (allowWildcard && i === 0 && labels[i] === '*') continue;
    if (labels[i].length > 63 || !LABEL.test(labels[i])) return undefined;
  }
  if (labels[0] === '*' && labels.length < 3) return undefined; // *.com and * would cover a whole suffix
  return n;
}

/** A dNSName constraint: a domain (every name at or under it); "" matches all. Leading periods are not RFC 5280 DNS syntax. */
function dnsConstraintOk(c: string): boolean {
  return c === '' || hostName(c, false) !== undefined;
}

function dnsWithin(name: string, base: string): boolean {
  const b = base.toLowerCase();
  if (b === '') return true;
  return name === b || name.endsWith('.' + b);
}

/**
 * For a wildcard SAN (*.example.com), whether some name it covers lies in the subtree: a wildcard
 * is excluded if any name it could stand for is (validators must be defensive, CVE-2025-61727),
 * and permitted only if every name it could stand for is.
 */
function dnsMayMatch(name: string, base: string): boolean {
  if (!name.startsWith('*.')) return dnsWithin(name, base);
  const rest = name.slice(2);
  const b = base.toLowerCase();
  return dnsWithin(rest, b) || (b.endsWith('.' + rest) && b.split('.').length === rest.split('.').length + 1) || dnsWithin(name, b);
}

function dnsAllWithin(name: string, base: string): boolean {
  if (!name.startsWith('*.')) return dnsWithin(name, base);
  return dnsWithin(name.slice(2), base);
}

function ipConstraint(b: Uint8Array): { addr: Uint8Array; mask: Uint8Array } | undefined {
  if (b.length !== 8 && b.length !== 32) return undefined;
  const half = b.length / 2;
  const mask = b.subarray(half);
  // The mask is a run of ones then zeros (a CIDR prefix).
  let seenZero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      if (one && seenZero) return undefined;
      if (!one) seenZero = true;
    }
  }
  return { addr: b.subarray(0, half), mask };
}

function ipWithin(ip: Uint8Array, c: { addr: Uint8Array; mask: Uint8Array }): boolean {
  if (ip.length !== c.addr.length) return false;
  for (let i = 0; i < ip.length; i++) if ((ip[i] & c.mask[i]) !== (c.addr[i] & c.mask[i])) return false;
  return true;
}

/** An rfc822Name SAN: local@domain with an LDH domain. */
function mailbox(s: string): { local: string; domain: string } | undefined {
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return undefined;
  const domain = hostName(s.slice(at + 1), false);
  if (!domain || /[\s"@]/.test(s.slice(0, at))) return undefined;
  return { local: s.slice(0, at), domain };
}

/** An rfc822Name constraint: a mailbox, a host, or ".domain" (any host under it); characters are literal. */
function emailConstraintOk(c: string): boolean {
  if (c.includes('@')) return mailbox(c) !== undefined;
  return hostName(c.startsWith('.') ? c.slice(1) : c, false) !== undefined;
}

function emailWithin(m: { local: string; domain: string }, c: string): boolean {
  if (c.includes('@')) {
    const k = mailbox(c)!;
    return k.local === m.local && k.domain === m.domain;
  }
  const lc = c.toLowerCase();
  if (lc.startsWith('.')) return m.domain.endsWith(lc);
  return m.domain === lc;
}

function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return m ? m[1].toLowerCase() : undefined;
}

function uriWithin(host: string, c: string): boolean {
  const lc = c.toLowerCase();
  if (lc.startsWith('.')) return host.endsWith(lc);
  return host === lc;
}

export type ConstraintType = GeneralName['type'];

/** Whether a NameConstraints subtree base is well formed; malformed ones make the certificate invalid. */
export function subtreeProblem(s: GeneralSubtree): string | undefined {
  const b = s.base;
  if (s.minimum !== 0 || s.maximum !== undefined) return 'a subtree has minimum or maximum';
  if (b.type === 'dNSName' && !dnsConstraintOk(b.value)) return `dNSName constraint "${b.value}" is not a domain name`;
  if (b.type === 'iPAddress' && !ipConstraint(b.bytes)) return 'an iPAddress constraint is not an address and a contiguous mask';
  if (b.type === 'rfc822Name' && !emailConstraintOk(b.value)) return `rfc822Name constraint "${b.value}" is not a mailbox, host or domain`;
  return undefined;
}

/** The names of a certificate that name constraints govern, each already checked for syntax. */
export interface ConstrainedNames {
  names: GeneralName[];
  /** Why a name could not be read (a malformed SAN entry): the certificate is then invalid. */
  problems: string[];
}

export function constrainedNames(c: CertificateModel): ConstrainedNames {
  const names: GeneralName[] = [];
  const problems: string[] = [];
  if (c.subject.rdns.length) names.push({ type: 'directoryName', name: c.subject, raw: c.subject.der });
  // RFC 5280 §4.2.1.10: emailAddress attributes of the subject fall under rfc822Name constraints.
  for (const a of c.subject.rdns.flat()) if (a.oid === OIDS.emailAddress) names.push({ type: 'rfc822Name', value: a.value, raw: a.raw });
  for (const g of c.subjectAltName ?? []) {
    if (g.type === 'dNSName' && !hostName(g.value, true)) problems.push(`subjectAltName dNSName "${g.value}" is not a valid host name`);
    else if (g.type === 'iPAddress' && g.bytes.length !== 4 && g.bytes.length !== 16) problems.push('a subjectAltName iPAddress is not 4 or 16 bytes');
    else if (g.type === 'rfc822Name' && !mailbox(g.value)) problems.push(`subjectAltName rfc822Name "${g.value}" is not a mailbox`);
    names.push(g);
  }
  return { names, problems };
}

function within(n: GeneralName, b: GeneralName, mode: 'all' | 'any'): boolean | undefined {
  if (n.type !== b.type) return undefined;
  switch (n.type) {
    case 'dNSName': {
      const base = (b as { value: string }).value;
      const name = n.value.toLowerCase();
      return mode === 'all' ? dnsAllWithin(name, base) : dnsMayMatch(name, base);
    }
    case 'iPAddress':
      return ipWithin(n.bytes, ipConstraint((b as { bytes: Uint8Array }).bytes)!);
    case 'rfc822Name': {
      const m = mailbox(n.value);
      return m ? emailWithin(m, (b as { value: string }).value) : false;
    }
    case 'directoryName':
      return dnWithin(n.name, (b as { name: NameModel }).name);
    case 'uniformResourceIdentifier': {
      const h = uriHost(n.value);
      return h ? uriWithin(h, (b as { value: string }).value) : false;
    }
    case 'otherName':
      // The value's meaning depends on its type, which we cannot compare: same type is taken as a
      // match, so an exclusion of that type excludes it (fail closed).
      return n.oid === (b as { oid: string }).oid ? (mode === 'any' ? true : bytesSame(n.raw, b.raw)) : undefined;
    case 'registeredID':
      return n.oid === (b as { oid: string }).oid;
    default:
      return bytesSame(n.raw, b.raw);
  }
}

/** The state §6.1 keeps: each CA's permitted subtrees (a name must fall in all that constrain its type) and all excluded ones. */
/** The most name × constraint comparisons one certificate may cost (Go's bound): more is refused, not computed. */
const MAX_COMPARISONS = 250_000;

export class NameConstraintState {
  private permitted: GeneralSubtree[][] = [];
  private excluded: GeneralSubtree[] = [];

  add(nc: NonNullable<CertificateModel['nameConstraints']>): void {
    if (nc.permitted) this.permitted.push(nc.permitted);
    if (nc.excluded) this.excluded.push(...nc.excluded);
  }

  /** Why a name breaks the constraints, or undefined. */
  check(names: GeneralName[]): string | undefined {
    const cost = names.length * (this.excluded.length + this.permitted.reduce((a, p) => a + p.length, 0));
    if (cost > MAX_COMPARISONS) return `checking ${names.length} names against these name constraints takes ${cost} comparisons, more than the ${MAX_COMPARISONS} allowed`;
    for (const n of names) {
      for (const ex of this.excluded) if (within(n, ex.base, 'any')) return `${describe(n)} is in an excluded subtree`;
      for (const set of this.permitted) {
        const sameType = set.filter((s) => s.base.type === n.type && (n.type !== 'otherName' || (s.base as { oid: string }).oid === (n as { oid: string }).oid));
        if (sameType.length && !sameType.some((s) => within(n, s.base, 'all'))) return `${describe(n)} is not in the permitted subtrees`;
      }
    }
    return undefined;
  }
}

function describe(n: GeneralName): string {
  if (n.type === 'directoryName') return 'the subject name';
  if ('value' in n) return `${n.type} "${n.value}"`;
  if (n.type === 'iPAddress') return `iPAddress ${[...n.bytes].join('.')}`;
  return n.type;
}

/** Parse a peer name: an IP address (v4 or v6) or a DNS name. */
export function peerName(s: string): { ip: Uint8Array } | { dns: string } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? { ip: Uint8Array.from(b) } : undefined;
  }
  if (s.includes(':')) {
    const parts = s.split('::');
    if (parts.length > 2) return undefined;
    const head = parts[0] ? parts[0].split(':') : [];
    const tail = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
    const groups = parts.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
    if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return { ip: out };
  }
  const dns = hostName(s, false);
  return dns ? { dns } : undefined;
}

/** Whether the certificate's subjectAltName names the peer (never the CN: RFC 9525 §6.3). */
export function matchesPeer(c: CertificateModel, peer: string): string | undefined {
  const p = peerName(peer);
  if (!p) return `"${peer}" is not a host name or IP address`;
  const san = c.subjectAltName;
  if (!san) return 'the certificate has no subjectAltName to match the peer name against';
  for (const g of san) {
    if ('ip' in p && g.type === 'iPAddress' && bytesSame(g.bytes, p.ip)) return undefined;
    if ('dns' in p && g.type === 'dNSName') {
      const n = hostName(g.value, true);
      if (!n) continue;
      if (n === p.dns) return undefined;
      if (n.startsWith('*.') && p.dns.split('.').length === n.split('.').length && p.dns.endsWith(n.slice(1))) return undefined;
    }
  }
  return `the subjectAltName does not name ${peer}`;
}

/** IPv4 dotted decimal, or IPv6 as RFC 5952 §4 writes it (lower case, the longest zero run as "::"). */
export function canonicalIp(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** CABF BR 7.1.4.3: each commonName is a character-for-character copy of a dNSName, or an iPAddress in its canonical text. */
export function commonNameProblem(c: CertificateModel): string | undefined {
  const san = c.subjectAltName ?? [];
  for (const cn of c.subject.rdns.flat().filter((a) => a.oid === OIDS.commonName)) {
    const ok = san.some((g) => (g.type === 'dNSName' && g.value === cn.value) || (g.type === 'iPAddress' && canonicalIp(g.bytes) === cn.value));
    if (!ok) return `its commonName "${cn.value}" is not a character-for-character copy of a subjectAltName entry (CABF BR 7.1.4.3)`;
  }
  return undefined;
}

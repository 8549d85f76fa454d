/**
 * Certification path validation (RFC 5280 §6.1): build every path from the certificate to a
 * trusted one through the intermediates given, and validate each until one passes — names
 * chaining, signatures (both for Catalyst hybrids), validity at a given time, basicConstraints,
 * keyUsage, pathLenConstraint, name constraints, policies, extKeyUsage for a purpose, unknown
 * critical extensions, revocation from the CRLs given, and the peer name.
 *
 * Own code because no maintained JavaScript library validates: @peculiar/x509's
 * X509ChainBuilder only orders certificates by name and signature; PKIjs' chain engine goes
 * through WebCrypto, which has neither ML-DSA nor Catalyst's second signature. Two rule sets:
 * 'rfc5280' and 'webpki' (the stricter rules browsers apply to publicly trusted TLS, as
 * x509-limbo's webpki cases define them).
 */
import { createHash } from 'node:crypto';
import { QpkiError } from '../../errors';
import type { SignatureAlgorithm } from '../../keys/algorithms';
import { keyAlgorithmOfSpki, signatureAlgorithmFromIdentifier, verifySignature } from '../../keys/verify';
import { catalystParts, preTbs } from '../catalyst';
import { whole } from '../der';
import { OIDS, bytesSame, parseCertificateModel, parseCrlModel, serialHexOf, type CertificateModel, type CrlModel, type ExtensionModel, type NameModel } from '../model';
import { parsePemBlocks } from '../pem';
import { NameConstraintState, commonNameProblem, constrainedNames, matchesPeer, namesEqual, subtreeProblem } from './names';
import { PolicyState } from './policies';

export type ValidationRules = 'rfc5280' | 'webpki';

export interface ValidateOptions {
  /** Trust anchors (DER certificates). */
  trusted: Uint8Array[];
  /** Intermediates that may complete a path (DER). */
  untrusted?: Uint8Array[];
  /** CRLs to check revocation against (DER). A certificate no CRL covers is not checked. */
  crls?: Uint8Array[];
  /** The validation time; now when absent. */
  at?: Date;
  /** The extended key usage the certificate is used for: serverAuth, clientAuth, … or an OID. */
  purpose?: string;
  /** A DNS name or IP address the certificate must name in its subjectAltName. */
  peerName?: string;
  rules?: ValidationRules;
  /** The most intermediates a path may have (self-issued ones not counted). */
  maxDepth?: number;
  /** user-initial-policy-set (anyPolicy when absent) and initial-explicit-policy. */
  policies?: string[];
  requireExplicitPolicy?: boolean;
}

export interface ChainLink {
  subject: string;
  serial: string;
  sha256: string;
  /** How this certificate was established: a trust anchor, or its signature(s) verified by the next. */
  trust: 'trust anchor' | 'signature verified' | 'both signatures verified';
}

export interface ValidationResult {
  valid: boolean;
  /** Why the chain is invalid (the first failure of the best path found). */
  reason?: string;
  /** The path, leaf first, ending with the trust anchor (the best path tried when invalid). */
  chain: ChainLink[];
  /** The policies valid for the path (RFC 5280 §6.1.6), when it validates. */
  policies?: string[];
}

const PURPOSES: Record<string, string> = {
  serverAuth: OIDS.serverAuth,
  clientAuth: OIDS.clientAuth,
  codeSigning: OIDS.codeSigning,
  emailProtection: OIDS.emailProtection,
  timeStamping: OIDS.timeStamping,
  OCSPSigning: OIDS.ocspSigning,
};

/** Extensions this validator processes; any other that is critical makes the certificate invalid (§6.1.3, §6.1.5). */
const PROCESSED = new Set<string>([
  OIDS.basicConstraints, OIDS.keyUsage, OIDS.extKeyUsage, OIDS.subjectAltName, OIDS.nameConstraints, OIDS.certificatePolicies,
  OIDS.policyMappings, OIDS.policyConstraints, OIDS.inhibitAnyPolicy,
]);

/** Bounds on the search, so a pathological bundle fails fast instead of exploring every permutation. */
const MAX_SIGNATURE_CHECKS = 256;
const MAX_PATHS = 32;
const MAX_STEPS = 2048;
const DEFAULT_MAX_DEPTH = 8;

interface Cert {
  der: Uint8Array;
  m: CertificateModel;
  hex: string;
  label: string;
}

class Invalid extends Error {}

function fail(c: Cert | undefined, why: string): never {
  throw new Invalid(c ? `${c.label}: ${why}` : why);
}

function nameText(n: NameModel): string {
  const short: Record<string, string> = { [OIDS.commonName]: 'CN', [OIDS.organizationName]: 'O', [OIDS.countryName]: 'C', [OIDS.organizationalUnitName]: 'OU' };
  return n.rdns.flat().map((a) => `${short[a.oid] ?? a.oid}=${a.value}`).join(', ') || '(empty name)';
}

function load(der: Uint8Array, role: string): Cert {
  const m = parseCertificateModel(der);
  return { der, m, hex: Buffer.from(der).toString('hex'), label: `${role} "${nameText(m.subject)}"` };
}

function ext(c: CertificateModel, oid: string): ExtensionModel | undefined {
  return c.extensions.find((e) => e.oid === oid);
}

function strictTime(t: { tag: number; text: string }): boolean {
  return t.tag === 0x17 ? /^\d{12}Z$/.test(t.text) : /^\d{14}Z$/.test(t.text);
}

function hasPurpose(eku: string[], want: string, anyAllowed: boolean): boolean {
  return eku.includes(want) || (anyAllowed && eku.includes(OIDS.anyEku));
}

/** Checks of one certificate on its own: encoding, extensions, validity. `role` says where it sits in the path. */
function checkCertificate(c: Cert, role: 'anchor' | 'intermediate' | 'leaf', at: number, rules: ValidationRules): void {
  const m = c.m;
  if (m.version !== 3 && (m.hasExtensionsField || rules === 'webpki' || role === 'intermediate')) fail(c, `is a version ${m.version} certificate${role === 'intermediate' ? ', which cannot be a CA (RFC 5280 §6.1.4 (k))' : ''}`);
  if (!bytesSame(m.innerSignatureAlgorithm, m.signatureAlgorithm)) fail(c, 'its signatureAlgorithm differs from tbsCertificate.signature (RFC 5280 §4.1.1.2)');
  // A trust anchor is trusted as it is: some long-standing roots have serial 0.
  if (role !== 'anchor' && (m.serial[0] & 0x80 || m.serial.every((b) => b === 0))) fail(c, 'its serial number is zero or negative (RFC 5280 §4.1.2.2)');
  if (role !== 'anchor' && m.serial.length > 20) fail(c, 'its serial number is longer than 20 octets (RFC 5280 §4.1.2.2)');
  if (!strictTime(m.notBefore) || !strictTime(m.notAfter)) fail(c, 'its validity is not encoded as RFC 5280 §4.1.2.5 requires (Zulu, whole seconds)');
  if (at < m.notBefore.date.getTime()) fail(c, `is not valid before ${m.notBefore.date.toISOString()}`);
  if (at > m.notAfter.date.getTime()) fail(c, `expired at ${m.notAfter.date.toISOString()}`);
  if (m.issuer.rdns.length === 0) fail(c, 'has an empty issuer name (RFC 5280 §4.1.2.4)');
  const seen = new Set<string>();
  for (const e of m.extensions) {
    if (seen.has(e.oid)) fail(c, `has extension ${e.oid} twice (RFC 5280 §4.2)`);
    seen.add(e.oid);
    if (e.error) fail(c, `extension ${e.oid} is malformed: ${e.error}`);
    if (e.critical && !PROCESSED.has(e.oid)) fail(c, `has a critical extension ${e.oid} this validator does not process (RFC 5280 §6.1.3)`);
  }
  for (const oid of [OIDS.authorityKeyIdentifier, OIDS.subjectKeyIdentifier, OIDS.authorityInfoAccess])
    if (ext(m, oid)?.critical) fail(c, `marks ${oid === OIDS.authorityInfoAccess ? 'authorityInfoAccess' : oid === OIDS.subjectKeyIdentifier ? 'subjectKeyIdentifier' : 'authorityKeyIdentifier'} critical (RFC 5280 §4.2)`);
  if (m.extKeyUsage && m.extKeyUsage.length === 0) fail(c, 'has an empty extKeyUsage (RFC 5280 §4.2.1.12)');
  if (m.subjectAltName && m.subjectAltName.length === 0) fail(c, 'has an empty subjectAltName (RFC 5280 §4.2.1.6)');
  if (m.subject.rdns.length === 0 && (!ext(m, OIDS.subjectAltName) || !ext(m, OIDS.subjectAltName)!.critical)) fail(c, 'has an empty subject without a critical subjectAltName (RFC 5280 §4.2.1.6)');
  if (ext(m, OIDS.policyConstraints) && !ext(m, OIDS.policyConstraints)!.critical) fail(c, 'has a non-critical policyConstraints (RFC 5280 §4.2.1.11)');
  if (m.keyUsage?.bits.has('keyCertSign') && !m.basicConstraints?.ca) fail(c, 'asserts keyCertSign without basicConstraints cA (RFC 5280 §4.2.1.3)');
  try {
    keyAlgorithmOfSpki(m.spki);
  } catch (e) {
    fail(c, `holds a key this validator does not accept: ${(e as Error).message}`);
  }
  if (role === 'leaf') {
    if (!m.authorityKeyId?.keyId && !(m.selfIssued && m.basicConstraints?.ca)) fail(c, 'has no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1)');
    if (ext(m, OIDS.nameConstraints) && !m.basicConstraints?.ca) fail(c, 'is an end entity with nameConstraints (RFC 5280 §4.2.1.10)');
    if (rules === 'webpki' && m.basicConstraints?.ca) fail(c, 'is a CA certificate used as an end entity (CABF BR 7.1.2.7.8)');
    if (rules === 'webpki' && m.subject.rdns.length > 0 && ext(m, OIDS.subjectAltName)?.critical) fail(c, 'marks subjectAltName critical though its subject is not empty (CABF BR 7.1.2.7.12)');
    if (rules === 'webpki') {
      const p = commonNameProblem(m);
      if (p) fail(c, p);
      if (m.extKeyUsage?.includes(OIDS.anyEku)) fail(c, 'has anyExtendedKeyUsage (CABF BR 7.1.2.7.10)');
    }
    return;
  }
  // A CA certificate: the anchor or an intermediate.
  if (m.subject.rdns.length === 0) fail(c, 'is a CA with an empty subject (RFC 5280 §4.1.2.6)');
  if (!m.basicConstraints?.ca) fail(c, `${m.basicConstraints ? 'does not assert cA' : 'has no basicConstraints'}: it cannot issue certificates (RFC 5280 §6.1.4 (k))`);
  if (!ext(m, OIDS.basicConstraints)!.critical) fail(c, 'is a CA whose basicConstraints is not critical (RFC 5280 §4.2.1.9)');
  if (m.keyUsage && !m.keyUsage.bits.has('keyCertSign')) fail(c, 'is a CA whose keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n))');
  if (!m.subjectKeyId) fail(c, 'is a CA without subjectKeyIdentifier (RFC 5280 §4.2.1.2)');
  if (role === 'intermediate' && !m.authorityKeyId?.keyId) fail(c, 'has no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1)');
  const nc = m.nameConstraints;
  if (nc) {
    if (rules === 'rfc5280' && !ext(m, OIDS.nameConstraints)!.critical) fail(c, 'has a non-critical nameConstraints (RFC 5280 §4.2.1.10)');
    if (!nc.permitted?.length && !nc.excluded?.length) fail(c, 'has nameConstraints with no subtree (RFC 5280 §4.2.1.10)');
    for (const s of [...(nc.permitted ?? []), ...(nc.excluded ?? [])]) {
      const p = subtreeProblem(s);
      if (p) fail(c, `has malformed nameConstraints: ${p}`);
    }
  }
  if (role === 'anchor' && rules === 'webpki') {
    const a = m.authorityKeyId;
    if (a && (a.issuer || a.serial || !a.keyId || !bytesSame(a.keyId, m.subjectKeyId))) fail(c, 'has an authorityKeyIdentifier that is not its own keyIdentifier alone (CABF BR 7.1.2.1.3)');
    if (m.extKeyUsage) fail(c, 'is a root with extKeyUsage (CABF BR 7.1.2.1.2)');
  }
}

/** Whether `child`'s signature(s) verify under `issuer`'s key(s): the primary, and Catalyst's alternative when present. */
function signatureProblem(child: CertificateModel, issuer: CertificateModel): { problem?: string; both: boolean } {
  if (child.signatureUnusedBits !== 0) return { problem: 'its signature BIT STRING has unused bits', both: false };
  let alg: SignatureAlgorithm;
  try {
    alg = signatureAlgorithmFromIdentifier(child.signatureAlgorithm);
  } catch (e) {
    return { problem: `its signature algorithm is not one this validator accepts: ${(e as Error).message}`, both: false };
  }
  try {
    if (!verifySignature(issuer.spki, alg, child.tbsDer, child.signature)) return { problem: `its ${alg} signature does not verify with the issuer's key`, both: false };
  } catch (e) {
    return { problem: `the issuer's key cannot verify it: ${(e as Error).message}`, both: false };
  }
  let cat: ReturnType<typeof catalystParts>;
  let issuerCat: ReturnType<typeof catalystParts>;
  try {
    cat = altParts(child);
    issuerCat = altParts(issuer);
  } catch (e) {
    return { problem: (e as Error).message, both: false };
  }
  if (!cat.altSignature && !cat.altAlgorithm) {
    // A hybrid certificate from a hybrid issuer without the alternative signature is a downgrade.
    if (cat.altSpki && issuerCat.altSpki) return { problem: 'it carries an alternative key but no alternative signature from its Catalyst issuer', both: false };
    return { both: false };
  }
  if (!cat.altSignature || !cat.altAlgorithm) return { problem: 'altSignatureAlgorithm and altSignatureValue do not come together', both: false };
  if (!issuerCat.altSpki) return { problem: 'it carries an alternative signature but its issuer has no alternative key', both: false };
  try {
    const altAlg = signatureAlgorithmFromIdentifier(cat.altAlgorithm);
    if (!verifySignature(issuerCat.altSpki, altAlg, preTbs(child.tbsDer, 'certificate'), cat.altSignature)) return { problem: `its alternative ${altAlg} signature does not verify with the issuer's alternative key`, both: false };
  } catch (e) {
    return { problem: `its alternative signature cannot be checked: ${(e as Error).message}`, both: false };
  }
  return { both: true };
}

/** Catalyst parts with the altSignatureValue BIT STRING held to whole octets. */
function altParts(c: { extensions: ExtensionModel[] }): ReturnType<typeof catalystParts> {
  const get = (oid: string) => c.extensions.find((e) => e.oid === oid)?.value;
  const val = get(OIDS.altSignatureValue);
  let altSignature: Uint8Array | undefined;
  if (val) {
    const t = whole(val);
    if (t.tag !== 0x03 || val[t.contentStart] !== 0) throw new Error('altSignatureValue is not a BIT STRING of whole octets');
    altSignature = val.subarray(t.contentStart + 1, t.end);
  }
  return { altSpki: get(OIDS.altSubjectPublicKeyInfo), altAlgorithm: get(OIDS.altSignatureAlgorithm), altSignature };
}

/** Whether a CRL signed by `issuer` revokes `c`; a CRL that is not usable fails the path (the operator gave it). */
function revocationProblem(c: Cert, issuer: Cert, crls: CrlModel[], at: number): string | undefined {
  for (const crl of crls) {
    if (!namesEqual(crl.issuer, c.m.issuer)) continue;
    let alg: SignatureAlgorithm;
    try {
      alg = signatureAlgorithmFromIdentifier(crl.signatureAlgorithm);
      if (crl.signatureUnusedBits !== 0 || !verifySignature(issuer.m.spki, alg, crl.tbsDer, crl.signature)) continue; // another CA's CRL under the same name
    } catch {
      continue;
    }
    const where = `the CRL of "${nameText(crl.issuer)}"`;
    if (issuer.m.keyUsage && !issuer.m.keyUsage.bits.has('cRLSign')) return `${where} is signed by a key whose keyUsage lacks cRLSign (RFC 5280 §6.3.3 (f))`;
    if (!bytesSame(crl.innerSignatureAlgorithm, crl.signatureAlgorithm)) return `${where} has mismatched signature algorithms (RFC 5280 §5.1.1.2)`;
    if (crl.crlNumber === undefined) return `${where} has no cRLNumber (RFC 5280 §5.2.3)`;
    for (const e of [...crl.extensions, ...crl.revoked.flatMap((r) => r.extensions)]) {
      if (e.error) return `${where} has a malformed extension ${e.oid}`;
      if (e.oid === OIDS.cRLNumber && e.critical) return `${where} marks cRLNumber critical (RFC 5280 §5.2.3)`;
      if (e.critical && e.oid !== OIDS.issuingDistributionPoint && e.oid !== OIDS.deltaCRLIndicator) return `${where} has a critical extension ${e.oid} this validator does not process`;
    }
    if (crl.thisUpdate.date.getTime() > at) return `${where} is not yet valid (thisUpdate ${crl.thisUpdate.date.toISOString()})`;
    if (crl.nextUpdate && crl.nextUpdate.date.getTime() < at) return `${where} is out of date (nextUpdate ${crl.nextUpdate.date.toISOString()})`;
    const idp = crl.issuingDistributionPoint;
    if (idp && ((idp.onlyUser && c.m.basicConstraints?.ca) || (idp.onlyCA && !c.m.basicConstraints?.ca) || idp.onlySomeReasons || idp.indirect)) continue; // its scope leaves this certificate out
    const hit = crl.revoked.find((r) => bytesSame(r.serial, c.m.serial));
    if (hit && hit.date.date.getTime() <= at) {
      const reasons = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', '', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];
      return `is revoked since ${hit.date.date.toISOString()}${hit.reason !== undefined ? ` (${reasons[hit.reason] ?? hit.reason})` : ''}, by ${where}`;
    }
  }
  return undefined;
}

/** RFC 5280 §6.1.2-6.1.5 on one path, leaf first and trust anchor last. Throws Invalid with the reason. */
function validateOne(path: Cert[], opts: Required<Pick<ValidateOptions, 'rules'>> & ValidateOptions, at: number, crls: CrlModel[]): { policies: string[]; both: boolean[] } {
  const rules = opts.rules;
  const anchor = path[path.length - 1];
  const certs = path.slice(0, -1).reverse(); // certificate 1 (issued by the anchor) … certificate n (the leaf)
  const n = certs.length;
  checkCertificate(anchor, n === 0 ? 'leaf' : 'anchor', at, rules);
  const purpose = opts.purpose ? (PURPOSES[opts.purpose] ?? opts.purpose) : undefined;
  if (purpose && rules === 'webpki' && anchor.m.extKeyUsage && n > 0) fail(anchor, 'is a root with extKeyUsage');
  const policy = new PolicyState(n, { policies: opts.policies?.length ? opts.policies : [OIDS.anyPolicy], requireExplicit: opts.requireExplicitPolicy ?? false, inhibitMapping: false, inhibitAny: false });
  const nc = new NameConstraintState();
  // The anchor's own constraints bound the path (x509-limbo, and most validators, apply them).
  let maxPathLength = anchor.m.basicConstraints?.pathLen ?? n;
  if (anchor.m.nameConstraints) nc.add(anchor.m.nameConstraints);
  let working = anchor;
  const both: boolean[] = [];
  for (let i = 1; i <= n; i++) {
    const c = certs[i - 1];
    const last = i === n;
    checkCertificate(c, last ? 'leaf' : 'intermediate', at, rules);
    // (a)(1) signature, (a)(4) name chaining
    if (!namesEqual(c.m.issuer, working.m.subject)) fail(c, `its issuer name is not the subject of "${nameText(working.m.subject)}"`);
    const sig = signatureProblem(c.m, working.m);
    if (sig.problem) fail(c, sig.problem);
    both.push(sig.both);
    // (a)(3) revocation
    const revoked = revocationProblem(c, working, crls, at);
    if (revoked) fail(c, revoked);
    // (b), (c) names — not for a self-issued intermediate
    if (last || !c.m.selfIssued) {
      const names = constrainedNames(c.m);
      if (names.problems.length) fail(c, names.problems[0]);
      const p = nc.check(names.names);
      if (p) fail(c, `${p} (RFC 5280 §6.1.3 (b)-(c))`);
    }
    // (d)-(f) policies
    const pp = policy.process(c.m, i);
    if (pp) fail(c, pp);
    // extKeyUsage for the purpose: the leaf's decides; a CA's, when present, must allow it too.
    if (purpose && c.m.extKeyUsage && !hasPurpose(c.m.extKeyUsage, purpose, !(last && rules === 'webpki'))) fail(c, `its extKeyUsage does not allow ${opts.purpose}`);
    if (last) break;
    // 6.1.4: prepare for certificate i+1
    const pn = policy.prepareNext(c.m, i);
    if (pn) fail(c, pn);
    if (c.m.nameConstraints) nc.add(c.m.nameConstraints);
    if (!c.m.selfIssued) {
      if (maxPathLength <= 0) fail(c, 'exceeds the pathLenConstraint of a certificate above it (RFC 5280 §6.1.4 (l))');
      maxPathLength--;
    }
    if (c.m.basicConstraints?.pathLen !== undefined && c.m.basicConstraints.pathLen < maxPathLength) maxPathLength = c.m.basicConstraints.pathLen;
    working = c;
  }
  const leaf = path[0];
  if (purpose && rules === 'webpki' && !leaf.m.extKeyUsage) fail(leaf, 'has no extKeyUsage (CABF BR 7.1.2.7.10)');
  if (purpose && rules === 'webpki' && ext(leaf.m, OIDS.extKeyUsage)?.critical) fail(leaf, 'marks extKeyUsage critical (CABF BR 7.1.2.7.6)');
  if (opts.peerName !== undefined) {
    const p = matchesPeer(leaf.m, opts.peerName);
    if (p) fail(leaf, p);
  }
  const end = n ? policy.finish(leaf.m) : { policies: [] as string[] };
  if (end.problem) fail(leaf, end.problem);
  return { policies: end.policies, both };
}

function link(c: Cert, trust: ChainLink['trust']): ChainLink {
  return { subject: nameText(c.m.subject), serial: serialHexOf(c.m.serial), sha256: createHash('sha256').update(c.der).digest('hex'), trust };
}

/**
 * The certificate, the trusted and intermediate certificates (one that does not parse cannot be on
 * a path, so it is left out) and the CRLs; `failed` when the certificate or a CRL cannot be read.
 */
function readInputs(leafDer: Uint8Array, opts: ValidateOptions): { leaf: Cert; trusted: Cert[]; untrusted: Cert[]; crls: CrlModel[] } | { failed: ValidationResult } {
  let leaf: Cert;
  try {
    leaf = load(leafDer, 'the certificate');
  } catch (e) {
    return { failed: { valid: false, reason: `the certificate cannot be read: ${(e as Error).message}`, chain: [] } };
  }
  const readAll = (list: Uint8Array[] | undefined, role: string): Cert[] =>
    (list ?? []).flatMap((d) => {
      try {
        return [load(d, role)];
      } catch {
        return []; // a certificate that does not parse cannot be on a path
      }
    });
  const trusted = readAll(opts.trusted, 'trust anchor');
  if (!trusted.length) throw new QpkiError('INPUT_INVALID', 'Give at least one trusted (root) certificate to validate against.');
  const untrusted = readAll(opts.untrusted, 'intermediate');
  const crls: CrlModel[] = [];
  for (const d of opts.crls ?? []) {
    try {
      crls.push(parseCrlModel(d));
    } catch (e) {
      return { failed: { valid: false, reason: `a CRL cannot be read: ${(e as Error).message}`, chain: [] } };
    }
  }
  return { leaf, trusted, untrusted, crls };
}

/** Validate `leaf` (DER) to one of the trusted certificates. */
export function validatePath(leafDer: Uint8Array, opts: ValidateOptions): ValidationResult {
  const rules = opts.rules ?? 'rfc5280';
  const at = Math.floor((opts.at ?? new Date()).getTime() / 1000) * 1000; // certificates carry whole seconds
  const input = readInputs(leafDer, opts);
  if ('failed' in input) return input.failed;
  const { leaf, trusted, untrusted, crls } = input;
  const trustedHex = new Set(trusted.map((t) => t.hex));
  const pool = [...trusted, ...untrusted.filter((u) => !trustedHex.has(u.hex))];
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;

  const sigCache = new Map<string, boolean>();
  let sigChecks = 0;
  let paths = 0;
  let firstFailure: { reason: string; chain: Cert[] } | undefined;
  let noPathReason = 'no issuer of it was found among the trusted and intermediate certificates';

  const issuedBy = (child: Cert, issuer: Cert): boolean => {
    const key = `${child.hex}|${issuer.hex}`;
    let ok = sigCache.get(key);
    if (ok === undefined) {
      if (++sigChecks > MAX_SIGNATURE_CHECKS) throw new Invalid('path building gave up: too many candidate issuers (a pathological set of certificates)');
      ok = !signatureProblem(child.m, issuer.m).problem;
      sigCache.set(key, ok);
    }
    return ok;
  };

  let steps = 0;
  const search = (path: Cert[], intermediates: number): ValidationResult | undefined => {
    if (++steps > MAX_STEPS) throw new Invalid('path building gave up: too many candidate paths (a pathological set of certificates)');
    const cur = path[path.length - 1];
    if (trustedHex.has(cur.hex)) {
      paths++;
      try {
        const r = validateOne(path, { ...opts, rules }, at, crls);
        const chain = path.map((c, i) => link(c, i === path.length - 1 ? 'trust anchor' : r.both[path.length - 2 - i] ? 'both signatures verified' : 'signature verified'));
        return { valid: true, chain, policies: r.policies };
      } catch (e) {
        if (!(e instanceof Invalid)) throw e;
        firstFailure ??= { reason: e.message, chain: path };
        return undefined;
      }
    }
    if (paths >= MAX_PATHS) return undefined;
    const candidates = pool.filter((p) => !path.some((q) => q.hex === p.hex) && namesEqual(p.m.subject, cur.m.issuer));
    // The authority key identifier narrows the candidates, and a trusted issuer is tried first.
    const aki = cur.m.authorityKeyId?.keyId;
    const ordered = candidates.filter((p) => !aki || !p.m.subjectKeyId || bytesSame(aki, p.m.subjectKeyId)).sort((a, b) => Number(trustedHex.has(b.hex)) - Number(trustedHex.has(a.hex)));
    if (!ordered.length && path.length > 1) noPathReason = `no issuer of ${cur.label} was found`;
    for (const issuer of ordered) {
      const counts = path.length > 1 && !cur.m.selfIssued ? 1 : 0;
      if (intermediates + counts > maxDepth) {
        noPathReason = `a path would need more than ${maxDepth} intermediate certificate(s)`;
        continue;
      }
      if (!issuedBy(cur, issuer)) {
        noPathReason = `${cur.label} is not signed by "${nameText(issuer.m.subject)}": ${signatureProblem(cur.m, issuer.m).problem}`;
        continue;
      }
      const r = search([...path, issuer], intermediates + counts);
      if (r) return r;
    }
    return undefined;
  };

  try {
    const r = search([leaf], 0);
    if (r) return r;
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    return { valid: false, reason: e.message, chain: [link(leaf, 'signature verified')] };
  }
  if (firstFailure) return { valid: false, reason: firstFailure.reason, chain: firstFailure.chain.map((c, i, a) => link(c, i === a.length - 1 ? 'trust anchor' : 'signature verified')) };
  return { valid: false, reason: `no path to a trusted certificate: ${noPathReason}`, chain: [link(leaf, 'signature verified')] };
}

/** Every certificate (or CRL) in a PEM bundle, or the one DER document given. */
export function readBundle(data: Uint8Array | string, what: 'CERTIFICATE' | 'X509 CRL'): Uint8Array[] {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = parsePemBlocks(text).filter((b) => b.label === what);
    if (!blocks.length) throw new QpkiError('PEM_INVALID', `No ${what} PEM block found.`);
    return blocks.map((b) => b.der);
  }
  if (typeof data === 'string') throw new QpkiError('PEM_INVALID', 'The text is not PEM (no BEGIN line).');
  return [data];
}

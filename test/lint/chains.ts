/**
 * Chains issued from the built-in profiles for the lint and verification tests: a root, an
 * issuing CA under it, every end-entity profile of the family under that, and a CRL from each CA
 * (the issuing CA's revoking one leaf). Built with the profile and X.509 code the CA uses
 * (variables, subject, extensions, builders) and software keys, without a CA directory.
 */
import 'reflect-metadata';
import { listProfiles, loadProfile, buildExtensions, buildSubject, resolveVariables, validityDaysFor, subjectKeyIdentifier, type Profile } from '../../electron/core/profiles/index';
import { generateSoftwareKey, signerFromPkcs8 } from '../../electron/core/keys/software';
import type { Signer } from '../../electron/core/keys/signer';
import { defaultSignatureAlgorithm, keyFamily, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from '../../electron/core/keys/algorithms';
import { buildCertificate, newSerial } from '../../electron/core/x509/certificate';
import { buildCrl, type RevocationReason } from '../../electron/core/x509/crl';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';

/** A value for every variable a built-in declares, passing its rules (BR profiles need http:// URLs). */
export const SAMPLE_VARS: Record<string, unknown> = {
  cn: 'www.example.com',
  organization: 'Example Trust Services',
  country: 'FR',
  locality: 'Paris',
  state: 'Ile-de-France',
  dns_names: 'www.example.com,api.example.com',
  email: 'alice@example.com',
  policy_oid: '2.23.140.1.2.1',
  cps_url: 'https://pki.example.com/cps',
  crl_url: 'http://crl.example.com/ca.crl',
  ca_issuers_url: 'http://pki.example.com/ca.crt',
  ocsp_url: 'http://ocsp.example.com',
};

export const PRIVATE_POLICY_OID = '1.3.6.1.4.1.55555.1.2';

const CA_CN: Record<string, string> = { root: 'Example Root CA', issuing: 'Example Issuing CA' };

export interface Family {
  name: string;
  root: string;
  issuing: string;
  leaves: string[];
}

/** The built-in profile families: each folder with a root, an issuing CA and its end-entity profiles. */
export function builtinFamilies(): Family[] {
  const names = listProfiles().map((p) => p.name);
  const dirs = [...new Set(names.map((n) => n.slice(0, n.lastIndexOf('/'))))];
  const families = dirs.flatMap((d) => {
    const inDir = names.filter((n) => n.slice(0, n.lastIndexOf('/')) === d);
    const root = inDir.find((n) => n.endsWith('/root-ca'));
    const issuing = inDir.find((n) => /issuing-ca$/.test(n));
    return root && issuing ? [{ name: d, root, issuing, leaves: inDir.filter((n) => n !== root && n !== issuing) }] : [];
  });
  // Leaves of a folder with no CA of its own (rsa-pss/tls-server) are issued by the first family
  // whose CAs have the same kind of key.
  const family = (n: string) => keyFamily(loadProfile(n).algorithm);
  for (const d of dirs) {
    if (families.some((f) => f.name === d)) continue;
    for (const n of names.filter((x) => x.slice(0, x.lastIndexOf('/')) === d)) {
      const home = families.find((f) => !f.name.startsWith('br/') && family(f.root) === family(n) && !loadProfile(f.root).altAlgorithm);
      if (home) home.leaves.push(n);
    }
  }
  return families;
}

export interface Issued {
  profile: string;
  der: Uint8Array;
}

export interface IssuedChain {
  family: string;
  root: Issued;
  issuing: Issued;
  leaves: Issued[];
  /** CRLs of the root (no entry) and of the issuing CA (one leaf revoked for keyCompromise). */
  rootCrl: Uint8Array;
  crl: Uint8Array;
}

interface Party {
  signer: Signer;
  alt?: Signer;
  subject: Name;
  spki: Uint8Array;
}

function sigFor(profile: Profile | undefined, key: KeyAlgorithm): SignatureAlgorithm {
  const want = profile?.signatureAlgorithm;
  return want && signatureFitsKey(want, key) ? want : defaultSignatureAlgorithm(key);
}

function software(alg: KeyAlgorithm): Signer {
  return signerFromPkcs8(generateSoftwareKey(alg).pkcs8, { type: 'software', path: '(test)', encrypted: false });
}

function varsFor(p: Profile, role: 'root' | 'issuing' | 'leaf', extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of p.variables) if (v.name in SAMPLE_VARS) out[v.name] = SAMPLE_VARS[v.name];
  // A private PKI has its own policy OID: the CA/B Forum's reserved ones are for publicly trusted TLS.
  if (p.pki === 'private' && 'policy_oid' in out) out.policy_oid = PRIVATE_POLICY_OID;
  if (role !== 'leaf') out.cn = CA_CN[role];
  return { ...out, ...extra };
}

/** Issue one certificate of `profile` for `subject`'s key, signed by `issuer` (itself for a root). */
export async function issueFrom(profile: Profile, vars: Record<string, unknown>, subject: { signer: Signer; alt?: Signer } | { spki: Uint8Array; altSpki?: Uint8Array }, issuer: Party | 'self', now = new Date()): Promise<{ der: Uint8Array; party?: Party }> {
  const values = resolveVariables(profile, vars);
  const name = buildSubject(profile, values);
  const spki = 'signer' in subject ? subject.signer.spki : subject.spki;
  const altSpki = 'signer' in subject ? subject.alt?.spki : subject.altSpki;
  const by: Party = issuer === 'self' ? { signer: (subject as { signer: Signer }).signer, alt: (subject as { alt?: Signer }).alt, subject: name, spki } : issuer;
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + validityDaysFor(profile, values, notBefore) * 86_400_000);
  const der = await buildCertificate({
    serial: newSerial(),
    issuer: by.subject,
    subject: name,
    notBefore,
    notAfter,
    spki,
    extensions: buildExtensions(profile, values, { subjectSpki: spki, issuerSpki: by.spki }),
    signer: by.signer,
    signatureAlgorithm: sigFor(issuer === 'self' ? profile : undefined, by.signer.keyAlgorithm),
    subjectAltSpki: altSpki,
    alt: by.alt ? { signer: by.alt, signatureAlgorithm: defaultSignatureAlgorithm(by.alt.keyAlgorithm) } : undefined,
  });
  return { der, party: 'signer' in subject ? { signer: subject.signer, alt: subject.alt, subject: name, spki } : undefined };
}

export async function crlOf(ca: Party, revoked: { der: Uint8Array; reason?: RevocationReason }[], now = new Date(), days = 7): Promise<Uint8Array> {
  return buildCrl({
    issuer: ca.subject,
    issuerKeyId: subjectKeyIdentifier(ca.spki),
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + days * 86_400_000),
    crlNumber: 1n,
    revoked: revoked.map((r) => ({ serial: new Uint8Array(AsnConvert.parse(r.der, Certificate).tbsCertificate.serialNumber), date: now, reason: r.reason })),
    signer: ca.signer,
    signatureAlgorithm: defaultSignatureAlgorithm(ca.signer.keyAlgorithm),
    alt: ca.alt ? { signer: ca.alt, signatureAlgorithm: defaultSignatureAlgorithm(ca.alt.keyAlgorithm) } : undefined,
  });
}

/** A whole chain from one family's profiles, with software keys. */
export async function issueFamily(f: Family, now = new Date()): Promise<IssuedChain> {
  const rootP = loadProfile(f.root);
  const issuingP = loadProfile(f.issuing);
  const keys = (p: Profile) => ({ signer: software(p.algorithm), ...(p.altAlgorithm && { alt: software(p.altAlgorithm) }) });
  const root = await issueFrom(rootP, varsFor(rootP, 'root', {}), keys(rootP), 'self', now);
  const issuing = await issueFrom(issuingP, varsFor(issuingP, 'issuing', {}), keys(issuingP), root.party!, now);
  const leaves: Issued[] = [];
  for (const l of f.leaves) {
    const p = loadProfile(l);
    const k = keys(p);
    const r = await issueFrom(p, varsFor(p, 'leaf', l.includes('client') ? { cn: 'alice' } : l.includes('ocsp') ? { cn: 'Example OCSP Responder' } : {}), { spki: k.signer.spki, altSpki: k.alt?.spki }, issuing.party!, now);
    leaves.push({ profile: l, der: r.der });
  }
  const crl = await crlOf(issuing.party!, leaves.length ? [{ der: leaves[0].der, reason: 'keyCompromise' }] : [], now);
  const rootCrl = await crlOf(root.party!, [], now, 30);
  return { family: f.name, root: { profile: f.root, der: root.der }, issuing: { profile: f.issuing, der: issuing.der }, leaves, rootCrl, crl };
}

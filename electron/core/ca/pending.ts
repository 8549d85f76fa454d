/**
 * A subordinate CA whose parent is outside this tool: `createPendingCa` makes the key and the CSR
 * and leaves a CA directory in the *pending* state; `importCaCertificate` takes the certificate
 * the parent returned, checks it against the pending key, and makes the CA active.
 *
 * A pending directory holds ca.meta.json (version v1, status "pending", where the key lives, the
 * profile, the key's SubjectPublicKeyInfo and its SHA-256), ca.csr, the journal and, for a
 * software key, the encrypted key file. The SPKI is kept so the certificate can be matched to the
 * key without a PIN or passphrase.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints, id_ce_keyUsage, KeyUsage, KeyUsageFlags, type TBSCertificate } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { defaultSignatureAlgorithm, signatureFitsKey } from '../keys/algorithms';
import { assertRecordable, Journal } from '../journal/journal';
import { renderSubject } from '../profiles/index';
import { buildCsr } from '../x509/csr';
import { describeDocument } from '../x509/describe';
import { parsePemBlocks, toPem } from '../x509/pem';
import { assertNewCaTarget, keyLeftInToken, makeKey, nameString, prepareSubject, sha256Hex, type InitCaResult, type NewCaOptions } from './authority';
import { lockCaDir, writeFileAtomic, makeStagingDir } from './fsx';
import { makeDirs } from '../dirs';
import { qpkiAlgorithmId, readMeta, storageForMeta, writeMeta, DEFAULT_PIN_ENV, HSM_CONFIG_FILE, hsmYamlFor, type CaMeta } from './meta';
import { readPendingCa } from './view';
import { canonicalSerial, nextSerialFileText, serialBigInt, SERIAL_FILE } from './serials';

export const CSR_FILE = 'ca.csr';

export interface PendingCaResult {
  dir: string;
  csrPath: string;
  csrPem: string;
  csrSha256: string;
  subject: string;
  profile: string;
  key: InitCaResult['key'];
}

// Reading a pending CA (`ca info`) lives in view.ts, with the rest of reading a CA directory.
export { readPendingCa, type PendingCaInfo } from './view';

export interface ImportedCa {
  dir: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  fingerprint: string;
  /** Certificates written to chain.crt after this CA's own. */
  chainLength: number;
  warnings: string[];
}

/**
 * Create a CA directory in the pending state: key (token or file), CSR, metadata. Assembled in a
 * staging directory and renamed into place, so a failure leaves no directory; an existing CA or
 * a non-empty directory is refused.
 */
export async function createPendingCa(opts: NewCaOptions): Promise<PendingCaResult> {
  const dir = resolve(opts.dir);
  const { profile } = opts;
  assertNewCaTarget(dir, profile);
  assertRecordable(opts.journalPreamble ?? []);
  if (profile.altAlgorithm) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is a Catalyst hybrid; a CSR for an external parent carries one key only. Use a classical or ML-DSA CA profile.`);
  const { values, subject } = prepareSubject(profile, opts.vars);
  const stage = makeStagingDir(dir);
  let made: Awaited<ReturnType<typeof makeKey>> | undefined;
  try {
    const algo = qpkiAlgorithmId(profile.algorithm);
    made = await makeKey(stage, opts.key, profile.algorithm, `ca.${algo}.key`);
    const { signer } = made;
    const csrDer = await buildCsr({ subject, signer, signatureAlgorithm: defaultSignatureAlgorithm(signer.keyAlgorithm) });
    // The request must prove possession before anyone outside sees it.
    if (describeDocument(csrDer).signatures[0]?.valid !== true) throw new QpkiError('KEY_CHECK_FAILED', 'The new CSR does not verify under its own key; nothing was written.');
    const csrPem = toPem(csrDer, 'CERTIFICATE REQUEST');
    writeFileAtomic(join(stage, CSR_FILE), csrPem);
    const created = (opts.now ?? new Date()).toISOString();
    const rendered = renderSubject(profile, values);
    const subjectString = nameString(subject);
    const spkiSha256 = sha256Hex(signer.spki);
    const meta = {
      subject: { common_name: rendered.cn ?? '', ...(rendered.o ? { organization: [rendered.o] } : {}), ...(rendered.c ? { country: [rendered.c] } : {}), dn: subjectString },
      created,
      active: 'v1',
      versions: {
        v1: {
          profiles: [profile.name],
          algos: [algo],
          status: 'pending' as const,
          created,
          keys: [{ id: 'default' as const, algorithm: algo, storage: storageForMeta(signer.storage) }],
          signature_algorithm: profile.signatureAlgorithm && signatureFitsKey(profile.signatureAlgorithm, profile.algorithm) ? profile.signatureAlgorithm : defaultSignatureAlgorithm(profile.algorithm),
          spki: Buffer.from(signer.spki).toString('base64'),
          spki_sha256: spkiSha256,
          csr: CSR_FILE,
        },
      },
    };
    writeMeta(stage, meta as CaMeta);
    // QPKI finds a token key through the CA directory's hsm.yaml (storage.config).
    if (signer.storage.type === 'pkcs11') writeFileAtomic(join(stage, HSM_CONFIG_FILE), hsmYamlFor(signer.storage, (opts.key.kind === 'pkcs11' && opts.key.pinEnv) || DEFAULT_PIN_ENV));
    if (existsSync(dir)) rmSync(dir, { recursive: false }); // an empty directory, checked above
    renameSync(stage, dir);
    const journal = Journal.open(dir, opts.participants);
    journal.appendAll(opts.journalPreamble ?? []);
    journal.append(made.generated ? 'key.generated' : 'key.selected', {
      role: 'CA key',
      algorithm: profile.algorithm,
      storage: signer.storage,
      attributes: made.generated?.attributes ?? null,
      testSignatureVerified: made.generated?.testSignatureVerified ?? null,
      existing: !made.generated,
      publicKeySha256Fingerprint: spkiSha256,
    });
    const csrSha256 = sha256Hex(csrDer);
    journal.append('csr.created', { profile: profile.name, subject: subjectString, path: CSR_FILE, csrSha256, publicKeySha256Fingerprint: spkiSha256, status: 'pending' });
    return {
      dir,
      csrPath: join(dir, CSR_FILE),
      csrPem,
      csrSha256,
      subject: subjectString,
      profile: profile.name,
      key: { storage: signer.storage, algorithm: profile.algorithm, publicKeyFingerprint: spkiSha256, generated: made.generated },
    };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw keyLeftInToken(e, opts.key, made);
  }
}

function certBlocks(data: string | Uint8Array, what: string): Uint8Array[] {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  if (!text.includes('-----BEGIN')) {
    if (typeof data === 'string') throw new QpkiError('PEM_INVALID', `${what} is neither PEM nor DER.`);
    return [data];
  }
  const blocks = parsePemBlocks(text);
  const other = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (other) throw new QpkiError('CERT_INVALID', `${what} holds a "${other.label}" block; only certificates belong there.`);
  if (!blocks.length) throw new QpkiError('PEM_INVALID', `${what} has no complete certificate block.`);
  return blocks.map((b) => b.der);
}

function caFacts(der: Uint8Array): { ca: boolean; pathLen?: number; keyCertSign: boolean | undefined; crlSign: boolean | undefined } {
  const exts = AsnConvert.parse(der, Certificate).tbsCertificate.extensions ?? [];
  const bcExt = exts.find((e) => e.extnID === id_ce_basicConstraints);
  const bc = bcExt ? AsnConvert.parse(bcExt.extnValue.buffer, BasicConstraints) : undefined;
  const kuExt = exts.find((e) => e.extnID === id_ce_keyUsage);
  const ku = kuExt ? AsnConvert.parse(kuExt.extnValue.buffer, KeyUsage).toNumber() : undefined;
  return {
    ca: !!bc?.cA,
    pathLen: bc?.cA ? bc.pathLenConstraint : undefined,
    keyCertSign: ku === undefined ? undefined : (ku & KeyUsageFlags.keyCertSign) !== 0,
    crlSign: ku === undefined ? undefined : (ku & KeyUsageFlags.cRLSign) !== 0,
  };
}

/** Primary (and, when present, alternative) signature of `der` verified under `issuer`. */
function signedBy(der: Uint8Array, issuer: Uint8Array): boolean {
  const d = describeDocument(der, issuer);
  return d.signatures.length > 0 && d.signatures.every((s) => s.valid === true);
}

/**
 * The parent chain given with a certificate: it starts with the certificate's issuer, which signed
 * it; each link is a CA certificate whose path length allows what is below it, signed by the next
 * (the last, when self-signed, by itself).
 */
function checkChain(certDer: Uint8Array, tbs: TBSCertificate, chain: Uint8Array[]): void {
  const parentName = AsnConvert.parse(chain[0], Certificate).tbsCertificate.subject;
  if (!Buffer.from(AsnConvert.serialize(tbs.issuer)).equals(Buffer.from(AsnConvert.serialize(parentName)))) {
    throw new QpkiError('CERT_INVALID', `The certificate was issued by ${nameString(tbs.issuer)}, but the chain starts with ${nameString(parentName)}; give the chain starting with the certificate of the CA that signed it.`);
  }
  if (!signedBy(certDer, chain[0])) throw new QpkiError('CERT_INVALID', `The certificate does not verify under the first certificate of the chain (${describeDocument(chain[0]).subject}); give the chain starting with the certificate of the CA that signed it.`);
  for (let i = 0; i < chain.length; i++) {
    const link = describeDocument(chain[i]);
    const f = caFacts(chain[i]);
    if (!f.ca) throw new QpkiError('CERT_INVALID', `Chain certificate ${i + 1} (${link.subject}) is not a CA certificate.`);
    // Below chain[i] come chain[i-1] … chain[0] and this CA: i + 1 CA certificates before any leaf.
    if (f.pathLen !== undefined && f.pathLen < i + 1) throw new QpkiError('CERT_INVALID', `Chain certificate ${i + 1} (${link.subject}) has pathLenConstraint ${f.pathLen}: it cannot have this CA ${i ? `and ${i} more CA certificate(s) ` : ''}below it. Leaves this CA issued would never validate.`);
    const next = chain[i + 1];
    if (next ? !signedBy(chain[i], next) : link.subject === link.issuer && !signedBy(chain[i], chain[i])) {
      throw new QpkiError('CERT_INVALID', `Chain certificate ${i + 1} (${link.subject}) does not verify under ${next ? `chain certificate ${i + 2}` : 'its own key'}; give the chain in order, from the issuer up to the root.`);
    }
  }
}

/**
 * Turn a pending CA into an active one with the certificate its parent signed. The certificate
 * must be a CA certificate (basicConstraints cA, keyCertSign) for the pending key, valid now, and,
 * when a chain is given, signed by the chain's first certificate, each link by the next. The new
 * files are written first; ca.meta.json is replaced last, in one rename, so an interruption
 * leaves the CA pending (and the import can be run again), never half-active.
 */
export function importCaCertificate(opts: { dir: string; cert: string | Uint8Array; chain?: string | Uint8Array; now?: Date; journal?: Journal }): ImportedCa {
  const abs = resolve(opts.dir);
  const unlock = lockCaDir(abs);
  try {
    const meta = readMeta(abs);
    const v = meta.versions[meta.active];
    if (v.status !== 'pending') throw new QpkiError('CA_EXISTS', `${abs} is already an active CA with its certificate; a certificate is imported only into a pending CA (made by \`qpki ca csr --dir\`).`);
    const pending = readPendingCa(abs)!;
    const blocks = certBlocks(opts.cert, 'The certificate file');
    const certDer = blocks[0];
    // A file from the parent often carries its chain after the certificate.
    const chain = opts.chain !== undefined ? certBlocks(opts.chain, 'The chain file') : blocks.slice(1);
    const d = describeDocument(certDer);
    if (d.kind !== 'certificate') throw new QpkiError('CERT_INVALID', `The file given with --cert is a ${d.kind}, not a certificate.`);
    const tbs = AsnConvert.parse(certDer, Certificate).tbsCertificate;
    const spki = new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
    if (!Buffer.from(spki).equals(Buffer.from(pending.spki))) {
      throw new QpkiError('KEY_INVALID', `The certificate is for another key (public key SHA-256 ${sha256Hex(spki)}), not this CA's pending key (${pending.spkiSha256}). Import the certificate the parent issued for ${pending.csrPath}.`);
    }
    const facts = caFacts(certDer);
    if (!facts.ca) throw new QpkiError('CERT_INVALID', `The certificate for ${d.subject} is not a CA certificate (basicConstraints cA is not true); ask the parent to issue it with a CA profile.`);
    if (facts.keyCertSign !== true) throw new QpkiError('CERT_INVALID', `The certificate for ${d.subject} does not allow certificate signing (keyUsage keyCertSign ${facts.keyCertSign === undefined ? 'absent: no keyUsage extension' : 'not set'}); ask the parent to issue it with a CA profile.`);
    const now = opts.now ?? new Date();
    const notBefore = tbs.validity.notBefore.getTime();
    const notAfter = tbs.validity.notAfter.getTime();
    if (now < notBefore) throw new QpkiError('CERT_INVALID', `The certificate is not valid yet (from ${notBefore.toISOString()}); check this computer's clock, or import it once it is valid.`);
    if (now > notAfter) throw new QpkiError('CERT_INVALID', `The certificate expired on ${notAfter.toISOString()}.`);
    const warnings: string[] = [];
    if (facts.crlSign !== true) warnings.push('The certificate does not allow CRL signing (keyUsage cRLSign): CRLs this CA signs will not be accepted.');
    if (!chain.length) warnings.push('No chain given: chain.crt holds only this CA certificate; relying parties need the parent chain from elsewhere.');
    if (chain.length) checkChain(certDer, tbs, chain);
    const issuer = nameString(tbs.issuer);
    const subject = nameString(tbs.subject);
    if (subject !== pending.subject) warnings.push(`The parent changed the subject: requested ${pending.subject}, issued ${subject}.`);
    const serial = canonicalSerial(Buffer.from(tbs.serialNumber).toString('hex'));
    const certPem = toPem(certDer, 'CERTIFICATE');
    const algo = v.algos[0];

    // Everything but the metadata first; none of it counts while ca.meta.json says pending, and a
    // second attempt replaces what a failed one left.
    writeFileAtomic(join(abs, 'versions', meta.active, 'certs', `ca.${algo}.pem`), certPem);
    writeFileAtomic(join(abs, 'ca.crt'), certPem);
    writeFileAtomic(join(abs, 'chain.crt'), certPem + chain.map((c) => toPem(c, 'CERTIFICATE')).join(''));
    writeFileAtomic(join(abs, 'index.txt'), '');
    // The NEXT serial (QPKI's reading): one above this CA's own.
    writeFileAtomic(join(abs, SERIAL_FILE), nextSerialFileText(undefined, serialBigInt(serial)));
    writeFileAtomic(join(abs, 'crlnumber'), '01\n');
    makeDirs(join(abs, 'certs'));
    makeDirs(join(abs, 'crl'));
    const activated = now.toISOString();
    // The pending-only fields (spki, csr) fall away; readMeta keeps any field it does not know.
    const { spki: _spki, spki_sha256: _spkiSha256, csr: _csr, ...kept } = v as typeof v & { spki?: unknown; spki_sha256?: unknown; csr?: unknown };
    const active: CaMeta = {
      ...meta,
      subject: { ...meta.subject, dn: subject },
      versions: { ...meta.versions, [meta.active]: { ...kept, status: 'active', activated_at: activated } },
    };
    writeMeta(abs, active);

    const fingerprint = sha256Hex(certDer);
    const journal = opts.journal ?? Journal.open(abs);
    journal.append('certificate.signed', {
      serial, profile: pending.profile, subject, issuer,
      notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(),
      certificateSha256Fingerprint: fingerprint, path: 'ca.crt', selfSigned: false, hybrid: false,
      imported: true, chainVerified: chain.length > 0, chainLength: chain.length,
      chainSha256: chain.map((c) => sha256Hex(c)), publicKeySha256Fingerprint: pending.spkiSha256,
    });
    return { dir: abs, subject, issuer, serial, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(), fingerprint, chainLength: chain.length, warnings };
  } finally {
    unlock();
  }
}


/**
 * A document prepared for signing: the exact TBSCertificate or TBSCertList DER, built once, that
 * the review shows and the signer signs. Signing never re-encodes it; the signed document is
 * checked against it byte for byte and its signature(s) verified against the issuer's public
 * key(s) before the caller writes anything.
 *
 * Catalyst (ITU-T X.509 §9.8): the alternative signature covers the pre-TBS and is carried in the
 * TBS itself, and ML-DSA signing is hedged, so its value cannot exist before the alternative key
 * signs. The prepared TBS is therefore the document without altSignatureValue (everything else,
 * altSignatureAlgorithm included, in place); signing appends that one extension and nothing else.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { QpkiError } from '../errors';
import type { SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { verifySignature, verifySignatureAsync } from '../keys/verify';
import { altSignatureValueExtension, preTbs, stripAltSignatureValue } from './catalyst';
import { bytesEqual, children, encodeTlv, readTlv, slice, whole } from './der';

export type PreparedKind = 'certificate' | 'crl';

export interface PreparedDocument {
  kind: PreparedKind;
  /** The TBS as reviewed (for Catalyst: without altSignatureValue, which signing appends). */
  tbs: Uint8Array;
  /** The outer signatureAlgorithm, equal to the TBS's own `signature` field. */
  sigAlgDer: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  /** Catalyst: the alternative signature algorithm (already named in the TBS's altSignatureAlgorithm). */
  altSignatureAlgorithm?: SignatureAlgorithm;
}

/** The public keys a signed document must verify against. */
export interface IssuerKeys {
  spki: Uint8Array;
  altSpki?: Uint8Array;
}

/** Where the extensions sit: [3] in a TBSCertificate, [0] in a TBSCertList. */
function extensionsTag(kind: PreparedKind): number {
  return kind === 'certificate' ? 0xa3 : 0xa0;
}

/**
 * The TBS with one extension appended at the end of its extension list (lengths re-encoded
 * around it); every other byte stays as it was. The TBS must already have an extension list.
 */
export function appendExtension(tbs: Uint8Array, kind: PreparedKind, extensionDer: Uint8Array): Uint8Array {
  const top = whole(tbs);
  const fields = children(tbs, top);
  const tag = extensionsTag(kind);
  const at = fields.findIndex((f, i) => f.tag === tag && i > 0);
  if (at < 0) throw new QpkiError('INTERNAL', 'The prepared TBS has no extension list to carry the alternative signature.');
  const list = readTlv(tbs, fields[at].contentStart);
  const inner = encodeTlv(0x30, [...children(tbs, list).map((e) => slice(tbs, e)), extensionDer]);
  return encodeTlv(0x30, fields.map((f, i) => (i === at ? encodeTlv(tag, [inner]) : slice(tbs, f))));
}

/**
 * Sign a prepared document: the alternative key first (Catalyst), then the primary key over
 * exactly the prepared bytes (plus the alternative signature's extension). Returns the DER of
 * the signed document; nothing is checked here (see `checkSigned`).
 */
export async function signPrepared(p: PreparedDocument, signer: Signer, altSigner?: Signer): Promise<Uint8Array> {
  let tbs = p.tbs;
  if (p.altSignatureAlgorithm) {
    if (!altSigner) throw new QpkiError('INTERNAL', 'A Catalyst document needs its alternative signer.');
    tbs = withAltSignatureValue(p, await altSigner.sign(p.altSignatureAlgorithm, preTbs(p.tbs, p.kind)));
  }
  const signature = await signer.sign(p.signatureAlgorithm, tbs);
  return assembleSignedDocument(tbs, p.sigAlgDer, signature);
}

/** The TBS a Catalyst document is signed as: the prepared one with its altSignatureValue appended. */
export function withAltSignatureValue(p: PreparedDocument, altSignature: Uint8Array): Uint8Array {
  return appendExtension(p.tbs, p.kind, new Uint8Array(AsnConvert.serialize(altSignatureValueExtension(altSignature))));
}

/** SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }: the same shape for a certificate, a CSR and a CRL. */
export function assembleSignedDocument(tbsDer: Uint8Array, sigAlgDer: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeTlv(0x30, [tbsDer, sigAlgDer, encodeTlv(0x03, [Uint8Array.of(0), signature])]);
}

/** One signature a signed document must carry, and the refusal if it does not verify. */
interface SignatureToCheck {
  spki: Uint8Array;
  alg: SignatureAlgorithm;
  data: Uint8Array;
  signature: Uint8Array;
  /** Built only when needed: an error captures a stack, and this runs for every certificate. */
  refusal: () => QpkiError;
}

/**
 * The part of the proof that reads bytes: the signed document's TBS is the prepared one (for
 * Catalyst, once its altSignatureValue is taken out) and its outer algorithm is the prepared one.
 * Returns the signatures left to verify, the alternative one first. Throws SIGNATURE_INVALID.
 */
function signaturesToCheck(der: Uint8Array, p: PreparedDocument, issuer: IssuerKeys): SignatureToCheck[] {
  const fail = (why: string) => new QpkiError('SIGNATURE_INVALID', `The signed ${p.kind === 'crl' ? 'CRL' : 'certificate'} was not written: ${why}`);
  let tbs: Uint8Array;
  let sigAlg: Uint8Array;
  let sig: Uint8Array;
  try {
    const top = whole(der);
    const parts = children(der, top);
    if (parts.length !== 3 || parts[2].tag !== 0x03) throw new Error('not a signed SEQUENCE');
    tbs = slice(der, parts[0]);
    sigAlg = slice(der, parts[1]);
    if (der[parts[2].contentStart] !== 0) throw new Error('signature BIT STRING has unused bits');
    sig = der.subarray(parts[2].contentStart + 1, parts[2].end);
  } catch (e) {
    throw fail(`it cannot be read back (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (!bytesEqual(sigAlg, p.sigAlgDer)) throw fail('its signature algorithm is not the one reviewed.');
  const checks: SignatureToCheck[] = [];
  if (p.altSignatureAlgorithm) {
    const { tbs: without, altSignature } = stripAltSignatureValue(tbs, p.kind);
    if (!bytesEqual(without, p.tbs)) throw fail('its content differs from the reviewed content.');
    if (!issuer.altSpki) throw fail('the issuer has no alternative public key to check the alternative signature.');
    const refusal = () => fail(`the alternative (${p.altSignatureAlgorithm}) signature does not verify against the issuer's alternative public key.`);
    if (!altSignature) throw refusal();
    checks.push({ spki: issuer.altSpki, alg: p.altSignatureAlgorithm, data: preTbs(tbs, p.kind), signature: altSignature, refusal });
  } else if (!bytesEqual(tbs, p.tbs)) {
    throw fail('its content differs from the reviewed content.');
  }
  checks.push({ spki: issuer.spki, alg: p.signatureAlgorithm, data: tbs, signature: sig, refusal: () => fail(`the ${p.signatureAlgorithm} signature does not verify against the issuer's public key.`) });
  return checks;
}

/**
 * The proof asked for before anything is written: the signed document's TBS is the prepared one
 * (for Catalyst, once its altSignatureValue is taken out), its outer algorithm is the prepared
 * one, and every signature verifies against the issuer's key(s). Throws SIGNATURE_INVALID.
 */
export function checkSigned(der: Uint8Array, p: PreparedDocument, issuer: IssuerKeys): void {
  for (const c of signaturesToCheck(der, p, issuer)) if (!verifySignature(c.spki, c.alg, c.data, c.signature)) throw c.refusal();
}

/**
 * `checkSigned`, with the signatures verified on another thread (verifySignatureAsync): the same
 * checks, the same refusals in the same order; it rejects instead of throwing.
 */
export async function checkSignedAsync(der: Uint8Array, p: PreparedDocument, issuer: IssuerKeys): Promise<void> {
  const checks = signaturesToCheck(der, p, issuer);
  const verdicts = await Promise.all(checks.map((c) => verifySignatureAsync(c.spki, c.alg, c.data, c.signature)));
  const failed = checks.find((_c, k) => !verdicts[k]);
  if (failed) throw failed.refusal();
}

/**
 * OCSP responses (RFC 6960) signed offline, as an offline root's ceremony pre-signs them for its
 * subordinate CAs (what Let's Encrypt's boulder `ceremony` does): one BasicOCSPResponse for one
 * certificate, signed through the Signer (so by the token), with the RFC 5019 choices a
 * responder cache expects: SHA-1 CertID hashes, a responderID by key hash, thisUpdate and
 * nextUpdate. Parsing and verifying is here too (`ocsp verify`, `inspect`).
 * ASN.1 structure from @peculiar/asn1-ocsp; the signed bytes are assembled here, so that what
 * the key signs is exactly the tbsResponseData that goes out.
 */
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension, id_ce_extKeyUsage, ExtendedKeyUsage } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, CertID, CertStatus, OCSPResponse, OCSPResponseStatus, ResponderID, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, KeyHash, id_pkix_ocsp_basic, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { QpkiError } from '../errors';
import type { SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { subjectKeyIdentifier } from '../keys/spki';
import { signatureAlgorithmFromIdentifier, signatureAlgorithmIdentifier, verifySignature } from '../keys/verify';
import { REVOCATION_REASONS, type RevocationReason } from './crl';
import { children, encodeTlv, slice, whole } from './der';
import { canonicalSerial } from '../ca/serials';

const OID_SHA1 = '1.3.14.3.2.26';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

export type OcspStatus = 'good' | 'revoked' | 'unknown';

export interface OcspSpec {
  /** The issuing CA's certificate (DER): its name and key identify the certificate asked about. */
  issuerDer: Uint8Array;
  serial: string;
  status: OcspStatus;
  revocationTime?: Date;
  reason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate: Date;
  signer: Signer;
  signatureAlgorithm: SignatureAlgorithm;
  /** A delegated responder's certificate (DER), sent with the response; absent: the CA key signs. */
  responderDer?: Uint8Array;
  nonce?: Uint8Array;
}

function sha1(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(b).digest());
}

function spkiOf(certDer: Uint8Array): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(AsnConvert.parse(certDer, Certificate).tbsCertificate.subjectPublicKeyInfo));
}

function serialBytes(hex: string): ArrayBuffer {
  let h = canonicalSerial(hex);
  // A positive INTEGER: a leading 00 when the first byte has its high bit set.
  if (parseInt(h.slice(0, 2), 16) & 0x80) h = '00' + h;
  return new Uint8Array(Buffer.from(h, 'hex')).buffer as ArrayBuffer;
}

/** CertID with SHA-1 (RFC 5019 2.2.1): hash of the issuer's name DER and of its key's BIT STRING contents. */
export function certId(issuerDer: Uint8Array, serial: string): CertID {
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(new Uint8Array(AsnConvert.serialize(issuer.tbsCertificate.subject)))),
    issuerKeyHash: new OctetString(subjectKeyIdentifier(spkiOf(issuerDer))),
    serialNumber: serialBytes(serial),
  });
}

/** A signed OCSPResponse (DER), status successful. */
export async function buildOcspResponse(spec: OcspSpec): Promise<Uint8Array> {
  if (spec.nextUpdate.getTime() <= spec.thisUpdate.getTime()) throw new QpkiError('INPUT_INVALID', 'The OCSP response would expire before it starts.');
  const responderSpki = spec.responderDer ? spkiOf(spec.responderDer) : spkiOf(spec.issuerDer);
  if (!Buffer.from(responderSpki).equals(Buffer.from(spec.signer.spki))) throw new QpkiError('KEY_INVALID', 'The signing key is not the key of the responder certificate.');
  const whole = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
  const status =
    spec.status === 'good' ? new CertStatus({ good: null })
    : spec.status === 'unknown' ? new CertStatus({ unknown: null })
    : new CertStatus({ revoked: new RevokedInfo({ revocationTime: whole(spec.revocationTime ?? spec.thisUpdate), ...(spec.reason && spec.reason !== 'unspecified' ? { revocationReason: new CRLReason(REVOCATION_REASONS[spec.reason]) } : {}) }) });
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(subjectKeyIdentifier(responderSpki)) }),
    producedAt: whole(new Date()),
    responses: [new SingleResponse({ certID: certId(spec.issuerDer, spec.serial), certStatus: status, thisUpdate: whole(spec.thisUpdate), nextUpdate: whole(spec.nextUpdate) })],
    ...(spec.nonce ? { responseExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(encodeTlv(0x04, [spec.nonce])) })] } : {}),
  });
  const tbs = new Uint8Array(AsnConvert.serialize(data));
  const sigAlg = signatureAlgorithmIdentifier(spec.signatureAlgorithm);
  const signature = await spec.signer.sign(spec.signatureAlgorithm, tbs);
  const basic = encodeTlv(0x30, [tbs, sigAlg, encodeTlv(0x03, [Uint8Array.of(0), signature]), ...(spec.responderDer ? [encodeTlv(0xa0, [encodeTlv(0x30, [spec.responderDer])])] : [])]);
  return new Uint8Array(AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.successful, responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basic) }) })));
}

export interface OcspDescription {
  status: string;
  responderKeyHash?: string;
  responderName?: boolean;
  producedAt?: string;
  signatureAlgorithm?: string;
  certificates: number;
  responses: { serial: string; certStatus: OcspStatus; revocationTime?: string; reason?: string; thisUpdate: string; nextUpdate?: string; issuerNameHash: string; issuerKeyHash: string }[];
  nonce?: string;
}

function parseResponse(der: Uint8Array): { outer: OCSPResponse; basic?: BasicOCSPResponse; basicDer?: Uint8Array } {
  let outer: OCSPResponse;
  try {
    outer = AsnConvert.parse(der, OCSPResponse);
  } catch {
    throw new QpkiError('INPUT_INVALID', 'Not an OCSP response (DER OCSPResponse).');
  }
  if (outer.responseStatus !== OCSPResponseStatus.successful || !outer.responseBytes) return { outer };
  if (outer.responseBytes.responseType !== id_pkix_ocsp_basic) throw new QpkiError('INPUT_INVALID', `Unsupported OCSP response type ${outer.responseBytes.responseType}.`);
  const basicDer = new Uint8Array(outer.responseBytes.response.buffer);
  try {
    return { outer, basic: AsnConvert.parse(basicDer, BasicOCSPResponse), basicDer };
  } catch {
    throw new QpkiError('INPUT_INVALID', 'The OCSP response holds a malformed BasicOCSPResponse.');
  }
}

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

export function describeOcspResponse(der: Uint8Array): OcspDescription {
  const { outer, basic } = parseResponse(der);
  const status = OCSPResponseStatus[outer.responseStatus] ?? String(outer.responseStatus);
  if (!basic) return { status, certificates: 0, responses: [] };
  const d = basic.tbsResponseData;
  const reasonName = (r?: CRLReason) => (r === undefined ? undefined : (Object.keys(REVOCATION_REASONS) as RevocationReason[]).find((k) => REVOCATION_REASONS[k] === r.reason));
  const nonceExt = d.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  return {
    status,
    responderKeyHash: d.responderID.byKey ? hex(d.responderID.byKey.buffer) : undefined,
    responderName: !!d.responderID.byName,
    producedAt: d.producedAt.toISOString(),
    signatureAlgorithm: basic.signatureAlgorithm.algorithm,
    certificates: basic.certs?.length ?? 0,
    responses: d.responses.map((r) => ({
      serial: canonicalSerial(hex(r.certID.serialNumber)),
      certStatus: r.certStatus.revoked ? 'revoked' : r.certStatus.good !== undefined ? 'good' : 'unknown',
      revocationTime: r.certStatus.revoked?.revocationTime.toISOString(),
      reason: reasonName(r.certStatus.revoked?.revocationReason),
      thisUpdate: r.thisUpdate.toISOString(),
      nextUpdate: r.nextUpdate?.toISOString(),
      issuerNameHash: hex(r.certID.issuerNameHash.buffer),
      issuerKeyHash: hex(r.certID.issuerKeyHash.buffer),
    })),
    nonce: nonceExt ? hex(nonceExt.extnValue.buffer) : undefined,
  };
}

/** Signature (PKIX: tbs, algorithm, BIT STRING) of a DER SEQUENCE, checked against a public key. */
function verifySigned(der: Uint8Array, spki: Uint8Array): boolean {
  const [tbsT, algT, sigT] = children(der, whole(der));
  try {
    return verifySignature(spki, signatureAlgorithmFromIdentifier(slice(der, algT)), slice(der, tbsT), der.subarray(sigT.contentStart + 1, sigT.end));
  } catch {
    return false;
  }
}

/**
 * Verify a response against the CA that issued the certificate: the signature is the CA key's,
 * or a delegated responder's whose certificate (sent in the response) the CA key signed and
 * that has id-kp-OCSPSigning (RFC 6960 4.2.2.2); every CertID names this CA.
 */
export function verifyOcspResponse(der: Uint8Array, caDer: Uint8Array): { valid: boolean; signedBy: 'ca' | 'delegated' | 'unknown'; reasons: string[]; description: OcspDescription } {
  const description = describeOcspResponse(der);
  const { basic, basicDer } = parseResponse(der);
  const reasons: string[] = [];
  if (!basic || !basicDer) return { valid: false, signedBy: 'unknown', reasons: [`response status ${description.status}`], description };
  const caSpki = spkiOf(caDer);
  const caKeyHash = hex(subjectKeyIdentifier(caSpki));
  const caNameHash = hex(sha1(new Uint8Array(AsnConvert.serialize(AsnConvert.parse(caDer, Certificate).tbsCertificate.subject))));
  const basicParts = children(basicDer, whole(basicDer));
  const signedPart = encodeTlv(0x30, basicParts.slice(0, 3).map((t) => slice(basicDer, t)));
  let signedBy: 'ca' | 'delegated' | 'unknown' = 'unknown';
  if (verifySigned(signedPart, caSpki)) signedBy = 'ca';
  else {
    for (const c of basic.certs ?? []) {
      const cDer = new Uint8Array(AsnConvert.serialize(c));
      if (!verifySigned(signedPart, spkiOf(cDer))) continue;
      if (!verifySigned(cDer, caSpki)) {
        reasons.push('the responder certificate is not signed by this CA');
        continue;
      }
      const eku = c.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
      if (!eku || !AsnConvert.parse(eku.extnValue.buffer, ExtendedKeyUsage).includes(OID_KP_OCSP_SIGNING)) {
        reasons.push('the responder certificate lacks id-kp-OCSPSigning');
        continue;
      }
      const now = Date.now();
      if (c.tbsCertificate.validity.notAfter.getTime().getTime() < now || c.tbsCertificate.validity.notBefore.getTime().getTime() > now) {
        reasons.push('the responder certificate is not valid now');
        continue;
      }
      signedBy = 'delegated';
      break;
    }
  }
  if (signedBy === 'unknown' && !reasons.length) reasons.push('the signature verifies under neither the CA key nor a responder certificate in the response');
  for (const r of description.responses) {
    if (r.issuerKeyHash !== caKeyHash || r.issuerNameHash !== caNameHash) reasons.push(`the response for ${r.serial} names another issuer`);
  }
  return { valid: signedBy !== 'unknown' && reasons.length === 0, signedBy, reasons, description };
}

export { OID_KP_OCSP_SIGNING };

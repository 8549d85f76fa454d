import { OctetString, AsnConvert } from '@peculiar/asn1-schema';
import { Extension, Extensions, Name, RevokedCertificate, TBSCertList, Time, Version, CRLReason, CRLReasons, CRLNumber, AuthorityKeyIdentifier, KeyIdentifier, id_ce_cRLNumber, id_ce_authorityKeyIdentifier, id_ce_cRLReasons } from '@peculiar/asn1-x509';
import type { SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { signatureAlgorithmIdentifierObject } from '../keys/verify';
import { altSignatureAlgorithmExtension } from './catalyst';
import { wholeSeconds, type AltSigning } from './certificate';
import { checkSigned, signPrepared, type PreparedDocument } from './tbs';

export const REVOCATION_REASONS = {
  unspecified: CRLReasons.unspecified,
  keyCompromise: CRLReasons.keyCompromise,
  cACompromise: CRLReasons.cACompromise,
  affiliationChanged: CRLReasons.affiliationChanged,
  superseded: CRLReasons.superseded,
  cessationOfOperation: CRLReasons.cessationOfOperation,
  certificateHold: CRLReasons.certificateHold,
  privilegeWithdrawn: CRLReasons.privilegeWithdrawn,
  aACompromise: CRLReasons.aACompromise,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** Everything a CRL holds, fixed before anything signs it. */
export interface CrlContent {
  issuer: Name;
  /** The issuer's subject key identifier, for the authorityKeyIdentifier extension. */
  issuerKeyId: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
  revoked: { serial: Uint8Array; date: Date; reason?: RevocationReason }[];
  signatureAlgorithm: SignatureAlgorithm;
  /** Catalyst: the algorithm of the issuer's alternative signature over the pre-TBS. */
  altSignatureAlgorithm?: SignatureAlgorithm;
}

export interface CrlSpec extends Omit<CrlContent, 'altSignatureAlgorithm'> {
  signer: Signer;
  alt?: AltSigning;
}

/** The exact TBSCertList of a v2 CRL (CRL number, authority key identifier), encoded once. */
export function prepareCrl(spec: CrlContent): PreparedDocument {
  const sigAlg = signatureAlgorithmIdentifierObject(spec.signatureAlgorithm);
  const exts: Extension[] = [
    new Extension({ extnID: id_ce_authorityKeyIdentifier, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(spec.issuerKeyId).buffer as ArrayBuffer) })))) }),
    new Extension({ extnID: id_ce_cRLNumber, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(new CRLNumber(Number(spec.crlNumber))))) }),
  ];
  if (spec.altSignatureAlgorithm) exts.push(altSignatureAlgorithmExtension(signatureAlgorithmIdentifierObject(spec.altSignatureAlgorithm)));
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: sigAlg,
    issuer: spec.issuer,
    thisUpdate: new Time(wholeSeconds(spec.thisUpdate)),
    nextUpdate: new Time(wholeSeconds(spec.nextUpdate)),
    revokedCertificates: spec.revoked.length
      ? spec.revoked.map(
          (r) =>
            new RevokedCertificate({
              userCertificate: new Uint8Array(r.serial).buffer as ArrayBuffer,
              revocationDate: new Time(wholeSeconds(r.date)),
              crlEntryExtensions:
                r.reason && r.reason !== 'unspecified'
                  ? new Extensions([new Extension({ extnID: id_ce_cRLReasons, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(new CRLReason(REVOCATION_REASONS[r.reason])))) })])
                  : undefined,
            }),
        )
      : undefined,
    crlExtensions: new Extensions(exts),
  });
  return {
    kind: 'crl', tbs: new Uint8Array(AsnConvert.serialize(tbs)), sigAlgDer: new Uint8Array(AsnConvert.serialize(sigAlg)), signatureAlgorithm: spec.signatureAlgorithm,
    ...(spec.altSignatureAlgorithm ? { altSignatureAlgorithm: spec.altSignatureAlgorithm } : {}),
  };
}

/** A v2 CRL prepared, signed through the Signer(s) and checked against their public keys. */
export async function buildCrl(spec: CrlSpec): Promise<Uint8Array> {
  const { signer, alt, ...content } = spec;
  const prepared = prepareCrl({ ...content, ...(alt ? { altSignatureAlgorithm: alt.signatureAlgorithm } : {}) });
  const der = await signPrepared(prepared, signer, alt?.signer);
  checkSigned(der, prepared, { spki: signer.spki, ...(alt ? { altSpki: alt.signer.spki } : {}) });
  return der;
}

import { OctetString, AsnConvert } from '@peculiar/asn1-schema';
import { Extension, Extensions, Name, RevokedCertificate, TBSCertList, Time, Version, CRLReason, CRLReasons, CRLNumber, AuthorityKeyIdentifier, KeyIdentifier, id_ce_cRLNumber, id_ce_authorityKeyIdentifier, id_ce_cRLReasons } from '@peculiar/asn1-x509';
import type { SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { signatureAlgorithmIdentifierObject } from '../keys/verify';
import { altSignatureAlgorithmExtension, altSignatureValueExtension, preTbs } from './catalyst';
import { assembleSigned, wholeSeconds, type AltSigning } from './certificate';

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

export interface CrlSpec {
  issuer: Name;
  /** The issuer's subject key identifier, for the authorityKeyIdentifier extension. */
  issuerKeyId: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
  revoked: { serial: Uint8Array; date: Date; reason?: RevocationReason }[];
  signer: Signer;
  signatureAlgorithm: SignatureAlgorithm;
  alt?: AltSigning;
}

/** A v2 CRL with CRL number and authority key identifier, signed through the Signer. */
export async function buildCrl(spec: CrlSpec): Promise<Uint8Array> {
  const sigAlg = signatureAlgorithmIdentifierObject(spec.signatureAlgorithm);
  const exts: Extension[] = [
    new Extension({ extnID: id_ce_authorityKeyIdentifier, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(spec.issuerKeyId).buffer as ArrayBuffer) })))) }),
    new Extension({ extnID: id_ce_cRLNumber, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(new CRLNumber(Number(spec.crlNumber))))) }),
  ];
  if (spec.alt) exts.push(altSignatureAlgorithmExtension(signatureAlgorithmIdentifierObject(spec.alt.signatureAlgorithm)));
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
  if (spec.alt) {
    const pre = preTbs(new Uint8Array(AsnConvert.serialize(tbs)), 'crl');
    const altSig = await spec.alt.signer.sign(spec.alt.signatureAlgorithm, pre);
    tbs.crlExtensions = new Extensions([...exts, altSignatureValueExtension(altSig)]);
  }
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await spec.signer.sign(spec.signatureAlgorithm, tbsDer);
  return assembleSigned(tbsDer, new Uint8Array(AsnConvert.serialize(sigAlg)), signature);
}

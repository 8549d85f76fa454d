/** CRL rules: RFC 5280 §5 for every CRL, CABF BR 7.2 and 4.9.7 for a publicly trusted hierarchy. */
import { OIDS, bytesSame, serialHexOf, type CrlModel } from '../x509/model';
import { DAY } from './helpers';
import type { CrlLint } from './types';

/** BR 7.2.2 (CRLReasons table): the reasonCodes a CRL entry may carry; unspecified (0) is never encoded. */
export const BR_CRL_REASONS = new Set([1, 3, 4, 5, 9]);

function times(c: CrlModel) {
  return [c.thisUpdate, ...(c.nextUpdate ? [c.nextUpdate] : []), ...c.revoked.map((r) => r.date)];
}

export const CRL_LINTS: CrlLint[] = [
  {
    name: 'rfc5280.crl.version_not_v2', severity: 'error', source: 'RFC 5280 §5.1.2.1', description: 'A CRL with extensions is v2',
    check: (c) => (c.extensions.length > 0 || c.revoked.some((r) => r.extensions.length)) && c.version !== 2 && `the CRL has extensions but is version ${c.version}`,
  },
  {
    name: 'rfc5280.crl.next_update_missing', severity: 'error', source: 'RFC 5280 §5.1.2.5', zlint: 'e_crl_has_next_update', description: 'Conforming CRL issuers include nextUpdate',
    check: (c) => !c.nextUpdate && 'the CRL has no nextUpdate',
  },
  {
    name: 'rfc5280.crl.next_update_before_this_update', severity: 'error', source: 'RFC 5280 §5.1.2.5', description: 'nextUpdate is after thisUpdate',
    check: (c) => c.nextUpdate && c.nextUpdate.date <= c.thisUpdate.date && 'nextUpdate is not after thisUpdate',
  },
  {
    name: 'rfc5280.crl.number_missing', severity: 'error', source: 'RFC 5280 §5.2.3', description: 'Conforming CRL issuers include cRLNumber',
    check: (c) => c.crlNumber === undefined && 'the CRL has no cRLNumber',
  },
  {
    name: 'rfc5280.crl.number_range', severity: 'error', source: 'RFC 5280 §5.2.3; CABF BR 7.2.2', description: 'cRLNumber is a non-negative integer of at most 20 octets (below 2^159)',
    check: (c) => c.crlNumber !== undefined && (c.crlNumber < 0n || c.crlNumber >= 1n << 159n) && `cRLNumber ${c.crlNumber} is out of range`,
  },
  {
    name: 'rfc5280.crl.authority_key_identifier_missing', severity: 'error', source: 'RFC 5280 §5.2.1', description: 'Conforming CRL issuers include authorityKeyIdentifier',
    check: (c) => !c.authorityKeyId?.keyId && 'the CRL has no authorityKeyIdentifier keyIdentifier',
  },
  {
    name: 'rfc5280.crl.signature_algorithm_mismatch', severity: 'error', source: 'RFC 5280 §5.1.1.2', description: 'signatureAlgorithm equals tbsCertList.signature',
    check: (c) => !bytesSame(c.innerSignatureAlgorithm, c.signatureAlgorithm) && 'the outer signatureAlgorithm differs from tbsCertList.signature',
  },
  {
    name: 'rfc5280.crl.signature_unused_bits', severity: 'error', source: 'RFC 5280 §5.1.1.3', description: 'The signature BIT STRING holds whole octets',
    check: (c) => c.signatureUnusedBits !== 0 && `the signature BIT STRING declares ${c.signatureUnusedBits} unused bits`,
  },
  {
    name: 'rfc5280.crl.issuer_empty', severity: 'error', source: 'RFC 5280 §5.1.2.3', description: 'The CRL issuer is a non-empty name',
    check: (c) => c.issuer.rdns.length === 0 && 'the CRL issuer name is empty',
  },
  {
    name: 'rfc5280.crl.revoked_list_empty', severity: 'error', source: 'RFC 5280 §5.1.2.6', description: 'With no revoked certificate, revokedCertificates is absent',
    check: (c) => c.hasRevokedField && c.revoked.length === 0 && 'revokedCertificates is present but empty',
  },
  {
    name: 'rfc5280.crl.time_format', severity: 'error', source: 'RFC 5280 §5.1.2.4 - §5.1.2.6', description: 'UTCTime through 2049, GeneralizedTime from 2050, Zulu with seconds',
    check: (c) =>
      times(c).flatMap((t) => {
        if (t.tag === 0x18 && t.date.getUTCFullYear() < 2050) return [`"${t.text}" is GeneralizedTime before 2050`];
        if (t.tag === 0x17 && !/^\d{12}Z$/.test(t.text)) return [`UTCTime "${t.text}" is not YYMMDDHHMMSSZ`];
        if (t.tag === 0x18 && !/^\d{14}Z$/.test(t.text)) return [`GeneralizedTime "${t.text}" is not YYYYMMDDHHMMSSZ`];
        return [];
      }),
  },
  {
    name: 'rfc5280.crl.extension_malformed', severity: 'error', source: 'RFC 5280 §5.2, §5.3', description: 'The CRL and entry extensions this engine knows decode',
    check: (c) => [...c.extensions, ...c.revoked.flatMap((r) => r.extensions)].filter((e) => e.error).map((e) => `extension ${e.oid} does not decode: ${e.error}`),
  },
  {
    name: 'rfc5280.crl.reason_code_invalid', severity: 'error', source: 'RFC 5280 §5.3.1', zlint: 'e_crl_has_valid_reason_code', description: 'reasonCode is a value RFC 5280 defines',
    check: (c) => c.revoked.filter((r) => r.reason !== undefined && (r.reason === 7 || r.reason > 10)).map((r) => `entry ${serialHexOf(r.serial)} has reasonCode ${r.reason}`),
  },
  {
    name: 'rfc5280.crl.reason_code_unspecified', severity: 'warning', source: 'RFC 5280 §5.3.1', zlint: 'e_crl_has_valid_reason_code', description: 'The reasonCode extension SHOULD be absent rather than unspecified (0)',
    check: (c) => c.revoked.filter((r) => r.reason === 0).map((r) => `entry ${serialHexOf(r.serial)} encodes reasonCode unspecified`),
  },
  {
    name: 'rfc5280.crl.remove_from_crl_in_full_crl', severity: 'error', source: 'RFC 5280 §5.3.1', description: 'removeFromCRL only appears in delta CRLs',
    check: (c) => !c.deltaCrl && c.revoked.filter((r) => r.reason === 8).map((r) => `entry ${serialHexOf(r.serial)} has removeFromCRL in a full CRL`),
  },
  {
    name: 'rfc5280.crl.issuer_mismatch', severity: 'error', source: 'RFC 5280 §6.3.3 (b)', description: 'The CRL issuer is the issuer certificate’s subject',
    check: (c, f) => f.issuer && !bytesSame(f.issuer.subject.der, c.issuer.der) && 'the CRL issuer is not byte for byte the issuer certificate’s subject',
  },
  {
    name: 'rfc5280.crl.authority_key_identifier_mismatch', severity: 'error', source: 'RFC 5280 §5.2.1', description: 'authorityKeyIdentifier names the issuer’s subjectKeyIdentifier',
    check: (c, f) => f.issuer?.subjectKeyId && c.authorityKeyId?.keyId && !bytesSame(f.issuer.subjectKeyId, c.authorityKeyId.keyId) && 'authorityKeyIdentifier differs from the issuer’s subjectKeyIdentifier',
  },
  {
    name: 'br.crl.version_not_v2', severity: 'error', source: 'CABF BR 7.2.1', publicTlsOnly: true, description: 'CRLs are X.509 v2',
    check: (c) => c.version !== 2 && `the CRL is version ${c.version}`,
  },
  {
    name: 'br.crl.reason_code_not_allowed', severity: 'error', source: 'CABF BR 7.2.2 (CRLReasons)', publicTlsOnly: true, zlint: 'e_cab_crl_has_valid_reason_code',
    description: 'reasonCode is keyCompromise, affiliationChanged, superseded, cessationOfOperation or privilegeWithdrawn; unspecified is left out',
    check: (c) => c.revoked.filter((r) => r.reason !== undefined && !BR_CRL_REASONS.has(r.reason)).map((r) => `entry ${serialHexOf(r.serial)} has reasonCode ${r.reason}, which BR 7.2.2 does not allow`),
  },
  {
    name: 'br.crl.reason_code_critical', severity: 'error', source: 'CABF BR 7.2.2', publicTlsOnly: true, zlint: 'e_cab_crl_reason_code_not_critical', description: 'reasonCode is not critical',
    check: (c) => c.revoked.filter((r) => r.extensions.some((e) => e.oid === OIDS.reasonCode && e.critical)).map((r) => `entry ${serialHexOf(r.serial)} has a critical reasonCode`),
  },
  {
    name: 'br.crl.ca_entry_reason_missing', severity: 'error', source: 'CABF BR 7.2.2 (reasonCode MUST be present for a certificate capable of causing issuance)', publicTlsOnly: true,
    description: 'In a CRL of CA certificates every entry carries a reasonCode',
    check: (c, f) => f.scope === 'cas' && c.revoked.filter((r) => r.reason === undefined).map((r) => `entry ${serialHexOf(r.serial)} (a CA certificate) has no reasonCode`),
  },
  {
    name: 'br.crl.next_update_too_far', severity: 'error', source: 'CABF BR 7.2 (nextUpdate), 4.9.7', publicTlsOnly: true,
    description: 'nextUpdate at most 10 days after thisUpdate for subscriber CRLs, 12 months for CA CRLs',
    check: (c, f) => {
      if (!c.nextUpdate) return undefined;
      const days = (c.nextUpdate.date.getTime() - c.thisUpdate.date.getTime()) / 1000 / DAY;
      const max = f.scope === 'subscribers' ? 10 : 366;
      return days > max && `nextUpdate is ${days.toFixed(1)} days after thisUpdate; a CRL of ${f.scope === 'subscribers' ? 'subscriber' : 'CA'} certificates allows ${max === 366 ? '12 months' : '10 days'}`;
    },
  },
  {
    name: 'br.crl.extension_not_recommended', severity: 'notice', source: 'CABF BR 7.2.2 (any other extension NOT RECOMMENDED)', publicTlsOnly: true,
    description: 'Only authorityKeyIdentifier, cRLNumber and issuingDistributionPoint',
    check: (c) => c.extensions.filter((e) => ![OIDS.authorityKeyIdentifier, OIDS.cRLNumber, OIDS.issuingDistributionPoint].includes(e.oid as never)).map((e) => `extension ${e.oid} is not one the BR list for CRLs`),
  },
];

/** RFC 5280 profile rules for every certificate, whatever PKI it belongs to. */
import { OIDS, attributeValues, bytesSame, type CertificateModel } from '../x509/model';
import { ALL_CERTS, CAS, SUBSCRIBERS, RSA_PKCS1_SIGNATURES, algorithmOf, attr, dnsNameProblem, ext, isCa } from './helpers';
import type { CertificateLint } from './types';

/** Extensions the engine and the path validator understand; any other critical one is a warning. */
export const KNOWN_EXTENSIONS = new Set<string>([
  OIDS.subjectKeyIdentifier, OIDS.keyUsage, OIDS.subjectAltName, OIDS.issuerAltName, OIDS.basicConstraints, OIDS.nameConstraints,
  OIDS.cRLDistributionPoints, OIDS.certificatePolicies, OIDS.policyMappings, OIDS.authorityKeyIdentifier, OIDS.policyConstraints,
  OIDS.extKeyUsage, OIDS.freshestCRL, OIDS.inhibitAnyPolicy, OIDS.authorityInfoAccess, OIDS.subjectInfoAccess, OIDS.ocspNoCheck,
  OIDS.sctList, OIDS.ctPoison, OIDS.altSubjectPublicKeyInfo, OIDS.altSignatureAlgorithm, OIDS.altSignatureValue,
]);

const MAX_LENGTHS: [string, string, number][] = [
  [OIDS.organizationName, 'organizationName', 64],
  [OIDS.organizationalUnitName, 'organizationalUnitName', 64],
  [OIDS.localityName, 'localityName', 128],
  [OIDS.stateOrProvinceName, 'stateOrProvinceName', 128],
  [OIDS.serialNumber, 'serialNumber', 64],
  [OIDS.emailAddress, 'emailAddress', 255],
  [OIDS.postalCode, 'postalCode', 40],
];

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function timeProblems(c: CertificateModel): string[] {
  const out: string[] = [];
  for (const [what, t] of [['notBefore', c.notBefore], ['notAfter', c.notAfter]] as const) {
    if (t.tag === 0x17 && !/^\d{12}Z$/.test(t.text)) out.push(`${what} UTCTime "${t.text}" is not YYMMDDHHMMSSZ`);
    if (t.tag === 0x18 && !/^\d{14}Z$/.test(t.text)) out.push(`${what} GeneralizedTime "${t.text}" is not YYYYMMDDHHMMSSZ`);
  }
  return out;
}

export const RFC5280_LINTS: CertificateLint[] = [
  {
    name: 'rfc5280.version_not_v3', severity: 'error', source: 'RFC 5280 §4.1.2.1', kinds: ALL_CERTS, zlint: 'e_cert_extensions_version_not_3',
    description: 'A certificate with extensions must be version 3',
    check: (c) => c.hasExtensionsField && c.version !== 3 && `the certificate has extensions but is version ${c.version}`,
  },
  {
    name: 'rfc5280.version_v1_encoded', severity: 'error', source: 'RFC 5280 §4.1.2.1 (DER: a DEFAULT value is not encoded)', kinds: ALL_CERTS,
    description: 'A v1 certificate leaves the version field out',
    check: (c) => c.versionEncodedV1 && 'the version field is present and says v1',
  },
  {
    name: 'rfc5280.serial_not_positive', severity: 'error', source: 'RFC 5280 §4.1.2.2', kinds: ALL_CERTS, zlint: 'e_serial_number_not_positive',
    description: 'The serial number is a positive integer',
    check: (c) => (c.serial[0] & 0x80 || c.serial.every((b) => b === 0)) && 'the serial number is zero or negative',
  },
  {
    name: 'rfc5280.serial_too_long', severity: 'error', source: 'RFC 5280 §4.1.2.2', kinds: ALL_CERTS, zlint: 'e_serial_number_longer_than_20_octets',
    description: 'The serial number is at most 20 octets',
    check: (c) => c.serial.length > 20 && `the serial number is ${c.serial.length} octets`,
  },
  {
    name: 'rfc5280.signature_algorithm_mismatch', severity: 'error', source: 'RFC 5280 §4.1.1.2', kinds: ALL_CERTS, zlint: 'e_cert_sig_alg_not_match_tbs_sig_alg',
    description: 'signatureAlgorithm equals the signature field inside the TBSCertificate',
    check: (c) => !bytesSame(c.innerSignatureAlgorithm, c.signatureAlgorithm) && 'the outer signatureAlgorithm differs from tbsCertificate.signature',
  },
  {
    name: 'rfc5280.signature_unused_bits', severity: 'error', source: 'RFC 5280 §4.1.1.3', kinds: ALL_CERTS,
    description: 'The signature BIT STRING holds whole octets',
    check: (c) => c.signatureUnusedBits !== 0 && `the signature BIT STRING declares ${c.signatureUnusedBits} unused bits`,
  },
  {
    name: 'rfc5280.validity_not_positive', severity: 'error', source: 'RFC 5280 §4.1.2.5', kinds: ALL_CERTS, zlint: 'e_validity_time_not_positive',
    description: 'notBefore is not after notAfter',
    check: (c) => c.notBefore.date > c.notAfter.date && 'notBefore is after notAfter',
  },
  {
    name: 'rfc5280.generalized_time_before_2050', severity: 'error', source: 'RFC 5280 §4.1.2.5', kinds: ALL_CERTS, zlint: 'e_wrong_time_format_pre2050',
    description: 'Dates through 2049 are UTCTime',
    check: (c) => [c.notBefore, c.notAfter].some((t) => t.tag === 0x18 && t.date.getUTCFullYear() < 2050) && 'a date before 2050 is encoded as GeneralizedTime',
  },
  {
    name: 'rfc5280.time_format', severity: 'error', source: 'RFC 5280 §4.1.2.5.1, §4.1.2.5.2', kinds: ALL_CERTS,
    description: 'Times are in Zulu with seconds and no fraction',
    check: timeProblems,
  },
  {
    name: 'rfc5280.issuer_empty', severity: 'error', source: 'RFC 5280 §4.1.2.4', kinds: ALL_CERTS, zlint: 'e_issuer_field_empty',
    description: 'The issuer is a non-empty name',
    check: (c) => c.issuer.rdns.length === 0 && 'the issuer name is empty',
  },
  {
    name: 'rfc5280.unique_identifier_present', severity: 'error', source: 'RFC 5280 §4.1.2.8', kinds: ALL_CERTS, zlint: 'e_cert_contains_unique_identifier',
    description: 'Conforming CAs do not generate unique identifiers',
    check: (c) => (c.issuerUniqueId || c.subjectUniqueId) && 'issuerUniqueID or subjectUniqueID is present',
  },
  {
    name: 'rfc5280.extension_duplicate', severity: 'error', source: 'RFC 5280 §4.2', kinds: ALL_CERTS, zlint: 'e_ext_duplicate_extension',
    description: 'No extension appears twice',
    check: (c) => {
      const seen = new Set<string>();
      const dup = c.extensions.filter((e) => (seen.has(e.oid) ? true : (seen.add(e.oid), false)));
      return dup.map((e) => `extension ${e.oid} appears more than once`);
    },
  },
  {
    name: 'rfc5280.extensions_empty', severity: 'error', source: 'RFC 5280 §4.1 (Extensions ::= SEQUENCE SIZE (1..MAX))', kinds: ALL_CERTS,
    description: 'An extensions field holds at least one extension',
    check: (c) => c.hasExtensionsField && c.extensions.length === 0 && 'the extensions field is present but empty',
  },
  {
    name: 'rfc5280.extension_malformed', severity: 'error', source: 'RFC 5280 §4.2.1', kinds: ALL_CERTS,
    description: 'Every extension this engine knows decodes',
    check: (c) => c.extensions.filter((e) => e.error).map((e) => `extension ${e.oid} does not decode: ${e.error}`),
  },
  {
    name: 'rfc5280.extension_critical_false_encoded', severity: 'error', source: 'RFC 5280 §4.1 (DER: critical DEFAULT FALSE is not encoded)', kinds: ALL_CERTS,
    description: 'critical FALSE is left out',
    check: (c) => c.extensions.filter((e) => e.criticalEncodedFalse).map((e) => `extension ${e.oid} encodes critical FALSE`),
  },
  {
    name: 'rfc5280.unknown_critical_extension', severity: 'warning', source: 'RFC 5280 §4.2', kinds: ALL_CERTS,
    description: 'A critical extension relying parties may not know makes them reject the certificate',
    check: (c, f) => c.extensions.filter((e) => e.critical && !KNOWN_EXTENSIONS.has(e.oid)).map((e) => `extension ${e.oid} is critical and not one this engine knows; a relying party that does not know it must reject the certificate`),
  },
  {
    name: 'rfc5280.basic_constraints_not_critical', severity: 'error', source: 'RFC 5280 §4.2.1.9', kinds: CAS, zlint: 'e_basic_constraints_not_critical',
    description: 'basicConstraints is critical in a CA certificate',
    check: (c) => c.basicConstraints && !ext(c, OIDS.basicConstraints)!.critical && 'basicConstraints is not critical in a CA certificate',
  },
  {
    name: 'rfc5280.ca_basic_constraints_missing', severity: 'error', source: 'RFC 5280 §4.2.1.9', kinds: CAS,
    description: 'A CA certificate asserts cA in basicConstraints',
    check: (c) => !isCa(c) && 'the certificate is used as a CA but basicConstraints does not assert cA',
  },
  {
    name: 'rfc5280.basic_constraints_ca_false_encoded', severity: 'error', source: 'RFC 5280 §4.2.1.9 (DER: cA DEFAULT FALSE is not encoded)', kinds: ALL_CERTS,
    description: 'cA FALSE is left out',
    check: (c) => c.basicConstraints?.caEncodedFalse && 'basicConstraints encodes cA FALSE',
  },
  {
    name: 'rfc5280.path_len_improperly_included', severity: 'error', source: 'RFC 5280 §4.2.1.9', kinds: ALL_CERTS, zlint: 'e_path_len_constraint_improperly_included',
    description: 'pathLenConstraint only with cA and keyCertSign',
    check: (c) => c.basicConstraints?.pathLen !== undefined && (!c.basicConstraints.ca || (c.keyUsage && !c.keyUsage.bits.has('keyCertSign'))) && 'pathLenConstraint is present without cA TRUE and keyCertSign',
  },
  {
    name: 'rfc5280.key_cert_sign_without_ca', severity: 'error', source: 'RFC 5280 §4.2.1.3, §4.2.1.9', kinds: ALL_CERTS, zlint: 'e_ext_key_usage_cert_sign_without_ca',
    description: 'keyCertSign only in CA certificates',
    check: (c) => c.keyUsage?.bits.has('keyCertSign') && !isCa(c) && 'keyCertSign is set but basicConstraints does not assert cA',
  },
  {
    name: 'rfc5280.key_usage_empty', severity: 'error', source: 'RFC 5280 §4.2.1.3', kinds: ALL_CERTS, zlint: 'e_ext_key_usage_without_bits',
    description: 'keyUsage has at least one bit set',
    check: (c) => c.keyUsage && c.keyUsage.bits.size === 0 && 'keyUsage sets no bit',
  },
  {
    name: 'rfc5280.key_usage_not_critical', severity: 'warning', source: 'RFC 5280 §4.2.1.3', kinds: ALL_CERTS, zlint: 'w_ext_key_usage_not_critical',
    description: 'keyUsage SHOULD be critical',
    check: (c) => c.keyUsage && !ext(c, OIDS.keyUsage)!.critical && 'keyUsage is not critical',
  },
  {
    name: 'rfc5280.key_usage_trailing_zero_octet', severity: 'error', source: 'RFC 5280 §4.2.1.3 (DER named bit list, X.690 §11.2.2)', kinds: ALL_CERTS, zlint: 'e_superfluous_ku_encoding',
    description: 'keyUsage does not end with a zero octet',
    check: (c) => c.keyUsage && c.keyUsage.bytes.length > 0 && c.keyUsage.bytes[c.keyUsage.bytes.length - 1] === 0 && 'keyUsage ends with a zero octet',
  },
  {
    name: 'rfc5280.key_usage_unused_bits', severity: 'error', source: 'RFC 5280 §4.2.1.3 (DER named bit list, X.690 §11.2.2)', kinds: ALL_CERTS,
    description: 'keyUsage declares exactly the trailing zero bits as unused',
    check: (c) => {
      const ku = c.keyUsage;
      const last = ku?.bytes[ku.bytes.length - 1];
      if (!ku || !last) return undefined;
      const lowest = last & -last;
      return lowest !== 1 << ku.unusedBits && `keyUsage declares ${ku.unusedBits} unused bits where DER needs ${Math.log2(lowest)}`;
    },
  },
  {
    name: 'rfc5280.ca_key_usage_missing', severity: 'error', source: 'RFC 5280 §4.2.1.3', kinds: CAS, zlint: 'e_ca_key_usage_missing',
    description: 'A CA certificate has keyUsage',
    check: (c) => !c.keyUsage && !ext(c, OIDS.keyUsage) && 'the CA certificate has no keyUsage extension',
  },
  {
    name: 'rfc5280.encipher_only_without_key_agreement', severity: 'warning', source: 'RFC 5280 §4.2.1.3', kinds: ALL_CERTS,
    description: 'encipherOnly and decipherOnly mean something only with keyAgreement',
    check: (c) => c.keyUsage && (c.keyUsage.bits.has('encipherOnly') || c.keyUsage.bits.has('decipherOnly')) && !c.keyUsage.bits.has('keyAgreement') && 'encipherOnly or decipherOnly is set without keyAgreement',
  },
  {
    name: 'rfc5280.ca_subject_key_identifier_missing', severity: 'error', source: 'RFC 5280 §4.2.1.2', kinds: CAS, zlint: 'e_ext_subject_key_identifier_missing_ca',
    description: 'A CA certificate has a subjectKeyIdentifier',
    check: (c) => !ext(c, OIDS.subjectKeyIdentifier) && 'the CA certificate has no subjectKeyIdentifier',
  },
  {
    name: 'rfc5280.subscriber_subject_key_identifier_missing', severity: 'notice', source: 'RFC 5280 §4.2.1.2', kinds: SUBSCRIBERS,
    description: 'End-entity certificates SHOULD have a subjectKeyIdentifier (the BR say NOT RECOMMENDED for TLS subscribers)',
    privateOnly: true,
    check: (c) => !ext(c, OIDS.subjectKeyIdentifier) && 'the certificate has no subjectKeyIdentifier',
  },
  {
    name: 'rfc5280.subject_key_identifier_critical', severity: 'error', source: 'RFC 5280 §4.2.1.2', kinds: ALL_CERTS, zlint: 'e_ext_subject_key_identifier_critical',
    description: 'subjectKeyIdentifier is not critical',
    check: (c) => ext(c, OIDS.subjectKeyIdentifier)?.critical && 'subjectKeyIdentifier is critical',
  },
  {
    name: 'rfc5280.authority_key_identifier_missing', severity: 'error', source: 'RFC 5280 §4.2.1.1', kinds: ALL_CERTS, zlint: 'e_ext_authority_key_identifier_no_key_identifier',
    description: 'Certificates not self-signed carry authorityKeyIdentifier with a keyIdentifier',
    check: (c, f) => !(f.kind === 'root' && f.selfSigned !== false) && !c.authorityKeyId?.keyId && 'authorityKeyIdentifier with a keyIdentifier is missing',
  },
  {
    name: 'rfc5280.authority_key_identifier_critical', severity: 'error', source: 'RFC 5280 §4.2.1.1', kinds: ALL_CERTS, zlint: 'e_ext_authority_key_identifier_critical',
    description: 'authorityKeyIdentifier is not critical',
    check: (c) => ext(c, OIDS.authorityKeyIdentifier)?.critical && 'authorityKeyIdentifier is critical',
  },
  {
    name: 'rfc5280.authority_key_identifier_mismatch', severity: 'error', source: 'RFC 5280 §4.2.1.1', kinds: ALL_CERTS,
    description: 'authorityKeyIdentifier names the issuer’s subjectKeyIdentifier',
    check: (c, f) => f.issuer?.subjectKeyId && c.authorityKeyId?.keyId && !bytesSame(f.issuer.subjectKeyId, c.authorityKeyId.keyId) && 'authorityKeyIdentifier differs from the issuer’s subjectKeyIdentifier',
  },
  {
    name: 'rfc5280.issuer_name_mismatch', severity: 'error', source: 'RFC 5280 §4.1.2.4, §6.1.3 (a)(4)', kinds: ALL_CERTS,
    description: 'The issuer field is the issuer certificate’s subject',
    check: (c, f) => f.issuer && !bytesSame(f.issuer.subject.der, c.issuer.der) && 'the issuer name is not byte for byte the issuer certificate’s subject',
  },
  {
    name: 'rfc5280.subject_empty_without_san', severity: 'error', source: 'RFC 5280 §4.2.1.6', kinds: ALL_CERTS, zlint: 'e_subject_empty_without_san',
    description: 'An empty subject needs subjectAltName',
    check: (c) => c.subject.rdns.length === 0 && !ext(c, OIDS.subjectAltName) && 'the subject is empty and there is no subjectAltName',
  },
  {
    name: 'rfc5280.san_not_critical_without_subject', severity: 'error', source: 'RFC 5280 §4.2.1.6', kinds: ALL_CERTS, zlint: 'e_ext_san_not_critical_without_subject',
    description: 'With an empty subject, subjectAltName is critical',
    check: (c) => c.subject.rdns.length === 0 && ext(c, OIDS.subjectAltName) && !ext(c, OIDS.subjectAltName)!.critical && 'the subject is empty and subjectAltName is not critical',
  },
  {
    name: 'rfc5280.ca_subject_empty', severity: 'error', source: 'RFC 5280 §4.1.2.6', kinds: CAS, zlint: 'e_ca_subject_field_empty',
    description: 'A CA certificate has a non-empty subject',
    check: (c) => c.subject.rdns.length === 0 && 'the CA certificate’s subject is empty',
  },
  {
    name: 'rfc5280.san_empty', severity: 'error', source: 'RFC 5280 §4.2.1.6', kinds: ALL_CERTS, zlint: 'e_ext_san_no_entries',
    description: 'subjectAltName holds at least one name',
    check: (c) => c.subjectAltName && c.subjectAltName.length === 0 && 'subjectAltName holds no name',
  },
  {
    name: 'rfc5280.san_dns_name_invalid', severity: 'error', source: 'RFC 5280 §4.2.1.6 (preferred name syntax, RFC 1034 §3.5)', kinds: ALL_CERTS,
    description: 'dNSName entries are host names',
    check: (c) => (c.subjectAltName ?? []).flatMap((g) => (g.type === 'dNSName' && dnsNameProblem(g.value) ? [`dNSName "${g.value}" ${dnsNameProblem(g.value)}`] : [])),
  },
  {
    name: 'rfc5280.name_constraints_not_critical', severity: 'error', source: 'RFC 5280 §4.2.1.10', kinds: CAS, zlint: 'e_ext_name_constraints_not_critical',
    description: 'nameConstraints is critical (the BR allow non-critical for legacy clients; see br.ca.name_constraints_not_critical)',
    privateOnly: true,
    check: (c) => ext(c, OIDS.nameConstraints) && !ext(c, OIDS.nameConstraints)!.critical && 'nameConstraints is not critical',
  },
  {
    name: 'rfc5280.name_constraints_in_subscriber', severity: 'error', source: 'RFC 5280 §4.2.1.10', kinds: SUBSCRIBERS, zlint: 'e_ext_name_constraints_not_in_ca',
    description: 'nameConstraints only in CA certificates',
    check: (c) => ext(c, OIDS.nameConstraints) && 'an end-entity certificate carries nameConstraints',
  },
  {
    name: 'rfc5280.name_constraints_empty', severity: 'error', source: 'RFC 5280 §4.2.1.10', kinds: ALL_CERTS, zlint: 'e_name_constraint_empty',
    description: 'nameConstraints has permittedSubtrees or excludedSubtrees',
    check: (c) => c.nameConstraints && !c.nameConstraints.permitted?.length && !c.nameConstraints.excluded?.length && 'nameConstraints has no subtree',
  },
  {
    name: 'rfc5280.name_constraints_minimum_maximum', severity: 'error', source: 'RFC 5280 §4.2.1.10', kinds: ALL_CERTS,
    description: 'minimum is zero and maximum absent in every subtree',
    check: (c) => [...(c.nameConstraints?.permitted ?? []), ...(c.nameConstraints?.excluded ?? [])].some((s) => s.minimum !== 0 || s.maximum !== undefined) && 'a subtree has a non-zero minimum or a maximum',
  },
  {
    name: 'rfc5280.aia_critical', severity: 'error', source: 'RFC 5280 §4.2.2.1', kinds: ALL_CERTS, zlint: 'e_ext_aia_marked_critical',
    description: 'authorityInfoAccess is not critical',
    check: (c) => ext(c, OIDS.authorityInfoAccess)?.critical && 'authorityInfoAccess is critical',
  },
  {
    name: 'rfc5280.crl_distribution_points_critical', severity: 'warning', source: 'RFC 5280 §4.2.1.13', kinds: ALL_CERTS, zlint: 'w_ext_crl_distribution_marked_critical',
    description: 'cRLDistributionPoints SHOULD be non-critical',
    check: (c) => ext(c, OIDS.cRLDistributionPoints)?.critical && 'cRLDistributionPoints is critical',
  },
  {
    name: 'rfc5280.distribution_point_incomplete', severity: 'error', source: 'RFC 5280 §4.2.1.13', kinds: ALL_CERTS, zlint: 'e_distribution_point_incomplete',
    description: 'A DistributionPoint with reasons also has a distributionPoint or cRLIssuer',
    check: (c) => (c.crlDistributionPoints ?? []).some((d) => d.reasons && !d.fullName && !d.nameRelativeToCRLIssuer && !d.cRLIssuer) && 'a DistributionPoint has only reasons',
  },
  {
    name: 'rfc5280.certificate_policies_duplicate', severity: 'error', source: 'RFC 5280 §4.2.1.4', kinds: ALL_CERTS, zlint: 'e_ext_cert_policy_duplicate',
    description: 'A policy identifier appears once',
    check: (c) => {
      const oids = (c.policies ?? []).map((p) => p.oid);
      return oids.length !== new Set(oids).size && 'a policy identifier appears more than once';
    },
  },
  {
    name: 'rfc5280.any_policy_qualifier_not_allowed', severity: 'error', source: 'RFC 5280 §4.2.1.4', kinds: ALL_CERTS, zlint: 'e_ext_cert_policy_disallowed_any_policy_qualifier',
    description: 'anyPolicy carries only CPS and user notice qualifiers',
    check: (c) => (c.policies ?? []).some((p) => p.oid === OIDS.anyPolicy && p.qualifiers.some((q) => q.oid !== OIDS.qtCps && q.oid !== OIDS.qtUnotice)) && 'anyPolicy has a qualifier other than CPS or user notice',
  },
  {
    name: 'rfc5280.explicit_text_ia5', severity: 'error', source: 'RFC 6818 §3 (updating RFC 5280 §4.2.1.4)', kinds: ALL_CERTS, zlint: 'e_ext_cert_policy_explicit_text_ia5_string',
    description: 'explicitText is not an IA5String',
    check: (c) => (c.policies ?? []).some((p) => p.qualifiers.some((q) => q.explicitText?.tag === 0x16)) && 'a user notice explicitText is an IA5String',
  },
  {
    name: 'rfc5280.explicit_text_too_long', severity: 'error', source: 'RFC 6818 §3 (updating RFC 5280 §4.2.1.4)', kinds: ALL_CERTS, zlint: 'e_ext_cert_policy_explicit_text_too_long',
    description: 'explicitText is at most 200 characters',
    check: (c) => (c.policies ?? []).some((p) => p.qualifiers.some((q) => q.explicitText && [...q.explicitText.value].length > 200)) && 'a user notice explicitText is longer than 200 characters',
  },
  {
    name: 'rfc5280.explicit_text_not_utf8', severity: 'warning', source: 'RFC 6818 §3 (updating RFC 5280 §4.2.1.4)', kinds: ALL_CERTS, zlint: 'w_ext_cert_policy_explicit_text_not_utf8',
    description: 'explicitText SHOULD be a UTF8String',
    check: (c) => (c.policies ?? []).some((p) => p.qualifiers.some((q) => q.explicitText && q.explicitText.tag !== 0x0c)) && 'a user notice explicitText is not a UTF8String',
  },
  {
    name: 'rfc5280.notice_reference_present', severity: 'warning', source: 'RFC 5280 §4.2.1.4', kinds: ALL_CERTS, zlint: 'w_ext_cert_policy_contains_noticeref',
    description: 'Conforming CAs SHOULD NOT use noticeRef',
    check: (c) => (c.policies ?? []).some((p) => p.qualifiers.some((q) => q.noticeRef)) && 'a user notice has a noticeRef',
  },
  {
    name: 'rfc5280.eku_critical_with_any', severity: 'warning', source: 'RFC 5280 §4.2.1.12', kinds: ALL_CERTS, zlint: 'w_eku_critical_improperly',
    description: 'anyExtendedKeyUsage SHOULD NOT be in a critical extKeyUsage',
    check: (c) => c.extKeyUsage?.includes(OIDS.anyEku) && ext(c, OIDS.extKeyUsage)!.critical && 'extKeyUsage is critical and contains anyExtendedKeyUsage',
  },
  {
    name: 'rfc5280.country_not_printable', severity: 'error', source: 'RFC 5280 Appendix A (countryName is PrintableString)', kinds: ALL_CERTS, zlint: 'e_subject_dn_country_not_printable_string',
    description: 'countryName is a PrintableString',
    check: (c) => attributeValues(c.subject, OIDS.countryName).some((a) => a.tag !== 0x13) && 'the subject countryName is not a PrintableString',
  },
  {
    name: 'rfc5280.common_name_too_long', severity: 'error', source: 'RFC 5280 Appendix A (ub-common-name 64)', kinds: ALL_CERTS, zlint: 'e_subject_common_name_max_length',
    description: 'commonName is at most 64 characters',
    check: (c) => attr(c.subject, OIDS.commonName).filter((v) => [...v].length > 64).map((v) => `commonName "${v.slice(0, 20)}…" is longer than 64 characters`),
  },
  {
    name: 'rfc5280.subject_attribute_too_long', severity: 'error', source: 'RFC 5280 Appendix A (upper bounds)', kinds: ALL_CERTS,
    description: 'Subject attributes stay within their upper bounds',
    check: (c) => MAX_LENGTHS.flatMap(([oid, name, max]) => attr(c.subject, oid).filter((v) => [...v].length > max).map(() => `${name} is longer than ${max} characters`)),
  },
  {
    name: 'rfc5280.printable_string_invalid', severity: 'error', source: 'RFC 5280 Appendix B (PrintableString alphabet)', kinds: ALL_CERTS, zlint: 'e_subject_printable_string_badalpha',
    description: 'PrintableString values use the PrintableString alphabet',
    check: (c) => c.subject.rdns.flat().filter((a) => a.tag === 0x13 && (!a.value || !PRINTABLE.test(a.value))).map((a) => `the PrintableString value of ${a.oid} is empty or has characters outside its alphabet`),
  },
  {
    name: 'rfc5280.rsa_spki_parameters_not_null', severity: 'error', source: 'RFC 3279 §2.3.1 (as RFC 5280 §4.1.2.7 refers)', kinds: ALL_CERTS, zlint: 'e_spki_rsa_encryption_parameter_not_null',
    description: 'An rsaEncryption key has NULL parameters',
    check: (c) => c.spkiAlgorithm === OIDS.rsaEncryption && !(c.spkiParameters && c.spkiParameters.length === 2 && c.spkiParameters[0] === 0x05) && 'the rsaEncryption key’s parameters are not NULL',
  },
  {
    name: 'rfc5280.rsa_signature_parameters_not_null', severity: 'error', source: 'RFC 4055 §5 (as RFC 5280 §4.1.1.2 refers)', kinds: ALL_CERTS, zlint: 'e_tbs_signature_rsa_encryption_parameter_not_null',
    description: 'An RSA PKCS#1 v1.5 signature algorithm has NULL parameters',
    check: (c) => {
      const a = algorithmOf(c.innerSignatureAlgorithm);
      return a && RSA_PKCS1_SIGNATURES.has(a.oid) && a.params !== 'null' && 'the RSA signature algorithm’s parameters are not NULL';
    },
  },
];

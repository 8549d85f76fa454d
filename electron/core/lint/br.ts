/**
 * The CA/Browser Forum Baseline Requirements (TLS) certificate profiles: 7.1.2.1 roots, 7.1.2.6 /
 * 7.1.2.10 TLS subordinate CAs, 7.1.2.7 TLS subscribers, 6.1.5 keys, 6.3.2 validity. They apply
 * only to a publicly trusted TLS hierarchy (a profile with `pki: public-tls`).
 */
import { OIDS, attributeValues, bytesSame, type CertificateModel, type KeyUsageBit } from '../x509/model';
import { ISO_3166_ALPHA2, ALL_CERTS, BR_RESERVED_POLICIES, CAS, CURVES, DAY, ECDSA_SIGNATURES, RSA_PKCS1_SIGNATURES, algorithmOf, attr, ext, generalNameText, ipText, validitySeconds } from './helpers';
import type { CertificateLint } from './types';

/** BR 6.3.2: the longest validity by issuance date (MUST) and the figure it SHOULD stay within. */
export const BR_SUBSCRIBER_VALIDITY: { from: string; maxDays: number; shouldDays: number }[] = [
  { from: '2020-09-01', maxDays: 398, shouldDays: 397 },
  { from: '2026-03-15', maxDays: 200, shouldDays: 199 },
  { from: '2027-03-15', maxDays: 100, shouldDays: 99 },
  { from: '2029-03-15', maxDays: 47, shouldDays: 46 },
];

export function brSubscriberValidityAt(at: Date): { from: string; maxDays: number; shouldDays: number } {
  let rule = BR_SUBSCRIBER_VALIDITY[0];
  for (const r of BR_SUBSCRIBER_VALIDITY) if (at.getTime() >= Date.parse(r.from + 'T00:00:00Z')) rule = r;
  return rule;
}

const TLS_CA = ['subordinate-ca'] as const;
const TLS_SUB = ['tls-subscriber'] as const;
const FORBIDDEN_EKU: Record<string, string> = {
  [OIDS.codeSigning]: 'codeSigning',
  [OIDS.emailProtection]: 'emailProtection',
  [OIDS.timeStamping]: 'timeStamping',
  [OIDS.ocspSigning]: 'OCSPSigning',
  [OIDS.anyEku]: 'anyExtendedKeyUsage',
  [OIDS.precertSigning]: 'Precertificate Signing',
};


function reservedPolicies(c: CertificateModel): string[] {
  return (c.policies ?? []).map((p) => p.oid).filter((o) => o in BR_RESERVED_POLICIES);
}

function httpOnly(uris: string[]): boolean {
  return uris.length > 0 && uris.every((u) => /^http:\/\//i.test(u));
}

function cdpProblems(c: CertificateModel): string[] {
  const out: string[] = [];
  for (const d of c.crlDistributionPoints ?? []) {
    if (d.reasons) out.push('a DistributionPoint has reasons');
    if (d.cRLIssuer) out.push('a DistributionPoint has cRLIssuer');
    if (!d.fullName) out.push('a DistributionPoint is not a fullName');
    else if (!httpOnly(d.fullName.map((g) => (g.type === 'uniformResourceIdentifier' ? g.value : '')))) out.push('a DistributionPoint fullName is not only http:// URIs');
  }
  return out;
}

function aiaProblems(c: CertificateModel): string[] {
  return (c.authorityInfoAccess ?? []).flatMap((a) => {
    if (a.method !== OIDS.adOcsp && a.method !== OIDS.adCaIssuers) return [`accessMethod ${a.method} is not id-ad-ocsp or id-ad-caIssuers`];
    if (a.location.type !== 'uniformResourceIdentifier') return [`an accessLocation is a ${a.location.type}, not a URI`];
    return /^https?:\/\//i.test(a.location.value) ? [] : [`accessLocation "${a.location.value}" is not an HTTP URL`];
  });
}

function subscriberUsageAllowed(family: string): KeyUsageBit[] {
  return family === 'rsa' ? ['digitalSignature', 'keyEncipherment', 'dataEncipherment'] : ['digitalSignature', 'keyAgreement'];
}

const br = (l: Omit<CertificateLint, 'publicTlsOnly'>): CertificateLint => ({ ...l, publicTlsOnly: true });

export const BR_LINTS: CertificateLint[] = [
  br({
    name: 'br.version_not_v3', severity: 'error', source: 'CABF BR 7.1.1', kinds: ALL_CERTS, zlint: 'e_invalid_certificate_version',
    description: 'Certificates are X.509 v3',
    check: (c) => c.version !== 3 && `the certificate is version ${c.version}`,
  }),
  br({
    name: 'br.serial_number_entropy', severity: 'warning', source: 'CABF BR 7.1 (at least 64 bits of CSPRNG output)', kinds: ALL_CERTS,
    description: 'The serial number is long enough to carry 64 random bits',
    check: (c) => c.serial.length < 9 && `the serial number is ${c.serial.length} octets, too short to hold 64 random bits`,
  }),
  br({
    name: 'br.public_key_not_allowed', severity: 'error', source: 'CABF BR 6.1.5, 7.1.3.1', kinds: ALL_CERTS, zlint: 'e_public_key_type_not_allowed',
    description: 'The key is RSA or ECDSA',
    check: (_c, f) => (f.key.family === 'ml-dsa' || f.key.family === 'ed25519' || f.key.family === 'unknown') && `a ${f.key.mlDsa ?? f.key.family} key is not allowed in a publicly trusted TLS certificate`,
  }),
  br({
    name: 'br.ec_curve_not_allowed', severity: 'error', source: 'CABF BR 6.1.5', kinds: ALL_CERTS, zlint: 'e_ec_improper_curves',
    description: 'EC keys are on P-256, P-384 or P-521',
    check: (_c, f) => f.key.family === 'ec' && f.key.curve && !Object.values(CURVES).includes(f.key.curve as never) && `curve ${f.key.curve} is not P-256, P-384 or P-521`,
  }),
  br({
    name: 'br.rsa_modulus_too_small', severity: 'error', source: 'CABF BR 6.1.5', kinds: ALL_CERTS, zlint: 'e_rsa_mod_less_than_2048_bits',
    description: 'RSA moduli are at least 2048 bits',
    check: (_c, f) => f.key.family === 'rsa' && f.key.rsaBits !== undefined && f.key.rsaBits < 2048 && `the RSA modulus is ${f.key.rsaBits} bits`,
  }),
  br({
    name: 'br.rsa_modulus_not_multiple_of_8', severity: 'error', source: 'CABF BR 6.1.5 (modulus size in bits divisible by 8)', kinds: ALL_CERTS, zlint: 'e_mp_modulus_must_be_divisible_by_8',
    description: 'RSA modulus sizes are multiples of 8 bits',
    check: (_c, f) => f.key.rsaBits !== undefined && f.key.rsaBits % 8 !== 0 && `the RSA modulus is ${f.key.rsaBits} bits`,
  }),
  br({
    name: 'br.rsa_exponent_invalid', severity: 'error', source: 'CABF BR 6.1.6', kinds: ALL_CERTS,
    description: 'The RSA public exponent is odd and at least 3',
    check: (_c, f) => f.key.rsaExponent !== undefined && (f.key.rsaExponent % 2n === 0n || f.key.rsaExponent < 3n) && `the RSA public exponent ${f.key.rsaExponent} is even or below 3`,
  }),
  br({
    name: 'br.signature_algorithm_not_allowed', severity: 'error', source: 'CABF BR 7.1.3.2', kinds: ALL_CERTS,
    description: 'The signature is RSA PKCS#1 v1.5, RSASSA-PSS or ECDSA with SHA-256/384/512',
    check: (c) => {
      const a = algorithmOf(c.signatureAlgorithm);
      return a && !RSA_PKCS1_SIGNATURES.has(a.oid) && !ECDSA_SIGNATURES.has(a.oid) && a.oid !== OIDS.rsassaPss && `signature algorithm ${a.oid} is not allowed in a publicly trusted TLS hierarchy`;
    },
  }),
  br({
    name: 'br.ca.subject_country_missing', severity: 'error', source: 'CABF BR 7.1.2.10.2', kinds: CAS, zlint: 'e_ca_country_name_missing',
    description: 'CA subjects have countryName',
    check: (c) => !attr(c.subject, OIDS.countryName).some((v) => v.trim()) && 'the CA subject has no countryName',
  }),
  br({
    name: 'br.ca.subject_country_invalid', severity: 'error', source: 'CABF BR 7.1.2.10.2 (ISO 3166-1 alpha-2)', kinds: CAS, zlint: 'e_ca_country_name_invalid',
    description: 'countryName is a two-letter ISO 3166-1 code',
    check: (c) => attr(c.subject, OIDS.countryName).filter((v) => !ISO_3166_ALPHA2.has(v)).map((v) => `countryName "${v}" is not an ISO 3166-1 code`),
  }),
  br({
    name: 'br.ca.subject_organization_missing', severity: 'error', source: 'CABF BR 7.1.2.10.2', kinds: CAS, zlint: 'e_ca_organization_name_missing',
    description: 'CA subjects have organizationName',
    check: (c) => !attr(c.subject, OIDS.organizationName).some((v) => v.trim()) && 'the CA subject has no organizationName',
  }),
  br({
    name: 'br.ca.subject_common_name_missing', severity: 'error', source: 'CABF BR 7.1.2.10.2', kinds: CAS, zlint: 'e_ca_common_name_missing',
    description: 'CA subjects have commonName',
    check: (c) => !attr(c.subject, OIDS.commonName).some((v) => v.trim()) && 'the CA subject has no commonName',
  }),
  br({
    name: 'br.ca.subject_organizational_unit_present', severity: 'error', source: 'CABF BR 7.1.2.10.2', kinds: CAS,
    description: 'Root and TLS subordinate CA subjects have no organizationalUnitName',
    check: (c) => attr(c.subject, OIDS.organizationalUnitName).length > 0 && 'the CA subject has an organizationalUnitName',
  }),
  br({
    name: 'br.ca.key_cert_sign_missing', severity: 'error', source: 'CABF BR 7.1.2.10.7', kinds: CAS, zlint: 'e_ca_key_cert_sign_not_set',
    description: 'CA keyUsage has keyCertSign',
    check: (c) => c.keyUsage && !c.keyUsage.bits.has('keyCertSign') && 'keyCertSign is not set',
  }),
  br({
    name: 'br.ca.crl_sign_missing', severity: 'error', source: 'CABF BR 7.1.2.10.7', kinds: CAS, zlint: 'e_ca_crl_sign_not_set',
    description: 'CA keyUsage has cRLSign',
    check: (c) => c.keyUsage && !c.keyUsage.bits.has('cRLSign') && 'cRLSign is not set',
  }),
  br({
    name: 'br.ca.key_usage_not_allowed', severity: 'error', source: 'CABF BR 7.1.2.10.7', kinds: CAS,
    description: 'CA keyUsage is only digitalSignature, keyCertSign and cRLSign',
    check: (c) => [...(c.keyUsage?.bits ?? [])].filter((b) => !['digitalSignature', 'keyCertSign', 'cRLSign'].includes(b)).map((b) => `${b} is not allowed in a CA certificate`),
  }),
  br({
    name: 'br.ca.key_usage_not_critical', severity: 'error', source: 'CABF BR 7.1.2.1.2, 7.1.2.6.1', kinds: CAS, zlint: 'e_ca_key_usage_not_critical',
    description: 'CA keyUsage is critical',
    check: (c) => c.keyUsage && !ext(c, OIDS.keyUsage)!.critical && 'keyUsage is not critical',
  }),
  br({
    name: 'br.ca.digital_signature_not_set', severity: 'notice', source: 'CABF BR 7.1.2.10.7 (without it the CA key must not sign OCSP responses)', kinds: CAS, zlint: 'n_ca_digital_signature_not_set',
    description: 'Without digitalSignature the CA key cannot sign OCSP responses',
    check: (c) => c.keyUsage && !c.keyUsage.bits.has('digitalSignature') && 'digitalSignature is not set: this CA key may not sign OCSP responses',
  }),
  br({
    name: 'br.ca.name_constraints_not_critical', severity: 'warning', source: 'CABF BR 7.1.2.10.8', kinds: CAS, zlint: 'w_sub_ca_name_constraints_not_critical',
    description: 'nameConstraints SHOULD be critical',
    check: (c) => ext(c, OIDS.nameConstraints) && !ext(c, OIDS.nameConstraints)!.critical && 'nameConstraints is not critical',
  }),
  br({
    name: 'br.aia_content', severity: 'error', source: 'CABF BR 7.1.2.7.7, 7.1.2.10.3', kinds: ALL_CERTS,
    description: 'authorityInfoAccess holds only OCSP and caIssuers HTTP URLs',
    check: aiaProblems,
  }),
  br({
    name: 'br.crl_distribution_points_content', severity: 'error', source: 'CABF BR 7.1.2.11.2', kinds: ALL_CERTS,
    description: 'Each DistributionPoint is a fullName of http:// URIs, without reasons or cRLIssuer',
    check: cdpProblems,
  }),
  br({
    name: 'br.policy_qualifier_not_allowed', severity: 'error', source: 'CABF BR 7.1.2.7.9, 7.1.2.10.5 (only id-qt-cps)', kinds: ALL_CERTS, zlint: 'e_policy_qualifiers_other_than_cps_not_permitted',
    description: 'Policy qualifiers are only id-qt-cps',
    check: (c) => (c.policies ?? []).some((p) => p.qualifiers.some((q) => q.oid !== OIDS.qtCps)) && 'a policy qualifier is not id-qt-cps (a user notice is not allowed)',
  }),
  br({
    name: 'br.policy_cps_not_http', severity: 'error', source: 'CABF BR 7.1.2.7.9, 7.1.2.10.5', kinds: ALL_CERTS,
    description: 'A CPS qualifier is an HTTP or HTTPS URL',
    check: (c) => (c.policies ?? []).flatMap((p) => p.qualifiers.filter((q) => q.oid === OIDS.qtCps && !/^https?:\/\//i.test(q.text ?? '')).map((q) => `CPS qualifier "${q.text}" is not an HTTP(S) URL`)),
  }),
  br({
    name: 'br.root.eku_present', severity: 'error', source: 'CABF BR 7.1.2.1.2', kinds: ['root'], zlint: 'e_root_ca_extended_key_usage_present',
    description: 'Roots have no extKeyUsage',
    check: (c) => ext(c, OIDS.extKeyUsage) && 'the root has extKeyUsage',
  }),
  br({
    name: 'br.root.path_len_present', severity: 'warning', source: 'CABF BR 7.1.2.1.4 (NOT RECOMMENDED)', kinds: ['root'], zlint: 'w_root_ca_basic_constraints_path_len_constraint_field_present',
    description: 'Roots SHOULD NOT set pathLenConstraint',
    check: (c) => c.basicConstraints?.pathLen !== undefined && `the root sets pathLenConstraint ${c.basicConstraints.pathLen}`,
  }),
  br({
    name: 'br.root.certificate_policies_present', severity: 'warning', source: 'CABF BR 7.1.2.1.2 (NOT RECOMMENDED)', kinds: ['root'], zlint: 'w_root_ca_contains_cert_policy',
    description: 'Roots SHOULD NOT have certificatePolicies',
    check: (c) => ext(c, OIDS.certificatePolicies) && 'the root has certificatePolicies',
  }),
  br({
    name: 'br.root.crl_distribution_points_present', severity: 'warning', source: 'CABF BR 7.1.2.11.2 (SHOULD NOT)', kinds: ['root'],
    description: 'Roots SHOULD NOT have cRLDistributionPoints',
    check: (c) => ext(c, OIDS.cRLDistributionPoints) && 'the root has cRLDistributionPoints',
  }),
  br({
    name: 'br.root.validity_out_of_range', severity: 'error', source: 'CABF BR 7.1.2.1.1 (2922 to 9132 days)', kinds: ['root'],
    description: 'A root is valid at least 2922 and at most 9132 days',
    check: (c) => {
      const days = validitySeconds(c) / DAY;
      return (days < 2922 || days > 9132) && `the root is valid ${Math.round(days)} days`;
    },
  }),
  br({
    name: 'br.root.authority_key_identifier', severity: 'error', source: 'CABF BR 7.1.2.1.3', kinds: ['root'],
    description: 'A root’s authorityKeyIdentifier, if present, is its own keyIdentifier only',
    check: (c) => {
      const a = c.authorityKeyId;
      if (!a) return undefined;
      if (a.issuer || a.serial) return 'authorityKeyIdentifier has authorityCertIssuer or authorityCertSerialNumber';
      return (!a.keyId || !c.subjectKeyId || !bytesSame(a.keyId, c.subjectKeyId)) && 'authorityKeyIdentifier is not the root’s subjectKeyIdentifier';
    },
  }),
  br({
    name: 'br.authority_key_identifier_fields', severity: 'error', source: 'CABF BR 7.1.2.11.1', kinds: ['subordinate-ca', 'tls-subscriber'],
    description: 'authorityKeyIdentifier has keyIdentifier only',
    check: (c) => (c.authorityKeyId?.issuer || c.authorityKeyId?.serial) && 'authorityKeyIdentifier has authorityCertIssuer or authorityCertSerialNumber',
  }),
  br({
    name: 'br.sub_ca.aia_missing', severity: 'warning', source: 'CABF BR 7.1.2.6.1 (SHOULD)', kinds: TLS_CA, zlint: 'e_sub_ca_aia_missing',
    description: 'TLS subordinate CAs SHOULD have authorityInfoAccess',
    check: (c) => !ext(c, OIDS.authorityInfoAccess) && 'the subordinate CA has no authorityInfoAccess',
  }),
  br({
    name: 'br.sub_ca.ca_issuers_missing', severity: 'warning', source: 'CABF BR 7.1.2.6.1, 7.1.2.10.3', kinds: TLS_CA, zlint: 'w_sub_ca_aia_does_not_contain_issuing_ca_url',
    description: 'A subordinate CA SHOULD give its issuer’s certificate URL (caIssuers)',
    check: (c) => !(c.authorityInfoAccess ?? []).some((a) => a.method === OIDS.adCaIssuers && a.location.type === 'uniformResourceIdentifier' && /^http:\/\//i.test(a.location.value)) && 'there is no http:// caIssuers URL',
  }),
  br({
    name: 'br.subscriber.ca_issuers_missing', severity: 'warning', source: 'CABF BR 7.1.2.7.7 (SHOULD)', kinds: TLS_SUB, zlint: 'w_sub_cert_aia_does_not_contain_issuing_ca_url',
    description: 'A subscriber certificate SHOULD give its issuer’s certificate URL (caIssuers)',
    check: (c) => !(c.authorityInfoAccess ?? []).some((a) => a.method === OIDS.adCaIssuers && a.location.type === 'uniformResourceIdentifier' && /^http:\/\//i.test(a.location.value)) && 'there is no http:// caIssuers URL',
  }),
  br({
    name: 'br.sub_ca.crl_distribution_points_missing', severity: 'error', source: 'CABF BR 7.1.2.6.1, 7.1.2.11.2', kinds: TLS_CA, zlint: 'e_sub_ca_crl_distribution_points_missing',
    description: 'Subordinate CAs have cRLDistributionPoints',
    check: (c) => !ext(c, OIDS.cRLDistributionPoints) && 'the subordinate CA has no cRLDistributionPoints',
  }),
  br({
    name: 'br.sub_ca.certificate_policies_missing', severity: 'error', source: 'CABF BR 7.1.2.6.1', kinds: TLS_CA, zlint: 'e_sub_ca_certificate_policies_missing',
    description: 'Subordinate CAs have certificatePolicies',
    check: (c) => !ext(c, OIDS.certificatePolicies) && 'the subordinate CA has no certificatePolicies',
  }),
  br({
    name: 'br.sub_ca.policy_not_reserved', severity: 'error', source: 'CABF BR 7.1.2.10.5', kinds: TLS_CA,
    description: 'anyPolicy alone (affiliated CA), or exactly one CA/B Forum reserved policy and no anyPolicy',
    check: (c) => {
      const p = c.policies;
      if (!p) return undefined;
      if (p.some((x) => x.oid === OIDS.anyPolicy)) return p.length !== 1 && 'anyPolicy is not the only policy';
      const r = reservedPolicies(c).length;
      return r !== 1 && `the certificate has ${r} CA/B Forum reserved policy identifiers (2.23.140.1.…), not exactly one`;
    },
  }),
  br({
    name: 'br.sub_ca.eku_missing', severity: 'error', source: 'CABF BR 7.1.2.6.1, 7.1.2.10.6', kinds: TLS_CA, zlint: 'n_sub_ca_eku_missing',
    description: 'TLS subordinate CAs have extKeyUsage',
    check: (c) => !ext(c, OIDS.extKeyUsage) && 'the subordinate CA has no extKeyUsage',
  }),
  br({
    name: 'br.sub_ca.eku_content', severity: 'error', source: 'CABF BR 7.1.2.10.6', kinds: TLS_CA,
    description: 'TLS subordinate CA extKeyUsage has serverAuth, may have clientAuth, and nothing the BR forbid',
    check: (c) => {
      const e = c.extKeyUsage;
      if (!e) return undefined;
      return [...(e.includes(OIDS.serverAuth) ? [] : ['extKeyUsage has no serverAuth']), ...e.filter((o) => FORBIDDEN_EKU[o]).map((o) => `extKeyUsage has ${FORBIDDEN_EKU[o]}`)];
    },
  }),
  br({
    name: 'br.sub_ca.eku_critical', severity: 'error', source: 'CABF BR 7.1.2.6.1', kinds: TLS_CA, zlint: 'w_sub_ca_eku_critical',
    description: 'A subordinate CA’s extKeyUsage is not critical',
    check: (c) => ext(c, OIDS.extKeyUsage)?.critical && 'extKeyUsage is critical',
  }),
  br({
    name: 'br.sub_ca.certificate_policies_critical', severity: 'error', source: 'CABF BR 7.1.2.6.1', kinds: TLS_CA, zlint: 'w_sub_ca_certificate_policies_marked_critical',
    description: 'certificatePolicies is not critical',
    check: (c) => ext(c, OIDS.certificatePolicies)?.critical && 'certificatePolicies is critical',
  }),
  br({
    name: 'br.subscriber.eku_missing', severity: 'error', source: 'CABF BR 7.1.2.7.6', kinds: TLS_SUB, zlint: 'e_sub_cert_eku_missing',
    description: 'Subscriber certificates have extKeyUsage',
    check: (c) => !ext(c, OIDS.extKeyUsage) && 'the certificate has no extKeyUsage',
  }),
  br({
    name: 'br.subscriber.eku_content', severity: 'error', source: 'CABF BR 7.1.2.7.10', kinds: TLS_SUB,
    description: 'extKeyUsage has serverAuth, may have clientAuth, and nothing the BR forbid',
    check: (c) => {
      const e = c.extKeyUsage;
      if (!e) return undefined;
      return [...(e.includes(OIDS.serverAuth) ? [] : ['extKeyUsage has no serverAuth']), ...e.filter((o) => FORBIDDEN_EKU[o]).map((o) => `extKeyUsage has ${FORBIDDEN_EKU[o]}`)];
    },
  }),
  br({
    name: 'br.subscriber.eku_critical', severity: 'error', source: 'CABF BR 7.1.2.7.6', kinds: TLS_SUB, zlint: 'e_eku_critical',
    description: 'extKeyUsage is not critical',
    check: (c) => ext(c, OIDS.extKeyUsage)?.critical && 'extKeyUsage is critical',
  }),
  br({
    name: 'br.subscriber.basic_constraints', severity: 'error', source: 'CABF BR 7.1.2.7.8', kinds: TLS_SUB, zlint: 'e_sub_cert_basic_constraints_not_critical',
    description: 'basicConstraints, if present, is critical with cA FALSE and no pathLenConstraint',
    check: (c) => {
      const e = ext(c, OIDS.basicConstraints);
      if (!e) return undefined;
      return [...(e.critical ? [] : ['basicConstraints is not critical']), ...(c.basicConstraints?.ca ? ['cA is TRUE'] : []), ...(c.basicConstraints?.pathLen !== undefined ? ['pathLenConstraint is present'] : [])];
    },
  }),
  br({
    name: 'br.subscriber.key_cert_sign', severity: 'error', source: 'CABF BR 7.1.2.7.11', kinds: TLS_SUB, zlint: 'e_sub_cert_key_usage_cert_sign_bit_set',
    description: 'keyCertSign is not set',
    check: (c) => c.keyUsage?.bits.has('keyCertSign') && 'keyCertSign is set in a subscriber certificate',
  }),
  br({
    name: 'br.subscriber.crl_sign', severity: 'error', source: 'CABF BR 7.1.2.7.11', kinds: TLS_SUB, zlint: 'e_sub_cert_key_usage_crl_sign_bit_set',
    description: 'cRLSign is not set',
    check: (c) => c.keyUsage?.bits.has('cRLSign') && 'cRLSign is set in a subscriber certificate',
  }),
  br({
    name: 'br.subscriber.key_usage_not_allowed', severity: 'error', source: 'CABF BR 7.1.2.7.11', kinds: TLS_SUB,
    description: 'keyUsage follows the table for the key type (RSA: digitalSignature, keyEncipherment; ECC: digitalSignature)',
    check: (c, f) => {
      if (!c.keyUsage) return undefined;
      const allowed = subscriberUsageAllowed(f.key.family);
      const bad = [...c.keyUsage.bits].filter((b) => !allowed.includes(b) && b !== 'keyCertSign' && b !== 'cRLSign').map((b) => `${b} is not allowed for a ${f.key.family} key`);
      if (f.key.family === 'ec' && !c.keyUsage.bits.has('digitalSignature')) bad.push('an ECC key needs digitalSignature');
      return bad;
    },
  }),
  br({
    name: 'br.subscriber.aia_missing', severity: 'error', source: 'CABF BR 7.1.2.7.6', kinds: TLS_SUB, zlint: 'e_sub_cert_aia_missing',
    description: 'Subscriber certificates have authorityInfoAccess',
    check: (c) => !ext(c, OIDS.authorityInfoAccess) && 'the certificate has no authorityInfoAccess',
  }),
  br({
    name: 'br.subscriber.revocation_pointer_missing', severity: 'error', source: 'CABF BR 7.1.2.11.2', kinds: TLS_SUB,
    description: 'cRLDistributionPoints unless short-lived or an OCSP URL is given',
    check: (c) => {
      const ocsp = (c.authorityInfoAccess ?? []).some((a) => a.method === OIDS.adOcsp);
      const shortLived = validitySeconds(c) <= 7 * DAY;
      return !ocsp && !shortLived && !ext(c, OIDS.cRLDistributionPoints) && 'the certificate has neither cRLDistributionPoints nor an OCSP URL';
    },
  }),
  br({
    name: 'br.subscriber.certificate_policies_missing', severity: 'error', source: 'CABF BR 7.1.2.7.6', kinds: TLS_SUB, zlint: 'e_sub_cert_certificate_policies_missing',
    description: 'Subscriber certificates have certificatePolicies',
    check: (c) => !ext(c, OIDS.certificatePolicies) && 'the certificate has no certificatePolicies',
  }),
  br({
    name: 'br.subscriber.policy_not_reserved', severity: 'error', source: 'CABF BR 7.1.2.7.9', kinds: TLS_SUB,
    description: 'Exactly one CA/B Forum reserved policy identifier and no anyPolicy',
    check: (c) => {
      if (!c.policies) return undefined;
      const r = reservedPolicies(c).length;
      return [...(r !== 1 ? [`the certificate has ${r} CA/B Forum reserved policy identifiers, not exactly one`] : []), ...(c.policies.some((p) => p.oid === OIDS.anyPolicy) ? ['anyPolicy is present'] : [])];
    },
  }),
  br({
    name: 'br.subscriber.dv_subject_attribute', severity: 'error', source: 'CABF BR 7.1.2.7.2', kinds: TLS_SUB, zlint: 'e_cab_dv_subject_invalid_values',
    description: 'A domain-validated subject has only countryName and commonName',
    check: (c) => (c.policies ?? []).some((p) => p.oid === '2.23.140.1.2.1') && c.subject.rdns.flat().filter((a) => a.oid !== OIDS.countryName && a.oid !== OIDS.commonName).map((a) => `attribute ${a.oid} is not allowed in a DV subject`),
  }),
  br({
    name: 'br.subscriber.common_name_present', severity: 'notice', source: 'CABF BR 7.1.2.7.2 (commonName NOT RECOMMENDED)', kinds: TLS_SUB, zlint: ['w_subject_common_name_included', 'e_cab_dv_subject_invalid_values'],
    description: 'commonName is NOT RECOMMENDED in subscriber certificates',
    check: (c) => attr(c.subject, OIDS.commonName).length > 0 && 'the subject has a commonName (not recommended; browsers read the subjectAltName)',
  }),
  br({
    name: 'br.subscriber.organizational_unit_present', severity: 'error', source: 'CABF BR 7.1.2.7.2-4 (organizationalUnitName MUST NOT)', kinds: TLS_SUB, zlint: 'e_organizational_unit_name_prohibited',
    description: 'No organizationalUnitName',
    check: (c) => attr(c.subject, OIDS.organizationalUnitName).length > 0 && 'the subject has an organizationalUnitName',
  }),
  br({
    name: 'br.subscriber.san_missing', severity: 'error', source: 'CABF BR 7.1.2.7.12', kinds: TLS_SUB, zlint: 'e_ext_san_missing',
    description: 'subjectAltName is present',
    check: (c) => !ext(c, OIDS.subjectAltName) && 'the certificate has no subjectAltName',
  }),
  br({
    name: 'br.subscriber.san_type_not_allowed', severity: 'error', source: 'CABF BR 7.1.2.7.12', kinds: TLS_SUB,
    description: 'subjectAltName holds only dNSName and iPAddress entries',
    check: (c) => (c.subjectAltName ?? []).filter((g) => g.type !== 'dNSName' && g.type !== 'iPAddress').map((g) => `${generalNameText(g)} is not allowed`),
  }),
  br({
    name: 'br.subscriber.san_critical_with_subject', severity: 'error', source: 'CABF BR 7.1.2.7.12', kinds: TLS_SUB, zlint: 'w_ext_san_critical_with_subject_dn',
    description: 'subjectAltName is not critical when the subject is not empty',
    check: (c) => c.subject.rdns.length > 0 && ext(c, OIDS.subjectAltName)?.critical && 'subjectAltName is critical though the subject is not empty',
  }),
  br({
    name: 'br.subscriber.common_name_not_in_san', severity: 'error', source: 'CABF BR 7.1.4.3', kinds: TLS_SUB, zlint: 'e_subject_common_name_not_exactly_from_san',
    description: 'The commonName is one of the subjectAltName entries',
    check: (c) => {
      const names = new Set((c.subjectAltName ?? []).map((g) => (g.type === 'dNSName' ? g.value : g.type === 'iPAddress' ? ipText(g.bytes) : '')));
      return attr(c.subject, OIDS.commonName).filter((cn) => !names.has(cn)).map((cn) => `commonName "${cn}" is not in the subjectAltName`);
    },
  }),
  br({
    name: 'br.subscriber.validity_too_long', severity: 'error', source: 'CABF BR 6.3.2', kinds: TLS_SUB,
    description: 'Validity within the BR maximum for the issuance date (398 / 200 / 100 / 47 days)',
    check: (c) => {
      const rule = brSubscriberValidityAt(c.notBefore.date);
      const s = validitySeconds(c);
      return s > rule.maxDays * DAY && `valid ${(s / DAY).toFixed(2)} days; certificates issued from ${rule.from} may be valid at most ${rule.maxDays} days`;
    },
  }),
  br({
    name: 'br.subscriber.validity_not_recommended', severity: 'warning', source: 'CABF BR 6.3.2 (SHOULD NOT)', kinds: TLS_SUB,
    description: 'Validity within the BR recommended figure (397 / 199 / 99 / 46 days)',
    check: (c) => {
      const rule = brSubscriberValidityAt(c.notBefore.date);
      const s = validitySeconds(c);
      return s > rule.shouldDays * DAY && s <= rule.maxDays * DAY && `valid ${(s / DAY).toFixed(2)} days; the BR recommend at most ${rule.shouldDays} days from ${rule.from}`;
    },
  }),
  br({
    name: 'br.subscriber.subject_key_identifier_present', severity: 'warning', source: 'CABF BR 7.1.2.7.6 (NOT RECOMMENDED)', kinds: TLS_SUB, zlint: 'w_ext_subject_key_identifier_not_recommended_subscriber',
    description: 'subjectKeyIdentifier is NOT RECOMMENDED in subscriber certificates',
    check: (c) => ext(c, OIDS.subjectKeyIdentifier) && 'the certificate has a subjectKeyIdentifier',
  }),
  br({
    name: 'br.subscriber.country_invalid', severity: 'error', source: 'CABF BR 7.1.4.3 / 7.1.2.7.2 (ISO 3166-1)', kinds: TLS_SUB, zlint: 'e_subject_country_not_iso',
    description: 'countryName, if present, is an ISO 3166-1 code',
    check: (c) => attributeValues(c.subject, OIDS.countryName).filter((a) => !ISO_3166_ALPHA2.has(a.value)).map((a) => `countryName "${a.value}" is not an ISO 3166-1 code`),
  }),
];

/**
 * X.509 extensions from a profile and resolved variables, DER-encoded with @peculiar/asn1-x509.
 * Criticality comes from the profile, with QPKI's defaults when it says nothing.
 * Subject and authority key identifiers are always added (RFC 5280 method 1).
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CertificatePolicies,
  CRLDistributionPoints,
  DisplayText,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  PolicyInformation,
  PolicyQualifierInfo,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  UserNotice,
  id_ad_caIssuers,
  id_ad_ocsp,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
  id_qt_csp,
  id_qt_unotice,
} from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { QpkiError } from '../errors';
import { EKU_OIDS, normalizeKeyUsage } from './compile';
import { renderSubject } from './dn';
import {
  dnsNameProblem,
  emailProblem,
  formatIp,
  normalizeDnsName,
  normalizeUri,
  oidProblem,
  parseCidr,
  parseIp,
  uriProblem,
} from './rules';
import { referencedVariables, renderList, renderScalar } from './template';
import type { Profile, VariableValues } from './types';

export const id_pkix_ocsp_nocheck = '1.3.6.1.5.5.7.48.1.5';

/** SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 section 4.2.1.2, method 1). */
export { subjectKeyIdentifier } from '../keys/spki';

import { subjectKeyIdentifier } from '../keys/spki';

function ext(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function refused(field: string, template: string | string[] | undefined, value: string, why: string): never {
  const vars = [...new Set((Array.isArray(template) ? template : [template ?? '']).flatMap(referencedVariables))];
  const who = vars.length ? `variable "${vars.join('", "')}"` : field;
  throw new QpkiError('VARIABLE_INVALID', `${who}: value ${JSON.stringify(value)} cannot go in ${field}: it ${why}`, {
    variable: vars[0],
    rule: field,
  });
}

function uris(field: string, template: string | string[] | undefined, values: VariableValues): string[] {
  return renderList(template, values).map((u) => {
    const p = uriProblem(u);
    if (p) refused(field, template, u, p.replace(/^is /, 'is '));
    return normalizeUri(u);
  });
}

export function buildExtensions(
  profile: Profile,
  values: VariableValues,
  ctx: { subjectSpki: Uint8Array; issuerSpki: Uint8Array },
): Extension[] {
  const e = profile.extensions;
  const out: Extension[] = [];

  if (e.basicConstraints) {
    const bc = e.basicConstraints;
    out.push(
      ext(
        id_ce_basicConstraints,
        bc.critical ?? true,
        new BasicConstraints({ cA: bc.ca, ...(bc.ca && bc.pathLen !== undefined && { pathLenConstraint: bc.pathLen }) }),
      ),
    );
  }

  if (e.keyUsage) {
    let flags = 0;
    for (const v of e.keyUsage.values) flags |= KeyUsageFlags[normalizeKeyUsage(v)!];
    out.push(ext(id_ce_keyUsage, e.keyUsage.critical ?? true, new KeyUsage(flags)));
  }

  if (e.extKeyUsage) {
    const oids = [...new Set(e.extKeyUsage.values.map((v) => EKU_OIDS[v] ?? v))];
    out.push(ext(id_ce_extKeyUsage, e.extKeyUsage.critical ?? false, new ExtendedKeyUsage(oids)));
  }

  out.push(ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(subjectKeyIdentifier(ctx.subjectSpki))));
  out.push(
    ext(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(subjectKeyIdentifier(ctx.issuerSpki)) }),
    ),
  );

  if (e.subjectAltName) {
    const san = e.subjectAltName;
    const names: GeneralName[] = [];
    const dns = renderList(san.dns, values).map((d) => {
      const n = normalizeDnsName(d);
      const p = dnsNameProblem(n, { wildcardAllowed: true });
      if (p) refused('subjectAltName dns', san.dns, d, p);
      return n;
    });
    if (san.dns_include_cn) {
      const cn = renderSubject(profile, values).cn;
      // Only a CN that is itself a host name belongs among the DNS names.
      if (cn !== undefined) {
        const n = normalizeDnsName(cn);
        if (!dnsNameProblem(n, { wildcardAllowed: true }) && !dns.includes(n)) dns.unshift(n);
      }
    }
    for (const d of new Set(dns)) names.push(new GeneralName({ dNSName: d }));
    for (const ip of renderList(san.ip, values)) {
      const b = parseIp(ip);
      if (!b) refused('subjectAltName ip', san.ip, ip, 'is not an IP address');
      names.push(new GeneralName({ iPAddress: formatIp(b) }));
    }
    for (const m of renderList(san.email, values)) {
      const p = emailProblem(m.toLowerCase());
      if (p) refused('subjectAltName email', san.email, m, p);
      names.push(new GeneralName({ rfc822Name: m.toLowerCase() }));
    }
    for (const u of uris('subjectAltName uri', san.uri, values)) names.push(new GeneralName({ uniformResourceIdentifier: u }));
    if (names.length) out.push(ext(id_ce_subjectAltName, san.critical ?? false, new SubjectAlternativeName(names)));
  }

  if (e.certificatePolicies) {
    const policies: PolicyInformation[] = [];
    for (const p of e.certificatePolicies.policies) {
      const oid = renderScalar(p.oid, values);
      if (oid === undefined) continue; // an optional policy variable left empty
      const op = oidProblem(oid);
      if (op) refused('certificatePolicies oid', p.oid, oid, op);
      const qualifiers: PolicyQualifierInfo[] = [];
      for (const cps of uris('certificatePolicies cps', p.cps, values))
        qualifiers.push(new PolicyQualifierInfo({ policyQualifierId: id_qt_csp, qualifier: new asn1js.IA5String({ value: cps }).toBER() }));
      const notice = p.userNotice !== undefined ? renderScalar(p.userNotice, values) : undefined;
      if (notice) {
        if ([...notice].length > 200) refused('certificatePolicies userNotice', p.userNotice, notice, 'is longer than 200 characters');
        qualifiers.push(
          new PolicyQualifierInfo({
            policyQualifierId: id_qt_unotice,
            qualifier: AsnConvert.serialize(new UserNotice({ explicitText: new DisplayText({ utf8String: notice }) })),
          }),
        );
      }
      policies.push(new PolicyInformation({ policyIdentifier: oid, ...(qualifiers.length && { policyQualifiers: qualifiers }) }));
    }
    if (policies.length) out.push(ext(id_ce_certificatePolicies, e.certificatePolicies.critical ?? false, new CertificatePolicies(policies)));
  }

  if (e.crlDistributionPoints) {
    const urls = uris('crlDistributionPoints', e.crlDistributionPoints.urls, values);
    if (urls.length)
      out.push(
        ext(
          id_ce_cRLDistributionPoints,
          e.crlDistributionPoints.critical ?? false,
          new CRLDistributionPoints(
            urls.map(
              (u) => new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [new GeneralName({ uniformResourceIdentifier: u })] }) }),
            ),
          ),
        ),
      );
  }

  if (e.authorityInfoAccess) {
    const aia = e.authorityInfoAccess;
    const descriptions = [
      ...uris('authorityInfoAccess ocsp', aia.ocsp, values).map(
        (u) => new AccessDescription({ accessMethod: id_ad_ocsp, accessLocation: new GeneralName({ uniformResourceIdentifier: u }) }),
      ),
      ...uris('authorityInfoAccess caIssuers', aia.caIssuers, values).map(
        (u) => new AccessDescription({ accessMethod: id_ad_caIssuers, accessLocation: new GeneralName({ uniformResourceIdentifier: u }) }),
      ),
    ];
    if (descriptions.length) out.push(ext(id_pe_authorityInfoAccess, aia.critical ?? false, new AuthorityInfoAccessSyntax(descriptions)));
  }

  if (e.nameConstraints) {
    const nc = e.nameConstraints;
    const subtrees = (set: typeof nc.permitted, side: string): GeneralSubtrees | undefined => {
      if (!set) return undefined;
      const items: GeneralSubtree[] = [];
      for (const d of renderList(set.dns, values)) {
        const n = d.toLowerCase();
        if (dnsNameProblem(normalizeDnsName(n.replace(/^\./, '')), { allowSingleLabel: true }))
          refused(`nameConstraints ${side} dns`, set.dns, d, 'is not a DNS name or domain');
        items.push(new GeneralSubtree({ base: new GeneralName({ dNSName: n }) }));
      }
      for (const m of renderList(set.email, values)) {
        // "@example.com" (QPKI's form) means every mailbox at that host: RFC 5280 writes it "example.com".
        const n = m.startsWith('@') ? m.slice(1).toLowerCase() : m.toLowerCase();
        const bare = n.replace(/^\./, '');
        if (n.includes('@') ? emailProblem(n) : dnsNameProblem(bare, { allowSingleLabel: true }))
          refused(`nameConstraints ${side} email`, set.email, m, 'is not a mailbox, host or domain');
        items.push(new GeneralSubtree({ base: new GeneralName({ rfc822Name: n }) }));
      }
      for (const r of renderList(set.ip, values)) {
        const c = parseCidr(r);
        if (!c) refused(`nameConstraints ${side} ip`, set.ip, r, 'is not a CIDR range');
        items.push(new GeneralSubtree({ base: new GeneralName({ iPAddress: `${formatIp(c.address)}/${c.prefix}` }) }));
      }
      return items.length ? new GeneralSubtrees(items) : undefined;
    };
    const permitted = subtrees(nc.permitted, 'permitted');
    const excluded = subtrees(nc.excluded, 'excluded');
    if (permitted || excluded)
      out.push(
        ext(
          id_ce_nameConstraints,
          nc.critical ?? true,
          new NameConstraints({ ...(permitted && { permittedSubtrees: permitted }), ...(excluded && { excludedSubtrees: excluded }) }),
        ),
      );
  }

  if (e.ocspNoCheck !== undefined) {
    const critical = e.ocspNoCheck && typeof e.ocspNoCheck === 'object' ? (e.ocspNoCheck.critical ?? false) : false;
    out.push(new Extension({ extnID: id_pkix_ocsp_nocheck, critical, extnValue: new OctetString(new Uint8Array([0x05, 0x00])) }));
  }

  return out;
}

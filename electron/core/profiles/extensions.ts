/**
 * X.509 extensions from a profile and resolved variables, DER-encoded with @peculiar/asn1-x509.
 * Criticality comes from the profile, with QPKI's defaults when it says nothing.
 * Authority key identifiers are always added, subject key identifiers unless the profile leaves
 * them out (RFC 5280 method 1).
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
import { encodeGeneralNames, encodeKeyIdentifier, extensionOfDer, type SanName } from '../x509/extensionsDer';

export const id_pkix_ocsp_nocheck = '1.3.6.1.5.5.7.48.1.5';

/** SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 section 4.2.1.2, method 1). */
export { subjectKeyIdentifier } from '../keys/spki';

import { subjectKeyIdentifier } from '../keys/spki';

function ext(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/**
 * Extensions that are the same for every certificate of a profile with the same inputs
 * (constraints, key usages, policies, distribution points), kept per profile: a CA issuing many
 * certificates from one profile encodes each only once, and the certificate encoder reuses the
 * DER of the very same Extension object. `key` must hold every input the extension depends on.
 */
const constantExtensions = new WeakMap<Profile, Map<string, Extension>>();

function constant(profile: Profile, key: string, build: () => Extension): Extension {
  let m = constantExtensions.get(profile);
  if (!m) constantExtensions.set(profile, (m = new Map()));
  let e = m.get(key);
  if (!e) {
    e = build();
    if (m.size >= 256) m.clear();
    m.set(key, e);
  }
  return e;
}

/** AuthorityKeyIdentifier per issuer key (its SPKI DER, as latin1 text). */
const authorityKeyIds = new Map<string, Extension>();

function authorityKeyIdentifier(issuerSpki: Uint8Array, issuerKeyId?: Uint8Array): Extension {
  const k = Buffer.from(issuerSpki).toString('latin1') + (issuerKeyId ? Buffer.from(issuerKeyId).toString('latin1') : '');
  let e = authorityKeyIds.get(k);
  if (!e) {
    e = ext(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(issuerKeyId ?? subjectKeyIdentifier(issuerSpki)) }));
    if (authorityKeyIds.size >= 64) authorityKeyIds.clear();
    authorityKeyIds.set(k, e);
  }
  return e;
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

/** A profile's extensions for one certificate, in the order its certificates carry them, every variable value checked. */
export function buildExtensions(
  profile: Profile,
  values: VariableValues,
  /**
   * issuerKeyId: the issuer certificate's subjectKeyIdentifier, which the AKI must repeat (RFC
   * 5280 4.2.1.1); a CA QPKI made computes it its own way (Go's truncated SHA-256), so it is
   * taken from the certificate, not recomputed. Absent: SHA-1 of the key, as ours writes SKIs.
   */
  ctx: { subjectSpki: Uint8Array; issuerSpki: Uint8Array; issuerKeyId?: Uint8Array },
): Extension[] {
  const e = profile.extensions;
  const out: Extension[] = [];

  if (e.basicConstraints) {
    const bc = e.basicConstraints;
    out.push(
      constant(profile, 'basicConstraints', () =>
        ext(
          id_ce_basicConstraints,
          bc.critical ?? true,
          new BasicConstraints({ cA: bc.ca, ...(bc.ca && bc.pathLen !== undefined && { pathLenConstraint: bc.pathLen }) }),
        ),
      ),
    );
  }

  if (e.keyUsage) {
    const ku = e.keyUsage;
    out.push(
      constant(profile, 'keyUsage', () => {
        let flags = 0;
        for (const v of ku.values) flags |= KeyUsageFlags[normalizeKeyUsage(v)!];
        return ext(id_ce_keyUsage, ku.critical ?? true, new KeyUsage(flags));
      }),
    );
  }

  if (e.extKeyUsage) {
    const eku = e.extKeyUsage;
    out.push(
      constant(profile, 'extKeyUsage', () => {
        const oids = [...new Set(eku.values.map((v) => EKU_OIDS[v] ?? v))];
        return ext(id_ce_extKeyUsage, eku.critical ?? false, new ExtendedKeyUsage(oids));
      }),
    );
  }

  if (e.subjectKeyIdentifier?.include !== false) out.push(extensionOfDer(id_ce_subjectKeyIdentifier, false, encodeKeyIdentifier(subjectKeyIdentifier(ctx.subjectSpki))));
  out.push(authorityKeyIdentifier(ctx.issuerSpki, ctx.issuerKeyId));

  out.push(
    ...subjectAltNameExtension(profile, values),
    ...certificatePoliciesExtension(profile, values),
    ...crlDistributionPointsExtension(profile, values),
    ...authorityInfoAccessExtension(profile, values),
    ...nameConstraintsExtension(profile, values),
  );

  if (e.ocspNoCheck !== undefined) {
    const critical = e.ocspNoCheck && typeof e.ocspNoCheck === 'object' ? (e.ocspNoCheck.critical ?? false) : false;
    out.push(new Extension({ extnID: id_pkix_ocsp_nocheck, critical, extnValue: new OctetString(new Uint8Array([0x05, 0x00])) }));
  }

  return out;
}

/** The subject alternative names, each checked (DNS names, IPs, mailboxes, URIs), with the CN among the DNS names when the profile says so. */
function subjectAltNameExtension(profile: Profile, values: VariableValues): Extension[] {
  const san = profile.extensions.subjectAltName;
  if (!san) return [];
  const out: Extension[] = [];
  const names: SanName[] = [];
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
  for (const d of new Set(dns)) names.push({ dns: d });
  for (const ip of renderList(san.ip, values)) {
    const b = parseIp(ip);
    if (!b) refused('subjectAltName ip', san.ip, ip, 'is not an IP address');
    names.push({ ip: b });
  }
  for (const m of renderList(san.email, values)) {
    const p = emailProblem(m.toLowerCase());
    if (p) refused('subjectAltName email', san.email, m, p);
    names.push({ email: m.toLowerCase() });
  }
  for (const u of uris('subjectAltName uri', san.uri, values)) names.push({ uri: u });
  if (names.length) out.push(extensionOfDer(id_ce_subjectAltName, san.critical ?? false, encodeGeneralNames(names)));
  return out;
}

/** The certificate policies with their CPS URIs and user notice, each checked. */
function certificatePoliciesExtension(profile: Profile, values: VariableValues): Extension[] {
  const cpExt = profile.extensions.certificatePolicies;
  if (!cpExt) return [];
  const out: Extension[] = [];
  // Checked and rendered first (a bad value is refused every time), encoded once per distinct input.
  const rendered: { oid: string; cps: string[]; notice?: string }[] = [];
  for (const p of cpExt.policies) {
    const oid = renderScalar(p.oid, values);
    if (oid === undefined) continue; // an optional policy variable left empty
    const op = oidProblem(oid);
    if (op) refused('certificatePolicies oid', p.oid, oid, op);
    const cps = uris('certificatePolicies cps', p.cps, values);
    const notice = p.userNotice !== undefined ? renderScalar(p.userNotice, values) : undefined;
    if (notice && [...notice].length > 200) refused('certificatePolicies userNotice', p.userNotice, notice, 'is longer than 200 characters');
    rendered.push({ oid, cps, ...(notice ? { notice } : {}) });
  }
  if (rendered.length)
    out.push(
      constant(profile, `certificatePolicies ${JSON.stringify(rendered)}`, () => {
        const policies = rendered.map((r) => {
          const qualifiers: PolicyQualifierInfo[] = r.cps.map(
            // An IA5String (RFC 5280's CPSuri), written through DisplayText's IA5String choice: asn1-schema's own asn1js, not a second copy loaded for this one string.
            (cps) => new PolicyQualifierInfo({ policyQualifierId: id_qt_csp, qualifier: AsnConvert.serialize(new DisplayText({ ia5String: cps })) }),
          );
          if (r.notice)
            qualifiers.push(
              new PolicyQualifierInfo({
                policyQualifierId: id_qt_unotice,
                qualifier: AsnConvert.serialize(new UserNotice({ explicitText: new DisplayText({ utf8String: r.notice }) })),
              }),
            );
          return new PolicyInformation({ policyIdentifier: r.oid, ...(qualifiers.length && { policyQualifiers: qualifiers }) });
        });
        return ext(id_ce_certificatePolicies, cpExt.critical ?? false, new CertificatePolicies(policies));
      }),
    );
  return out;
}

/** Where the CRL is published. */
function crlDistributionPointsExtension(profile: Profile, values: VariableValues): Extension[] {
  const dp = profile.extensions.crlDistributionPoints;
  if (!dp) return [];
  const out: Extension[] = [];
  const urls = uris('crlDistributionPoints', dp.urls, values);
  if (urls.length)
    out.push(
      constant(profile, `crlDistributionPoints ${JSON.stringify(urls)}`, () =>
        ext(
          id_ce_cRLDistributionPoints,
          dp.critical ?? false,
          new CRLDistributionPoints(
            urls.map(
              (u) => new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [new GeneralName({ uniformResourceIdentifier: u })] }) }),
            ),
          ),
        ),
      ),
    );
  return out;
}

/** The OCSP responder and the issuer certificate's URL. */
function authorityInfoAccessExtension(profile: Profile, values: VariableValues): Extension[] {
  const aia = profile.extensions.authorityInfoAccess;
  if (!aia) return [];
  const out: Extension[] = [];
  const ocsp = uris('authorityInfoAccess ocsp', aia.ocsp, values);
  const caIssuers = uris('authorityInfoAccess caIssuers', aia.caIssuers, values);
  if (ocsp.length || caIssuers.length)
    out.push(
      constant(profile, `authorityInfoAccess ${JSON.stringify([ocsp, caIssuers])}`, () => {
        const descriptions = [
          ...ocsp.map((u) => new AccessDescription({ accessMethod: id_ad_ocsp, accessLocation: new GeneralName({ uniformResourceIdentifier: u }) })),
          ...caIssuers.map((u) => new AccessDescription({ accessMethod: id_ad_caIssuers, accessLocation: new GeneralName({ uniformResourceIdentifier: u }) })),
        ];
        return ext(id_pe_authorityInfoAccess, aia.critical ?? false, new AuthorityInfoAccessSyntax(descriptions));
      }),
    );
  return out;
}

/** The names a CA may issue for (permitted) or not (excluded). */
function nameConstraintsExtension(profile: Profile, values: VariableValues): Extension[] {
  const nc = profile.extensions.nameConstraints;
  if (!nc) return [];
  const out: Extension[] = [];
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
  return out;
}

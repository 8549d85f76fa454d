/**
 * The profile document's zod schemas. This module is required by schema.ts when a profile
 * document is first checked, so that a run which checks none (built-in profiles are compiled when
 * the command line is built) does not load zod's full API.
 */
import * as z from 'zod';

/**
 * The schemas are built on first use, not when the module loads: building them costs a few
 * milliseconds, and a command-line run that uses only built-in profiles (compiled when the command
 * line was built) never validates a profile document.
 */
// Long as a table is: the profile document's schema, declared field by field.
// eslint-disable-next-line max-lines-per-function -- the profile schema, one field per line
export function buildSchemas() {
  const scalar = z.union([z.string(), z.number(), z.boolean()]);
  const stringOrList = z.union([z.string(), z.array(z.string())]);
  const stringList = z.array(z.string());

  const VariableSchema = z.strictObject({
    type: z.string(),
    required: z.boolean().optional(),
    default: z.union([scalar, z.array(scalar)]).nullable().optional(),
    description: z.string().optional(),
    pattern: z.string().optional(),
    enum: z.array(scalar).optional(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    minLength: z.number().int().nonnegative().optional(),
    maxLength: z.number().int().nonnegative().optional(),
    min_duration: z.string().optional(),
    max_duration: z.string().optional(),
    allow_single_label: z.boolean().optional(),
    wildcard: z
      .strictObject({
        allowed: z.boolean().optional(),
        single_label: z.boolean().optional(),
        forbid_public_suffix: z.boolean().optional(),
      })
      .optional(),
    constraints: z
      .strictObject({
        allowed_suffixes: stringList.optional(),
        allowed_prefixes: stringList.optional(),
        denied_prefixes: stringList.optional(),
        allowed_ranges: stringList.optional(),
        allowed_schemes: stringList.optional(),
        allowed_hosts: stringList.optional(),
        min_items: z.number().int().nonnegative().optional(),
        max_items: z.number().int().nonnegative().optional(),
      })
      .optional(),
  });

  const SubjectValue = z.union([
    z.string(),
    z.strictObject({ value: z.string(), encoding: z.enum(['utf8', 'printable', 'ia5']).optional() }),
  ]);

  const SubjectSchema = z.strictObject({
    c: SubjectValue.optional(),
    st: SubjectValue.optional(),
    l: SubjectValue.optional(),
    o: SubjectValue.optional(),
    ou: SubjectValue.optional(),
    cn: SubjectValue.optional(),
    serialNumber: SubjectValue.optional(),
  });

  const critical = z.boolean().optional();
  const NameSet = z.strictObject({ dns: stringOrList.optional(), email: stringOrList.optional(), ip: stringOrList.optional() });

  const ExtensionsSchema = z.strictObject({
    basicConstraints: z
      .strictObject({ critical, ca: z.boolean(), pathLen: z.number().int().min(0).max(255).optional() })
      .optional(),
    keyUsage: z.strictObject({ critical, values: z.array(z.string()).min(1) }).optional(),
    extKeyUsage: z.strictObject({ critical, values: z.array(z.string()).min(1) }).optional(),
    subjectAltName: z
      .strictObject({
        critical,
        dns: stringOrList.optional(),
        ip: stringOrList.optional(),
        email: stringOrList.optional(),
        uri: stringOrList.optional(),
        dns_include_cn: z.boolean().optional(),
      })
      .optional(),
    certificatePolicies: z
      .strictObject({
        critical,
        policies: z
          .array(z.strictObject({ oid: z.string(), cps: z.string().optional(), userNotice: z.string().optional() }))
          .min(1),
      })
      .optional(),
    crlDistributionPoints: z.strictObject({ critical, urls: stringOrList }).optional(),
    authorityInfoAccess: z
      .strictObject({ critical, ocsp: stringOrList.optional(), caIssuers: stringOrList.optional() })
      .optional(),
    nameConstraints: z
      .strictObject({ critical, permitted: NameSet.optional(), excluded: NameSet.optional() })
      .optional(),
    // The BR call the subjectKeyIdentifier NOT RECOMMENDED in TLS subscriber certificates
    // (7.1.2.7.6): `include: false` leaves it out. It is in every certificate otherwise.
    subjectKeyIdentifier: z.strictObject({ include: z.boolean() }).optional(),
    // `ocspNoCheck:` with nothing under it parses as null and still means "present".
    ocspNoCheck: z.union([z.strictObject({ critical }), z.null(), z.literal(true)]).optional(),
  });
  const ProfileSchema = z.strictObject({
    name: z.string().min(1).max(128),
    description: z.string().max(500).optional(),
    /** Which PKI the profile is for: `private` (the default), or `public` (CA/B Forum rules apply). */
    algorithm: z.string().optional(),
    algorithms: z.array(z.string()).optional(),
    mode: z.string().optional(),
    signature: z
      .strictObject({
        scheme: z.enum(['ecdsa', 'pkcs1v15', 'rsassa-pss', 'ed25519']).optional(),
        hash: z.string().optional(),
      })
      .optional(),
    validity: z.string(),
    // A date-dependent ceiling on the validity (BR 6.3.2): from each date on, at most `max`.
    validity_schedule: z.array(z.strictObject({ from: z.string(), max: z.string() })).min(1).optional(),
    // Which rules the certificates answer to: the CA/B Forum's for a publicly trusted TLS
    // hierarchy, or RFC 5280 only. Decides which lints apply; private when unsaid.
    pki: z.enum(['public-tls', 'private']).optional(),
    // Lints this profile accepts, each by name with the reason the review and the journal show.
    lint: z
      .strictObject({
        accept: z.array(z.strictObject({ lint: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a lint name'), reason: z.string() })).optional(),
      })
      .optional(),
    variables: z.record(z.string(), VariableSchema).optional(),
    subject: SubjectSchema,
    extensions: ExtensionsSchema.optional(),
  });
  return { VariableSchema, ExtensionsSchema, ProfileSchema };
}

/**
 * The IPC contract: for every function the renderer may call, the zod schema of its request and
 * of its answer. Main validates both sides with these; the renderer's types are inferred from
 * them, so the two cannot drift. Payloads are plain JSON: bytes travel as PEM or base64.
 */
import { z } from 'zod';
import { CHANNELS, type Channel } from './channels';
import { ERROR_CODES, IPC_ERROR_CODES } from './error-codes';

export const KEY_ALGORITHMS = [
  'ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'ed25519', 'ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87',
] as const;
const KeyAlgorithm = z.enum(KEY_ALGORITHMS);

const Empty = z.object({}).strict();
/** PINs: bounded, never logged; the schema only says what a PIN may look like. */
const Pin = z.string().min(1).max(256);
const Label = z.string().min(1).max(32);
const SlotId = z.string().max(20).regex(/^\d+$/);
const Path = z.string().min(1).max(4096);
const Pem = z.string().min(1).max(2_000_000);
/** The passphrase of a software CA key file: sent with the one request that signs, never kept. */
const Passphrase = z.string().min(1).max(1024).optional();
/* `altPassphrase`: the same, for the ML-DSA key file of a Catalyst CA (the token holds its classical key). */
/** Profile variables: bounded like the profile rules bound them (4096 characters a value). */
const VarText = z.string().max(4096);
const VarValue = z.union([VarText, z.number(), z.boolean(), z.array(VarText).max(64)]);
const MAX_VARS = 64;
const Vars = z.record(z.string().min(1).max(64), VarValue).refine((v) => Object.keys(v).length <= MAX_VARS, { message: `at most ${MAX_VARS} variables` });
const ProfileName = z.string().min(1).max(128);
/** A person named in the record: printable, as the journal accepts it. */
const PersonName = z.string().trim().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/, 'control characters are not allowed');

/** An id main issued for something it chose or opened (a library, a directory): the renderer holds ids, never paths. */
const RefId = z.string().min(1).max(64).regex(/^[a-z]+-[0-9a-f]{1,32}$/);

/** A library the operator may load: found at a well-known path, or picked in main's open dialog. */
export const ModuleChoice = z.object({
  id: z.string(),
  vendor: z.string(),
  path: z.string(),
  present: z.boolean(),
  /** SHA-256 of the library file, read by main before anything loads it (null when absent). */
  sha256: z.string().nullable(),
});

export const ModuleInfo = z.object({
  path: z.string(),
  manufacturer: z.string(),
  description: z.string(),
  libraryVersion: z.string(),
  cryptokiVersion: z.string(),
  /** A development token's library (SoftHSM2): the app says so on every screen, however it was opened. */
  development: z.boolean(),
});

export const TokenFlags = z.record(z.string(), z.boolean());

export const TokenSummary = z.object({
  label: z.string(),
  manufacturer: z.string(),
  model: z.string(),
  serial: z.string(),
  flags: TokenFlags,
  minPinLen: z.number(),
  maxPinLen: z.number(),
  freePublicMemory: z.number().nullable(),
  freePrivateMemory: z.number().nullable(),
  hardwareVersion: z.string(),
  firmwareVersion: z.string(),
});

export const SlotSummary = z.object({
  slotId: z.string(),
  description: z.string(),
  tokenPresent: z.boolean(),
  token: TokenSummary.nullable(),
});

export const KeyInfo = z.object({
  label: z.string(),
  id: z.string(),
  type: z.string(),
  algorithm: z.string().nullable(),
  size: z.number().nullable(),
  attributes: z.record(z.string(), z.boolean()),
  fingerprint: z.string().nullable(),
  /** CA directories this app knows whose certificate carries this key. */
  backs: z.array(z.object({ dir: z.string(), subject: z.string() })),
  /** When the key was generated, from the first record at hand that has it (PKCS#11 keys carry no creation time). */
  generated: z.object({ time: z.string(), where: z.string() }).nullable(),
  /** ML-DSA keys: the token's CKA_PARAMETER_SET by its PKCS#11 name (CKP_ML_DSA_65). */
  parameterSet: z.string().optional(),
});

/**
 * Which key of the CA a token key is for: the primary one (the default), or the alternative
 * (ML-DSA) key of a Catalyst CA kept in the same token instead of a file.
 */
const KeyRole = z.enum(['primary', 'alternative']);

export const GeneratedKey = z.object({
  key: KeyInfo,
  testSignature: z.object({ algorithm: z.string(), verified: z.boolean() }),
});

export const VariableDef = z.object({
  name: z.string(),
  type: z.string(),
  description: z.string().optional(),
  required: z.boolean(),
  default: z.unknown().optional(),
  pattern: z.string().optional(),
  enum: z.array(z.string()).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  constraints: z.record(z.string(), z.unknown()).optional(),
});

/** classical: one classical key; post-quantum: one ML-DSA key; hybrid: Catalyst, classical + ML-DSA. */
export const PROFILE_FAMILIES = ['classical', 'post-quantum', 'hybrid'] as const;
const ProfileFamily = z.enum(PROFILE_FAMILIES);

export const ProfileSummary = z.object({
  name: z.string(),
  description: z.string(),
  kind: z.string(),
  algorithm: z.string(),
  /** The Catalyst alternative (ML-DSA) algorithm of a hybrid profile. */
  altAlgorithm: z.string().nullable(),
  family: ProfileFamily,
});

/** One key of a CA: where it lives and its public key fingerprint (null until it exists). */
export const CaKeyView = z.object({
  role: z.enum(['primary', 'alternative']),
  algorithm: z.string(),
  where: z.enum(['token', 'file']),
  /** The whole location in words, as the journal and the review read it. */
  storage: z.string(),
  token: z.object({ label: z.string(), serial: z.string(), keyLabel: z.string(), keyId: z.string() }).nullable(),
  file: z.object({ path: z.string(), encrypted: z.boolean() }).nullable(),
  /** SHA-256 of the public key (SubjectPublicKeyInfo), colon hex; null for a key made when signing. */
  fingerprint: z.string().nullable(),
  note: z.string().optional(),
});

export const Field = z.object({ label: z.string(), value: z.string() });
export const Extension = z.object({ oid: z.string(), name: z.string(), critical: z.boolean(), value: z.string() });

/** One signature of a document, checked on its own: the primary one, or the Catalyst alternative. */
export const SignatureView = z.object({
  which: z.enum(['primary', 'alternative']),
  algorithm: z.string(),
  /** null: not checked (no issuer key given, or an algorithm this app cannot check). */
  valid: z.boolean().nullable(),
  against: z.string(),
  reason: z.string().optional(),
});

export const Described = z.object({
  kind: z.enum(['certificate', 'csr', 'crl']),
  title: z.string(),
  fields: z.array(Field),
  signatures: z.array(SignatureView),
  extensions: z.array(Extension),
  sha256: z.string(),
  pem: z.string(),
});

export const Verification = z.object({ ok: z.boolean(), message: z.string(), signatures: z.array(SignatureView).optional() });

/** One difference between what a certificate request asks for and what the certificate will say. */
export const CsrDifference = z.object({ field: z.string(), requested: z.string(), issued: z.string() });

/** A certificate request as main decoded it: shown before anything is signed from it. */
export const CsrView = z.object({
  subject: z.string(),
  subjectAltNames: z.array(z.string()),
  keyAlgorithm: z.string(),
  /** SHA-256 of the request's public key (SubjectPublicKeyInfo). */
  keyFingerprint: z.string(),
  /** The request's own signature, checked with its key (a request whose signature fails is refused before any review). */
  signatureValid: z.boolean(),
  /** SHA-256 of the request as given (DER). */
  sha256: z.string(),
  /** Every place the certificate will differ from the request (a subject attribute, a name, an extension). */
  differences: z.array(CsrDifference),
});

/**
 * A signing request: the exact to-be-signed structure main built once (real key, serial, dates,
 * every extension), decoded in full, with the SHA-256 of its DER. Signing names only its id,
 * which main issued and the renderer cannot forge; the token signs exactly those bytes.
 */
export const LintFindingView = z.object({ lint: z.string(), severity: z.enum(['error', 'warning', 'notice']), source: z.string(), message: z.string() });

/** The lint gate's verdict on the exact TBS (signed with a throwaway key): ours, and zlint's and pkilint's where installed. */
export const LintView = z.object({
  pki: z.enum(['public-tls', 'private']),
  kind: z.string(),
  findings: z.array(LintFindingView),
  /** Errors the profile accepts by name, each with its written reason. */
  accepted: z.array(LintFindingView.extend({ reason: z.string() })),
  /** Errors that stop signing: main refuses to sign while there is one. */
  blocking: z.array(LintFindingView),
  /** null: that linter is not installed on this machine. Shown only; never blocking. */
  zlint: z.array(LintFindingView).nullable(),
  pkilint: z.array(LintFindingView).nullable(),
});

export const SigningRequest = z.object({
  id: z.string(),
  kind: z.enum(['certificate', 'crl', 'csr']),
  /** root: a new self-signed CA; subordinate-ca / end-entity: from a certificate request; crl; csr: a plan's request for an external parent. */
  purpose: z.enum(['root', 'subordinate-ca', 'end-entity', 'crl', 'csr']),
  /** The to-be-signed structure decoded in full (no signature yet). */
  document: Described,
  /** SHA-256 of the exact TBS DER the token will sign (Catalyst: without altSignatureValue, which signing adds). */
  tbsSha256: z.string(),
  subject: z.string().nullable(),
  issuer: z.string(),
  isCa: z.boolean().nullable(),
  pathLen: z.number().nullable(),
  serial: z.string().nullable(),
  notBefore: z.string(),
  notAfter: z.string(),
  validityDays: z.number(),
  keyAlgorithm: z.string().nullable(),
  /** SHA-256 of the subject public key, or null for a CRL. */
  keyFingerprint: z.string().nullable(),
  signatureAlgorithm: z.string(),
  /** The Catalyst alternative signature algorithm, or null. */
  altSignatureAlgorithm: z.string().nullable(),
  /** Which key signs, and where it lives, in words. */
  signedBy: z.string(),
  /** The directory the signed document is written into. */
  targetDir: z.string(),
  /** A new CA's keys (root requests), each with where it lives and its fingerprint. */
  keys: z.array(CaKeyView),
  /** The common name the renderer asks the operator to type (its own extra care; main asks again). */
  commonName: z.string(),
  csr: CsrView.nullable(),
  crl: z.object({
    number: z.string(),
    revoked: z.array(z.object({ serial: z.string(), date: z.string(), reason: z.string().nullable() })),
    /** The CRL in the CA directory this one replaces once signed (its number and thisUpdate), or null: never replaced silently. */
    replaces: z.object({ number: z.string(), thisUpdate: z.string() }).nullable().optional(),
  }).nullable(),
  /** What signing adds to the reviewed structure (Catalyst: the alternative signature), in words. */
  addedAtSigning: z.string().nullable(),
  /** The passphrases signing needs: a new key file's (asked twice) or an existing one's; null where a token key signs. */
  secrets: z.object({ passphrase: z.enum(['new', 'existing']).nullable(), altPassphrase: z.enum(['new', 'existing']).nullable() }),
  warnings: z.array(z.string()),
  lint: LintView,
});

export const CaSummary = z.object({
  dir: z.string(),
  subject: z.string(),
  /** Self-issued and self-signed: a root CA (it issues CA certificates; end entities only by override, BR 6.1.7). */
  isRoot: z.boolean(),
  keyStorage: z.string(),
  /** The CA's token; `moduleId` offers its library for loading (main still asks before it loads it). */
  token: z.object({ lib: z.string(), moduleId: z.string(), label: z.string(), serial: z.string() }).nullable(),
  keys: z.array(CaKeyView),
  certificate: Described,
});

export const Issued = z.object({
  certificate: Described,
  verification: Verification,
  savedTo: z.string(),
  dir: z.string(),
  serial: z.string(),
  /** A new CA's keys, with their fingerprints (root ceremonies only). */
  keys: z.array(CaKeyView).optional(),
  /** The new CA, as opening it would show it (root ceremonies only): the ceremony goes on with it. */
  ca: CaSummary.optional(),
});



export const JournalEntry = z.object({
  seq: z.number(),
  time: z.string(),
  kind: z.string(),
  operator: z.string(),
  witnesses: z.array(z.string()),
  facts: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

/** An event of the ceremony not yet in a journal: it is written once the CA directory exists. */
export const PendingEntry = z.object({ time: z.string(), kind: z.string(), facts: z.record(z.string(), z.unknown()) });

export const Preflight = z.object({
  networkInterfacesUp: z.array(z.object({ name: z.string(), addresses: z.array(z.string()) })),
  clock: z.object({ iso: z.string(), tz: z.string() }),
  freeDiskBytes: z.number(),
  warnings: z.array(z.string()),
});

const Document = z.object({ data: z.string().min(1).max(4_000_000), encoding: z.enum(['pem', 'base64']) });

/** A ceremony plan as the operator and witnesses review it before it starts. */
export const PlanView = z.object({
  sha256: z.string(),
  file: z.string(),
  ceremony: z.object({ id: z.string(), purpose: z.string(), location: z.string() }),
  participants: z.array(z.object({ name: z.string(), role: z.string() })),
  steps: z.array(z.object({
    n: z.number(), of: z.number(), id: z.string(), type: z.string(), words: z.string(),
    profile: z.string().nullable(), variables: z.record(z.string(), z.string()), out: z.string().nullable(),
    /** The variables as the profile form takes them (lists as lists): what "Do this step" fills in. */
    values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
    label: z.string().nullable(), algorithm: z.string().nullable(), nextUpdateDays: z.number().nullable(),
    /** The plan's key step whose key this CA step uses (a root, or a subordinate made here), or null (a request file, a CRL). */
    key: z.string().nullable(),
    /** The certificate's dates when the plan fixes them (main signs with these, whatever the renderer says); notAfter null: the profile's validity. */
    dates: z.object({ notBefore: z.string(), notAfter: z.string().nullable() }).nullable(),
    /** What a CRL step revokes before its CRL is prepared (main resolves each from the plan and asks in its own dialog). */
    revoke: z.array(z.object({ what: z.string(), reason: z.string() })),
    /** Why the app cannot do this step itself (run it with the CLI or record it skipped), or null. */
    notInApp: z.string().nullable(),
    /** The plan's token role the step works on (ca, backup), or null (its key or CA is not the plan's). */
    token: z.enum(['ca', 'backup']).nullable(),
    /** The label of the plan's key a CA or request step uses (chosen again after switching back to its token), or null. */
    keyLabel: z.string().nullable(),
  })),
});

/** A token a plan uses, as main read it from the open session. */
const PlanToken = z.object({ serial: z.string(), label: z.string() });

export const PlanState = z.object({
  plan: PlanView.nullable(),
  active: z.boolean(),
  /** Index (0-based) of the step offered now; equal to the number of steps when all are finished. */
  current: z.number(),
  /** Index of the step a witness must acknowledge before the next is offered, or null. */
  awaiting: z.number().nullable(),
  status: z.array(z.enum(['pending', 'done', 'skipped'])),
  changed: z.array(z.number()),
  acknowledgements: z.array(z.object({ step: z.number(), witness: z.string() })),
  deviations: z.array(z.object({ step: z.number(), kind: z.string(), note: z.string() })),
  witnesses: z.array(z.string()),
  /** The preflight of the plan's ceremony: its warnings, and whether a witness has confirmed it (nothing is signed before). */
  preflight: z.object({ warnings: z.array(z.string()), confirmed: z.boolean() }),
  /** The plan's tokens by role as main learned them (by serial, from the first step done on each), or null until then. */
  tokens: z.object({ ca: PlanToken.nullable(), backup: PlanToken.nullable() }),
  /** The current step is on another token than the open one: log out of `open` and open the `to` token (main refuses the step otherwise). */
  tokenSwitch: z.object({ to: z.enum(['ca', 'backup']), open: PlanToken.extend({ role: z.enum(['ca', 'backup']).nullable() }) }).nullable(),
});

export const contract = {
  appInfo: {
    input: Empty,
    output: z.object({
      version: z.string(),
      production: z.boolean(),
      softhsmPath: z.string().nullable(),
      devTokenDir: z.string().nullable(),
    }),
  },
  knownModules: {
    input: Empty,
    output: z.object({ modules: z.array(ModuleChoice) }),
  },
  /** The operator picks a library file in main's own open dialog; main answers with its id, path and SHA-256. */
  chooseModuleFile: { input: Empty, output: z.object({ module: ModuleChoice.nullable() }) },
  /** Load a library main offered (known list or the open dialog), by its id, after main's own confirmation. */
  loadModule: { input: z.object({ moduleId: RefId }).strict(), output: ModuleInfo },
  listSlots: { input: Empty, output: z.object({ module: ModuleInfo, slots: z.array(SlotSummary) }) },
  tokenMechanisms: {
    input: z.object({ slotId: SlotId }).strict(),
    output: z.object({
      mechanisms: z.array(z.string()),
      /** Each mechanism with its key sizes (as the token reports them: bits or bytes by mechanism) and flags. */
      details: z.array(z.object({ name: z.string(), minKeySize: z.number(), maxKeySize: z.number(), flags: z.array(z.string()) })),
      keyAlgorithms: z.array(z.string()),
      /** The token's objects a session sees without the PIN (with it, once logged in, the private ones too); null when not initialized. */
      objects: z.array(z.object({ kind: z.string(), label: z.string(), id: z.string(), keyType: z.string().nullable(), private: z.boolean() })).nullable(),
    }),
  },
  initToken: {
    /**
     * An initialized token is refused unless `reinitialize` is set and `confirmLabel` is its
     * current label as main reads it; main then asks the operator itself (deps.confirm) before
     * anything is destroyed.
     */
    input: z.object({ slotId: SlotId, label: Label, soPin: Pin, userPin: Pin, reinitialize: z.literal(true).optional(), confirmLabel: z.string().max(32).optional() }).strict(),
    output: z.object({ slot: SlotSummary, warnings: z.array(z.string()), reinitialized: z.boolean() }),
  },
  prepareDevToken: {
    input: Empty,
    output: z.object({ module: ModuleInfo, freeSlotId: z.string().nullable(), suggestedLabel: z.string(), dir: z.string() }),
  },
  openCeremony: {
    input: z.object({
      operator: PersonName,
      witnesses: z.array(PersonName).min(1).max(20),
      purpose: z.string().trim().min(1).max(500),
    }).strict(),
    output: z.object({ preflight: Preflight, appSha256: z.string(), appFiles: z.number(), version: z.string() }),
  },
  closeCeremony: {
    input: Empty,
    output: z.object({ dir: z.string().nullable(), finalHash: z.string().nullable(), entries: z.number(), intact: z.boolean() }),
  },
  exportTranscript: {
    input: Empty,
    output: z.object({ savedTo: z.string().nullable(), entries: z.number(), finalHash: z.string() }),
  },
  /**
   * role `alternative`: a second token of the loaded library, for a Catalyst CA's ML-DSA key only;
   * the ceremony's own token stays open and logged in.
   */
  openToken: {
    input: z.object({ serial: z.string().min(1).max(64), label: z.string().max(32).optional(), role: KeyRole.optional() }).strict(),
    output: z.object({ slotId: z.string(), token: TokenSummary }),
  },
  login: {
    /** The PIN only: on the token's final try main asks the operator itself (deps.confirm). */
    input: z.object({ pin: Pin, role: KeyRole.optional() }).strict(),
    output: z.object({ token: TokenSummary, warnings: z.array(z.string()) }),
  },
  /**
   * Retry after the token stopped answering: main reloads the module and finds the lost token again
   * by serial; the PIN is asked again through `login`.
   */
  reconnectToken: { input: Empty, output: z.object({ module: ModuleInfo, slotId: z.string(), token: TokenSummary }) },
  /** closed: the record of the witnessed ceremony this ended (where it is kept, its final hash), or null when none was open. */
  endSession: { input: Empty, output: z.object({ ended: z.boolean(), closed: z.object({ dir: z.string().nullable(), finalHash: z.string().nullable(), entries: z.number(), intact: z.boolean() }).nullable() }) },
  /** role `alternative`: the token of a Catalyst CA's ML-DSA key (the second token when one is open). */
  listKeys: { input: z.object({ role: KeyRole.optional() }).strict(), output: z.object({ keys: z.array(KeyInfo) }) },
  keyAlgorithms: { input: z.object({ role: KeyRole.optional() }).strict(), output: z.object({ algorithms: z.array(KeyAlgorithm) }) },
  /** Close the second token opened for a Catalyst CA's ML-DSA key; its key choice goes with it. */
  endAltSession: { input: Empty, output: z.object({ ended: z.boolean() }) },
  /**
   * Log out of the open token and close its session, the ceremony (and its plan) staying open: a
   * plan's step on its other token is next (one token open at a time). `endSession` ends the ceremony too.
   */
  closeToken: { input: Empty, output: z.object({ ended: z.boolean() }) },
  generateKey: {
    input: z.object({ algorithm: KeyAlgorithm, label: Label, id: z.string().regex(/^([0-9a-fA-F]{2}){1,32}$/).optional(), role: KeyRole.optional() }).strict(),
    output: GeneratedKey,
  },
  selectKey: {
    input: z.object({ label: z.string().max(64), id: z.string().max(128), role: KeyRole.optional() }).strict(),
    /**
     * The key's proof, made by main: a test signature verified against the public key read from
     * the token, and whether a journal's record of its generation matched (a mismatch is refused).
     */
    output: z.object({ key: KeyInfo, testSignature: z.object({ algorithm: z.string(), verified: z.boolean() }), journal: z.enum(['matched', 'not-recorded']) }),
  },
  useSoftwareKeystore: {
    /**
     * `because`: the operator switched from the open token because it has no ML-DSA mechanism;
     * main checks that against the token and records it before ending the session.
     */
    input: z.object({ algorithm: KeyAlgorithm, because: z.enum(['token-lacks-ml-dsa']).optional() }).strict(),
    output: z.object({ algorithm: KeyAlgorithm }),
  },
  listProfiles: { input: Empty, output: z.object({ profiles: z.array(ProfileSummary) }) },
  getProfile: {
    input: z.object({ name: ProfileName }).strict(),
    output: z.object({
      name: z.string(), description: z.string(), kind: z.string(), algorithm: z.string(), altAlgorithm: z.string().nullable(), family: ProfileFamily,
      variables: z.array(VariableDef),
      /** The certificate's validity in days, and the variable that sets it instead when the profile has one (shown before the review). */
      validityDays: z.number(), validityVariable: z.string().nullable(),
    }),
  },
  validateVariables: {
    input: z.object({ profile: ProfileName, vars: Vars }).strict(),
    output: z.object({ errors: z.record(z.string(), z.string()) }),
  },
  /** A new root CA in the directory main's dialog gave: its key(s) made now, its exact TBS built and kept under an id. */
  previewCa: {
    input: z.object({ profile: ProfileName, vars: Vars, dirId: RefId }).strict(),
    output: SigningRequest,
  },
  openCa: { input: z.object({ dirId: RefId }).strict(), output: CaSummary },
  /** A certificate from a request, issued by the open CA: decoded, compared with the profile, kept under an id. */
  prepareIssue: {
    input: z.object({
      purpose: z.enum(['subordinate-ca', 'end-entity']),
      csrPem: Pem,
      profile: ProfileName,
      vars: Vars,
      /** Ask main to let a root sign an end-entity certificate (BR 6.1.7); main asks the operator itself. */
      rootEndEntity: z.boolean().optional(),
    }).strict(),
    output: SigningRequest,
  },
  /**
   * The plan's current cross-certificate step, prepared wholly from the checked plan (the
   * certificate file it names, checked against the plan's SHA-256, its profile and variables):
   * the renderer names nothing. The open CA must be the one the step's issuer made.
   */
  preparePlanCross: { input: Empty, output: SigningRequest },
  /**
   * The plan's current `csr` step: a certificate request for an external parent, made with the key
   * the plan's key step made in this token. The profile and variables must be the plan's unless a
   * 'changed' deviation was recorded; it is written to the step's out under the ceremony's output
   * folder, chosen in main's dialog (`plan-output`), never over a file.
   */
  preparePlanCsr: { input: z.object({ dirId: RefId, profile: ProfileName, vars: Vars }).strict(), output: SigningRequest },
  /** A certificate request decoded by main, with the profile values it suggests (the form is pre-filled from them). */
  readCsr: {
    input: z.object({ csrPem: Pem, profile: ProfileName }).strict(),
    output: z.object({ csr: CsrView, vars: z.record(z.string(), z.union([z.string(), z.array(z.string())])) }),
  },
  /** The open CA's issued certificates from its index; each unrevoked one with the reasons main accepts for its kind (BR 7.2.2). */
  listIssued: {
    input: z.object({}).strict(),
    output: z.object({
      certificates: z.array(z.object({
        serial: z.string(), subject: z.string(), kind: z.enum(['ca', 'subscriber', 'unknown']),
        status: z.enum(['valid', 'revoked', 'expired']), notBefore: z.string().nullable(), notAfter: z.string(),
        revoked: z.object({ date: z.string(), reason: z.string(), words: z.string() }).nullable(),
        reasons: z.array(z.object({ reason: z.string(), words: z.string() })),
      })),
    }),
  },
  /** Revoke one certificate of the open CA by serial; main checks the reason for its kind and asks the operator itself. */
  revokeCertificate: {
    input: z.object({
      serial: z.string().min(1).max(64),
      reason: z.enum(['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise']),
    }).strict(),
    output: z.object({ serial: z.string(), reason: z.string(), date: z.string() }),
  },
  /** The open CA's next CRL: its number, dates and every revocation, kept under an id. */
  prepareCrl: { input: z.object({ days: z.number().int().min(1).max(3650) }).strict(), output: SigningRequest },
  /** Sign a signing request, by id only, after main's own confirmation; the passphrases unlock or encrypt key files. */
  sign: {
    input: z.object({ requestId: RefId, passphrase: Passphrase, altPassphrase: Passphrase }).strict(),
    output: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('certificate'), issued: Issued }),
      z.object({ kind: z.literal('crl'), crl: Described, savedTo: z.string() }),
      /** A plan's request for an external parent: where it was written, the SHA-256 of its DER (the journal's csrSha256) and of the PEM file. */
      z.object({ kind: z.literal('csr'), csr: Described, savedTo: z.string(), sha256: z.string(), fileSha256: z.string() }),
    ]),
  },
  /** Drop the signing request on screen (the operator went back): nothing is signed from it. */
  withdrawRequest: { input: z.object({ requestId: RefId }).strict(), output: z.object({ withdrawn: z.boolean() }) },
  describeDocument: { input: Document.strict(), output: Described },
  verifyDocument: {
    input: z.object({ document: Document, issuer: Document.optional(), againstOpenCa: z.boolean().optional() }).strict(),
    output: Verification,
  },
  exportCertificate: {
    input: z.object({ path: Path, format: z.enum(['pem', 'der']) }).strict(),
    output: z.object({ savedTo: z.string().nullable() }),
  },
  /** Main's own directory dialog; the answer is an id (what later requests name) and the path to show. */
  chooseDirectory: {
    /** plan-output: the folder a plan's out paths are written under (a request for an external parent). */
    input: z.object({ purpose: z.enum(['open-ca', 'new-ca', 'plan-output']) }).strict(),
    output: z.object({ dirId: z.string().nullable(), path: z.string().nullable() }),
  },
  /** The journal of this ceremony (or of the CA open in it): main knows which one. */
  readJournal: {
    input: Empty,
    output: z.object({
      dir: z.string().nullable(),
      entries: z.array(JournalEntry),
      intact: z.boolean(),
      /** Events recorded before the CA directory existed, in the order they happened. */
      pending: z.array(PendingEntry),
      ceremony: z.object({ operator: z.string(), witnesses: z.array(z.string()), purpose: z.string(), closed: z.boolean() }).nullable(),
    }),
  },
  /** Main's own open dialog for a plan file; main reads and checks it. Null when the operator cancelled. */
  openPlan: { input: Empty, output: z.object({ plan: PlanView.nullable() }) },
  /** Opens the ceremony with the plan's participants and purpose, and journals the plan's SHA-256 first. */
  startPlan: { input: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(), output: PlanState },
  planState: { input: Empty, output: PlanState },
  /** A witness of the plan acknowledges the step just completed (or skipped); the next step waits for it. */
  acknowledgeStep: { input: z.object({ witness: PersonName }).strict(), output: PlanState },
  /**
   * A witness of the open ceremony read the laptop clock against a reference clock (its UTC time
   * typed here) and, when the preflight warned, the witnesses' reason for going on. Nothing is
   * signed in a ceremony before this is on the record.
   */
  confirmPreflight: {
    input: z.object({
      witness: PersonName,
      referenceTime: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/, 'a UTC time like 2027-01-15T09:30:00Z, as the reference clock shows it'),
      justification: z.string().trim().max(2000).regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, 'control characters are not allowed').optional(),
    }).strict(),
    output: z.object({ laptopTime: z.string(), differenceSeconds: z.number(), warnings: z.array(z.string()) }),
  },
  /** A deviation from the current step, with the operator's typed note (at least 10 characters). */
  recordDeviation: {
    input: z.object({ kind: z.enum(['skipped', 'retry', 'error', 'changed']), note: z.string().trim().min(10, 'a deviation needs a note of at least 10 characters').max(2000).regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]+$/, 'control characters are not allowed') }).strict(),
    output: PlanState,
  },
} satisfies Record<Channel, { input: z.ZodType; output: z.ZodType }>;

// Both directions: every channel has a contract entry, and every entry is a listed channel.
type _ContractCoversChannels = Exclude<Channel, keyof typeof contract> extends never ? true : never;
type _ChannelsCoverContract = Exclude<keyof typeof contract, Channel> extends never ? true : never;
export const CONTRACT_MATCHES_CHANNELS: _ContractCoversChannels & _ChannelsCoverContract = true;

export type Contract = typeof contract;
export type Input<C extends Channel> = z.input<Contract[C]['input']>;
export type Output<C extends Channel> = z.output<Contract[C]['output']>;

export const ErrorPayloadSchema = z.object({ code: z.enum([...ERROR_CODES, ...IPC_ERROR_CODES]), message: z.string() });
export type Result<T> = { ok: true; value: T } | { ok: false; error: z.infer<typeof ErrorPayloadSchema> };

export type PlanViewT = z.infer<typeof PlanView>;
export type PlanStateT = z.infer<typeof PlanState>;

/** The API the preload exposes as `window.qpki`: one named function per channel. */
export type QpkiApi = { [C in Channel]: (input: Input<C>) => Promise<Result<Output<C>>> };

export type ModuleInfoT = z.infer<typeof ModuleInfo>;
export type SlotSummaryT = z.infer<typeof SlotSummary>;
export type TokenSummaryT = z.infer<typeof TokenSummary>;
export type KeyInfoT = z.infer<typeof KeyInfo>;
export type GeneratedKeyT = z.infer<typeof GeneratedKey>;
export type VariableDefT = z.infer<typeof VariableDef>;
export type ProfileSummaryT = z.infer<typeof ProfileSummary>;
export type ProfileFamilyT = z.infer<typeof ProfileFamily>;
export type CaKeyViewT = z.infer<typeof CaKeyView>;
export type SignatureViewT = z.infer<typeof SignatureView>;
export type DescribedT = z.infer<typeof Described>;
export type SigningRequestT = z.infer<typeof SigningRequest>;
export type CsrViewT = z.infer<typeof CsrView>;
export type IssuedT = z.infer<typeof Issued>;
export type CaSummaryT = z.infer<typeof CaSummary>;
export type JournalEntryT = z.infer<typeof JournalEntry>;
export type PendingEntryT = z.infer<typeof PendingEntry>;
export type PreflightT = z.infer<typeof Preflight>;
export type KeyAlgorithmT = z.infer<typeof KeyAlgorithm>;

export { CHANNELS };
export type { Channel };

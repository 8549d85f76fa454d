import type { KeyAlgorithm, SignatureAlgorithm } from '../keys/algorithms';
import type { VariableDef, VariableValue } from './rules';
import type { RawExtensions, SubjectKey } from './schema';

export type { VariableDef, VariableValue } from './rules';

export type VariableValues = Record<string, VariableValue>;

export interface SubjectField {
  /** A fixed value or a `{{ var }}` template. */
  template: string;
  encoding: 'utf8' | 'printable';
}

export interface Profile {
  name: string;
  description: string;
  /** `private` (the default) or `public`: the PKI the profile is for. */
  pki: 'private' | 'public';
  /** The (primary) subject key algorithm. */
  algorithm: KeyAlgorithm;
  /** Catalyst: the ML-DSA alternative key. */
  altAlgorithm?: KeyAlgorithm;
  /**
   * The signature the profile asks for (QPKI's `signature:` block, e.g. RSA-PSS); undefined
   * means the signing key's default. It names how the certificate is signed, so it only applies
   * when it fits the issuer's key (see signatureFitsKey).
   */
  signatureAlgorithm?: SignatureAlgorithm;
  /** Exact validity in days ('7300d', '8760h' = 365, '10y' = 3650); the default when templated. */
  validityDays: number;
  /** Set when validity is `{{ var }}`: the variable (of type duration) that decides it. */
  validityVariable?: string;
  isCa: boolean;
  pathLen?: number;
  variables: VariableDef[];
  /** 'builtin' or the file path it was loaded from. */
  source: string;
  /** Subject DN template, by attribute. */
  subject: Partial<Record<SubjectKey, SubjectField>>;
  /** Extension definitions as validated from the profile (templates not yet rendered). */
  extensions: RawExtensions;
}

export interface ProfileSummary {
  name: string;
  description: string;
  algorithm: KeyAlgorithm;
  altAlgorithm?: KeyAlgorithm;
  isCa: boolean;
}

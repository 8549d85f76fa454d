import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { QpkiError } from '../errors';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../keys/algorithms';
import type { KeyStorageRef } from '../keys/signer';
import { readText, writeFileAtomic } from './fsx';

export const META_FILE = 'ca.meta.json';

/** QPKI's algorithm ids in file names and metadata (ecdsa-p384, rsa-4096, ed25519, ml-dsa-65). */
export function qpkiAlgorithmId(k: KeyAlgorithm): string {
  return k.startsWith('ec-') ? `ecdsa-${k.slice(3)}` : k;
}

export function keyAlgorithmFromQpkiId(id: string): KeyAlgorithm {
  const k = id.startsWith('ecdsa-') ? `ec-${id.slice(6)}` : id;
  if (!(KEY_ALGORITHMS as readonly string[]).includes(k)) throw new QpkiError('CA_INVALID', `Unknown key algorithm "${id}" in ${META_FILE}.`);
  return k as KeyAlgorithm;
}

/**
 * Where a key lives, as either tool writes it (both sets of fields are written by ours, so that
 * each tool finds what it reads; unknown fields are kept when the file is rewritten):
 *  - software: `path` (QPKI), `encrypted` (ours; QPKI leaves it out, the key file tells);
 *  - pkcs11, ours: `lib`, `token_label`, `token_serial`, `key_label`, `key_id`;
 *  - pkcs11, QPKI: `config` (an hsm.yaml, relative to the CA directory: lib, token, pin_env),
 *    `label` (CKA_LABEL), `key_id`.
 */
const softwareStorage = z.looseObject({ type: z.union([z.literal('software'), z.literal('')]), path: z.string().check(z.minLength(1)), encrypted: z.optional(z.boolean()) });
const pkcs11Storage = z
  .looseObject({
    type: z.literal('pkcs11'),
    lib: z.optional(z.string().check(z.minLength(1))),
    token_label: z.optional(z.string()),
    token_serial: z.optional(z.string()),
    key_label: z.optional(z.string()),
    key_id: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]*$/, 'must be hex'))),
    config: z.optional(z.string().check(z.minLength(1))),
    label: z.optional(z.string()),
  })
  .check(
    z.refine((s) => (s.lib !== undefined && s.key_label !== undefined) || (s.config !== undefined && (s.label !== undefined || s.key_id !== undefined)), {
      message: 'needs lib and key_label (qpki ceremony) or config and label (QPKI)',
    }),
  );
const storageSchema = z.union([softwareStorage, pkcs11Storage]);

export type MetaStorage = z.infer<typeof storageSchema>;

const keyRefSchema = z.looseObject({ id: z.string(), algorithm: z.string(), storage: storageSchema });

const versionSchema = z.looseObject({
  profiles: z.array(z.string()),
  algos: z.array(z.string()).check(z.minLength(1)),
  /** Ours only; QPKI derives a version's state from `active` and `archived_at` (see versionStatus). */
  status: z.optional(z.enum(['active', 'pending', 'archived'])),
  created: z.string(),
  activated_at: z.optional(z.string()),
  archived_at: z.optional(z.string()),
  cross_signed_by: z.optional(z.array(z.string())),
  // QPKI's hsm CAs before key refs, and its oldest versions, list no keys: the key is then at
  // versions/<id>/keys/ca.<algo>.key (as QPKI's own fallback reads it).
  keys: z.optional(z.array(keyRefSchema)),
  signature_algorithm: z.optional(z.string()),
});

const metaSchema = z.looseObject({
  subject: z.looseObject({ common_name: z.string(), organization: z.optional(z.array(z.string())), country: z.optional(z.array(z.string())), dn: z.optional(z.string()) }),
  created: z.string(),
  active: z.string(),
  parent: z.optional(z.string()),
  versions: z.record(z.string(), versionSchema),
});

export type CaMeta = z.infer<typeof metaSchema>;
export type CaVersion = z.infer<typeof versionSchema>;
export type KeyRef = { id: 'default' | 'classical' | 'pqc'; algorithm: string; storage: MetaStorage };

export function readMeta(dir: string): CaMeta {
  const path = join(dir, META_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof QpkiError && e.code === 'IO_ERROR') throw new QpkiError('CA_NOT_FOUND', `${dir} is not a CA directory (no readable ${META_FILE}).`);
    throw new QpkiError('CA_INVALID', `${path} is not valid JSON.`);
  }
  // jitless: zod's compiled fast path costs more to generate than one file takes to check.
  const r = metaSchema.safeParse(raw, { jitless: true });
  if (!r.success) throw new QpkiError('CA_INVALID', `${path} is malformed: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}.`);
  if (!r.data.versions[r.data.active]) throw new QpkiError('CA_INVALID', `${path} names active version "${r.data.active}" which it does not describe.`);
  for (const [id, v] of Object.entries(r.data.versions)) {
    // Version ids name directories: refuse one that would reach outside versions/.
    if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..') throw new QpkiError('CA_INVALID', `${path} has a version named "${id}", which is not a plain name.`);
    for (const k of v.keys ?? []) {
      if (k.storage.type !== 'pkcs11' && /(^|[\\/])\.\.([\\/]|$)/.test(k.storage.path)) throw new QpkiError('CA_INVALID', `${path}: key path "${k.storage.path}" climbs out of the CA directory.`);
    }
  }
  return r.data;
}

export function writeMeta(dir: string, meta: CaMeta): void {
  // The metadata never holds a PIN or passphrase: only where keys live.
  writeFileAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}

export function activeVersion(meta: CaMeta): CaVersion {
  return meta.versions[meta.active];
}

/**
 * A version's state, as both tools agree on it: the active one is active (unless it is our
 * pending CA, waiting for its certificate: status pending and a CSR); an archived_at makes one
 * archived; any other is pending (made by `ca rotate`, not activated yet). QPKI writes no status.
 */
export function versionStatus(meta: CaMeta, id: string): 'active' | 'pending' | 'archived' {
  const v = meta.versions[id];
  if (id === meta.active) return v?.status === 'pending' && 'csr' in v ? 'pending' : 'active';
  return v?.archived_at ? 'archived' : 'pending';
}

/** The keys of a version, with QPKI's implicit software key file when it lists none. */
export function versionKeys(meta: CaMeta, id: string): KeyRef[] {
  const v = meta.versions[id];
  if (v.keys?.length) return v.keys as KeyRef[];
  const ids: KeyRef['id'][] = v.algos.length > 1 ? ['classical', 'pqc'] : ['default'];
  return v.algos.map((a, i) => ({ id: ids[i] ?? 'default', algorithm: a, storage: { type: 'software' as const, path: `versions/${id}/keys/ca.${a}.key` } }));
}

/** The active version, refusing a pending CA (key and CSR made, certificate not imported yet). */
export function usableVersion(abs: string, meta: CaMeta): CaVersion {
  const v = activeVersion(meta);
  if (versionStatus(meta, meta.active) === 'pending') throw new QpkiError('CA_INVALID', `${abs} is a pending CA: its key and CSR exist but it has no certificate yet. Import the certificate its parent signed with \`qpki ca import-cert --dir ${abs} --cert FILE\`.`);
  return v;
}

/** ML-DSA ids as QPKI writes them in a hybrid certificate's file name (ml-dsa-87 → mldsa87). */
function certNameAlgorithm(a: string): string {
  return a.replace(/^ml-dsa-/, 'mldsa');
}

/** Whether a version is a Catalyst hybrid (QPKI: a profile name with "catalyst", or a classical and an ML-DSA algorithm). */
export function isCatalystVersion(v: CaVersion): boolean {
  return v.profiles.some((p) => p.includes('catalyst')) || (v.algos.length === 2 && !v.algos[0].startsWith('ml-dsa') && v.algos[1].startsWith('ml-dsa'));
}

/** QPKI's name for a Catalyst CA certificate: versions/<id>/certs/ca.catalyst-ecdsa-p384-mldsa87.pem. */
export function catalystCertName(v: CaVersion): string {
  return `ca.catalyst-${v.algos[0]}-${certNameAlgorithm(v.algos[1])}.pem`;
}

/**
 * The CA certificate of a version: ours names it ca.<algo>.pem (a Catalyst CA writes QPKI's
 * ca.catalyst-….pem beside it); QPKI writes only the Catalyst name for a hybrid.
 */
export function caCertPath(dir: string, meta: CaMeta, id = meta.active): string {
  const v = meta.versions[id];
  const candidates = [`ca.${v.algos[0]}.pem`, ...(isCatalystVersion(v) ? [catalystCertName(v)] : [])];
  for (const c of candidates) {
    const p = join(dir, 'versions', id, 'certs', c);
    if (existsSync(p)) return p;
  }
  if (v.profiles.some((p) => p.includes('composite'))) throw new QpkiError('CA_INVALID', `${dir} is a QPKI composite-signature CA (version ${id}); qpki ceremony signs classical, ML-DSA and Catalyst certificates, not composite ones.`);
  throw new QpkiError('CA_INVALID', `${dir}: the CA certificate of version ${id} is missing (looked for ${candidates.map((c) => `versions/${id}/certs/${c}`).join(' and ')}).`);
}

/** The hsm.yaml QPKI looks for in a CA directory (storage.config). */
export const HSM_CONFIG_FILE = 'hsm.yaml';

/**
 * The storage fields to write for a key: ours, and for a token key QPKI's `config` and `label`
 * too, so that QPKI finds the key through the CA directory's hsm.yaml.
 */
export function storageForMeta(s: KeyStorageRef): MetaStorage {
  if (s.type === 'software') return { type: 'software', path: s.path, encrypted: s.encrypted };
  return { ...s, config: HSM_CONFIG_FILE, label: s.key_label };
}

/**
 * hsm.yaml for QPKI: module, token (QPKI's CA loader finds the token by label or slot, not by
 * serial) and the name of the environment variable QPKI reads the PIN from. Never a PIN.
 */
export function hsmYamlFor(s: Extract<KeyStorageRef, { type: 'pkcs11' }>, pinEnv: string): string {
  const q = (v: string) => JSON.stringify(v);
  return [
    '# Written by qpki ceremony for QPKI (github.com/remiblancher/qpki), which reads the token from',
    '# here; qpki ceremony itself reads ca.meta.json. The PIN is never stored: set the variable.',
    'type: pkcs11',
    'pkcs11:',
    `  lib: ${q(s.lib)}`,
    `  token: ${q(s.token_label)}`,
    `  token_serial: ${q(s.token_serial)}`,
    `  pin_env: ${q(pinEnv)}`,
    '',
  ].join('\n');
}

/** The PIN variable hsm.yaml names when the operator gave none (QPKI's documentation uses HSM_PIN). */
export const DEFAULT_PIN_ENV = 'HSM_PIN';

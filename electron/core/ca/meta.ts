import { join } from 'node:path';
import * as z from 'zod';
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

const storageSchema = z.union([
  z.object({ type: z.literal('software'), path: z.string().min(1), encrypted: z.boolean() }),
  z.object({
    type: z.literal('pkcs11'),
    lib: z.string().min(1),
    token_label: z.string(),
    token_serial: z.string(),
    key_label: z.string(),
    key_id: z.string().regex(/^[0-9a-f]*$/),
  }),
]);

const keyRefSchema = z.object({ id: z.string(), algorithm: z.string(), storage: storageSchema });

const versionSchema = z.object({
  profiles: z.array(z.string()),
  algos: z.array(z.string()).min(1),
  status: z.enum(['active', 'pending', 'archived']),
  created: z.string(),
  activated_at: z.string().optional(),
  keys: z.array(keyRefSchema).min(1),
  signature_algorithm: z.string().optional(),
});

const metaSchema = z.object({
  subject: z.object({ common_name: z.string(), organization: z.array(z.string()).optional(), country: z.array(z.string()).optional(), dn: z.string().optional() }),
  created: z.string(),
  active: z.string(),
  parent: z.string().optional(),
  versions: z.record(z.string(), versionSchema),
});

export type CaMeta = z.infer<typeof metaSchema>;
export type CaVersion = z.infer<typeof versionSchema>;
export type KeyRef = { id: 'default' | 'classical' | 'pqc'; algorithm: string; storage: KeyStorageRef };

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
  return r.data;
}

export function writeMeta(dir: string, meta: CaMeta): void {
  // The metadata never holds a PIN or passphrase: only where keys live.
  writeFileAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}

export function activeVersion(meta: CaMeta): CaVersion {
  return meta.versions[meta.active];
}

/** The active version, refusing a pending CA (key and CSR made, certificate not imported yet). */
export function usableVersion(abs: string, meta: CaMeta): CaVersion {
  const v = activeVersion(meta);
  if (v.status === 'pending') throw new QpkiError('CA_INVALID', `${abs} is a pending CA: its key and CSR exist but it has no certificate yet. Import the certificate its parent signed with \`qpki ca import-cert --dir ${abs} --cert FILE\`.`);
  return v;
}

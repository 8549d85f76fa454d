/**
 * Where a CA's key is, from its metadata as ours or QPKI wrote it (meta.ts), resolved without
 * opening a key file's contents, a token or a PKCS#11 library: what `ca info` shows and what
 * caKeys.ts unlocks. Kept apart from caKeys.ts so that reading a CA directory does not load the
 * signing code (PKCS#11, software keys) with it.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { QpkiError } from '../errors';
import type { KeyStorageRef } from '../keys/signer';
import { loadHsmConfig } from './hsmYaml';
import type { MetaStorage } from './meta';

export type ResolvedStorage = KeyStorageRef & { pinEnv?: string };

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A module path taken from a CA directory's metadata, checked before anything loads it. */
export function checkedModulePath(dir: string, lib: string, where: string): string {
  const fix = 'Name the module yourself with --pkcs11-lib (or --hsm-config).';
  if (!isAbsolute(lib)) throw new QpkiError('CA_INVALID', `${where} names the PKCS#11 module "${lib}", which is not an absolute path; a CA directory cannot choose which code is loaded. ${fix}`);
  let real = lib;
  try {
    real = realpathSync(lib);
  } catch {
    /* missing: Pkcs11Module.load says so */
  }
  let realDir = dir;
  try {
    realDir = realpathSync(dir);
  } catch {
    /* the directory was just read */
  }
  if (inside(realDir, real) || inside(dir, lib)) throw new QpkiError('CA_INVALID', `${where} names the PKCS#11 module ${lib}, which lies inside the CA directory; a CA directory never brings the code that opens it. ${fix}`);
  return lib;
}

/**
 * The storage of a key as ours uses it: QPKI's `config` + `label` resolved through the hsm.yaml
 * it names (relative to the CA directory), a software key's `encrypted` read from the file.
 */
export function resolveKeyStorage(dir: string, s: MetaStorage): ResolvedStorage {
  if (s.type !== 'pkcs11') {
    const path = isAbsolute(s.path) ? s.path : join(dir, s.path);
    // The file says whether it is encrypted (`key convert` may have changed it; QPKI does not record it).
    // keys/software (with its ASN.1 and ML-DSA code) is loaded only for a software key: `ca info` on a token CA never needs it.
    const { isEncryptedKeyFile } = require('../keys/software') as typeof import('../keys/software');
    const encrypted = existsSync(path) ? isEncryptedKeyFile(path) : (s.encrypted ?? false);
    return { type: 'software', path: s.path, encrypted };
  }
  if (s.lib !== undefined && s.key_label !== undefined) {
    // Ours names the token itself; the hsm.yaml written beside it for QPKI still says which
    // variable holds the PIN (read only for that, and only if it is a valid one). It is read when
    // asked for: a run given its PIN (prompt, file) never needs it, nor the YAML parser.
    const config = s.config;
    let pinEnv: { value: string | undefined } | undefined;
    return {
      type: 'pkcs11', lib: s.lib, token_label: s.token_label ?? '', token_serial: s.token_serial ?? '', key_label: s.key_label, key_id: (s.key_id ?? '').toLowerCase(),
      get pinEnv(): string | undefined {
        pinEnv ??= { value: config ? pinEnvOf(resolve(dir, config)) : undefined };
        return pinEnv.value;
      },
    };
  }
  const cfgPath = isAbsolute(s.config!) ? s.config! : resolve(dir, s.config!);
  if (!existsSync(cfgPath)) throw new QpkiError('CA_INVALID', `The CA key's HSM configuration ${s.config} (storage.config in ca.meta.json) is missing from ${dir}.`);
  const c = loadHsmConfig(cfgPath, 'CA_INVALID');
  if (c.token === undefined && c.token_serial === undefined) throw new QpkiError('CA_INVALID', `${cfgPath} names the token by slot only; qpki ceremony needs its label (token) or serial (token_serial), since slot numbers change.`);
  return { type: 'pkcs11', lib: c.lib, token_label: c.token ?? '', token_serial: c.token_serial ?? '', key_label: s.label ?? '', key_id: (s.key_id ?? '').toLowerCase(), pinEnv: c.pin_env };
}

/** The pin_env of the hsm.yaml at `path`; none when it is missing or not a valid one. */
function pinEnvOf(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return loadHsmConfig(path, 'CA_INVALID').pin_env;
  } catch {
    return undefined;
  }
}

/** One line saying where a key is, for `ca info`; a storage that does not resolve says why instead. */
export function describeKeyStorage(dir: string, s: MetaStorage): string {
  let r: ResolvedStorage;
  try {
    r = resolveKeyStorage(dir, s);
  } catch (e) {
    return `unusable: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (r.type === 'software') return `file ${r.path}${r.encrypted ? ' (encrypted)' : ' (not encrypted)'}`;
  return `token "${r.token_label}"${r.token_serial ? ` serial ${r.token_serial}` : ''}, label "${r.key_label}"${r.key_id ? `, id ${r.key_id}` : ''}, module ${r.lib}${s.type === 'pkcs11' && s.lib === undefined ? ` (from ${s.config})` : ''}`;
}

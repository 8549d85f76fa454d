/**
 * `qpki key gen` (token or file, QPKI's algorithm names), `qpki key convert` (to and from QPKI's
 * key file forms) and the `hsm mechanisms|test` diagnostics.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { QpkiError } from '../core/errors';
import { isKeyAlgorithm, defaultSignatureAlgorithm, type KeyAlgorithm } from '../core/keys/algorithms';
import { generateSoftwareKey, readKeyFile, isEncryptedKeyFile, writeKeyFile } from '../core/keys/software';
import { encryptLegacyPem, QPKI_MLDSA_LABEL } from '../core/keys/qpkiKeys';
import { decodeMlDsaPrivateKey, isMlDsa } from '../core/keys/mldsa';
import { pemEncode } from '../core/keys/pkcs8';
import { verifySignature } from '../core/keys/verify';
import { writeFileAtomic } from '../core/ca/fsx';
import { keyAlgorithmFromQpkiId } from '../core/ca/meta';
import { loadModule } from '../core/pkcs11/index';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { newKeyPassphrase } from './access';
import { emit, yesNo } from './output';
import { lazySecret, readSecret, warn } from './secrets';
import { openLoggedIn, resolveToken, tokenRefFor } from './token';
import { keyGen } from './tokenActions';
import { secretSources, type PassphraseOptions, type TokenOptions } from './options';
import { groupHex } from '../core/journal/format';

/** Ours (ec-p384) or QPKI's (ecdsa-p384) algorithm name. */
export function algorithmArg(a: string): KeyAlgorithm {
  if (isKeyAlgorithm(a)) return a;
  try {
    return keyAlgorithmFromQpkiId(a);
  } catch {
    throw new QpkiError('INPUT_INVALID', `Unknown algorithm "${a}": use ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096, ed25519, ml-dsa-44, ml-dsa-65, ml-dsa-87 (or QPKI's ecdsa-p256, ecdsa-p384, ecdsa-p521).`);
  }
}

/** `key gen`: in the token with --key-label (and --hsm-config or --pkcs11-*), or a file with -o. */
export async function keyGenerate(o: TokenOptions & PassphraseOptions & { algorithm: string; pkcs11KeyLabel?: string; keyLabel?: string; pkcs11KeyId?: string; keyId?: string; out?: string; unencryptedKey?: boolean }): Promise<void> {
  const algorithm = algorithmArg(o.algorithm);
  const label = o.pkcs11KeyLabel ?? o.keyLabel;
  if (o.out && label) throw new QpkiError('INPUT_INVALID', 'Give -o/--out (a key file) or --key-label (a key in the token), not both.');
  if (!o.out) {
    if (!label) throw new QpkiError('INPUT_INVALID', 'Give --key-label LABEL (a key in the token, with --hsm-config or --pkcs11-lib) or -o FILE (a key file).');
    return keyGen({ ...o, algorithm, pkcs11KeyLabel: label, pkcs11KeyId: o.pkcs11KeyId ?? o.keyId });
  }
  if (existsSync(o.out)) throw new QpkiError('OUTPUT_EXISTS', `${o.out} exists; it is never overwritten.`);
  const passphrase = await newKeyPassphrase('the key file', secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), { unencrypted: o.unencryptedKey });
  const k = generateSoftwareKey(algorithm);
  writeKeyFile(o.out, k.pkcs8, passphrase);
  const fp = createHash('sha256').update(k.spki).digest('hex');
  emit({ algorithm, out: o.out, encrypted: passphrase !== null, publicKeySha256: fp }, () => [`${algorithm} key written to ${o.out}${passphrase === null ? ' (UNENCRYPTED, mode 0600)' : ' (PKCS#8, scrypt + AES-256-CBC)'}`, `  public key SHA-256: ${groupHex(fp)}`]);
}

/**
 * `key convert IN -o OUT --to qpki|pkcs8`. QPKI reads only legacy PEM encryption (an MD5-based
 * key derivation with no work factor) and its own bare ML-DSA form, so `--to qpki` is an explicit
 * step for the operator to take when QPKI must use a key of ours; ours keeps writing PKCS#8 with
 * scrypt. The public key is checked to be the same before the output is written.
 */
export async function keyConvert(input: string, o: { out: string; to: 'qpki' | 'pkcs8'; passphrase?: string; passphraseEnv?: string; passphraseFile?: string; newPassphrase?: string; newPassphraseEnv?: string; newPassphraseFile?: string; unencryptedKey?: boolean }): Promise<void> {
  if (existsSync(o.out)) throw new QpkiError('OUTPUT_EXISTS', `${o.out} exists; it is never overwritten.`);
  const inPass = isEncryptedKeyFile(input) ? await lazySecret('input key passphrase', '--passphrase', secretSources(o.passphrase, o.passphraseEnv, o.passphraseFile), 'PASSPHRASE_REQUIRED')() : undefined;
  const key = readKeyFile(input, inPass);
  let newPass: string | null;
  if (o.unencryptedKey) {
    warn(`${o.out} is written UNENCRYPTED, protected only by file mode 0600.`);
    newPass = null;
  } else {
    const v = await readSecret('passphrase for the converted key', '--new-passphrase', secretSources(o.newPassphrase, o.newPassphraseEnv, o.newPassphraseFile), { confirm: true });
    if (v === undefined) throw new QpkiError('PASSPHRASE_REQUIRED', 'Give the passphrase of the converted key with --new-passphrase-env VAR, --new-passphrase-file FILE or on a terminal, or pass --unencrypted-key.');
    newPass = v;
  }
  if (o.to === 'pkcs8') {
    writeKeyFile(o.out, key.pkcs8, newPass);
  } else {
    // QPKI's forms: PKCS#8 "PRIVATE KEY" for classical keys, the bare expanded key for ML-DSA.
    let label = 'PRIVATE KEY';
    let body = key.pkcs8;
    if (isMlDsa(key.keyAlgorithm)) {
      label = QPKI_MLDSA_LABEL[key.keyAlgorithm];
      const pki = AsnConvert.parse(key.pkcs8, PrivateKeyInfo);
      body = decodeMlDsaPrivateKey(key.keyAlgorithm, new Uint8Array(pki.privateKey.buffer)).secretKey;
    }
    if (newPass !== null) warn('QPKI reads only legacy PEM encryption (MD5 key derivation, no work factor): this copy resists passphrase guessing far less than the original. Keep it only where QPKI needs it.');
    writeFileAtomic(o.out, newPass === null ? pemEncode(label, body) : encryptLegacyPem(label, body, newPass), { createOnly: true, mode: 0o600 });
  }
  // Proof: the written file opens with the new passphrase and is the same key.
  const back = readKeyFile(o.out, newPass ?? undefined);
  if (!Buffer.from(back.spki).equals(Buffer.from(key.spki))) throw new QpkiError('INTERNAL', `${o.out} does not hold the same key; remove it.`);
  emit({ input, out: o.out, to: o.to, algorithm: key.keyAlgorithm, encrypted: newPass !== null }, () => [`${key.keyAlgorithm} key converted to ${o.to === 'qpki' ? "QPKI's form" : 'PKCS#8'}: ${o.out}${newPass === null ? ' (UNENCRYPTED)' : o.to === 'qpki' ? ' (legacy PEM encryption, AES-256-CBC)' : ' (scrypt + AES-256-CBC)'}`, '  the public key is unchanged (checked)']);
}

/** `hsm mechanisms [--filter TEXT]` */
export function hsmMechanisms(o: TokenOptions & { filter?: string }): void {
  const t = resolveToken(o)!;
  const mod = loadModule(t.lib);
  const found = mod.findToken(tokenRefFor(mod, t.ref));
  const mechs = mod.mechanisms(found.slot.slotId).filter((m) => !o.filter || m.name.toLowerCase().includes(o.filter.toLowerCase()));
  emit(mechs, () => [`token "${found.token.label}": ${mechs.length} mechanism(s)${o.filter ? ` matching "${o.filter}"` : ''}`, ...mechs.map((m) => `  ${m.name.padEnd(34)} ${m.minKeySize}..${m.maxKeySize}  ${m.flags.join(',')}`)]);
}

/** `hsm test`: QPKI's four steps, and with --key-label a test signature verified in software. */
export async function hsmTest(o: TokenOptions & { keyLabel?: string }): Promise<void> {
  const t = resolveToken(o)!;
  const lines: string[] = [];
  const mod = loadModule(t.lib);
  lines.push(`[1] module ${mod.info().path} loaded: OK`);
  mod.findToken(tokenRefFor(mod, t.ref));
  lines.push(`[2] token ${t.ref.label ? `"${t.ref.label}"` : t.ref.serial ?? `slot ${t.ref.slot}`} found: OK`);
  const s = await openLoggedIn(t, o.force);
  try {
    lines.push('[3] PIN read and login: OK');
    const keys = s.listKeys();
    lines.push(`[4] keys listed: OK (${keys.length})`);
    let signed: boolean | undefined;
    if (o.keyLabel) {
      const k = s.findKey({ label: o.keyLabel });
      const alg = defaultSignatureAlgorithm(k.keyAlgorithm);
      const probe = new TextEncoder().encode(`qpki hsm test ${new Date().toISOString()}`);
      signed = verifySignature(k.spki, alg, probe, await s.signer(k, t.pin).sign(alg, probe));
      lines.push(`[5] test signature with "${o.keyLabel}" (${alg}) verified in software: ${yesNo(signed)}`);
    }
    emit({ ok: signed !== false, keys: keys.length, signature: signed }, () => [...lines, signed === false ? 'HSM test FAILED' : 'all tests passed']);
    if (signed === false) process.exitCode = 1;
  } finally {
    s.close();
  }
}

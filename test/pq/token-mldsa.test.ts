/**
 * ML-DSA inside a PKCS#11 3.2 token (SoftHSM2's main branch with ML-DSA, from ../shared): keys
 * generated in the token for the three parameter sets, their attributes read back by qpki and by
 * two clients that share nothing with it (pkcs11-tool, and p11direct.py on ctypes), and the
 * signatures qpki asks the token for checked against what FIPS 204 and RFC 9881 want of a
 * certificate signature: pure ML-DSA, empty context, hedged. A signature made with a context is
 * a valid ML-DSA signature and still not a certificate's: that is shown with a real certificate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { makeSoftHsmStore, mldsaTokenMissing, MLDSA_SOFTHSM, type SoftHsmStore } from '../softhsm';
import { finalizeAllModules, loadModule, type TokenSession } from '../../electron/core/pkcs11/index';
import { mechanismName } from '../../electron/core/pkcs11/constants';
import type { KeyInfo } from '../../electron/core/pkcs11/types';
import { initCa } from '../../electron/core/ca/index';
import { loadProfile } from '../../electron/core/profiles/index';
import { describeDocument } from '../../electron/core/x509/describe';
import { havePythonMlDsa, p11direct, pythonCheck, pythonMlDsaVerify, spkiParts, type MlDsaName, type P11Attrs } from './verifiers';

const PIN = 'mldsa-user-pin-0123';
const TOKEN = 'PQ Token';
const ALGS = ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'] as const;
const PUBLIC_BYTES = { 'ml-dsa-44': 1312, 'ml-dsa-65': 1952, 'ml-dsa-87': 2592 };
const CKP = { 'ml-dsa-44': 1, 'ml-dsa-65': 2, 'ml-dsa-87': 3 };
const NOBLE = { 'ml-dsa-44': ml_dsa44, 'ml-dsa-65': ml_dsa65, 'ml-dsa-87': ml_dsa87 };
const missing = mldsaTokenMissing() ?? (!havePythonMlDsa() ? 'python3 cryptography with ML-DSA (>= 45) is not installed' : undefined);

test('the PKCS#11 3.2 post-quantum mechanisms have their names (no token needed)', () => {
  assert.equal(mechanismName(0x1c), 'CKM_ML_DSA_KEY_PAIR_GEN');
  assert.equal(mechanismName(0x1d), 'CKM_ML_DSA');
  assert.equal(mechanismName(0x1f), 'CKM_HASH_ML_DSA');
  const family = [0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c].map(mechanismName);
  assert.deepEqual(family, ['SHA224', 'SHA256', 'SHA384', 'SHA512', 'SHA3_224', 'SHA3_256', 'SHA3_384', 'SHA3_512', 'SHAKE128', 'SHAKE256'].map((h) => `CKM_HASH_ML_DSA_${h}`));
  // Numbers PKCS#11 has not named stay in hex, so a mechanism is never given a wrong name.
  assert.equal(mechanismName(0x1e), '0x0000001e');
  assert.equal(mechanismName(0x40), 'CKM_SHA256_RSA_PKCS');
});

describe('ML-DSA keys generated and used in a PKCS#11 3.2 token', { skip: missing }, () => {
  let store: SoftHsmStore;
  let session: TokenSession;
  let work: string;
  const keys = new Map<MlDsaName, KeyInfo>();
  const direct = (label: string) => ({ lib: MLDSA_SOFTHSM!.lib, token: TOKEN, pin: PIN, label, env: store.env });

  before(() => {
    store = makeSoftHsmStore(MLDSA_SOFTHSM!);
    // SoftHSM2 reads SOFTHSM2_CONF at C_Initialize: before the module is loaded here.
    process.env.SOFTHSM2_CONF = store.conf;
    store.initToken(TOKEN, 'mldsa-so-pin-0123', PIN);
    work = mkdtempSync(join(tmpdir(), 'qpki-mldsa-token-'));
    session = loadModule(MLDSA_SOFTHSM!.lib).openSession({ label: TOKEN });
    session.login(PIN);
  });
  after(() => {
    session?.close();
    finalizeAllModules();
    store?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the token lists CKM_ML_DSA_KEY_PAIR_GEN and CKM_ML_DSA by name, and qpki offers the three parameter sets', () => {
    const mod = loadModule(MLDSA_SOFTHSM!.lib);
    const slot = mod.findToken({ label: TOKEN }).slot.slotId;
    const names = mod.mechanisms(slot).map((m) => m.name);
    assert.ok(names.includes('CKM_ML_DSA_KEY_PAIR_GEN') && names.includes('CKM_ML_DSA'), names.join(' '));
    assert.ok(!names.some((n) => /^0x0000001[cd]$/.test(n)), 'no ML-DSA mechanism left in hex');
    // As built, this token has no HashML-DSA: qpki never needs it (certificates are signed with pure ML-DSA).
    assert.ok(!names.some((n) => n.startsWith('CKM_HASH_ML_DSA')), names.join(' '));
    assert.deepEqual(session.keyAlgorithms().filter((a) => a.startsWith('ml-dsa')), [...ALGS]);
  });

  test('ML-DSA-44/65/87 generated in the token: sensitive, never extractable, local, sign-only, CKA_PARAMETER_SET on both halves (read by qpki, ctypes and pkcs11-tool)', async () => {
    for (const alg of ALGS) {
      const rep = await session.generateKey({ algorithm: alg, label: `ca-${alg}` });
      keys.set(alg, rep.key);
      const a = rep.key.attributes;
      assert.deepEqual([a.token, a.private, a.sensitive, a.extractable, a.alwaysSensitive, a.neverExtractable, a.local, a.sign], [true, true, true, false, true, true, true, true], alg);
      assert.deepEqual(rep.testSignature, { algorithm: alg, verified: true });
      assert.equal(rep.key.parameterSet, `CKP_ML_DSA_${alg.slice(-2)}`);
      assert.equal(spkiParts(rep.key.spki).publicKey.length, PUBLIC_BYTES[alg]);

      const [got] = p11direct(direct(`ca-${alg}`), [{ op: 'attrs' }]) as P11Attrs[];
      const priv = got.private;
      assert.equal(priv.CKA_KEY_TYPE, 0x4a, `${alg}: CKK_ML_DSA`);
      assert.equal(priv.CKA_PARAMETER_SET, CKP[alg], `${alg}: the private key's parameter set`);
      assert.equal(got.public.CKA_PARAMETER_SET, CKP[alg], `${alg}: the public key's parameter set`);
      for (const [name, want] of Object.entries({ CKA_TOKEN: true, CKA_PRIVATE: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: false, CKA_ALWAYS_SENSITIVE: true, CKA_NEVER_EXTRACTABLE: true, CKA_LOCAL: true, CKA_SIGN: true, CKA_DECRYPT: false, CKA_UNWRAP: false })) {
        assert.equal(priv[name], want, `${alg}: ${name} as the token reports it`);
      }
      // The private value and seed stay in the token: asking for them is refused, not answered.
      assert.deepEqual(priv.CKA_VALUE, { refused: 'CKR_ATTRIBUTE_SENSITIVE' });
      assert.deepEqual(priv.CKA_SEED, { refused: 'CKR_ATTRIBUTE_SENSITIVE' });
      assert.deepEqual(got.public.CKA_VALUE, { length: PUBLIC_BYTES[alg] });
    }
    const listed = execFileSync('pkcs11-tool', ['--module', MLDSA_SOFTHSM!.lib, '--token-label', TOKEN, '--login', '--pin', PIN, '--list-objects', '--type', 'privkey'], { env: store.env, encoding: 'utf8' });
    for (const alg of ALGS) {
      const block = listed.split(/\n(?=Private Key Object)/).find((b) => b.includes(`label:      ca-${alg}`));
      assert.ok(block, `pkcs11-tool lists ca-${alg}`);
      assert.match(block, /Usage:\s+sign\s*$/m, `${alg}: sign only`);
      assert.match(block, /Access:\s+sensitive, always sensitive, never extractable, local/, alg);
    }
    // qpki's own list shows each key with its parameter set.
    assert.deepEqual(session.listKeys().filter((k) => k.label.startsWith('ca-ml-dsa')).map((k) => [k.label, k.keyAlgorithm, k.parameterSet]).sort(), ALGS.map((a) => [`ca-${a}`, a, `CKP_ML_DSA_${a.slice(-2)}`]));
  });

  test('what qpki asks of CKM_ML_DSA is pure ML-DSA with an empty context, hedged (FIPS 204, RFC 9881)', async () => {
    const message = new TextEncoder().encode('a to-be-signed certificate stands here');
    for (const alg of ALGS) {
      const key = keys.get(alg)!;
      const pub = spkiParts(key.spki).publicKey;
      const signer = session.signer(key);
      const one = await signer.sign(alg, message);
      const two = await signer.sign(alg, message);
      // python cryptography and noble both verify with an empty context: pure ML-DSA, no prefix, no pre-hash.
      for (const sig of [one, two]) {
        assert.equal(pythonMlDsaVerify(alg, pub, message, sig), true, `${alg}: python, empty context`);
        assert.equal(NOBLE[alg].verify(sig, message, pub), true, `${alg}: noble, empty context`);
      }
      // The same signature under any context fails: the check would catch a token that added one.
      assert.equal(pythonMlDsaVerify(alg, pub, message, one, new TextEncoder().encode('qpki')), false, `${alg}: a context changes the message`);
      // Hedged: two signatures of one message differ. The token's deterministic variant, asked for
      // explicitly, repeats itself, so the difference is the hedge and not anything else.
      assert.notDeepEqual(Buffer.from(one), Buffer.from(two), `${alg}: hedged signatures differ`);
      const det = p11direct(direct(`ca-${alg}`), [
        { op: 'sign', data: message, params: { hedge: 2, context: new Uint8Array(0) } },
        { op: 'sign', data: message, params: { hedge: 2, context: new Uint8Array(0) } },
      ]) as { signature: string }[];
      assert.equal(det[0].signature, det[1].signature, `${alg}: CKH_DETERMINISTIC_REQUIRED repeats`);
      assert.equal(pythonMlDsaVerify(alg, pub, message, Buffer.from(det[0].signature, 'hex')), true);
    }
  });

  test('a signature made with a context is valid ML-DSA, yet its certificate does not verify (python, qpki)', async () => {
    const key = keys.get('ml-dsa-87')!;
    const r = await initCa({ dir: join(work, 'ctx-root'), profile: loadProfile('ml/root-ca'), vars: { cn: 'Context Check Root' }, key: { kind: 'pkcs11', session, label: key.label, id: key.id, useExisting: true } });
    const cert = AsnConvert.parse(r.certificate.der, Certificate);
    const tbs = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
    const context = new TextEncoder().encode('qpki');
    const [withCtx] = p11direct(direct(key.label), [{ op: 'sign', data: tbs, params: { hedge: 0, context } }]) as { signature: string }[];
    const ctxSig = Buffer.from(withCtx.signature, 'hex');
    const pub = spkiParts(key.spki).publicKey;
    assert.equal(pythonMlDsaVerify('ml-dsa-87', pub, tbs, ctxSig, context), true, 'the token made a good signature with that context');
    assert.equal(pythonMlDsaVerify('ml-dsa-87', pub, tbs, ctxSig), false, 'not under the empty context a certificate uses');
    cert.signatureValue = new Uint8Array(ctxSig).buffer;
    const forged = new Uint8Array(AsnConvert.serialize(cert));
    const forgedPath = join(work, 'ctx-root-forged.der');
    writeFileSync(forgedPath, forged);
    const [asSigned, withContext] = pythonCheck([{ issuer: r.certificate.path, doc: r.certificate.path }, { issuer: forgedPath, doc: forgedPath }]);
    assert.equal(asSigned.primary, true, `the certificate as qpki signed it verifies (${asSigned.primary_how})`);
    assert.equal(withContext.primary, false, 'the same certificate with the context signature does not');
    assert.deepEqual(describeDocument(r.certificate.der).signatures.map((s) => s.valid), [true]);
    assert.deepEqual(describeDocument(forged).signatures.map((s) => s.valid), [false]);
  });
});

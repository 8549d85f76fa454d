/**
 * A Catalyst CA with both keys in one PKCS#11 3.2 token (ECDSA and ML-DSA, SoftHSM2's ML-DSA
 * build) when the token goes away, as token-faults.test.ts does it for a classical CA: the token's
 * store moved away between two commands, and, in one session, between the two signatures of one
 * CRL (the ML-DSA alternative signature made, the ECDSA one not yet). Each time nothing is
 * written, the error says what to do, and the CA signs with both keys once the token is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, mldsaTokenMissing, MLDSA_SOFTHSM, useStoreInThisProcess, type SoftHsmStore } from '../softhsm';
import { QpkiError } from '../../electron/core/errors';
import { finalizeAllModules, loadModule } from '../../electron/core/pkcs11/index';
import { CertificateAuthority, openCa } from '../../electron/core/ca/authority';
import type { Signer } from '../../electron/core/keys/signer';
import { havePythonMlDsa, pythonCheck } from '../pq/verifiers';
import { ensureCliBuilt, hashTree, qpki } from './helpers';

const PIN = 'vanish-pq-pin-123456';
const TOKEN = 'Vanish PQ Token';
const missing = mldsaTokenMissing() ?? (!havePythonMlDsa() ? 'python3 cryptography with ML-DSA (>= 45) is not installed' : undefined);

describe('a Catalyst CA with both keys in one token, when the token goes away', { skip: missing }, () => {
  let work: string;
  let store: SoftHsmStore;
  let env: NodeJS.ProcessEnv;
  let caDir: string;
  let tok: string[];

  before(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), 'qpki-token-faults-pq-'));
    store = makeSoftHsmStore(MLDSA_SOFTHSM!);
    useStoreInThisProcess(store);
    store.initToken(TOKEN, 'vanish-pq-so-123456', PIN);
    env = { ...store.env, VANISH_PIN: PIN };
    tok = ['--pkcs11-lib', MLDSA_SOFTHSM!.lib, '--pkcs11-token', TOKEN, '--pkcs11-pin-env', 'VANISH_PIN'];
    caDir = join(work, 'ca');
    const r = qpki(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', ...tok, '--pkcs11-key-label', 'vanish-ec', '--pqc-pkcs11-key-label', 'vanish-ml', '--var', 'cn=Vanish Hybrid Root', '--dir', caDir], { env });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    finalizeAllModules();
    if (work) rmSync(work, { recursive: true, force: true });
    store?.cleanup();
  });

  const tokenDirName = () => {
    const d = readdirSync(store.tokenDir);
    assert.equal(d.length, 1);
    return d[0];
  };
  const journalKinds = () => readFileSync(join(caDir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { kind: string }).kind);

  test('the store moved away between commands: enroll and crl gen refuse in words, the CA stays as it was, and both keys sign once it is back', () => {
    const name = tokenDirName();
    const hidden = join(store.dir, 'pulled-out');
    const files = hashTree(caDir, (rel) => rel === 'journal.jsonl');
    const kinds = journalKinds();
    const enrollArgs = ['credential', 'enroll', '--ca-dir', caDir, '--profile', 'hybrid/catalyst/tls-server', '--cred-dir', join(work, 'creds'), '--unencrypted-key', ...tok];
    renameSync(join(store.tokenDir, name), hidden);
    try {
      const enroll = qpki([...enrollArgs, '--var', 'cn=gone.example.com'], { env });
      const crl = qpki(['crl', 'gen', '--ca-dir', caDir, ...tok], { env });
      for (const r of [enroll, crl]) {
        assert.equal(r.status, 1);
        assert.ok(['TOKEN_NOT_FOUND', 'TOKEN_NOT_PRESENT', 'SESSION_CLOSED'].includes(r.code!), r.stderr);
        assert.match(r.stderr, /Vanish PQ Token|serial "?[0-9a-f]+"?/, 'names the token');
        assert.match(r.stderr, /Connect the token|Reconnect it/, 'says what to do');
        assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      }
      assert.deepEqual(hashTree(caDir, (rel) => rel === 'journal.jsonl'), files, 'no file of the CA changed');
      const added = journalKinds().slice(kinds.length);
      assert.ok(added.every((k) => k === 'error' || k === 'login.failed'), `the journal gained only error entries: ${added}`);
    } finally {
      renameSync(hidden, join(store.tokenDir, name));
    }
    const enroll = qpki([...enrollArgs, '--var', 'cn=back.example.com'], { env });
    assert.equal(enroll.status, 0, enroll.stderr);
    const crl = qpki(['crl', 'gen', '--ca-dir', caDir, ...tok], { env });
    assert.equal(crl.status, 0, crl.stderr);
    const [r] = pythonCheck([{ issuer: join(caDir, 'ca.crt'), doc: join(caDir, 'crl', 'ca.crl') }]);
    assert.deepEqual([r.primary, r.alt?.valid], [true, true], 'both signatures of the CRL, made in the token');
    const check = qpki(['ca', 'check', '--ca-dir', caDir], { env });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  test('in one session, the token goes between the ML-DSA and the ECDSA signature of one CRL: TOKEN_NOT_PRESENT, nothing written; the reloaded module signs both', async () => {
    const session = loadModule(MLDSA_SOFTHSM!.lib).openSession({ label: TOKEN });
    session.login(PIN);
    const ca = await openCa(caDir, { session });
    assert.deepEqual([ca.signer.storage.type, ca.altSigner?.storage.type], ['pkcs11', 'pkcs11']);
    const name = tokenDirName();
    const hidden = join(store.dir, 'pulled-out-2');
    const order: string[] = [];
    // The alternative signature covers the pre-TBS, so it is made first; the token is pulled right after it.
    const alt: Signer = { keyAlgorithm: ca.altSigner!.keyAlgorithm, spki: ca.altSigner!.spki, storage: ca.altSigner!.storage, sign: async (a, d) => {
      const sig = await ca.altSigner!.sign(a, d);
      order.push('ml-dsa');
      renameSync(join(store.tokenDir, name), hidden);
      return sig;
    } };
    const primary: Signer = { keyAlgorithm: ca.signer.keyAlgorithm, spki: ca.signer.spki, storage: ca.signer.storage, sign: (a, d) => {
      order.push('ecdsa');
      return ca.signer.sign(a, d);
    } };
    const pulled = new CertificateAuthority(ca.dir, ca.meta, ca.certDer, primary, alt, ca.journal);
    const files = hashTree(caDir, (rel) => rel === 'journal.jsonl');
    try {
      await assert.rejects(pulled.generateCrl({ days: 7 }), (e: unknown) => {
        assert.ok(e instanceof QpkiError);
        assert.equal(e.code, 'TOKEN_NOT_PRESENT', e.message);
        assert.match(e.message, /no longer answers.*Nothing was signed/);
        return true;
      });
      assert.deepEqual(order, ['ml-dsa', 'ecdsa'], 'the ML-DSA signature was made, the ECDSA one was asked for and failed');
      assert.deepEqual(hashTree(caDir, (rel) => rel === 'journal.jsonl'), files, 'no CRL, no new CRL number');
    } finally {
      renameSync(hidden, join(store.tokenDir, name));
    }
    finalizeAllModules();
    const again = loadModule(MLDSA_SOFTHSM!.lib).openSession({ label: TOKEN });
    again.login(PIN);
    const back = await openCa(caDir, { session: again });
    const r = await back.generateCrl({ days: 7 });
    await back.close();
    again.close();
    const [py] = pythonCheck([{ issuer: join(caDir, 'ca.crt'), doc: r.paths[0] }]);
    assert.deepEqual([py.primary, py.alt?.valid], [true, true]);
  });
});

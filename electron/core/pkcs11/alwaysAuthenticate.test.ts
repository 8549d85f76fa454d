import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as pkcs11js from 'pkcs11js';
import { makeSoftHsmStore, useStoreInThisProcess, SOFTHSM_LIB } from '../../../test/softhsm';
import { verifySignature } from '../keys/verify';
import { EC_PARAMS } from './constants';
import { loadModule } from './index';

const store = makeSoftHsmStore();
useStoreInThisProcess(store);
const PIN = 'user-pin-1234567';
store.initToken('Auth Token', 'so-pin-12345678', PIN);
const mod = loadModule(SOFTHSM_LIB);
after(() => {
  mod.finalize();
  store.cleanup();
});

test('a key with CKA_ALWAYS_AUTHENTICATE gets the context-specific login after C_SignInit, asking for the PIN each time', async () => {
  const s = mod.openSession({ label: 'Auth Token' });
  try {
    await s.login(PIN);
    // Made with pkcs11js directly: our own key generation never sets this attribute.
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: 'per-signature-pin' },
      { type: pkcs11js.CKA_ID, value: Buffer.from('0a0b', 'hex') },
    ];
    s.lib.C_GenerateKeyPair(
      s.handle,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [...common, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS['ec-p256'] }, { type: pkcs11js.CKA_VERIFY, value: true }],
      [...common, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_ALWAYS_AUTHENTICATE, value: true }],
    );
    const key = s.findKey({ label: 'per-signature-pin' });
    assert.equal(key.attributes.alwaysAuthenticate, true);
    const msg = new TextEncoder().encode('needs the PIN again');

    // The token itself insists: without the context-specific login, C_Sign is refused.
    const [priv] = (s.lib.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_LABEL, value: 'per-signature-pin' }]), s.lib.C_FindObjects(s.handle, 1));
    s.lib.C_FindObjectsFinal(s.handle);
    s.lib.C_SignInit(s.handle, { mechanism: pkcs11js.CKM_ECDSA }, priv);
    assert.throws(() => s.lib.C_Sign(s.handle, Buffer.alloc(32, 1), Buffer.alloc(128)), /CKR_USER_NOT_LOGGED_IN/);

    await assert.rejects(s.signer(key).sign('ecdsa-sha256', msg), { code: 'PIN_REQUIRED' }, 'no PIN provider: refused before C_Sign');

    let asked = 0;
    const signer = s.signer(key, () => {
      asked++;
      return PIN;
    });
    const sig1 = await signer.sign('ecdsa-sha256', msg);
    const sig2 = await signer.sign('ecdsa-sha256', msg);
    assert.equal(asked, 2, 'the PIN is asked for every signature');
    assert.ok(verifySignature(key.spki, 'ecdsa-sha256', msg, sig1) && verifySignature(key.spki, 'ecdsa-sha256', msg, sig2));

    await assert.rejects(s.signer(key, () => 'wrong-pin-00000').sign('ecdsa-sha256', msg), { code: 'PIN_INCORRECT' });
  } finally {
    s.close();
  }
});

// Section 7's floor for the commands that sign: the least a Node process can do to sign once with
// a key in the token, and nothing else (no bundle, no certificate, no file but the PIN's, no
// fsync). It loads pkcs11js and the module, C_Initialize, finds the token by label, opens a
// session, logs in, finds the private key by label, signs one digest, C_Finalize. Plain CommonJS
// run by node itself, so that no loader or transpiler adds to its start-up.
// Usage: node tokenFloor.cjs <module path> <token label> <PIN file> <key label>
'use strict';
const fs = require('node:fs');
const pkcs11js = require('pkcs11js');

const [lib, tokenLabel, pinFile, keyLabel] = process.argv.slice(2);
const p11 = new pkcs11js.PKCS11();
p11.load(lib);
p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
try {
  const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === tokenLabel);
  if (!slot) throw new Error(`no token labelled ${tokenLabel}`);
  const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  p11.C_Login(session, pkcs11js.CKU_USER, fs.readFileSync(pinFile, 'utf8').trim());
  p11.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_LABEL, value: keyLabel },
  ]);
  const [key] = p11.C_FindObjects(session, 1);
  p11.C_FindObjectsFinal(session);
  if (!key) throw new Error(`no private key labelled ${keyLabel}`);
  p11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key);
  // A SHA-384-sized digest, as the bench CAs' P-384 keys sign.
  const signature = p11.C_Sign(session, Buffer.alloc(48, 1), Buffer.alloc(256));
  // r‖s of a P-256 to P-521 key; anything else means the floor did not do the job it stands for.
  if (signature.length < 64 || signature.length % 2 !== 0) throw new Error(`unexpected signature length ${signature.length}`);
} finally {
  p11.C_Finalize();
}

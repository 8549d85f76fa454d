/**
 * A token that appeared in the store after this process loaded the module (initialized by
 * another process, or read half-written while another process rewrote it) is found by serial:
 * with no session open, the module is initialized again and reads the store anew.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSoftHsmStore, useStoreInThisProcess, SOFTHSM_LIB } from '../../../test/softhsm';
import { loadModule } from './index';

test('a token initialized by another process after the module was loaded is found by its serial', () => {
  const store = makeSoftHsmStore();
  useStoreInThisProcess(store);
  try {
    store.initToken('First', 'so-pin-12345678', 'user-pin-1234567');
    const mod = loadModule(SOFTHSM_LIB);
    const second = store.initToken('Second', 'so-pin-12345678', 'user-pin-1234567');
    // The module, as loaded, does not list it yet...
    assert.ok(!mod.listSlots().some((s) => s.token?.serial === second), 'SoftHSM2 reads its store at C_Initialize');
    // ...but looking for it by serial finds it.
    const session = mod.openSession({ serial: second });
    assert.equal(session.token.label, 'Second');
    session.close();
    mod.finalize();
  } finally {
    store.cleanup();
  }
});

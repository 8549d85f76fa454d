/**
 * pkcs11js, the native PKCS#11 binding, required once for the whole engine, and only when first
 * used: loading the addon (dlopen of it and the C++ runtime, its JavaScript wrapper) takes
 * milliseconds that commands which never open a token (`ca info`, `cert list`, `journal show`…)
 * should not pay. With `import * as pkcs11js`, the bundler would also wrap this CommonJS addon in
 * a namespace object per importing module, copying its ~660 exports each time; one plain require
 * shares its exports object. Types come from `import type * as P11 from 'pkcs11js'`.
 */
type Pkcs11js = typeof import('pkcs11js');

let loaded: Pkcs11js | undefined;

function load(): Pkcs11js {
  return (loaded ??= require('pkcs11js') as Pkcs11js);
}

/** The addon's exports, loaded on the first property read. */
export const pkcs11js: Pkcs11js = new Proxy({} as Pkcs11js, {
  get: (_target, key) => Reflect.get(load(), key),
  has: (_target, key) => Reflect.has(load(), key),
  ownKeys: () => Reflect.ownKeys(load()),
  // The empty target holds none of these, so each is reported configurable (a proxy's invariant).
  getOwnPropertyDescriptor: (_target, key) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), key);
    return d && { ...d, configurable: true };
  },
});

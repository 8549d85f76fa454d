/**
 * pkcs11js, the native PKCS#11 binding, required once for the whole engine. With
 * `import * as pkcs11js`, the bundler wraps this CommonJS addon in a namespace object per
 * importing module, copying its ~660 exports each time (milliseconds of every token command);
 * one plain require shares its exports object. Types come from `import type * as P11 from 'pkcs11js'`.
 */
export const pkcs11js = require('pkcs11js') as typeof import('pkcs11js');

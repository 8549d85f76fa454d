export { loadModule, finalizeAllModules, Pkcs11Module } from './module';
export { TokenSession, type FinalTryConfirmation, type LoginResult } from './session';
export { WRONG_PIN_PAUSE_MS } from './pinPace';
export { Pkcs11Signer, ecdsaRawToDer, type PinProvider } from './signer';
export { initToken, tokenToInitialize, RECOMMENDED_PIN_LENGTH, type InitTokenOptions, type InitTokenQuestion, type InitTokenResult, type ObjectCount } from './tokenInit';
export { KNOWN_MODULE_PATHS, findInstalledModules, isInstalledVendorModule } from './knownModules';
export * from './types';

/**
 * The PKCS#11 modules this process has loaded, kept apart from module.ts so that a caller can
 * finalize them at exit (the command line always does) without loading pkcs11js when none was used.
 */
export interface LoadedModule {
  finalize(): void;
}

export const loadedModules = new Map<string, LoadedModule>();

export function finalizeAllModules(): void {
  for (const m of [...loadedModules.values()]) m.finalize();
}

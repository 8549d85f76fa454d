import { existsSync, realpathSync } from 'node:fs';

/** Where vendors install their PKCS#11 libraries, for offering a choice instead of a bare path field. */
export const KNOWN_MODULE_PATHS: { vendor: string; paths: string[] }[] = [
  { vendor: 'SoftHSM2 (development only)', paths: ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so', '/opt/homebrew/lib/softhsm/libsofthsm2.so', 'C:\\SoftHSM2\\lib\\softhsm2-x64.dll'] },
  { vendor: 'OpenSC (smart cards)', paths: ['/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', '/usr/lib/opensc-pkcs11.so', '/usr/local/lib/opensc-pkcs11.so', '/Library/OpenSC/lib/opensc-pkcs11.so', 'C:\\Windows\\System32\\opensc-pkcs11.dll'] },
  { vendor: 'openCryptoki', paths: ['/usr/lib/x86_64-linux-gnu/opencryptoki/libopencryptoki.so.0', '/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so', '/usr/lib/opencryptoki/libopencryptoki.so', '/usr/lib64/opencryptoki/libopencryptoki.so'] },
  { vendor: 'YubiHSM 2', paths: ['/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so', '/usr/lib/pkcs11/yubihsm_pkcs11.so', '/usr/local/lib/pkcs11/yubihsm_pkcs11.dylib'] },
  { vendor: 'Thales Luna', paths: ['/usr/safenet/lunaclient/lib/libCryptoki2_64.so', '/usr/lib/libCryptoki2_64.so', 'C:\\Program Files\\SafeNet\\LunaClient\\cryptoki.dll'] },
  { vendor: 'Utimaco', paths: ['/opt/utimaco/lib/libcs_pkcs11_R3.so', '/opt/utimaco/lib/libcs_pkcs11_R2.so', '/usr/lib/libcs_pkcs11_R3.so'] },
  { vendor: 'AWS CloudHSM', paths: ['/opt/cloudhsm/lib/libcloudhsm_pkcs11.so'] },
  { vendor: 'Eviden Trustway Proteccio', paths: ['/usr/lib/libnethsm.so', '/opt/proteccio/lib/libnethsm64.so'] },
];

export function findInstalledModules(): { vendor: string; path: string }[] {
  const out: { vendor: string; path: string }[] = [];
  for (const v of KNOWN_MODULE_PATHS) for (const p of v.paths) if (existsSync(p)) out.push({ vendor: v.vendor, path: p });
  return out;
}

function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Whether a library path is one of the vendors' installed locations (the same file, through any
 * symbolic link). Such a file was put there by whoever administers the machine, not by a CA
 * directory's metadata, which anyone who can write the directory can change.
 */
export function isInstalledVendorModule(lib: string): boolean {
  const r = real(lib);
  if (!r) return false;
  return KNOWN_MODULE_PATHS.some((v) => v.paths.some((p) => real(p) === r));
}

/** Tokens, slots, keys and libraries as the contract shows them: plain copies, never a handle. */
import { existsSync, realpathSync } from 'node:fs';
import { KNOWN_MODULE_PATHS, type KeyInfo as CoreKeyInfo, type SlotSummary as CoreSlot, type TokenSummary as CoreToken } from '../../core/pkcs11';
import { keyFamily } from '../../core/keys/algorithms';
import { fileSha256 } from '../../core/journal';
import { type AppState } from '../../ceremony/state';

/** A library the operator may choose, with the id the renderer names it by and its SHA-256. */
export function moduleChoice(state: AppState, path: string, vendor: string) {
  const present = existsSync(path);
  let sha256: string | null = null;
  try { sha256 = present ? fileSha256(path) : null; } catch { /* unreadable: shown without a hash, and loading it fails */ }
  return { id: state.capabilities.addModule(path, vendor), vendor, path, present, sha256 };
}

/**
 * The well-known libraries present on this computer, each once: distributions install the same
 * file under several paths (symbolic links), and one library is listed once, by its first path.
 */
export function knownModules(state: AppState) {
  const seen = new Set<string>();
  const out: ReturnType<typeof moduleChoice>[] = [];
  for (const v of KNOWN_MODULE_PATHS) {
    for (const p of v.paths) {
      if (!existsSync(p)) continue;
      let real = p;
      try { real = realpathSync(p); } catch { /* keep the path as given */ }
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(moduleChoice(state, p, v.vendor));
    }
  }
  return out;
}

export function token(t: CoreToken) {
  return {
    label: t.label,
    manufacturer: t.manufacturer,
    model: t.model,
    serial: t.serial,
    flags: { ...t.flags },
    minPinLen: t.minPinLen,
    maxPinLen: t.maxPinLen,
    freePublicMemory: t.freePublicMemory,
    freePrivateMemory: t.freePrivateMemory,
    hardwareVersion: t.hardwareVersion,
    firmwareVersion: t.firmwareVersion,
  };
}

export function slot(s: CoreSlot) {
  return { slotId: s.slotId, description: s.description, tokenPresent: s.tokenPresent, token: s.token ? token(s.token) : null };
}

export function keyInfo(k: CoreKeyInfo) {
  return {
    label: k.label,
    id: k.id,
    type: keyFamily(k.keyAlgorithm),
    algorithm: k.keyAlgorithm,
    size: k.sizeBits,
    attributes: { ...k.attributes },
    fingerprint: k.publicKeyFingerprint,
    ...(k.parameterSet ? { parameterSet: k.parameterSet } : {}),
  };
}

import { QpkiError, toErrorPayload } from '../core/errors';
import { initToken, loadModule, RECOMMENDED_PIN_LENGTH, tokenToInitialize, type InitTokenResult, type SlotSummary, type TokenFlags, type TokenSummary } from '../core/pkcs11/index';
import { isKeyAlgorithm } from '../core/keys/algorithms';
import { fileSha256 } from '../core/journal/fingerprint';
import { openLoggedIn, resolveToken, tokenRefFor } from './token';
import { loadHsmConfig } from './hsmConfig';
import type { TokenOptions } from './options';
import { emit, writeErr, yesNo } from './output';
import { readSecret } from './secrets';
import { closeInto, hold, holdModule, participants, peopleNamed, recordInto } from './ceremony';
import { Journal } from '../core/journal/journal';
import { resolve } from 'node:path';
import { groupHex } from '../core/journal/format';

function flagWords(f: TokenFlags): string {
  const on = Object.entries(f).filter(([, v]) => v).map(([k]) => k);
  return on.join(', ') || '-';
}

function slotLines(s: SlotSummary): string[] {
  const t = s.token;
  if (!t) return [`slot ${s.slotId}: ${s.description} — no token`];
  if (!t.flags.initialized) return [`slot ${s.slotId}: ${s.description} — token not initialized (serial ${t.serial || '-'})`];
  return [
    `slot ${s.slotId}: token "${t.label}"`,
    `  manufacturer: ${t.manufacturer}   model: ${t.model}   serial: ${t.serial}`,
    `  flags: ${flagWords(t.flags)}`,
    `  PIN length: ${t.minPinLen}..${t.maxPinLen}   free memory: public ${t.freePublicMemory ?? 'n/a'}, private ${t.freePrivateMemory ?? 'n/a'}`,
  ];
}

/** `token list` (and QPKI's `hsm list`): the module named by --pkcs11-lib or an hsm.yaml. */
export function tokenList(o: { pkcs11Lib?: string; hsmConfig?: string }): void {
  const lib = o.pkcs11Lib ?? (o.hsmConfig ? loadHsmConfig(o.hsmConfig).lib : undefined);
  if (!lib) throw new QpkiError('INPUT_INVALID', 'Give the PKCS#11 module with --pkcs11-lib (or --hsm-config).');
  o = { ...o, pkcs11Lib: lib };
  const mod = loadModule(lib);
  const info = mod.info();
  const slots = mod.listSlots();
  emit({ module: { ...info, sha256: fileSha256(lib) }, slots }, () => [`module ${info.path}: ${info.description} ${info.libraryVersion} (${info.manufacturer}, Cryptoki ${info.cryptokiVersion})`, ...slots.flatMap(slotLines)]);
}

/** `token info` */
export function tokenInfo(o: TokenOptions): void {
  const t = resolveToken(o)!;
  const mod = loadModule(t.lib);
  const found = mod.findToken(tokenRefFor(mod, t.ref));
  const mechs = mod.mechanisms(found.slot.slotId);
  const f = found.token.flags;
  emit({ slot: found.slot, mechanisms: mechs }, () => [
    ...slotLines(found.slot),
    `  user PIN: ${f.userPinLocked ? 'LOCKED' : f.userPinFinalTry ? 'FINAL TRY' : f.userPinCountLow ? 'count low' : 'ok'}${f.userPinToBeChanged ? ', to be changed' : ''}; SO PIN: ${f.soPinLocked ? 'LOCKED' : f.soPinFinalTry ? 'FINAL TRY' : f.soPinCountLow ? 'count low' : 'ok'}`,
    `  login required: ${yesNo(f.loginRequired)}   protected authentication path: ${yesNo(f.protectedAuthPath)}`,
    `  mechanisms (${mechs.length}):`,
    ...mechs.map((m) => `    ${m.name.padEnd(34)} ${m.minKeySize}..${m.maxKeySize}  ${m.flags.join(',')}`),
  ]);
}

/** `token init` */
export async function tokenInit(o: {
  pkcs11Lib: string; slot: string; label: string; soPin?: string; soPinEnv?: string; soPinFile?: string; pin?: string; pinEnv?: string; pinFile?: string;
  journalDir?: string; reinitialize?: string; force?: boolean;
}): Promise<void> {
  // A token initialization is a ceremony step of its own: always on a record that names the people
  // present, opened and closed, a refusal or a wrong SO PIN as much as a success. Refused before
  // the module is loaded or any PIN asked for.
  if (!o.journalDir) throw new QpkiError('INPUT_INVALID', 'A token initialization is always recorded: give --journal-dir DIR (a CA directory, or a folder of its own for the token\'s record). Nothing was done.');
  if (!peopleNamed()) throw new QpkiError('INPUT_INVALID', 'Name the people present with --operator NAME and --witness NAME (before the command): the record of a token initialization names them. Nothing was done.');
  const journalDir = o.journalDir;
  const mod = loadModule(o.pkcs11Lib);
  const info = mod.info();
  const reinitialize = o.reinitialize !== undefined ? { confirmLabel: o.reinitialize } : undefined;
  const journal = (kind: 'token.initialized' | 'token.init.failed', facts: Record<string, unknown>) => {
    const dir = resolve(journalDir);
    holdModule(o.pkcs11Lib, { manufacturer: info.manufacturer, description: info.description, libraryVersion: info.libraryVersion });
    hold(kind, facts);
    const j = Journal.open(dir, participants());
    recordInto(j, dir, 'token init');
    closeInto(j, 'token init', dir);
  };
  // What the slot holds: the record of a refusal names the token it protected.
  let present: TokenSummary | undefined;
  try { present = mod.tokenSummary(mod.slotHandle(o.slot)); } catch { /* tokenToInitialize reports the slot's problem */ }
  const answers: Record<string, string> = {};
  let r: InitTokenResult;
  try {
    // An initialized token is refused before any PIN is asked for.
    present = tokenToInitialize(mod, o.slot, reinitialize);
    const soPin = await readSecret('security officer PIN', '--so-pin', { value: o.soPin, env: o.soPinEnv, file: o.soPinFile }, { confirm: !present.flags.initialized });
    const userPin = await readSecret('user PIN', '--pin', { value: o.pin, env: o.pinEnv, file: o.pinFile }, { confirm: true });
    if (soPin === undefined || userPin === undefined) throw new QpkiError('PIN_REQUIRED', 'Give the SO PIN and user PIN (--so-pin-env/--so-pin-file and --pin-env/--pin-file, or run on a terminal).');
    r = await initToken(mod, {
      slotId: o.slot, label: o.label, soPin, userPin, ...(reinitialize ? { reinitialize } : {}),
      // On the command line the flags are the operator's confirmations: --reinitialize with the
      // label typed, --force for the SO PIN's final try.
      confirm: async (q) => {
        if (q.kind === 'reinitialize-token') {
          writeErr(`warning: re-initializing token "${q.token.label}" (serial ${q.token.serial}): every key and object on it is destroyed (${q.objects === null ? 'the token did not list its objects' : q.objects.includesPrivate ? `${q.objects.count} objects` : `${q.objects.count} visible without login, and every private key`}).\n`);
          answers.reinitialize = 'confirmed (--reinitialize)';
          return true;
        }
        answers.soFinalTry = o.force ? 'confirmed (--force)' : 'not confirmed (no --force)';
        return o.force === true;
      },
    });
  } catch (e) {
    try {
      journal('token.init.failed', {
        slotId: o.slot, label: o.label, reinitialize: reinitialize !== undefined, code: toErrorPayload(e).code, ...(Object.keys(answers).length ? { answers } : {}),
        ...(present ? { token: present.label, serial: present.serial, initialized: present.flags.initialized } : {}),
      });
    } catch (j) {
      // The refusal is what the operator must see; that it is not on the record is said beside it.
      writeErr(`warning: the refusal could not be recorded in ${o.journalDir}: ${toErrorPayload(j).message}\n`);
    }
    throw e;
  }
  for (const w of r.warnings) writeErr(`warning: ${w}\n`);
  const again = r.reinitialized;
  journal('token.initialized', {
    label: r.token.label, serial: r.token.serial, model: r.token.model, manufacturer: r.token.manufacturer, advice: r.warnings, ...(Object.keys(answers).length ? { answers } : {}),
    ...(again ? { reinitialized: true, previousLabel: again.previousLabel, previousSerial: again.previousSerial, objectsBefore: again.objects } : {}),
  });
  emit(r, () => [
    `Token "${r.token.label}" ${again ? `re-initialized (was "${again.previousLabel}", serial ${again.previousSerial}; everything on it was destroyed)` : 'initialized'} (serial ${r.token.serial}). Find it by label or serial from now on; its slot id may have changed.`,
    `  PINs of ${RECOMMENDED_PIN_LENGTH}+ characters are recommended for CA tokens.`,
  ]);
}

/** `key list` */
export async function keyList(o: TokenOptions): Promise<void> {
  const s = await openLoggedIn(resolveToken(o)!, o.force);
  try {
    const keys = s.listKeys();
    emit(keys.map((k) => ({ ...k, spki: undefined })), () =>
      keys.length
        ? keys.map((k) => `"${k.label}"  id ${k.id}  ${k.keyAlgorithm}${k.parameterSet ? ` (${k.parameterSet})` : ''}  ${k.attributes.sensitive ? 'sensitive' : 'NOT SENSITIVE'} ${k.attributes.extractable ? 'EXTRACTABLE' : 'never-extractable'} ${k.attributes.local ? 'local' : 'imported'}  SHA-256(pub) ${k.publicKeyFingerprint}`)
        : ['no private keys'],
    );
  } finally {
    s.close();
  }
}

/** `key gen` */
export async function keyGen(o: TokenOptions & { algorithm: string; pkcs11KeyLabel: string; pkcs11KeyId?: string }): Promise<void> {
  if (!isKeyAlgorithm(o.algorithm)) throw new QpkiError('INPUT_INVALID', `Unknown algorithm "${o.algorithm}".`);
  const s = await openLoggedIn(resolveToken(o)!, o.force);
  try {
    const r = await s.generateKey({ algorithm: o.algorithm, label: o.pkcs11KeyLabel, id: o.pkcs11KeyId });
    const a = r.key.attributes;
    emit({ ...r, key: { ...r.key, spki: undefined } }, () => [
      `Key "${r.key.label}" generated in token "${s.token.label}" (${r.key.keyAlgorithm}, id ${r.key.id}) in ${Math.round(r.durationMs)} ms`,
      `  read back: sensitive=${a.sensitive} extractable=${a.extractable} always_sensitive=${a.alwaysSensitive} never_extractable=${a.neverExtractable} local=${a.local}`,
      `  test signature (${r.testSignature.algorithm}) verified in software: ${yesNo(r.testSignature.verified)}`,
      `  public key SHA-256: ${groupHex(r.key.publicKeyFingerprint)}`,
    ]);
  } finally {
    s.close();
  }
}

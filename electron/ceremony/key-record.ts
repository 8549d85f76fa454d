/**
 * What a journal recorded about a token key at its generation: the SHA-256 of its public key,
 * so a key chosen later can be matched against it. Both shapes of `key.generated` are read: the
 * app's (label, id, tokenSerial) and a CA directory's (storage: token_serial, key_label, key_id).
 */
export interface RecordedFingerprint {
  sha256: string;
  /** Which record said so, in words ("this ceremony", "the journal of /ca/dir"). */
  where: string;
}

type Event = { kind: string; facts: Record<string, unknown> };

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The last `key.generated` fingerprint for this key of this token in `events`, or null. */
export function recordedKeyFingerprint(events: Iterable<Event>, ref: { tokenSerial: string; label: string; id: string }, where: string): RecordedFingerprint | null {
  let found: RecordedFingerprint | null = null;
  for (const e of events) {
    if (e.kind !== 'key.generated') continue;
    const f = e.facts;
    const st = f.storage && typeof f.storage === 'object' ? (f.storage as Record<string, unknown>) : undefined;
    const serial = str(f.tokenSerial) ?? (st?.type === 'pkcs11' ? str(st.token_serial) : undefined);
    const id = str(f.id) ?? str(st?.key_id);
    const label = str(f.label) ?? str(st?.key_label);
    const sha256 = str(f.publicKeySha256Fingerprint);
    if (!sha256 || serial !== ref.tokenSerial) continue;
    // Ids are unique on a token (generation refuses a taken one); a key without one goes by label.
    if (ref.id ? id?.toLowerCase() !== ref.id.toLowerCase() : label !== ref.label) continue;
    found = { sha256: sha256.replace(/[: ]/g, '').toLowerCase(), where };
  }
  return found;
}

/** When a key with this public key (SHA-256 hex) was generated, by the first `key.generated` in `events` that names it. */
export function keyGeneratedAt(events: Iterable<Event & { time?: string }>, sha256: string, where: string): { time: string; where: string } | null {
  const want = sha256.replace(/[: ]/g, '').toLowerCase();
  for (const e of events) {
    if (e.kind !== 'key.generated' || typeof e.time !== 'string') continue;
    const got = str(e.facts.publicKeySha256Fingerprint)?.replace(/[: ]/g, '').toLowerCase();
    if (got === want) return { time: e.time, where };
  }
  return null;
}

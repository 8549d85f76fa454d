/**
 * The questions main asks about a token before an irreversible step: the PIN's final try, and
 * re-initializing a token (every object on it destroyed). Built from what main read from the
 * token itself, never from what the renderer sent.
 */
import type { Confirm, Confirmation } from './confirmation';

export interface TokenFacts {
  label: string;
  serial: string;
  manufacturer: string;
  model: string;
}

function tokenLines(t: TokenFacts): Confirmation['facts'] {
  return [
    { label: 'Token', value: t.label },
    { label: 'Serial', value: t.serial },
    { label: 'Made by', value: `${t.manufacturer} ${t.model}`.trim() },
  ];
}

export function finalPinTryQuestion(t: TokenFacts, which: 'user' | 'SO'): Confirmation {
  return {
    kind: 'final-pin-try',
    title: `One ${which} PIN try is left on token “${t.label}”`,
    facts: [
      ...tokenLines(t),
      { label: 'PIN', value: which === 'user' ? 'the user PIN' : 'the security officer (SO) PIN' },
      {
        label: 'If this PIN is wrong',
        value: which === 'user'
          ? 'the user PIN locks: no login until the security officer unlocks it'
          : 'the SO PIN locks: the token can no longer be initialized or its user PIN reset',
      },
    ],
    action: `Send this ${which} PIN`,
  };
}

/**
 * `objects`: what main could see on the token (public objects, and the private ones too when the
 * ceremony is logged in to it), or null when the token would not list them.
 */
export function reinitializeQuestion(t: TokenFacts, slotId: string, objects: { count: number; includesPrivate: boolean } | null, newLabel: string): Confirmation {
  return {
    kind: 'reinitialize-token',
    title: `Re-initialize token “${t.label}” and destroy every key and object on it`,
    facts: [
      ...tokenLines(t),
      { label: 'Slot', value: slotId },
      {
        label: 'Objects on it',
        value: objects === null
          ? 'unknown: the token did not list its objects'
          : objects.includesPrivate
            ? `${objects.count}, its keys included (counted while logged in): all are destroyed`
            : `${objects.count} visible without a login (public objects); its private keys are not visible before a login and are destroyed too`,
      },
      { label: 'New label', value: newLabel },
      { label: 'Afterwards', value: 'every CA key on this token is gone for good; certificates it signed can no longer be renewed or revoked with it' },
    ],
    action: 'Destroy everything and re-initialize',
  };
}

/** Asks, and counts only an explicit true as yes: a dialog that fails or closes is a no. */
export async function askedYes(confirm: Confirm, c: Confirmation): Promise<boolean> {
  try {
    return (await confirm(c)) === true;
  } catch {
    return false;
  }
}

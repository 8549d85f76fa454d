/**
 * A pause before the next PIN attempt on a token after a wrong one. The token's own retry
 * counter is the real limit; this makes guessing through this process (a hostile renderer
 * calling login in a loop, before any counter a token may lack) cost time too. Kept per token
 * (library and serial) in this process, not per session, so reopening the token does not reset it.
 */
export const WRONG_PIN_PAUSE_MS = 1500;

const lastWrong = new Map<string, number>();

function tokenKey(modulePath: string, serial: string): string {
  return `${modulePath}\n${serial}`;
}

export function noteWrongPin(modulePath: string, serial: string): void {
  lastWrong.set(tokenKey(modulePath, serial), Date.now());
}

export function clearWrongPin(modulePath: string, serial: string): void {
  lastWrong.delete(tokenKey(modulePath, serial));
}

/** Milliseconds still to wait before a PIN may be sent to this token (0: now). */
export function pinPauseLeft(modulePath: string, serial: string): number {
  const t = lastWrong.get(tokenKey(modulePath, serial));
  return t === undefined ? 0 : Math.max(0, t + WRONG_PIN_PAUSE_MS - Date.now());
}

/** Waits out the pause, if any; resolves at once when there is none. */
export async function waitPinPause(modulePath: string, serial: string): Promise<void> {
  const left = pinPauseLeft(modulePath, serial);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

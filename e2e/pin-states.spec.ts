/**
 * The PIN screen in every state, on a real token that sets the PIN flags: opencryptoki's
 * software token, with the app's handler table running inside a private mount namespace beside
 * its own pkcsslotd (e2e/ock-bridge.cjs). Nothing is stubbed: the page's requests go to that
 * table, which talks to opencryptoki. Wrong PIN → count low; again → final try, the login held
 * until the operator ticks the confirmation; right PIN confirmed → in; then wrong PINs until
 * locked → the login blocked.
 */
import { test, expect } from './fixtures';
import { chooseModule, openCeremonyThroughUi } from './helpers';
import { opencryptokiUnavailable } from '../test/opencryptoki-env';
import { startOckBridge, type OckBridge } from './opencryptoki-bridge';
import type { App } from './fixtures';

const LABEL = 'OCK UI Token';
const PIN = 'ock-1234';
const WRONG = 'wrong-00';

const reason = opencryptokiUnavailable();
if (reason) console.log(`[pin states e2e] skipped: ${reason}`);

async function toPinScreen(app: App, lib: string): Promise<void> {
  const { page } = app;
  await openCeremonyThroughUi(app);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Where will the CA key live?');
  await chooseModule(app, lib);
  await page.getByTestId('storage-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Choose the token');
  await page.getByTestId(`use-token-${LABEL}`).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Log in to “${LABEL}”`);
}

async function wrongPin(app: App, confirm = false, code = 'PIN_INCORRECT'): Promise<void> {
  const { page } = app;
  await page.getByTestId('pin').fill(WRONG);
  if (confirm) await page.getByTestId('confirm-final').check();
  await page.getByTestId('login').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', code);
  await expect(page.getByTestId('pin')).toHaveValue('');
}

test('PIN screen on opencryptoki: count low, final try with confirmation, success, then locked and blocked', async ({ app }) => {
  test.skip(!!reason, reason);
  test.setTimeout(180_000);
  const { page } = app;
  let ock: OckBridge | null = await startOckBridge();
  try {
    // A fresh opencryptoki token, made through the same table.
    const known = await ock.call('knownModules');
    const lib = known.value.modules.find((m: { path: string }) => m.path === ock!.lib);
    expect(lib, 'openCryptoki is among the libraries main offers').toBeTruthy();
    expect((await ock.call('loadModule', { moduleId: lib.id })).ok).toBe(true);
    const slots = await ock.call('listSlots');
    const free = slots.value.slots.find((s: { tokenPresent: boolean; token: { flags: Record<string, boolean> } | null }) => s.tokenPresent && s.token && !s.token.flags.initialized);
    const init = await ock.call('initToken', { slotId: free.slotId, label: LABEL, soPin: '87654321', userPin: PIN });
    expect(init.ok, JSON.stringify(init.error)).toBe(true);
    app.route(ock.invoke);

    await toPinScreen(app, ock.lib);
    const state = page.getByTestId('pin-state');
    await expect(state).toContainText('PIN state: normal');
    await expect(state).toContainText('4 to 8 characters');

    // Wrong PIN: the token now says few tries are left, and the screen says so.
    await wrongPin(app);
    await expect(page.getByTestId('error')).toContainText('Few tries are left');
    await expect(state).toContainText('A wrong PIN was entered recently. Few tries remain before the token locks.');
    await expect(page.getByTestId('confirm-final')).toHaveCount(0);
    await app.screen('pin-count-low');

    // Again: the final try. The login is held until the operator ticks the confirmation.
    await wrongPin(app);
    await expect(page.getByTestId('error')).toContainText('One try is left');
    await expect(state).toContainText('Final try: one more wrong PIN locks this token.');
    await expect(page.getByTestId('confirm-final')).not.toBeChecked();
    await expect(page.getByTestId('login')).toBeDisabled();
    await app.screen('pin-final-try');
    await page.getByTestId('pin').fill(PIN);
    await page.getByTestId('confirm-final').check();
    await expect(page.getByTestId('login')).toBeEnabled();
    await app.screen('pin-final-try-confirmed');
    await page.getByTestId('login').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
    await expect(page.getByTestId('session-state')).toContainText(`Logged in to “${LABEL}”`);

    // Start over, and this time the final try is wrong: the token locks and the screen blocks the login.
    await page.getByTestId('home').click();
    await expect(page.getByTestId('start-ceremony')).toBeVisible();
    await toPinScreen(app, ock.lib);
    await expect(state).toContainText('PIN state: normal');
    await wrongPin(app);
    await wrongPin(app);
    await expect(page.getByTestId('login')).toBeDisabled();
    // The wrong final try locks the token: the error speaks of the lock, not of typing the PIN again.
    await wrongPin(app, true, 'PIN_LOCKED');
    await expect(page.getByTestId('error')).toContainText('The PIN is locked.');
    await expect(page.getByTestId('error')).toContainText('security officer');
    await expect(page.getByTestId('error')).toContainText('The PIN is incorrect. The PIN is now locked.');
    await expect(state).toContainText('The user PIN is locked. No login is possible');
    await expect(page.getByTestId('confirm-final')).toHaveCount(0);
    await expect(page.getByTestId('login')).toBeDisabled();
    await app.screen('pin-locked');

    // The handler table refuses a locked PIN without trying, whatever the page sends.
    const direct = await ock.call('login', { pin: PIN, confirmFinalTry: true });
    expect(direct.error?.code).toBe('PIN_LOCKED');
    expect(direct.error?.message).toContain('No login was attempted');
    expect(await page.content()).not.toContain(PIN);
    expect(app.foreign).toEqual([]);
    await page.getByTestId('home').click();
    app.route(null);
    const bridge = ock;
    ock = null;
    await bridge.close();
    expect(bridge.log()).toMatch(/pkcsslotd \d+ stopped/);
  } finally {
    app.route(null);
    await ock?.close();
  }
});

/**
 * The PIN screen in every state, on a real token that sets the PIN flags: opencryptoki's
 * software token, with the app's handler table running inside a private mount namespace beside
 * its own pkcsslotd (e2e/ock-bridge.cjs). Nothing is stubbed: the page's requests go to that
 * table, which talks to opencryptoki. Wrong PIN → count low; again → final try, where main asks
 * the operator in its own dialog (the bridge answers: first no, nothing sent; then yes) → in;
 * then wrong PINs until locked → the login blocked.
 */
import { test, expect } from './fixtures';
import { chooseModule, inPreparation, openCeremonyThroughUi } from './helpers';
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

async function wrongPin(app: App, code = 'PIN_INCORRECT'): Promise<void> {
  const { page } = app;
  await page.getByTestId('pin').fill(WRONG);
  await page.getByTestId('login').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', code);
  await expect(page.getByTestId('pin')).toHaveValue('');
}

test('PIN screen on opencryptoki: count low, final try asked in main (no, then yes), success, then locked and blocked', async ({ app }) => {
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
    const init = await inPreparation((c, i) => ock!.call(c, i), 'the opencryptoki token', () => ock!.call('initToken', { slotId: free.slotId, label: LABEL, soPin: '87654321', userPin: PIN }));
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

    // Again: the final try. Nothing on the page confirms it: main asks in its own dialog.
    await wrongPin(app);
    await expect(page.getByTestId('error')).toContainText('One try is left');
    await expect(state).toContainText('Final try: one more wrong PIN locks this token.');
    await expect(state).toContainText('the app asks you to confirm in a separate dialog');
    await expect(page.getByTestId('confirm-final')).toHaveCount(0);
    await expect(page.getByTestId('login')).toBeEnabled();
    await app.screen('pin-final-try');
    const askedBefore = (await ock.confirmations()).length;
    // The operator says no in main's dialog: refused before C_Login, the token still on its final try.
    await ock.answerConfirm(false);
    await page.getByTestId('pin').fill(PIN);
    await page.getByTestId('login').click();
    await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'PIN_FINAL_TRY');
    await expect(page.getByTestId('error')).toContainText('no PIN was sent');
    await expect(state).toContainText('Final try');
    const declined = (await ock.confirmations()).slice(askedBefore);
    expect(declined.map((c) => c.kind)).toEqual(['final-pin-try']);
    expect(declined[0].title).toBe(`One user PIN try is left on token “${LABEL}”`);
    expect(declined[0].facts).toContainEqual({ label: 'Token', value: LABEL });
    expect(declined[0].facts.find((f) => f.label === 'Serial')?.value).toMatch(/\S/);
    expect(declined[0].facts.find((f) => f.label === 'If this PIN is wrong')?.value).toContain('locks');
    // Yes: the PIN goes to the token.
    await ock.answerConfirm(true);
    await page.getByTestId('pin').fill(PIN);
    await page.getByTestId('login').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
    await expect(page.getByTestId('session-state')).toContainText(`Logged in to “${LABEL}”`);
    expect((await ock.confirmations()).slice(askedBefore).map((c) => c.kind)).toEqual(['final-pin-try', 'final-pin-try']);

    // Start over, and this time the final try is wrong: the token locks and the screen blocks the login.
    // Starting over asks first (a witnessed ceremony is open), then shows where its record was closed.
    await page.getByTestId('home').click();
    await expect(page.getByTestId('start-over-question')).toBeFocused();
    await page.getByTestId('start-over-confirm').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ceremony closed');
    await expect(page.getByTestId('closed')).toContainText('Journal verified');
    await page.getByTestId('back-to-start').click();
    await expect(page.getByTestId('start-ceremony')).toBeVisible();
    await toPinScreen(app, ock.lib);
    await expect(state).toContainText('PIN state: normal');
    await wrongPin(app);
    await wrongPin(app);
    // The wrong final try (confirmed in main's dialog) locks the token: the error speaks of the lock, not of typing the PIN again.
    await wrongPin(app, 'PIN_LOCKED');
    await expect(page.getByTestId('error')).toContainText('The PIN is locked.');
    await expect(page.getByTestId('error')).toContainText('security officer');
    await expect(page.getByTestId('error')).toContainText('The PIN is incorrect. The PIN is now locked.');
    await expect(state).toContainText('The user PIN is locked. No login is possible');
    await expect(page.getByTestId('confirm-final')).toHaveCount(0);
    await expect(page.getByTestId('login')).toBeDisabled();
    await app.screen('pin-locked');

    // The handler table refuses a locked PIN without trying or asking, whatever the page sends.
    const asked = (await ock.confirmations()).length;
    const direct = await ock.call('login', { pin: PIN });
    expect(direct.error?.code).toBe('PIN_LOCKED');
    expect(direct.error?.message).toContain('No login was attempted');
    expect((await ock.confirmations()).length).toBe(asked);
    expect((await ock.call('login', { pin: PIN, confirmFinalTry: true })).error?.code).toBe('INPUT_INVALID');
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

/**
 * The token step as a witness reads it: each token's versions and both PINs' states, its
 * mechanisms as a table (names, key sizes, flags), its objects, a blank token without a green
 * "Login required" and with "Initialize this token…" right there, which initializes it inside the
 * open ceremony (its record shows it) and goes on to that token's PIN. A SoftHSM2 library chosen
 * from the list carries the development banner as the development card does.
 */
import { test, expect } from './fixtures';
import { chooseModule, makeToken, openCeremonyThroughUi } from './helpers';
import { SOFTHSM_LIB } from '../test/softhsm';

const SO_PIN = 'e2e-card-so-123456';
const USER_PIN = 'e2e-card-user-123456';

test('token cards: versions, PIN states, mechanisms table, objects; a blank token is initialized from its card inside the ceremony', async ({ app }) => {
  const { page, harness } = app;
  await makeToken(app, 'e2e-card', SO_PIN, USER_PIN);
  await openCeremonyThroughUi(app);
  await chooseModule(app, SOFTHSM_LIB);
  await page.getByTestId('storage-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Choose the token');
  // SoftHSM2 chosen from the library list, not through the development card: still said on every screen, and recorded.
  await expect(page.getByTestId('session-state')).toContainText('DEVELOPMENT TOKEN, NOT FOR PRODUCTION');
  const loaded = harness.state.ceremony.pendingEvents().filter((e) => e.kind === 'module.loaded').pop()!;
  expect(loaded.facts.developmentToken).toBe(true);

  const card = page.getByTestId('slot-e2e-card');
  await expect(card).toContainText(/Hardware \/ firmware\s*version \d+\.\d+ \/ version \d+\.\d+/);
  await expect(card.getByTestId('user-pin-state')).toHaveText('No failed tries reported');
  await expect(card.getByTestId('so-pin-state')).toHaveText('No failed tries reported');
  await expect(card.getByTestId('token-state')).toContainText('Login required');

  const slotId = harness.state.module!.listSlots().find((s) => s.token?.label === 'e2e-card')!.slotId;
  const toggle = page.getByTestId(`mechanisms-toggle-${slotId}`);
  await expect(toggle).toHaveText('Show mechanisms and objects');
  await toggle.click();
  await expect(toggle).toHaveText('Hide mechanisms and objects');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const table = page.getByTestId(`mechanisms-${slotId}`);
  await expect(table.locator('caption')).toHaveText(/^Mechanisms \(\d+\)$/);
  const ecdsa = table.locator('tr', { has: page.locator('td', { hasText: /^CKM_ECDSA$/ }) });
  await expect(ecdsa.locator('td').nth(1)).toHaveText(/^\d+ to \d+$/);
  await expect(ecdsa.locator('td').nth(2)).toContainText('sign');
  // One mechanism per row: the names no longer run together in one paragraph.
  const rows = await table.locator('tbody tr').count();
  expect(rows).toBeGreaterThan(20);
  await expect(page.getByTestId(`objects-${slotId}`)).toContainText('No object is visible.');
  // Each name whole on one line (its text takes one line box), never broken mid-word.
  const lines = await table.locator('tbody td.mono').evaluateAll((cells) => cells.map((c) => {
    const r = document.createRange();
    r.selectNodeContents(c);
    return [c.textContent, new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size];
  }));
  expect(lines.filter(([, n]) => n !== 1)).toEqual([]);
  await app.screen('token-card-mechanisms');
  await toggle.click();
  await expect(table).toHaveCount(0);
  await expect(toggle).toHaveText('Show mechanisms and objects');

  // The blank token SoftHSM2 always offers: not initialized, no green light, initialized from here.
  const blank = harness.state.module!.listSlots().find((s) => s.tokenPresent && s.token && !s.token.flags.initialized)!;
  const blankCard = page.getByTestId(`slot-${blank.slotId}`);
  await expect(blankCard.getByTestId('token-state')).toHaveText('Not initialized');
  await expect(blankCard.getByTestId('so-pin-state')).toHaveText('None yet (the token is blank)');
  await app.screen('token-card-blank');
  await expect(blankCard.getByTestId(`use-token-${blank.token!.label}`)).toBeDisabled();
  await blankCard.getByTestId(`init-slot-${blank.slotId}`).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Initialize a token');
  await expect(page.locator('label.check', { hasText: `Slot ${blank.slotId}:` }).locator('input[type=radio]')).toBeChecked();
  // The label is checked as it is typed, before any PIN.
  await page.getByTestId('token-label').fill('e2e-card');
  await expect(page.getByTestId('token-label-check')).toHaveText('Another token here is already labelled “e2e-card”: choose a unique label.');
  await page.getByTestId('token-label').fill('e2e-card-new');
  await expect(page.getByTestId('token-label-check')).toContainText('“e2e-card-new” is free');
  await page.getByTestId('confirm-init').check();
  // The security officer's typo: their two fields are cleared (and masked again), the operator's kept.
  await page.getByTestId('so-pin').fill(SO_PIN);
  await page.getByTestId('so-pin2').fill(`${SO_PIN}x`);
  const soField = page.getByTestId('so-pin');
  await page.getByRole('button', { name: 'Show Security officer (SO) PIN' }).click();
  await expect(soField).toHaveAttribute('type', 'text');
  for (const id of ['user-pin', 'user-pin2']) await page.getByTestId(id).fill(USER_PIN);
  await page.getByTestId('init-token').click();
  await expect(page.getByTestId('init-problem')).toContainText('The two SO PINs differ');
  await expect(soField).toHaveValue('');
  await expect(soField).toHaveAttribute('type', 'password');
  for (const id of ['user-pin', 'user-pin2']) await expect(page.getByTestId(id)).toHaveValue(USER_PIN);
  for (const id of ['so-pin', 'so-pin2']) await page.getByTestId(id).fill(SO_PIN);
  await expect(page.getByTestId('so-pin-match')).toHaveText('Matches');
  await page.getByTestId('init-token').click();
  await expect(page.getByTestId('initialized')).toContainText('e2e-card-new');
  await page.getByTestId('init-use-token').click();
  // The ceremony stays the one opened: straight on to the new token's PIN, no second preflight.
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Log in to “e2e-card-new”');
  const kinds = harness.state.ceremony.pendingEvents().map((e) => e.kind);
  expect(kinds).toContain('token.initialized');
  expect(kinds.indexOf('token.initialized')).toBeGreaterThan(kinds.indexOf('preflight'));
  expect(await page.content()).not.toContain(SO_PIN);
  expect(app.foreign).toEqual([]);
});

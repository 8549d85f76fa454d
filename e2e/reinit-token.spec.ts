/**
 * Re-initializing a token through the UI: an initialized token can be chosen on the
 * initialization screen, its current label must be typed, and main asks the operator in its own
 * dialog (answered here by the harness) before anything on it is destroyed. "No" leaves the
 * token as it was.
 */
import { test, expect } from './fixtures';
import { makeToken, openCeremonyThroughUi, PEOPLE } from './helpers';

const SO_PIN = 'e2e-reinit-so-123456';
const USER_PIN = 'e2e-reinit-user-123456';
const NEW_USER = 'e2e-reborn-user-123456';

test('re-initialize a token: its label typed, main asks, no leaves it intact, yes re-initializes it', async ({ app }) => {
  const { page, harness } = app;
  await makeToken(app, 'e2e-victim', SO_PIN, USER_PIN);
  const victim = harness.state.module!.listSlots().find((s) => s.token?.label === 'e2e-victim')!;
  try {
    await openCeremonyThroughUi(app, PEOPLE, { card: 'dev-token' });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Initialize a token');
    await page.getByTestId(`reinit-slot-${victim.slotId}`).check();
    await expect(page.getByText('Every key on this token, including any CA key, is destroyed for good.')).toBeVisible();
    const fill = async (typed: string) => {
      await page.getByTestId('reinit-confirm-label').fill(typed);
      await page.getByTestId('token-label').fill('e2e-reborn');
      for (const id of ['so-pin', 'so-pin2']) await page.getByTestId(id).fill(SO_PIN);
      for (const id of ['user-pin', 'user-pin2']) await page.getByTestId(id).fill(NEW_USER);
      await page.getByTestId('confirm-init').check();
    };
    await fill('e2e-wrong');
    await app.screen('reinit-form');
    await page.getByTestId('init-token').click();
    await expect(page.getByTestId('init-problem')).toContainText('Type the current label of the token to re-initialize, exactly.');

    // The label typed right, but the operator says no in main's dialog.
    const asked = harness.confirmations.length;
    harness.answers.confirm = false;
    await fill('e2e-victim');
    await page.getByTestId('init-token').click();
    await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'TOKEN_ALREADY_INITIALIZED');
    const q = harness.confirmations.slice(asked);
    expect(q.map((c) => c.kind)).toEqual(['reinitialize-token']);
    expect(q[0].facts).toContainEqual({ label: 'Token', value: 'e2e-victim' });
    expect(q[0].facts).toContainEqual({ label: 'Serial', value: victim.token!.serial });
    expect(harness.state.module!.listSlots().some((s) => s.token?.label === 'e2e-victim')).toBe(true);

    // Yes: re-initialized under the new label.
    harness.answers.confirm = true;
    await fill('e2e-victim');
    await page.getByTestId('init-token').click();
    await expect(page.getByTestId('initialized')).toContainText('e2e-reborn');
    const labels = harness.state.module!.listSlots().map((s) => s.token?.label);
    expect(labels).toContain('e2e-reborn');
    expect(labels).not.toContain('e2e-victim');
    expect(await page.content()).not.toContain(SO_PIN);
    expect(app.foreign).toEqual([]);
  } finally {
    harness.answers.confirm = true;
  }
});

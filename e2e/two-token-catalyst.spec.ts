/**
 * A hybrid (Catalyst) root whose two keys are in two tokens, through the wizard, on SoftHSM2's
 * ML-DSA build (../shared/tokens/softhsm2-mldsa): ECDSA P-384 in the ceremony's token, ML-DSA-87
 * generated in a second token of the same library after its own login on the key step. The review
 * and the result say where each key lives; Python `cryptography` checks both signatures.
 * (Named to run after the other specs of the worker: its tokens are made by the ML-DSA build.)
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures';
import { chooseDirectory, inPreparation, openCeremonyThroughUi, PEOPLE } from './helpers';
import { MLDSA_SOFTHSM, mldsaTokenMissing } from '../test/softhsm';

const SO_PIN = 'two-token-so-0123456';
const PIN_MAIN = 'two-token-main-pin-111';
const PIN_ALT = 'two-token-alt-pin-222';
const ROOT = resolve(__dirname, '..');
const ML_DSA_87 = '2.16.840.1.101.3.4.3.19';

test('hybrid root with its ML-DSA key in a second token, chosen and logged in on the key step', async ({ app }) => {
  const missing = mldsaTokenMissing();
  test.skip(!!missing, missing);
  const { page, harness } = app;
  const lib = MLDSA_SOFTHSM!.lib;
  // Two blank tokens initialized through main (the ML-DSA build answers for the same store).
  harness.answers.moduleFile = lib;
  const chosen = (await harness.handlers.chooseModuleFile({})) as { value: { module: { id: string } } };
  expect(((await harness.handlers.loadModule({ moduleId: chosen.value.module.id })) as { ok: boolean }).ok).toBe(true);
  const serials: Record<string, string> = {};
  await inPreparation((c, i) => (harness.handlers as unknown as Record<string, (x: unknown) => Promise<unknown>>)[c](i), 'two test tokens', async () => {
    for (const [label, pin] of [['e2e-classical', PIN_MAIN], ['e2e-pq-second', PIN_ALT]] as const) {
      const slots = (await harness.handlers.listSlots({})) as { value: { slots: Array<{ slotId: string; tokenPresent: boolean; token: { flags: Record<string, boolean> } | null }> } };
      const free = slots.value.slots.find((s) => s.tokenPresent && s.token && !s.token.flags.initialized)!;
      const r = (await harness.handlers.initToken({ slotId: free.slotId, label, soPin: SO_PIN, userPin: pin })) as { ok: boolean; value: { slot: { token: { serial: string } } }; error?: unknown };
      expect(r.ok, JSON.stringify(r.error)).toBe(true);
      serials[label] = r.value.slot.token.serial;
    }
  });

  await openCeremonyThroughUi(app, PEOPLE);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Where will the CA key live?');
  await page.getByTestId('module-browse').click();
  await expect(page.locator(`[data-testid="module-option"][data-path="${lib}"]`)).toBeChecked();
  harness.answers.moduleFile = null;
  await page.getByTestId('storage-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Choose the token');
  await page.getByTestId('use-token-e2e-classical').click();
  await page.getByTestId('pin').fill(PIN_MAIN);
  await page.getByTestId('login').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
  await page.getByTestId('key-alg').selectOption('ec-p384');
  await page.getByTestId('key-label').fill('two-token-root');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');

  // The ML-DSA key: in another token of this library, after that token's own login.
  await page.getByTestId('alt-where-other').check();
  await page.getByTestId('alt-token').selectOption(serials['e2e-pq-second']);
  await page.getByTestId('alt-open').click();
  await expect(page.getByTestId('alt-pin')).toBeVisible();
  await page.getByTestId('alt-pin').fill(PIN_MAIN);
  await page.getByTestId('alt-login').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'PIN_INCORRECT');
  await page.getByTestId('alt-pin').fill(PIN_ALT);
  await page.getByTestId('alt-login').click();
  await page.getByTestId('alt-alg').selectOption('ml-dsa-87');
  await page.getByTestId('alt-label').fill('two-token-root-pq');
  await app.screen('key-alt-second-token');
  await page.getByTestId('alt-generate').click();
  await expect(page.getByTestId('alt-chosen')).toContainText(`ML-DSA key “two-token-root-pq” (ML-DSA-87, CKP_ML_DSA_87) in the second token “e2e-pq-second” (serial ${serials['e2e-pq-second']})`);
  await app.screen('key-alt-chosen');
  await page.getByTestId('key-next').click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  await page.getByTestId('profile').selectOption('hybrid/catalyst/root-ca');
  await page.getByTestId('var-cn').fill('E2E Two Token Root');
  await page.getByTestId('var-organization').fill('QPKI PQ Test');
  const dir = join(app.workDir, 'two-token-root');
  await chooseDirectory(app, 'choose-ca-dir', dir);
  await page.getByTestId('to-review').click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review before signing');
  await expect(page.getByTestId('ca-keys-primary-where')).toContainText(`In PKCS#11 token “e2e-classical” (serial ${serials['e2e-classical']}), key “two-token-root”`);
  await expect(page.getByTestId('ca-keys-alternative-where')).toContainText(`In PKCS#11 token “e2e-pq-second” (serial ${serials['e2e-pq-second']}), key “two-token-root-pq”`);
  await expect(page.getByTestId('review-signed-by')).toContainText('in a second token, “e2e-pq-second”');
  // Both keys are in tokens: no ML-DSA passphrase is asked.
  await expect(page.getByTestId('alt-passphrase')).toHaveCount(0);
  await app.screen('review-two-tokens');
  await page.getByTestId('confirm-cn').fill('E2E Two Token Root');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('sign').click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  await expect(page.getByTestId('verification')).toContainText('Both signatures verified');
  await expect(page.getByTestId('ca-keys-alternative-where')).toContainText(`“e2e-pq-second” (serial ${serials['e2e-pq-second']})`);
  await app.screen('result-two-tokens');
  const saved = (await page.getByTestId('saved-to').textContent())!;
  const out = execFileSync('python3', [join(ROOT, 'test', 'pq', 'independent.py')], { input: JSON.stringify({ pairs: [{ issuer: saved, doc: saved }] }), encoding: 'utf8' });
  const [root] = JSON.parse(out) as Array<{ primary: boolean; alt: { alg_oid: string; valid: boolean } | null }>;
  expect([root.primary, root.alt?.alg_oid, root.alt?.valid]).toEqual([true, ML_DSA_87, true]);
  const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  for (const pin of [PIN_MAIN, PIN_ALT, SO_PIN]) expect(journal.includes(pin)).toBe(false);
});

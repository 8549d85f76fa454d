/**
 * Revocation in the app, in Chromium against the real handler table and SoftHSM2: a CA made
 * through the handlers, then in the UI: the Revoke screen lists its index, offers a CA
 * certificate only the reasons BR 7.2.2 allows it, revokes after main's confirmation, and the CRL
 * review names its number and (the second time) the CRL it replaces; the CRL signed lists the
 * serial with its reason, read by `openssl crl -text`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { chooseDirectory, makeToken, openCeremonyThroughUi, opensslCsr } from './helpers';
import { handlerCalls } from '../test/handler-calls';

const LABEL = 'Revoke E2E';
const PIN = 'revoke-e2e-pin-1234';

test('revoke a subordinate CA certificate with a BR 7.2.2 reason, then sign the CRL that lists it', async ({ app }) => {
  const { page } = app;
  await page.setViewportSize({ width: 1280, height: 800 });
  // The token made in a preparation of its own; then the ceremony the UI walks.
  await makeToken(app, LABEL, 'revoke-e2e-so-1234', PIN);
  await openCeremonyThroughUi(app, undefined, { card: 'start-open-ca' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Open a CA directory');

  // In that ceremony, the CA and one subordinate, made through the same handlers the UI calls.
  const { ok, root, openCa, issue } = handlerCalls(app.harness);
  const slots = (await ok('listSlots')).slots as Array<{ token: { label: string; serial: string } | null }>;
  await ok('openToken', { serial: slots.find((s) => s.token?.label === LABEL)!.token!.serial });
  await ok('login', { pin: PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'revoke-e2e-root' });
  const dir = join(app.workDir, 'revoke-root');
  await root('ec/root-ca', { cn: 'Revoke E2E Root', organization: 'QPKI Test', country: 'FR' }, dir);
  await openCa(dir);
  const sub = await issue('subordinate-ca', readFileSync(opensslCsr(app.workDir, 'sub', 'prime256v1', '/CN=Revoke E2E Issuing'), 'utf8'), 'ec/issuing-ca', { cn: 'Revoke E2E Issuing' });

  await chooseDirectory(app, 'choose-open-dir', dir);
  await page.getByTestId('open-ca').click();
  await page.getByTestId('ca-revoke').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Revoke a certificate');
  const list = page.getByTestId('revoke-list');
  await expect(list).toContainText('Revoke E2E Issuing');
  const serial = (await page.locator('[data-testid^="revoke-row-"] td.mono').first().textContent())!;
  expect(serial.replace(/^0+/, '')).toBe(sub.serial.replace(/:/g, '').toLowerCase().replace(/^0+/, ''));
  await expect(page.getByTestId(`revoke-row-${serial}`)).toContainText('CA');
  await page.getByTestId(`revoke-pick-${serial}`).check();
  // A CA certificate must carry a reason code: "no reason" is not offered.
  const reasons = page.getByTestId('revoke-reasons');
  await expect(reasons).toContainText('BR 7.2.2');
  await expect(page.getByTestId('revoke-reason-unspecified')).toHaveCount(0);
  await expect(page.getByTestId('revoke-reason-cACompromise')).toHaveCount(0);
  await page.getByTestId('revoke-reason-keyCompromise').check();
  await app.screen('revoke-pick');

  // Declined in main's dialog: nothing revoked, the error says so.
  app.harness.answers.confirm = (c) => c.kind !== 'revoke';
  await page.getByTestId('revoke-button').click();
  await expect(page.getByRole('alert')).toContainText(/not confirmed/i);
  app.harness.answers.confirm = true;
  await expect(page.getByTestId(`revoke-status-${serial}`)).toHaveText('Valid');
  await page.getByTestId('revoke-button').click();
  await expect(page.getByTestId('revoke-done')).toContainText(serial);
  await expect(page.getByTestId(`revoke-status-${serial}`)).toContainText('keyCompromise');
  const asked = app.harness.confirmations.filter((c) => c.kind === 'revoke');
  expect(asked.length).toBe(2);
  expect(asked[1].facts.find((f) => f.label === 'Serial')?.value).toBe(serial);
  await app.screen('revoked');

  // Then the CRL: its number, and that it is the CA's first.
  await page.getByTestId('revoke-gen-crl').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate a CRL');
  await page.getByTestId('review-crl-button').click();
  await expect(page.getByTestId('review-crl-number')).toHaveText('1');
  await expect(page.getByTestId('review-crl-replaces')).toContainText('first CRL');
  await expect(page.getByTestId('review-crl')).toContainText(serial);
  await page.getByTestId('confirm-witness').check();
  await app.screen('crl-review');
  await page.getByTestId('sign').click();
  const crlFile = (await page.getByTestId('crl-saved').textContent())!;
  const text = execFileSync('openssl', ['crl', '-in', crlFile, '-noout', '-text'], { encoding: 'utf8' });
  expect(text).toMatch(new RegExp(`Serial Number: 0*${serial.replace(/^0+/, '')}[\\s\\S]*?CRL Reason Code:\\s+Key Compromise`, 'i'));
  const facts = app.harness.confirmations.filter((c) => c.kind === 'sign').at(-1)!.facts;
  expect(facts.find((f) => f.label === 'CRL number')?.value).toBe('1');

  // A second CRL says which one it replaces, in the review and in main's question.
  await page.getByTestId('review-crl-button').click();
  await expect(page.getByTestId('review-crl-number')).toHaveText('2');
  await expect(page.getByTestId('review-crl-replaces')).toContainText('replaces CRL number 1 of ');
  await app.screen('crl-replaces');
  expect(readFileSync(crlFile, 'utf8')).toContain('BEGIN X509 CRL');
});

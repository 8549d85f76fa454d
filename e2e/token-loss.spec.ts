/**
 * A token pulled out mid-ceremony, in the app: after the root ceremony the token's SoftHSM2 store
 * is moved away, the end-entity signature fails in words with a Retry, the CA's files stay as they
 * were (only its journal gains the record), and once the store is back Retry, the PIN again and
 * the issuance continues where it stopped; openssl verifies the certificate.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, expect } from './fixtures';
import { chooseDirectory, makeToken, openTokenThroughUi, opensslCsr, opensslVerify } from './helpers';
import { readJournal, verifyJournal } from '../electron/core/journal/journal';

const SO_PIN = 'so-pin-pulled-0123';
const USER_PIN = 'user-pin-pulled-0123';

/** SHA-256 of every file under `dir` but the journal, which may gain entries. */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const rel = relative(dir, p);
      if (rel === 'journal.jsonl') continue;
      if (statSync(p).isDirectory()) walk(p);
      else out[rel] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test('token pulled out after the root ceremony: error with Retry, CA unchanged, PIN again, the TLS certificate issued', async ({ app }) => {
  const { page, hsm } = app;
  const stores = new Set(readdirSync(hsm.tokenDir));
  await makeToken(app, 'e2e-pulled', SO_PIN, USER_PIN);
  const mine = readdirSync(hsm.tokenDir).filter((n) => !stores.has(n));
  expect(mine).toHaveLength(1);
  const storeDir = join(hsm.tokenDir, mine[0]);
  const away = join(hsm.dir, 'pulled-out');

  // The root ceremony, as an operator runs it.
  await openTokenThroughUi(app, 'e2e-pulled');
  await page.getByTestId('pin').fill(USER_PIN);
  await page.getByTestId('login').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
  await page.getByTestId('key-alg').selectOption('ec-p384');
  await page.getByTestId('key-label').fill('pulled-root-key');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
  await page.getByTestId('key-next').click();
  await page.getByTestId('profile').selectOption('ec/root-ca');
  await page.getByTestId('var-cn').fill('Pulled Root CA');
  const dir = join(app.workDir, 'pulled-root');
  await chooseDirectory(app, 'choose-ca-dir', dir);
  await page.getByTestId('to-review').click();
  await page.getByTestId('confirm-cn').fill('Pulled Root CA');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  const root = join(dir, 'ca.crt');

  // The end-entity request, ready to sign.
  const csr = opensslCsr(app.workDir, 'pulled-server', 'prime256v1', '/CN=pulled.example.com');
  await page.getByTestId('next-ee').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Issue an end-entity certificate');
  await page.getByTestId('profile').selectOption('ec/tls-server');
  await page.getByTestId('csr').fill(readFileSync(csr, 'utf8'));
  await expect(page.getByTestId('var-cn')).toHaveValue('pulled.example.com');
  await page.getByTestId('root-ee-override').check();
  await page.getByTestId('review-issue').click();
  await expect(page.getByTestId('review-csr')).toContainText('CN=pulled.example.com');
  await page.getByTestId('confirm-witness').check();

  const files = filesOf(dir);
  const entries = readJournal(dir).length;
  renameSync(storeDir, away);
  let moved = true;
  try {
    await page.getByTestId('sign').click();
    const lost = page.getByTestId('token-lost');
    await expect(lost).toHaveAttribute('data-stage', 'reconnect');
    await expect(lost).toContainText('The token “e2e-pulled”');
    await expect(lost).toContainText('stopped answering');
    await expect(lost).toContainText('Reconnect the token, then press Retry.');
    await expect(lost).toContainText('Nothing was signed and the CA files are unchanged');
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Issue an end-entity certificate');
    await expect(page.getByTestId('session-state')).toContainText('Token “e2e-pulled”');
    await expect(page.getByTestId('session-state')).not.toContainText('Logged in');
    expect(app.harness.state.session).toBeNull();
    await expect(page.getByTestId('journal-entries').locator('li[data-kind="error"]')).toHaveCount(1);
    await app.screen('token-lost');

    // The CA directory is as it was; its journal gained the confirmation, the failed signature and the loss, nothing else.
    expect(filesOf(dir)).toEqual(files);
    const added = readJournal(dir).slice(entries);
    expect(added.map((e) => e.kind)).toEqual(['confirmation', 'signing.failed', 'error']);
    expect(added[2].facts).toMatchObject({ during: 'sign', token: 'e2e-pulled' });

    // Retry before the token is back: it says so and Retry stays offered.
    await page.getByTestId('token-retry').click();
    await expect(page.getByTestId('token-retry-problem')).toContainText('Still not found');
    await expect(page.getByTestId('token-lost')).toHaveAttribute('data-stage', 'reconnect');
    await app.screen('token-still-missing');
    expect(filesOf(dir)).toEqual(files);

    renameSync(away, storeDir);
    moved = false;
  } finally {
    if (moved) renameSync(away, storeDir);
  }

  await page.getByTestId('token-retry').click();
  const back = page.getByTestId('token-lost');
  await expect(back).toHaveAttribute('data-stage', 'pin');
  await expect(back).toContainText('answers again');
  await expect(back).toContainText('“Signing with the CA key” continues where it stopped');
  await expect(page.getByTestId('reconnect-pin')).toHaveAttribute('type', 'password');
  await app.screen('token-back-pin');
  await page.getByTestId('reconnect-pin').fill(USER_PIN);
  await page.getByTestId('reconnect-login').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  await expect(page.getByTestId('token-lost')).toHaveCount(0);
  await expect(page.getByTestId('verification')).toContainText('Signature verified');
  await expect(page.getByTestId('session-state')).toContainText('Logged in to “e2e-pulled”');
  const leaf = (await page.getByTestId('saved-to').textContent())!;
  await app.screen('token-back-signed');
  expect(opensslVerify(['-x509_strict', '-purpose', 'sslserver', '-CAfile', root, leaf])).toContain(': OK');
  expect(execFileSync('openssl', ['x509', '-in', leaf, '-noout', '-subject'], { encoding: 'utf8' })).toContain('pulled.example.com');

  // The record: the loss, the failed and the successful Retry, the new login, then the issuance.
  const kinds = readJournal(dir).slice(entries).map((e) => e.kind);
  expect(kinds).toEqual(['confirmation', 'signing.failed', 'error', 'module.loaded', 'error', 'module.loaded', 'token.chosen', 'login.succeeded', 'confirmation', 'issuance.started', 'certificate.signed']);
  expect(verifyJournal(dir).ok).toBe(true);
  expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).not.toContain(USER_PIN);
  // Nothing of the PIN stays in the page.
  expect(await page.content()).not.toContain(USER_PIN);
  expect(app.foreign).toEqual([]);
});

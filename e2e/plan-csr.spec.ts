/**
 * A plan's certificate request for an external parent, walked through the wizard's own screens:
 * "Do this step" asks main's dialog for the ceremony's output folder (the one the plan's root was
 * made under; another is refused), shows the request main built on the Review screen, signs it
 * with the token after the confirmation, and the result screen says where it was written and its
 * SHA-256; back on the plan a witness acknowledges it. OpenSSL verifies the file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { acknowledgePlanStep, inRoom, chooseDirectory, chooseModule, confirmPreflightThroughUi, makeToken, writeTemp } from './helpers';
import { SOFTHSM_LIB } from '../test/softhsm';

const PLAN = `version: 1
ceremony:
  id: E2E-CSR-PLAN
  purpose: A root, and an issuing CA key whose request goes to a partner root
  location: Secure room C
participants:
  - { name: Dana Operator, role: operator }
  - { name: Eli Witness, role: witness }
steps:
  - { id: root-key, type: key, token: ca, label: e2e-csr-root, algorithm: ec-p384 }
  - id: root
    type: root
    key: root-key
    profile: br/ec/root-ca
    variables: { cn: E2E CSR Plan Root, organization: Example Corp., country: FR }
    out: root-ca
  - { id: ext-key, type: key, token: ca, label: e2e-csr-external, algorithm: ec-p256 }
  - id: ext-csr
    type: csr
    key: ext-key
    profile: ec/issuing-ca
    variables: { cn: E2E Issuing CA for the Partner Root, organization: Example Corp. }
    out: requests/ext.csr
`;
const PIN = 'e2e-csr-plan-pin-1';


test('a plan\'s csr step through the wizard: output folder from main\'s dialog, the review, the token signs, the result names the file and its SHA-256, a witness acknowledges', async ({ app }) => {
  const { page, harness: h } = app;
  await page.setViewportSize({ width: 1280, height: 800 });
  await makeToken(app, 'CSR Plan', 'e2e-csr-plan-so-1', PIN);
  h.answers.planFile = writeTemp(app.workDir, 'csr-plan.yaml', PLAN);
  await page.getByTestId('start-plan').click();
  await page.getByTestId('plan-open').click();
  await expect(page.getByTestId('plan-step-4')).toContainText('certificate request CN=E2E Issuing CA for the Partner Root');
  await expect(page.getByTestId('plan-step-4')).not.toContainText('Not in the app');
  await page.getByTestId('plan-start').click();
  await confirmPreflightThroughUi(app, 'Eli Witness');

  const acknowledge = (n: number) => acknowledgePlanStep(app, n, 4, 'Eli Witness');
  const generate = async () => {
    await page.getByTestId('generate-key').click();
    await expect(page.getByTestId('test-signature')).toContainText('Verified');
    await page.getByTestId('plan-back').click();
  };

  // Steps 1 and 2: the root's key and the root, into the plan's root-ca under the work folder.
  await page.getByTestId('plan-do-step').click();
  await chooseModule(app, SOFTHSM_LIB);
  await page.getByTestId('storage-next').click();
  await page.getByTestId('use-token-CSR Plan').click();
  await page.getByTestId('pin').fill(PIN);
  await page.getByTestId('login').click();
  await expect(page.getByTestId('key-label')).toHaveValue('e2e-csr-root');
  await generate();
  await acknowledge(1);
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByTestId('profile')).toHaveValue('br/ec/root-ca');
  await chooseDirectory(app, 'choose-ca-dir', join(app.workDir, 'root-ca'));
  await page.getByTestId('to-review').click();
  await page.getByTestId('confirm-cn').fill('E2E CSR Plan Root');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  await page.getByTestId('plan-back').click();
  await acknowledge(2);

  // Step 3: the issuing CA's key, in the same token.
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByTestId('key-label')).toHaveValue('e2e-csr-external');
  await generate();
  await acknowledge(3);

  // Step 4: the request. A folder other than the one the root was made under is refused by main.
  await expect(page.getByTestId('plan-current')).toContainText('Step 4 of 4: certificate request');
  await expect(page.getByTestId('plan-current')).toContainText('requests/ext.csr');
  h.answers.directory = join(app.workDir, 'elsewhere');
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByRole('alert')).toContainText('is not the one step root was written under');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ceremony plan E2E-CSR-PLAN');
  h.answers.directory = app.workDir;
  await page.getByTestId('plan-do-step').click();
  const subject = 'CN=E2E Issuing CA for the Partner Root, O=Example Corp.';
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Certificate request to sign: ${subject}`);
  await expect(page.getByTestId('review-subject')).toHaveText(subject);
  const target = join(app.workDir, 'requests', 'ext.csr');
  await expect(page.getByTestId('review-target')).toHaveText(target);
  await expect(page.getByTestId('review-issuer')).toHaveCount(0);
  await expect(page.getByTestId('review-no-extensions')).toBeVisible();
  await app.screen('plan-csr-review');
  await inRoom(app, 'sign', 'plan-csr-review');
  await page.getByTestId('confirm-witness').check();
  const asked = h.confirmations.length;
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate request written');
  expect(h.confirmations.slice(asked).map((c) => c.title)).toEqual([`Sign the certificate request for “${subject}”?`]);
  await expect(page.getByTestId('csr-saved-to')).toHaveText(target);
  await expect(page.getByTestId('csr-verification')).toContainText('Signature verified');
  const pem = readFileSync(target, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const groups = (hex: string) => hex.match(/.{4}/g)!.join(' ');
  await expect(page.getByTestId('csr-sha256')).toHaveText(groups(createHash('sha256').update(der).digest('hex')));
  await expect(page.getByTestId('csr-file-sha256')).toHaveText(groups(createHash('sha256').update(pem).digest('hex')));
  await app.screen('plan-csr-written');
  await inRoom(app, 'csr-to-plan', 'plan-csr-written');
  const verified = execFileSync('openssl', ['req', '-in', target, '-verify', '-noout', '-subject'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(verified).toContain('E2E Issuing CA for the Partner Root');
  await page.getByTestId('csr-to-plan').click();
  await acknowledge(4);
  await expect(page.getByTestId('plan-finished')).toBeVisible();

  const entries = readFileSync(join(app.workDir, 'root-ca', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(entries.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id)).toEqual(['root-key', 'root', 'ext-key', 'ext-csr']);
  expect(entries.filter((e) => e.kind === 'csr.created').map((e) => [e.facts.step, e.facts.out, e.facts.csrSha256])).toEqual([['ext-csr', 'requests/ext.csr', createHash('sha256').update(der).digest('hex')]]);
  expect(entries.filter((e) => e.kind === 'ceremony.deviation')).toEqual([]);
});

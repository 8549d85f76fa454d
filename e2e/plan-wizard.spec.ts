/**
 * A ceremony plan walked through the wizard's own screens, not through the handler table: "Do this
 * step" opens the step's screen with the plan's values filled in (the key's label and algorithm,
 * the root's profile and variables), the operator reviews and signs there, "Back to the plan" returns
 * for the witness's acknowledgement. Main still checks each request against the plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { acknowledgePlanStep, signPlanCaThroughUi, chooseDirectory, chooseModule, confirmPreflightThroughUi, makeToken, opensslVerify, writeTemp } from './helpers';
import { SOFTHSM_LIB } from '../test/softhsm';

const PLAN = `version: 1
ceremony:
  id: E2E-WIZARD-PLAN
  purpose: Generate the E2E Wizard Plan Root through the wizard
  location: Secure room C
participants:
  - { name: Dana Operator, role: operator }
  - { name: Eli Witness, role: witness }
steps:
  - id: root-key
    type: key
    token: ca
    label: e2e-wizard-root
    algorithm: ec-p384
  - id: root
    type: root
    key: root-key
    profile: br/ec/root-ca
    variables:
      cn: E2E Wizard Plan Root
      organization: Example Corp.
      country: FR
    out: root-ca
  - id: issuing-key
    type: key
    token: ca
    label: e2e-wizard-issuing
    algorithm: ec-p256
  - id: issuing
    type: subordinate
    issuer: root
    key: issuing-key
    profile: ec/issuing-ca
    variables:
      cn: E2E Wizard Plan Issuing CA
    out: issuing-ca
`;
const PIN = 'e2e-wizard-plan-pin-1';

test('a plan walked through the wizard: each step opens filled with the plan, signed on its own screen, acknowledged', async ({ app }) => {
  const { page, harness: h } = app;
  await page.setViewportSize({ width: 1280, height: 800 });
  await makeToken(app, 'Wizard Plan', 'e2e-wizard-plan-so-1', PIN);
  h.answers.planFile = writeTemp(app.workDir, 'wizard-plan.yaml', PLAN);
  await page.getByTestId('start-plan').click();
  await page.getByTestId('plan-open').click();
  await page.getByTestId('plan-start').click();
  await confirmPreflightThroughUi(app, 'Eli Witness');
  await expect(page.getByTestId('plan-current')).toContainText('Step 1 of 4');

  const acknowledge = (n: number) => acknowledgePlanStep(app, n, 4, 'Eli Witness');

  // Step 1: the key, through storage, token and PIN; the key form holds the plan's label and algorithm.
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByTestId('plan-bar')).toContainText('Plan step 1 of 4');
  await chooseModule(app, SOFTHSM_LIB);
  await page.getByTestId('storage-next').click();
  await page.getByTestId('use-token-Wizard Plan').click();
  await page.getByTestId('pin').fill(PIN);
  await page.getByTestId('login').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
  await expect(page.getByTestId('key-label')).toHaveValue('e2e-wizard-root');
  await expect(page.getByTestId('key-alg')).toHaveValue('ec-p384');
  await app.screen('plan-wizard-key');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
  await page.getByTestId('plan-back').click();
  await acknowledge(1);

  // Step 2: the root; the profile form holds the plan's profile and variables.
  await expect(page.getByTestId('plan-current')).toContainText('Step 2 of 4');
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  await expect(page.getByTestId('profile')).toHaveValue('br/ec/root-ca');
  await expect(page.getByTestId('var-cn')).toHaveValue('E2E Wizard Plan Root');
  await expect(page.getByTestId('var-organization')).toHaveValue('Example Corp.');
  const dir = join(app.workDir, 'root-ca');
  const saved = await signPlanCaThroughUi(app, dir, 'E2E Wizard Plan Root', 'plan-wizard-profile');
  await page.getByTestId('plan-back').click();
  await acknowledge(2);

  // Step 3: a second key in the same token; the token is open and logged in, so the key form comes straight up.
  await expect(page.getByTestId('plan-current')).toContainText('Step 3 of 4');
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
  await expect(page.getByTestId('key-label')).toHaveValue('e2e-wizard-issuing');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
  await page.getByTestId('plan-back').click();
  await acknowledge(3);

  // Step 4: the issuing CA from that key, certified by the root of step 2 (main picks the issuer from the plan).
  await expect(page.getByTestId('plan-current')).toContainText('Step 4 of 4');
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  await expect(page.getByTestId('profile')).toHaveValue('ec/issuing-ca');
  await expect(page.getByTestId('var-cn')).toHaveValue('E2E Wizard Plan Issuing CA');
  await expect(page.getByTestId('subordinate-of')).toContainText('E2E Wizard Plan Root');
  await expect(page.getByTestId('ca-dir')).toHaveText('No folder chosen yet');
  const subDir = join(app.workDir, 'issuing-ca');
  await chooseDirectory(app, 'choose-ca-dir', subDir);
  await app.screen('plan-wizard-subordinate-profile');
  await page.getByTestId('to-review').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review before signing');
  await expect(page.getByTestId('review-issuer')).toContainText('E2E Wizard Plan Root');
  await app.screen('plan-wizard-subordinate-review');
  await page.getByTestId('confirm-cn').fill('E2E Wizard Plan Issuing CA');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  const subSaved = (await page.getByTestId('saved-to').textContent())!;
  expect(subSaved).toBe(join(subDir, 'ca.crt'));
  expect(opensslVerify(['-x509_strict', '-CAfile', saved, subSaved])).toContain(': OK');
  await page.getByTestId('plan-back').click();
  await acknowledge(4);
  await expect(page.getByTestId('plan-finished')).toBeVisible();

  const entries = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(entries.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.id)).toEqual(['root-key', 'root', 'issuing-key', 'issuing']);
  expect(entries.filter((e) => e.kind === 'ceremony.deviation')).toEqual([]);
  expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8').includes(PIN)).toBe(false);
});

/**
 * A plan with steps on its backup token, walked through the wizard's screens: the CA key, the
 * backup token's initialization and key, then the root on the CA token again. When the current
 * step is on the other token than the one open, the plan screen says so and its button logs out
 * (the ceremony stays open), goes through the token and PIN screens, and comes back to the plan.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { acknowledgePlanStep, inRoom, signPlanCaThroughUi, chooseModule, confirmPreflightThroughUi, makeToken, writeTemp } from './helpers';
import { SOFTHSM_LIB } from '../test/softhsm';

const PLAN = `version: 1
ceremony:
  id: E2E-BACKUP-PLAN
  purpose: The E2E Backup Plan Root, with its backup token prepared in the same ceremony
  location: Secure room C
participants:
  - { name: Dana Operator, role: operator }
  - { name: Eli Witness, role: witness }
steps:
  - { id: root-key, type: key, token: ca, label: e2e-backup-root, algorithm: ec-p384 }
  - { id: init-backup, type: token-init, token: backup }
  - { id: backup-key, type: key, token: backup, label: e2e-backup-copy, algorithm: ec-p384 }
  - id: root
    type: root
    key: root-key
    profile: br/ec/root-ca
    variables: { cn: E2E Backup Plan Root, organization: Example Corp., country: FR }
    out: backup-root-ca
`;
const PIN = 'e2e-backup-plan-ca-pin';
const BACKUP_PIN = 'e2e-backup-plan-bk-pin';

/** Private key labels on a token as OpenSC reads them, not our code. */
function keysOn(app: { hsm: { env: NodeJS.ProcessEnv } }, label: string, pin: string): string[] {
  const out = execFileSync('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', label, '--login', '--pin', pin, '--list-objects', '--type', 'privkey'], { env: app.hsm.env, encoding: 'utf8' });
  return [...out.matchAll(/^\s*label:\s*(.*)$/gm)].map((m) => m[1].trim()).sort();
}

test('a plan\'s backup token in the wizard: the plan screen asks to switch tokens, and the ceremony stays open through the switch', async ({ app }) => {
  const { page, harness: h } = app;
  await page.setViewportSize({ width: 1280, height: 800 });
  await makeToken(app, 'Backup Plan CA', 'e2e-backup-plan-so-1', PIN);
  h.answers.planFile = writeTemp(app.workDir, 'backup-plan.yaml', PLAN);
  await page.getByTestId('start-plan').click();
  await page.getByTestId('plan-open').click();
  await expect(page.getByTestId('plan-steps')).not.toContainText('Not in the app');
  await page.getByTestId('plan-start').click();
  await confirmPreflightThroughUi(app, 'Eli Witness');

  const acknowledge = (n: number) => acknowledgePlanStep(app, n, 4, 'Eli Witness');
  const login = async (label: string, pin: string) => {
    await page.getByTestId(`use-token-${label}`).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText(`Log in to “${label}”`);
    await page.getByTestId('pin').fill(pin);
    await page.getByTestId('login').click();
  };

  // Step 1: the CA key, in the token the operator opens (the plan's CA token from now on).
  await page.getByTestId('plan-do-step').click();
  await chooseModule(app, SOFTHSM_LIB);
  await page.getByTestId('storage-next').click();
  await login('Backup Plan CA', PIN);
  await expect(page.getByTestId('key-label')).toHaveValue('e2e-backup-root');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
  await page.getByTestId('plan-back').click();
  await acknowledge(1);

  // Step 2: the backup token is initialized in a free slot (no token to switch to yet).
  await expect(page.getByTestId('plan-current')).toContainText('Step 2 of 4: initialize the backup token');
  await expect(page.getByTestId('plan-switch')).toHaveCount(0);
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Initialize a token');
  await page.getByTestId('token-label').fill('Backup Plan Copy');
  for (const id of ['so-pin', 'so-pin2']) await page.getByTestId(id).fill('e2e-backup-plan-so-2');
  for (const id of ['user-pin', 'user-pin2']) await page.getByTestId(id).fill(BACKUP_PIN);
  await page.getByTestId('confirm-init').check();
  await page.getByTestId('init-token').click();
  await expect(page.getByTestId('initialized')).toContainText('Backup Plan Copy');
  await expect(page.getByTestId('init-use-token')).toHaveText('Back to the plan');
  await page.getByTestId('init-use-token').click();
  await acknowledge(2);

  // Step 3 is on the backup token while the CA token is open: the plan says so, and "Do this step" is not offered.
  const prompt = page.getByTestId('plan-switch');
  await expect(prompt).toContainText('This step is on the backup token. Log out of the CA token and open the backup token.');
  await expect(page.getByTestId('plan-do-step')).toHaveCount(0);
  await app.screen('plan-switch-to-backup');
  await inRoom(app, 'plan-switch-token', 'plan-switch-to-backup');
  await page.getByTestId('plan-switch-token').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Choose the token');
  await login('Backup Plan Copy', BACKUP_PIN);
  // Back to the plan, the ceremony still open: the step is offered now.
  await expect(page.getByTestId('plan-current')).toContainText('Step 3 of 4');
  await expect(page.getByTestId('plan-switch')).toHaveCount(0);
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByTestId('key-label')).toHaveValue('e2e-backup-copy');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
  await page.getByTestId('plan-back').click();
  await acknowledge(3);

  // Step 4, the root, is on the CA token again: the same switch, the other way.
  await expect(prompt).toContainText('This step is on the CA token. Log out of the backup token and open the CA token.');
  await app.screen('plan-switch-to-ca');
  await page.getByTestId('plan-switch-token').click();
  await login('Backup Plan CA', PIN);
  await expect(page.getByTestId('plan-current')).toContainText('Step 4 of 4');
  // "Do this step" chooses the plan's root key again in the CA token (main proves it is the key step 1 made).
  await page.getByTestId('plan-do-step').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  await expect(page.getByTestId('var-cn')).toHaveValue('E2E Backup Plan Root');
  const dir = join(app.workDir, 'backup-root-ca');
  await signPlanCaThroughUi(app, dir, 'E2E Backup Plan Root', 'plan-backup-root-profile');
  await page.getByTestId('plan-back').click();
  await acknowledge(4);
  await expect(page.getByTestId('plan-finished')).toBeVisible();

  expect(keysOn(app, 'Backup Plan CA', PIN)).toEqual(['e2e-backup-root']);
  expect(keysOn(app, 'Backup Plan Copy', BACKUP_PIN)).toEqual(['e2e-backup-copy']);
  const entries = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const done = entries.filter((e) => e.kind === 'plan.step.completed');
  expect(done.map((e) => [e.facts.id, e.facts.tokenRole, e.facts.tokenLabel])).toEqual([
    ['root-key', 'ca', 'Backup Plan CA'], ['init-backup', 'backup', 'Backup Plan Copy'], ['backup-key', 'backup', 'Backup Plan Copy'], ['root', 'ca', 'Backup Plan CA'],
  ]);
  expect(entries.filter((e) => e.kind === 'ceremony.deviation')).toEqual([]);
  expect(entries.filter((e) => e.kind === 'ceremony.opened')).toHaveLength(1);
  expect(entries.filter((e) => e.kind === 'ceremony.closed')).toEqual([]);
});

/**
 * A ceremony plan in the app, in Chromium over the real handler table and SoftHSM2: the plan
 * screen opens the file through main's dialog, shows every step and the SHA-256 before anything
 * starts, starts it, takes each witness acknowledgement and a deviation with a typed note. The
 * steps' signing calls go to the same handler table the wizard's screens call (main enforces the
 * plan there); the transcript PDF of the ceremony is printed and rendered page by page.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { confirmPreflightThroughUi, makeToken, writeTemp } from './helpers';

const PLAN = `version: 1
ceremony:
  id: E2E-PLAN-2027
  purpose: Generate the E2E Plan Root CA 2027 and publish its first CRL
  location: Secure room B
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
  - { name: Chloe Dubois, role: internal-auditor }
steps:
  - id: root-key
    type: key
    token: ca
    label: e2e-plan-root
    algorithm: ec-p384
  - id: root
    type: root
    key: root-key
    profile: br/ec/root-ca
    variables:
      cn: E2E Plan Root CA 2027
      organization: Example Corp.
      country: FR
    out: root-ca
  - id: root-crl
    type: crl
    issuer: root
    nextUpdateDays: 90
    out: root-crl
`;
const VARS = { cn: 'E2E Plan Root CA 2027', organization: 'Example Corp.', country: 'FR' };
const PIN = 'e2e-plan-user-pin-1';

test('a plan: shown with its hash, started, walked with witnesses and one deviation, transcript printed', async ({ app }) => {
  const { page, harness: h } = app;
  await page.setViewportSize({ width: 1280, height: 800 });
  const call = async (name: keyof typeof h.handlers, input: unknown = {}) => {
    const r = (await h.handlers[name](input)) as { ok: boolean; value?: any; error?: { code: string; message: string } };
    return r;
  };
  const ok = async (name: keyof typeof h.handlers, input: unknown = {}) => {
    const r = await call(name, input);
    expect(r.ok, `${String(name)}: ${JSON.stringify(r.error)}`).toBe(true);
    return r.value;
  };
  await makeToken(app, 'Plan E2E', 'e2e-plan-so-pin-1', PIN);
  const file = writeTemp(app.workDir, 'plan.yaml', PLAN);
  h.answers.planFile = file;

  await page.getByTestId('start-plan').click();
  await page.getByTestId('plan-open').click();
  const sha = createHash('sha256').update(PLAN).digest('hex');
  await expect(page.getByTestId('plan-sha256')).toHaveText(sha.match(/.{4}/g)!.join(' '));
  await expect(page.getByTestId('plan-step-1')).toContainText('Step 1 of 3');
  await expect(page.getByTestId('plan-step-3')).toContainText('CRL of root, next update in 90 days');
  await app.screen('plan-review');
  await page.getByTestId('plan-start').click();
  await confirmPreflightThroughUi(app, 'Bruno Keller');
  await expect(page.getByTestId('plan-current')).toContainText('Step 1 of 3: generate key "e2e-plan-root"');
  await app.screen('plan-step-1');

  // The token the operator opens is the plan's ca token; the step's key as the plan says (another label is refused).
  const token = (await ok('listSlots')).slots.find((s: { token: { label: string } | null }) => s.token?.label === 'Plan E2E').token;
  await ok('openToken', { serial: token.serial });
  await ok('login', { pin: PIN });
  expect((await call('generateKey', { algorithm: 'ec-p384', label: 'another-label' })).error?.code).toBe('PLAN_STEP_MISMATCH');
  await ok('generateKey', { algorithm: 'ec-p384', label: 'e2e-plan-root' });

  const acknowledge = async (n: number, witness: string) => {
    // The screen shows main's plan state, read again on the operator's click.
    await page.getByTestId('plan-refresh').click();
    await expect(page.getByTestId('plan-ack')).toContainText(`Step ${n} of 3 is`);
    await page.getByTestId('plan-witness').selectOption(witness);
    await page.getByTestId('plan-acknowledge').click();
    await expect(page.getByTestId('plan-ack')).toHaveCount(0);
  };
  await acknowledge(1, 'Bruno Keller');

  h.answers.directory = join(app.workDir, 'root-ca');
  const dirId = (await ok('chooseDirectory', { purpose: 'new-ca' })).dirId;
  expect((await call('previewCa', { profile: 'br/ec/root-ca', vars: { ...VARS, cn: 'Not The Plan' }, dirId })).error?.code).toBe('PLAN_STEP_MISMATCH');
  const rootReq = await ok('previewCa', { profile: 'br/ec/root-ca', vars: VARS, dirId });
  await ok('sign', { requestId: rootReq.id });
  await acknowledge(2, 'Chloe Dubois');

  // Step 3 with a deviation: the CRL's lifetime changed, with a typed note, through the plan screen.
  await expect(page.getByTestId('plan-current')).toContainText('Step 3 of 3');
  await page.getByTestId('plan-deviation').click();
  await page.getByTestId('plan-deviation-kind').selectOption('changed');
  const NOTE = 'Witnesses agreed: 30 days, the CRL server is replaced next month.';
  await page.getByTestId('plan-deviation-note').fill(NOTE);
  await app.screen('plan-deviation');
  await page.getByTestId('plan-deviation-record').click();
  await expect(page.getByTestId('plan-deviations')).toContainText(NOTE);
  const crlReq = await ok('prepareCrl', { days: 30 });
  await ok('sign', { requestId: crlReq.id });
  await acknowledge(3, 'Bruno Keller');
  await expect(page.getByTestId('plan-finished')).toBeVisible();
  await app.screen('plan-finished');

  const closed = await ok('closeCeremony');
  expect(closed.intact).toBe(true);
  const pdf = join(app.workDir, 'plan-transcript.pdf');
  h.answers.savePath = pdf;
  await ok('exportTranscript');
  const kinds = readFileSync(join(app.workDir, 'root-ca', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(kinds.filter((e) => e.kind === 'ceremony.deviation').map((e) => e.facts.note)).toEqual([NOTE]);
  expect(kinds.filter((e) => e.kind === 'witness.acknowledged' && e.facts.id !== undefined).length).toBe(3);
  expect(kinds.filter((e) => e.kind === 'witness.acknowledged' && e.facts.what === 'clock').map((e) => e.facts.witness)).toEqual(['Bruno Keller']);
  const out = join(__dirname, 'artifacts', 'plan-transcript');
  execFileSync('pdftoppm', ['-png', '-r', '60', pdf, out]);
  const pages = readdirSync(join(__dirname, 'artifacts')).filter((f) => f.startsWith('plan-transcript') && f.endsWith('.png'));
  expect(pages.length).toBeGreaterThan(0);
  const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
  expect(text).toContain('Deviation from the plan');
});

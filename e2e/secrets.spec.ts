/**
 * Secrets and hostile input end to end, in the app as the operator uses it.
 * - Canary PINs and a canary passphrase go through whole ceremonies (token initialization, a
 *   wrong PIN, login, root signing, CRL; a software CA with an encrypted key file and a CRL,
 *   after a wrong passphrase) and must then be found in no file the run wrote, no console line of the page,
 *   no error message, and not in the page itself.
 * - Every contract channel, called through the page's `window.qpki` bridge with hostile input,
 *   is refused by main's validation with INPUT_INVALID.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test, expect } from './fixtures';
import { chooseDirectory, openCeremonyThroughUi, PEOPLE } from './helpers';
import { CHANNELS } from '../shared/channels';
import { verifyJournal } from '../electron/core/journal/journal';

const SO_CANARY = 'CanarySoPin-7d1f3a9e42';
const PIN_CANARY = 'CanaryUserPin-5b8e0c7a13';
const WRONG_CANARY = 'CanaryWrongPin-2f6d9b4e88';
const PASS_CANARY = 'CanaryPassphrase-9a3c5e1f70';
const CANARIES = [SO_CANARY, PIN_CANARY, WRONG_CANARY, PASS_CANARY];

/** Every file under `dir` (following no links), for the canary scan. */
function files(dir: string, skip: (p: string) => boolean = () => false): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (skip(p)) continue;
    const st = statSync(p);
    if (st.isDirectory()) out.push(...files(p, skip));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** The canary as text and in the encodings a careless writer might use. */
function forms(c: string): Buffer[] {
  return [Buffer.from(c, 'utf8'), Buffer.from(c, 'utf16le'), Buffer.from(Buffer.from(c).toString('base64').slice(0, 20)), Buffer.from(Buffer.from(c).toString('hex'))];
}

test('canary PINs and passphrase, used through whole ceremonies, appear nowhere', async ({ app }) => {
  const { page } = app;
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push(String(e)));
  // Every answer main gives the page, errors included.
  const answers: string[] = [];
  const invoke = app.harness.invoke;
  app.harness.invoke = async (channel, input) => {
    const r = await invoke(channel, input);
    answers.push(JSON.stringify(r));
    return r;
  };
  try {
    // 1. A ceremony, and in it a development token initialized with canary PINs.
    await openCeremonyThroughUi(app, { ...PEOPLE, purpose: 'Canary ceremony' }, { card: 'dev-token' });
    await page.getByTestId('token-label').fill('canary-token');
    await page.getByTestId('so-pin').fill(SO_CANARY);
    await page.getByTestId('so-pin2').fill(SO_CANARY);
    await page.getByTestId('user-pin').fill(PIN_CANARY);
    await page.getByTestId('user-pin2').fill(PIN_CANARY);
    await page.getByTestId('confirm-init').check();
    await page.getByTestId('init-token').click();
    await expect(page.getByTestId('initialized')).toContainText('canary-token');

    // 2. The same ceremony goes on with it, straight to the PIN; a wrong PIN, then the right one.
    await page.getByTestId('init-use-token').click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Log in to “canary-token”');
    await page.getByTestId('pin').fill(WRONG_CANARY);
    await page.getByTestId('login').click();
    await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'PIN_INCORRECT');
    await page.getByTestId('pin').fill(PIN_CANARY);
    await page.getByTestId('login').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
    await page.getByTestId('key-alg').selectOption('ec-p384');
    await page.getByTestId('key-label').fill('canary-root-key');
    await page.getByTestId('generate-key').click();
    await expect(page.getByTestId('test-signature')).toContainText('Verified');
    await page.getByTestId('key-next').click();
    await page.getByTestId('profile').selectOption('ec/root-ca');
    await page.getByTestId('var-cn').fill('Canary Root');
    const tokenCa = join(app.workDir, 'canary-root');
    await chooseDirectory(app, 'choose-ca-dir', tokenCa);
    await page.getByTestId('to-review').click();
    await page.getByTestId('confirm-cn').fill('Canary Root');
    await page.getByTestId('confirm-witness').check();
    await page.getByTestId('sign').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
    await page.getByTestId('next-crl').click();
    await page.getByTestId('review-crl-button').click();
    await page.getByTestId('confirm-witness').check();
    await page.getByTestId('sign').click();
    await expect(page.getByTestId('crl-saved')).toContainText('ca.crl');
    await page.getByTestId('crl-close-ceremony').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ceremony closed');
    app.harness.answers.savePath = join(app.workDir, 'canary-token-transcript.pdf');
    await page.getByTestId('export-transcript').click();
    await expect(page.getByTestId('transcript-saved')).toBeVisible();
    expect(verifyJournal(tokenCa).ok).toBe(true);
    await page.getByTestId('back-to-start').click();

    // 3. A software CA whose key file is encrypted with the canary passphrase: root, a CSR, a CRL.
    await openCeremonyThroughUi(app, { ...PEOPLE, purpose: 'Canary software CA' });
    await page.getByTestId('kind-software').check();
    await page.getByTestId('storage-next').click();
    await page.getByTestId('profile').selectOption('ec/root-ca');
    await page.getByTestId('var-cn').fill('Canary Software Root');
    const softCa = join(app.workDir, 'canary-soft');
    await chooseDirectory(app, 'choose-ca-dir', softCa);
    await page.getByTestId('to-review').click();
    await page.getByTestId('confirm-cn').fill('Canary Software Root');
    await page.getByTestId('passphrase').fill(PASS_CANARY);
    await page.getByTestId('passphrase2').fill(PASS_CANARY);
    await page.getByTestId('confirm-witness').check();
    await page.getByTestId('sign').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
    await page.getByTestId('next-crl').click();
    await page.getByTestId('review-crl-button').click();
    // A wrong passphrase first: refused, and its words name no passphrase.
    await page.getByTestId('ca-passphrase').fill(WRONG_CANARY);
    await page.getByTestId('confirm-witness').check();
    await page.getByTestId('sign').click();
    await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'PASSPHRASE_INCORRECT');
    await page.getByTestId('ca-passphrase').fill(PASS_CANARY);
    await page.getByTestId('sign').click();
    await expect(page.getByTestId('crl-saved')).toContainText('ca.crl');
    await page.getByTestId('crl-close-ceremony').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ceremony closed');
    await app.screen('closed-software-ca');
    expect(verifyJournal(softCa).ok).toBe(true);
  } finally {
    app.harness.invoke = invoke;
  }

  // The scan: every file the run wrote (CA directories, journals, transcript, the app's data
  // folder, the token store) and the e2e artifacts other than screenshots.
  const artifacts = resolve(__dirname, 'artifacts');
  const scanned = [
    ...files(app.workDir),
    ...files(app.harness.state.options.dataDir),
    ...files(app.hsm.dir),
    ...files(artifacts, (p) => p.endsWith('.png')),
  ];
  expect(scanned.length).toBeGreaterThan(20);
  expect(scanned.some((p) => p.endsWith('journal.jsonl'))).toBe(true);
  expect(scanned.some((p) => p.endsWith('.key'))).toBe(true);
  const found: string[] = [];
  for (const f of scanned) {
    const body = readFileSync(f);
    for (const c of CANARIES) for (const form of forms(c)) if (body.includes(form)) found.push(`${f}: ${c}`);
  }
  expect(found, 'a canary secret was written to disk').toEqual([]);
  const text = [...consoleLines, ...answers, await page.content()].join('\n');
  for (const c of CANARIES) expect(text.includes(c), `canary ${c} in console output, an answer or the page`).toBe(false);
  expect(answers.some((a) => a.includes('PIN_INCORRECT')) && answers.some((a) => a.includes('PASSPHRASE_INCORRECT'))).toBe(true);
  expect(app.foreign).toEqual([]);
});

test('hostile input through the page bridge: every channel refuses with INPUT_INVALID', async ({ app }) => {
  const { page } = app;
  await expect(page.getByTestId('start-ceremony')).toBeVisible();
  const before = files(app.workDir).length;
  const results = await page.evaluate(async (channels: readonly string[]) => {
    const api = (window as unknown as { qpki: Record<string, (i?: unknown) => Promise<{ ok: boolean; error?: { code: string } }>> }).qpki;
    const big = 'A'.repeat(10 * 1024 * 1024);
    let deep: unknown = 'x';
    // Playwright's own serializer stops near a thousand levels; the unit test goes to 10 000.
    for (let i = 0; i < 500; i++) deep = { a: deep };
    const inputs: Array<[string, unknown]> = [
      ['null', null], ['a string', 'x'], ['a number', 7], ['an array', [{}]],
      ['an extra field', { extra: 1 }], ['a 10 MB field', { extra: big }], ['deep nesting', { extra: deep }],
    ];
    const out: string[] = [];
    for (const c of channels) {
      for (const [what, input] of inputs) {
        const r = await api[c](input);
        out.push(`${c} ${what}: ${r.ok ? 'ACCEPTED' : r.error!.code}`);
      }
    }
    return out;
  }, CHANNELS);
  expect(results.length).toBe(CHANNELS.length * 7);
  expect(results.filter((r) => !r.endsWith(': INPUT_INVALID'))).toEqual([]);
  expect(files(app.workDir).length).toBe(before);
  // The bridge still serves after all that.
  expect(await page.evaluate(async () => (await (window as unknown as { qpki: { appInfo: (i: unknown) => Promise<{ ok: boolean }> } }).qpki.appInfo({})).ok)).toBe(true);
});

/**
 * The same root ceremony through the real Electron app (`_electron.launch`). Runs where the
 * Electron binary exists; elsewhere it skips with one line saying why and how to get it.
 */
import { _electron as electron, test, expect } from '@playwright/test';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { makeSoftHsmStore } from '../test/softhsm';

const root = resolve(__dirname, '..');
function electronPath(): string | null {
  const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const p = join(root, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(p) ? p : null;
}

const bin = electronPath();
const WHY = 'Electron binary missing (node_modules/electron/dist): run `node node_modules/electron/install.js` on a machine with internet to run the Electron e2e test.';
// Printed from the worker only (the runner also loads this file to list tests).
if (!bin && process.env.TEST_WORKER_INDEX !== undefined) console.log(`[electron e2e] skipped: ${WHY}`);

test('root ceremony in the Electron app', async () => {
  test.skip(!bin, WHY);
  execFileSync(process.execPath, ['scripts/build-electron.mjs'], { cwd: root });
  const hsm = makeSoftHsmStore();
  const userData = mkdtempSync(join(tmpdir(), 'qpki-electron-'));
  const app = await electron.launch({ executablePath: bin!, args: [root, `--user-data-dir=${userData}`], env: { ...process.env, SOFTHSM2_CONF: hsm.conf } });
  try {
    const page = await app.firstWindow();
    // Yes to each of main's own confirmations (the development token's library, the signature).
    await app.evaluate(({ dialog }) => {
      dialog.showMessageBox = (async () => ({ response: 1, checkboxChecked: false })) as unknown as typeof dialog.showMessageBox;
    });
    // The ceremony step first (main initializes a token only in an open ceremony), then the token.
    await page.getByTestId('dev-token').click();
    await page.getByTestId('operator').fill('Alice Operator');
    await page.getByTestId('witness-0').fill('Bob Witness');
    await page.getByTestId('purpose').fill('Electron rehearsal');
    await page.getByTestId('open-ceremony').click();
    await page.getByTestId('preflight-witness').selectOption('Bob Witness');
    await page.getByTestId('preflight-reference').fill(`${new Date().toISOString().slice(0, 19)}Z`);
    if (await page.getByTestId('preflight-reason').count()) await page.getByTestId('preflight-reason').fill('Electron rehearsal on a test machine.');
    await page.getByTestId('preflight-confirm-button').click();
    await page.getByTestId('ceremony-continue').click();
    await page.getByTestId('token-label').fill('electron-root');
    for (const [id, v] of [['so-pin', 'so-pin-0123456789'], ['so-pin2', 'so-pin-0123456789'], ['user-pin', 'user-pin-0123456789'], ['user-pin2', 'user-pin-0123456789']]) await page.getByTestId(id).fill(v);
    await page.getByTestId('confirm-init').check();
    await page.getByTestId('init-token').click();
    await page.getByTestId('init-use-token').click();
    await page.getByTestId('pin').fill('user-pin-0123456789');
    await page.getByTestId('login').click();
    await page.getByTestId('key-alg').selectOption('ec-p384');
    await page.getByTestId('generate-key').click();
    await expect(page.getByTestId('test-signature')).toContainText('Verified');
    await page.getByTestId('key-next').click();
    await page.getByTestId('profile').selectOption('ec/root-ca');
    await page.getByTestId('var-cn').fill('Electron Root');
    const dir = join(userData, 'ca');
    // main's own folder dialog, answered here.
    await app.evaluate(({ dialog }, path) => {
      dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [path] })) as unknown as typeof dialog.showOpenDialog;
    }, dir);
    await page.getByTestId('choose-ca-dir').click();
    await expect(page.getByTestId('ca-dir')).toHaveText(dir);
    await page.getByTestId('to-review').click();
    await page.getByTestId('confirm-cn').fill('Electron Root');
    await page.getByTestId('confirm-witness').check();
    await page.getByTestId('sign').click();
    await expect(page.getByTestId('verification')).toContainText('Signature verified');
    const ca = join(dir, 'ca.crt');
    expect(execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', ca, ca], { encoding: 'utf8' })).toContain(': OK');
    // The transcript printed by Electron's printToPDF, to the path the save dialog answers.
    const pdf = join(userData, 'transcript.pdf');
    await app.evaluate(({ dialog }, path) => {
      dialog.showSaveDialog = (async () => ({ canceled: false, filePath: path })) as unknown as typeof dialog.showSaveDialog;
    }, pdf);
    await page.getByTestId('end-ceremony').click();
    await page.getByTestId('export-transcript').click();
    await expect(page.getByTestId('transcript-saved')).toBeVisible();
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  } finally {
    await app.close();
    hsm.cleanup();
  }
});

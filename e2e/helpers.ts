import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOFTHSM_LIB } from '../test/softhsm';
import { expect, type App } from './fixtures';

/**
 * A fresh token made through the app's own handler table (SoftHSM2 only sees tokens created
 * before C_Initialize from other processes, so softhsm2-util cannot add one mid-run).
 */
export async function makeToken(app: App, label: string, soPin: string, userPin: string): Promise<void> {
  const h = app.harness.handlers;
  const r1 = (await h.loadModule({ path: SOFTHSM_LIB })) as { ok: boolean };
  expect(r1.ok).toBe(true);
  const slots = (await h.listSlots({})) as { value: { slots: Array<{ slotId: string; tokenPresent: boolean; token: { flags: Record<string, boolean> } | null }> } };
  const free = slots.value.slots.find((s) => s.tokenPresent && s.token && !s.token.flags.initialized);
  expect(free).toBeTruthy();
  const r2 = (await h.initToken({ slotId: free!.slotId, label, soPin, userPin })) as { ok: boolean; error?: unknown };
  expect(r2.ok, JSON.stringify(r2.error)).toBe(true);
}

/** From the start screen to the PIN screen of the token labelled `label`. */
export async function openTokenThroughUi(app: App, label: string): Promise<void> {
  const { page } = app;
  await page.getByTestId('start-ceremony').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Where will the CA key live?');
  await page.getByTestId('module-path').fill(SOFTHSM_LIB);
  await app.screen('storage');
  await page.getByTestId('storage-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Choose the token');
  await app.screen('token');
  await page.getByTestId(`use-token-${label}`).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Log in to “${label}”`);
}

/** An EC key pair and CSR made by OpenSSL, independent of the app. */
export function opensslCsr(dir: string, name: string, curve: 'prime256v1' | 'secp384r1', subject: string): string {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', key, '-out', csr, '-subj', subject], { stdio: 'pipe' });
  return csr;
}

export function opensslVerify(args: string[]): string {
  return execFileSync('openssl', ['verify', ...args], { encoding: 'utf8', stdio: 'pipe' });
}

export function writeTemp(dir: string, name: string, body: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { SOFTHSM_LIB } from '../test/softhsm';
import { preflightConfirmation } from '../test/handler-calls';
import { expect, type App } from './fixtures';

/**
 * A fresh token made through the app's own handler table (SoftHSM2 only sees tokens created
 * before C_Initialize from other processes, so softhsm2-util cannot add one mid-run).
 */
export async function makeToken(app: App, label: string, soPin: string, userPin: string): Promise<void> {
  const h = app.harness.handlers;
  const known = (await h.knownModules({})) as { value: { modules: Array<{ id: string; path: string }> } };
  const lib = known.value.modules.find((m) => m.path === SOFTHSM_LIB);
  expect(lib, 'SoftHSM2 is among the libraries main offers').toBeTruthy();
  const r1 = (await h.loadModule({ moduleId: lib!.id })) as { ok: boolean };
  expect(r1.ok).toBe(true);
  const slots = (await h.listSlots({})) as { value: { slots: Array<{ slotId: string; tokenPresent: boolean; token: { flags: Record<string, boolean> } | null }> } };
  const free = slots.value.slots.find((s) => s.tokenPresent && s.token && !s.token.flags.initialized);
  expect(free).toBeTruthy();
  await inPreparation((c, i) => (h as unknown as Record<string, (x: unknown) => Promise<unknown>>)[c](i), `the test token ${label}`, async () => {
    const r2 = (await h.initToken({ slotId: free!.slotId, label, soPin, userPin })) as { ok: boolean; error?: unknown };
    expect(r2.ok, JSON.stringify(r2.error)).toBe(true);
  });
}

/**
 * Main changes a token or a CA only in an open ceremony: `prepare` runs in one of its own (the
 * test's preparation, its preflight confirmed), closed with its record written apart before the
 * test's own ceremony opens.
 */
export async function inPreparation<T>(call: (channel: string, input: unknown) => Promise<unknown>, what: string, prepare: () => Promise<T>): Promise<T> {
  const opened = (await call('openCeremony', { operator: 'Test Preparer', witnesses: ['Preparation Witness'], purpose: `Prepare ${what}` })) as { ok: boolean; error?: unknown };
  expect(opened.ok, JSON.stringify(opened.error)).toBe(true);
  // Signing waits for a witness's clock check too.
  const confirmed = (await call('confirmPreflight', preflightConfirmation('Preparation Witness'))) as { ok: boolean; error?: unknown };
  expect(confirmed.ok, JSON.stringify(confirmed.error)).toBe(true);
  const out = await prepare();
  const closed = (await call('closeCeremony', {})) as { ok: boolean; value: { dir: string | null } };
  expect(closed.value.dir, 'the preparation has a record of its own').toBeTruthy();
  return out;
}

export interface People {
  operator: string;
  witnesses: string[];
  purpose: string;
}

export const PEOPLE: People = { operator: 'Alice Operator', witnesses: ['Bob Witness', 'Carol Witness'], purpose: 'E2E rehearsal of the root CA ceremony' };

/**
 * Called on each screen a walk passes through, once it is filled in and before its button is
 * pressed, so a test can look at that screen (its layout, say) without walking it itself.
 */
export type Visit = (screen: string) => Promise<void>;

/**
 * From the start screen through the ceremony step (names, purpose, preflight) to the next
 * screen. `shots` takes screenshots of the form and of the preflight result.
 */
export async function openCeremonyThroughUi(app: App, people: People = PEOPLE, opts: { shots?: boolean; card?: string; visit?: Visit } = {}): Promise<void> {
  const { page } = app;
  // card 'none': the app is already on the ceremony step (a task led there).
  if (opts.card !== 'none') await page.getByTestId(opts.card ?? 'start-ceremony').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Open the ceremony');
  await page.getByTestId('operator').fill(people.operator);
  for (let i = 0; i < people.witnesses.length; i++) {
    if (i > 0) await page.getByTestId('add-witness').click();
    await page.getByTestId(`witness-${i}`).fill(people.witnesses[i]);
  }
  await page.getByTestId('purpose').fill(people.purpose);
  if (opts.shots) await app.screen('ceremony');
  await opts.visit?.('ceremony');
  await page.getByTestId('open-ceremony').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Before you start: this computer');
  await expect(page.getByTestId('app-sha256')).toHaveText(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  // A network interface up other than loopback is shown as a warning (this machine may well have one).
  const up = Object.entries(networkInterfaces()).filter(([, a]) => (a ?? []).some((x) => !x.internal)).map(([n]) => n);
  const net = page.getByTestId('preflight-network');
  if (up.length) {
    await expect(net).toContainText('WARNING');
    await expect(net).toHaveClass(/check-warn/);
    for (const name of up) await expect(net).toContainText(name);
  } else {
    await expect(net).toContainText('No network interface is up');
  }
  // Nothing goes on before a witness confirms the clock (and, with warnings, why the ceremony goes on).
  await expect(page.getByTestId('ceremony-continue')).toHaveCount(0);
  await confirmPreflightThroughUi(app, people.witnesses[0]);
  if (opts.shots) await app.screen('preflight');
  await opts.visit?.('preflight');
  await page.getByTestId('ceremony-continue').click();
}

/** The witness's confirmation on the preflight form: this machine's clock is the reference in tests. */
export async function confirmPreflightThroughUi(app: App, witness: string): Promise<void> {
  const { page } = app;
  await page.getByTestId('preflight-witness').selectOption(witness);
  await page.getByTestId('preflight-reference').fill(`${new Date().toISOString().slice(0, 19)}Z`);
  const reason = page.getByTestId('preflight-reason');
  if (await reason.count()) await reason.fill('Rehearsal laptop: the network link is a test container with no route out.');
  await page.getByTestId('preflight-confirm-button').click();
  await expect(page.getByTestId('preflight-confirmed')).toBeVisible();
}

/** From the start screen (through the ceremony step) to the PIN screen of the token labelled `label`. */
export async function openTokenThroughUi(app: App, label: string, opts: { shots?: boolean; people?: People; visit?: Visit } = {}): Promise<void> {
  const { page } = app;
  await openCeremonyThroughUi(app, opts.people ?? PEOPLE, { shots: opts.shots, visit: opts.visit });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Where will the CA key live?');
  await chooseModule(app, SOFTHSM_LIB);
  await app.screen('storage');
  await opts.visit?.('storage');
  await page.getByTestId('storage-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Choose the token');
  await app.screen('token');
  await opts.visit?.('token');
  await page.getByTestId(`use-token-${label}`).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Log in to “${label}”`);
}

/** Pick the library at `path` in the storage step's list (main offers it, with its SHA-256). */
export async function chooseModule(app: App, path: string): Promise<void> {
  const option = app.page.locator(`[data-testid="module-option"][data-path="${path}"]`);
  await option.check();
  await expect(option).toBeChecked();
}

/**
 * A directory as the operator picks it: main's own dialog, answered here with `path`. The page
 * shows the path it chose and holds only main's id for it.
 */
export async function chooseDirectory(app: App, button: 'choose-ca-dir' | 'choose-open-dir', path: string): Promise<void> {
  app.harness.answers.directory = path;
  await app.page.getByTestId(button).click();
  await expect(app.page.getByTestId(button === 'choose-ca-dir' ? 'ca-dir' : 'open-dir')).toHaveText(path);
  app.harness.answers.directory = null;
}

/** An EC key pair and CSR made by OpenSSL, independent of the app. */
export function opensslCsr(dir: string, name: string, curve: 'prime256v1' | 'secp384r1', subject: string): string {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', key, '-out', csr, '-subj', subject], { stdio: 'pipe' });
  return csr;
}

/** SHA-256 of a certificate's TBSCertificate, colon hex, as Python `cryptography` reads it (not our decoder). */
export function tbsSha256Of(certPath: string): string {
  const hex = execFileSync('python3', ['-c', 'import sys,hashlib;from cryptography import x509;c=x509.load_pem_x509_certificate(open(sys.argv[1],"rb").read());print(hashlib.sha256(c.tbs_certificate_bytes).hexdigest())', certPath], { encoding: 'utf8' }).trim();
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

export function opensslVerify(args: string[]): string {
  return execFileSync('openssl', ['verify', ...args], { encoding: 'utf8', stdio: 'pipe' });
}

export function writeTemp(dir: string, name: string, body: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

/** A witness acknowledges plan step n of `of` on the Plan screen, and the screen moves on. */
export async function acknowledgePlanStep(app: App, n: number, of: number, witness: string): Promise<void> {
  const { page } = app;
  await expect(page.getByTestId('plan-ack')).toContainText(`Step ${n} of ${of} is done`);
  await page.getByTestId('plan-witness').selectOption(witness);
  await page.getByTestId('plan-acknowledge').click();
  await expect(page.getByTestId('plan-ack')).toHaveCount(0);
}

/**
 * As the ceremony room sees the screen: `testId` (its next action) inside a 1024×640 window at the
 * top of the page and not covered, and at 200% zoom (640×400 CSS pixels, two device pixels each)
 * no horizontal scrolling, the action as wide as the window at most (reached by scrolling down, as
 * room-layout.spec.ts allows for a bar that is not sticky at that size). Saves
 * e2e/artifacts/room-<shot>-{1024x640,200pct}.png. The full walk of the older screens is room-layout.spec.ts.
 */
export async function inRoom(app: App, testId: string, shot: string): Promise<void> {
  const { page } = app;
  const size = page.viewportSize()!;
  const el = page.getByTestId(testId);
  const whole = async (w: number, h: number, at: string) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const b = (await el.boundingBox())!;
    expect(b.y, `${testId} top in view at ${at}`).toBeGreaterThanOrEqual(0);
    expect(b.y + b.height, `${testId} bottom inside ${h} px at ${at}`).toBeLessThanOrEqual(h);
    expect(b.x + b.width, `${testId} right inside ${w} px at ${at}`).toBeLessThanOrEqual(w);
    expect(await el.evaluate((e) => { const r = e.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return !!hit && (hit === e || e.contains(hit)); }), `${testId} not covered at ${at}`).toBe(true);
  };
  await page.setViewportSize({ width: 1024, height: 640 });
  await whole(1024, 640, '1024×640');
  await page.screenshot({ path: join(__dirname, 'artifacts', `room-${shot}-1024x640.png`) });
  const cdp = await page.context().newCDPSession(page);
  await page.setViewportSize({ width: 640, height: 400 });
  await cdp.send('Emulation.setDeviceMetricsOverride', { width: 640, height: 400, deviceScaleFactor: 2, mobile: false });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  expect(widths[0], `${shot}: no horizontal scrolling at 200%`).toBeLessThanOrEqual(widths[1] + 1);
  const b = (await el.boundingBox())!;
  expect(b.x >= 0 && b.x + b.width <= 640, `${testId} inside the width at 200% (x ${b.x}, width ${b.width})`).toBe(true);
  const png = (await cdp.send('Page.captureScreenshot', { format: 'png' })) as { data: string };
  writeFileSync(join(__dirname, 'artifacts', `room-${shot}-200pct.png`), Buffer.from(png.data, 'base64'));
  await cdp.send('Emulation.clearDeviceMetricsOverride');
  await cdp.detach();
  await page.setViewportSize(size);
}

/**
 * A plan's root (or CA) step from its profile screen: the CA directory chosen through main's
 * dialog, the review confirmed with the common name typed, signed, and the self-signed result
 * checked with OpenSSL. Returns where the certificate was saved; the result screen stays up.
 */
export async function signPlanCaThroughUi(app: App, dir: string, cn: string, shot: string): Promise<string> {
  const { page } = app;
  await chooseDirectory(app, 'choose-ca-dir', dir);
  await app.screen(shot);
  await page.getByTestId('to-review').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review before signing');
  await page.getByTestId('confirm-cn').fill(cn);
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  const saved = (await page.getByTestId('saved-to').textContent())!;
  expect(opensslVerify(['-x509_strict', '-CAfile', saved, saved])).toContain(': OK');
  return saved;
}

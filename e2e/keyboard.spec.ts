/**
 * Keyboard-only operation: a whole root ceremony on SoftHSM2 driven by Tab, Shift+Tab, Enter,
 * Space, arrow keys and typing — nothing is clicked or filled. On every screen: the new step's
 * heading has focus (a screen reader announces where it is), every Tab stop shows a focus ring
 * that contrasts 3:1 with what surrounds it, every control can be reached, and Tab and Shift+Tab
 * both cycle through the page (no trap). Each screen is also checked by axe-core and saved to
 * e2e/artifacts/keyboard-*.png with the focus ring in view.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { makeToken, opensslCsr, opensslVerify, PEOPLE } from './helpers';
import { SOFTHSM_LIB } from '../test/softhsm';

const SO_PIN = 'so-pin-0123456789';
const USER_PIN = 'user-pin-0123456789';
const TOKEN = 'kb-root';
const CN = 'Keyboard Root CA';

/** What has focus, described for messages, and whether its focus ring can be seen. */
interface Focus {
  /** data-testid, else id, else tag[accessible text]. */
  name: string;
  tag: string;
  text: string;
  focusVisible: boolean;
  /** The ring's colours (outline, box-shadow) and the background around the element. */
  ring: string[];
  around: string;
  /** Best contrast ratio of a ring colour against `around` (0 when there is no ring). */
  contrast: number;
  inViewport: boolean;
}

/** Runs in the page: the focused element, its ring and where it is (null when focus is on <body>). */
function readFocus(): Focus | null {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body || el === document.documentElement) return null;
  const rgb = (c: string): [number, number, number, number] | null => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]: number[]) => {
    const f = (v: number) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let around = 'rgb(255, 255, 255)';
  for (let e = el.parentElement; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c[3] > 0) { around = getComputedStyle(e).backgroundColor; break; }
  }
  const cs = getComputedStyle(el);
  const ring: string[] = [];
  if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) ring.push(cs.outlineColor);
  if (cs.boxShadow && cs.boxShadow !== 'none') for (const m of cs.boxShadow.matchAll(/rgba?\([^)]+\)/g)) ring.push(m[0]);
  const bg = rgb(around)!;
  const ratio = (c: string) => {
    const x = rgb(c);
    if (!x || x[3] === 0) return 0;
    const [a, b] = [lum(x), lum(bg)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  const r = el.getBoundingClientRect();
  const labels = (el as HTMLInputElement).labels;
  const label = el.getAttribute('aria-label') ?? (labels?.length ? labels[0].textContent ?? '' : el.textContent ?? '').trim().slice(0, 60);
  return {
    name: el.dataset.testid ?? (el.id || `${el.tagName.toLowerCase()}[${label}]`),
    tag: el.tagName.toLowerCase(),
    text: (el.textContent ?? '').trim(),
    focusVisible: el.matches(':focus-visible'),
    ring,
    around,
    contrast: Math.max(0, ...ring.map(ratio)),
    inViewport: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
  };
}

const focus = (page: Page) => page.evaluate(readFocus);

/** A Tab stop must show a ring (WCAG 2.4.7) that contrasts 3:1 with its surroundings (1.4.11), in view. */
function expectRing(f: Focus | null, where: string): asserts f is Focus {
  expect(f, `${where}: focus fell to <body>`).not.toBeNull();
  expect(f!.focusVisible, `${where}: ${f!.name} does not match :focus-visible`).toBe(true);
  expect(f!.ring.length, `${where}: ${f!.name} has no outline or box-shadow when focused`).toBeGreaterThan(0);
  expect(f!.contrast, `${where}: focus ring of ${f!.name} (${f!.ring.join(', ')}) against ${f!.around}`).toBeGreaterThanOrEqual(3);
  expect(f!.inViewport, `${where}: ${f!.name} is focused but scrolled out of view`).toBe(true);
}

/** Tab (or Shift+Tab) until `want` has focus, checking the ring of every stop on the way. */
async function tabTo(page: Page, want: string | ((f: Focus) => boolean), opts: { back?: boolean; max?: number } = {}): Promise<Focus> {
  const test = typeof want === 'string' ? (f: Focus) => f.name === want : want;
  const seen: string[] = [];
  for (let i = 0; i < (opts.max ?? 40); i++) {
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
    const f = await focus(page);
    if (f === null) { seen.push('<body>'); continue; } // past the last stop: the next Tab comes back in
    expectRing(f, `tabbing to ${String(want)}`);
    seen.push(f.name);
    if (test(f)) return f;
  }
  throw new Error(`${String(want)} was never focused by ${opts.back ? 'Shift+Tab' : 'Tab'}; stops: ${seen.join(' → ')}`);
}

/** A step change puts focus on the new step's heading, so its name is what is announced. */
async function expectHeadingFocused(page: Page, title: string | RegExp): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
}

/**
 * Every control the screen shows is a Tab stop, in one cycle forward and the same cycle
 * backward (a trap would stop either), each with a visible ring.
 */
async function auditTabOrder(page: Page, screen: string): Promise<void> {
  const forward: string[] = [];
  await page.evaluate(() => { (window as unknown as { kbSeen: Element[] }).kbSeen = []; });
  for (let i = 0; ; i++) {
    expect(i, `${screen}: Tab never left the page (trap?) after ${forward.join(' → ')}`).toBeLessThan(120);
    await page.keyboard.press('Tab');
    const f = await focus(page);
    if (f === null) continue; // past the last stop, out of the page: the next Tab comes back at the top
    const again = await page.evaluate(() => {
      const seen = (window as unknown as { kbSeen: Element[] }).kbSeen;
      if (seen.includes(document.activeElement!)) return true;
      seen.push(document.activeElement!);
      return false;
    });
    if (again) break;
    expectRing(f, `${screen}, Tab stop ${i + 1}`);
    forward.push(f.name);
  }
  const unreachable = await page.evaluate(() => {
    const seen = (window as unknown as { kbSeen: Element[] }).kbSeen;
    const shown = (e: HTMLElement) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    const radioStop = new Map<string, HTMLInputElement>();
    for (const r of Array.from(document.querySelectorAll<HTMLInputElement>('input[type=radio]'))) {
      if (!shown(r) || r.disabled) continue;
      if (!radioStop.has(r.name) || r.checked) radioStop.set(r.name, r);
    }
    const controls = Array.from(document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]'))
      .filter((e) => shown(e) && !(e as HTMLButtonElement).disabled && e.tabIndex >= 0 && !e.closest('[inert]'))
      .filter((e) => !(e instanceof HTMLInputElement && e.type === 'radio') || radioStop.get(e.name) === e);
    return controls.filter((e) => !seen.includes(e)).map((e) => e.dataset.testid ?? e.id ?? e.outerHTML.slice(0, 80));
  });
  expect(unreachable, `${screen}: controls Tab never reached`).toEqual([]);
  // The same cycle backward, from where the forward one ended.
  const backward: string[] = [];
  for (let i = 0; i < forward.length + 3 && backward.length < forward.length; i++) {
    await page.keyboard.press('Shift+Tab');
    const f = await focus(page);
    if (f) { expectRing(f, `${screen}, Shift+Tab`); backward.push(f.name); }
  }
  expect(backward, `${screen}: Shift+Tab order is not Tab order reversed`).toEqual([...forward].reverse());
}

/** ArrowDown through a focused <select> until it shows `want` (each choice may load data: wait for it to settle). */
async function selectByArrows(page: Page, testId: string, want: string): Promise<void> {
  const sel = page.getByTestId(testId);
  await expect(sel).toBeFocused();
  const value = () => sel.evaluate((e) => (e as HTMLSelectElement).value);
  const n = await sel.locator('option').count();
  for (let i = 0; i < n && (await value()) !== want; i++) {
    const before = await value();
    await page.keyboard.press('ArrowDown');
    await expect.poll(value).not.toBe(before);
  }
  expect(await value()).toBe(want);
  await expect(sel).toBeFocused();
}

async function typeAfterSelectAll(page: Page, text: string): Promise<void> {
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(text);
}

test('keyboard only: a whole root ceremony on the token, no click, focus always visible', async ({ app }) => {
  const { page } = app;
  await makeToken(app, TOKEN, SO_PIN, USER_PIN);
  const value = (testId: string) => page.getByTestId(testId).evaluate((e) => (e as HTMLInputElement).value);

  // Start: the page opens with its heading focused; Tab reaches the task cards.
  await expectHeadingFocused(page, 'What do you want to do?');
  // The development-token card appears once main has said SoftHSM2 is here: audit the screen whole.
  await expect(page.getByTestId('dev-token')).toBeVisible();
  await auditTabOrder(page, 'start');
  await tabTo(page, 'start-ceremony');
  await app.screen('start');
  await page.keyboard.press('Enter');

  // Ceremony: operator, two witnesses (the second added with Space), purpose.
  await expectHeadingFocused(page, 'Open the ceremony');
  await auditTabOrder(page, 'ceremony');
  await tabTo(page, 'operator');
  await page.keyboard.type(PEOPLE.operator);
  await page.keyboard.press('Tab');
  expect((await focus(page))?.name).toBe('witness-0');
  await page.keyboard.type(PEOPLE.witnesses[0]);
  await tabTo(page, 'add-witness');
  await page.keyboard.press('Space');
  // The new, empty row takes focus: the operator types the name straight away.
  await expect(page.getByTestId('witness-1')).toBeFocused();
  await page.keyboard.type(PEOPLE.witnesses[1]);
  // A third row added by mistake and removed again: focus stays in the list, not on <body>.
  await tabTo(page, 'add-witness');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('witness-2')).toBeFocused();
  const remove3 = await tabTo(page, 'button[Remove witness 3]');
  expect(remove3.text).toBe('Remove');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('witness-2')).toHaveCount(0);
  await expect(page.getByTestId('witness-1')).toBeFocused();
  expectRing(await focus(page), 'after removing a witness');
  expect(await value('witness-1')).toBe(PEOPLE.witnesses[1]);
  // Shift+Tab goes back up the list.
  await tabTo(page, 'witness-0', { back: true });
  await tabTo(page, 'purpose');
  await page.keyboard.type(PEOPLE.purpose);
  expect(await value('operator')).toBe(PEOPLE.operator);
  expect(await value('witness-0')).toBe(PEOPLE.witnesses[0]);
  await app.screen('ceremony');
  await tabTo(page, 'open-ceremony');
  await page.keyboard.press('Enter');

  // Preflight.
  await expectHeadingFocused(page, 'Before you start: this computer');
  await auditTabOrder(page, 'preflight');
  // The witness's confirmation, by keyboard: the witness chosen by arrow, the reference time as the
  // form fills it in (this machine's clock is the reference here), the reason for the warnings typed.
  await tabTo(page, 'preflight-witness');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('preflight-witness')).toHaveValue(PEOPLE.witnesses[0]);
  if (await page.getByTestId('preflight-reason').count()) {
    await tabTo(page, 'preflight-reason');
    await page.keyboard.type('Rehearsal laptop: its network link is a test container.');
  }
  await tabTo(page, 'preflight-confirm-button');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('preflight-confirmed')).toBeVisible();
  await tabTo(page, 'ceremony-continue');
  await app.screen('preflight');
  await page.keyboard.press('Enter');

  // Key storage: arrows move within a radio group; the SoftHSM2 library is chosen by arrow.
  await expectHeadingFocused(page, 'Where will the CA key live?');
  await auditTabOrder(page, 'storage');
  await tabTo(page, 'input[PKCS#11 token (recommended)]');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('kind-software')).toBeChecked();
  await expect(page.getByLabel('Key algorithm')).toBeVisible();
  await page.keyboard.press('ArrowUp');
  await expect(page.getByTestId('kind-software')).not.toBeChecked();
  await expect(page.getByTestId('module-list')).toBeVisible();
  // Tab leaves the storage group for the library group, on its checked radio.
  await page.keyboard.press('Tab');
  const libs = await page.locator('input[name=module]').count();
  expect(libs).toBeGreaterThan(0);
  const chosen = () => page.locator('input[name=module]:checked').getAttribute('data-path');
  if (libs > 1) {
    // Arrows move the choice, both ways.
    const first = await chosen();
    await page.keyboard.press('ArrowDown');
    expect(await chosen()).not.toBe(first);
    await page.keyboard.press('ArrowUp');
    expect(await chosen()).toBe(first);
  }
  // Radios wrap around: at most one lap to reach the SoftHSM2 library.
  for (let i = 0; i < libs && (await chosen()) !== SOFTHSM_LIB; i++) await page.keyboard.press('ArrowDown');
  expect(await chosen()).toBe(SOFTHSM_LIB);
  expectRing(await focus(page), 'library radio');
  await app.screen('storage');
  await tabTo(page, 'storage-next');
  await page.keyboard.press('Enter');

  // Token.
  await expectHeadingFocused(page, 'Choose the token');
  await auditTabOrder(page, 'token');
  await tabTo(page, `use-token-${TOKEN}`, { max: 80 });
  await app.screen('token');
  await page.keyboard.press('Enter');

  // PIN: typed, shown and hidden again with Space, sent with Enter from the field.
  await expectHeadingFocused(page, `Log in to “${TOKEN}”`);
  await auditTabOrder(page, 'pin');
  // A wrong PIN first: the error is an alert (read out at once) and the PIN field has the focus
  // back for the next try; Escape dismisses the error and leaves the focus in the field. A second
  // wrong PIN, its error reached by Shift+Tab and dismissed with its button, hands focus to the step.
  await tabTo(page, 'pin');
  await page.keyboard.type('not-the-pin-000');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'PIN_INCORRECT');
  await expect(page.getByTestId('pin')).toBeFocused();
  await app.screen('pin-wrong');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('pin')).toBeFocused();
  await page.keyboard.type('not-the-pin-001');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('wrong-tries')).toContainText('2 wrong PINs');
  await expect(page.getByTestId('pin')).toBeFocused();
  await tabTo(page, 'button[Dismiss (Esc)]', { back: true });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
  await tabTo(page, 'pin');
  expect(await value('pin')).toBe('');
  await page.keyboard.type(USER_PIN);
  await page.keyboard.press('Tab');
  expect((await focus(page))?.name).toBe('button[Show User PIN]');
  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Hide User PIN' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('pin')).toHaveAttribute('type', 'text');
  await page.keyboard.press('Space');
  await expect(page.getByTestId('pin')).toHaveAttribute('type', 'password');
  await app.screen('pin');
  await page.keyboard.press('Shift+Tab');
  expect((await focus(page))?.name).toBe('pin');
  await page.keyboard.press('Enter');

  // Key: P-384 chosen with the arrow keys, a label typed, generated with Enter.
  await expectHeadingFocused(page, 'The CA key');
  await expect(page.getByTestId('session-state')).toContainText(`Logged in to “${TOKEN}”`);
  await auditTabOrder(page, 'key');
  await tabTo(page, 'key-alg');
  const algs = await page.getByTestId('key-alg').locator('option').count();
  await page.keyboard.press('Home');
  for (let i = 0; i < algs && (await value('key-alg')) !== 'ec-p384'; i++) await page.keyboard.press('ArrowDown');
  expect(await value('key-alg')).toBe('ec-p384');
  await tabTo(page, 'key-label');
  await typeAfterSelectAll(page, 'kb-root-key');
  await tabTo(page, 'generate-key');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
  await expect(page.getByTestId('generated')).toContainText('Key generated: “kb-root-key”');
  // The button is disabled while the token works; focus is not left on <body> but moves to the new key's facts.
  await expect(page.getByRole('heading', { level: 2, name: 'Key generated: “kb-root-key”' })).toBeFocused();
  expectRing(await focus(page), 'after generating the key');
  await app.screen('key-generated');
  await tabTo(page, 'key-next');
  await page.keyboard.press('Enter');

  // Profile: ec/root-ca by arrows, the common name and the CA directory typed.
  await expectHeadingFocused(page, 'Profile and details');
  await tabTo(page, 'profile');
  await selectByArrows(page, 'profile', 'ec/root-ca');
  await expect(page.getByTestId('var-cn')).toBeVisible();
  await expect(page.getByTestId('profile')).toBeFocused();
  await tabTo(page, 'var-cn');
  await page.keyboard.type(CN);
  const dir = join(app.workDir, 'kb-root');
  // The folder comes from main's own dialog (answered here), opened with Enter on Choose….
  app.harness.answers.directory = dir;
  await tabTo(page, 'choose-ca-dir');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('ca-dir')).toHaveText(dir);
  app.harness.answers.directory = null;
  await auditTabOrder(page, 'profile');
  await tabTo(page, 'to-review');
  await app.screen('profile');
  await page.keyboard.press('Space');

  // Review: the deliberate confirmation by keyboard; Sign stays disabled until both are given.
  await expectHeadingFocused(page, 'Review before signing');
  await expect(page.getByTestId('review')).toContainText(`CN=${CN}`);
  await expect(page.getByTestId('sign')).toBeDisabled();
  await auditTabOrder(page, 'review');
  await tabTo(page, 'confirm-cn');
  await page.keyboard.type(CN);
  await page.keyboard.press('Tab');
  expect((await focus(page))?.name).toBe('confirm-witness');
  await expect(page.getByTestId('sign')).toBeDisabled();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('confirm-witness')).toBeChecked();
  await expect(page.getByTestId('sign')).toBeEnabled();
  await tabTo(page, 'sign');
  await app.screen('review');
  await page.keyboard.press('Enter');

  // Result: verified, saved, exported as PEM with Enter.
  await expectHeadingFocused(page, 'Certificate signed');
  await expect(page.getByTestId('verification')).toContainText('Signature verified');
  const saved = (await page.getByTestId('saved-to').textContent())!;
  expect(saved).toBe(join(dir, 'ca.crt'));
  await auditTabOrder(page, 'result');
  app.harness.answers.savePath = join(app.workDir, 'kb-root.pem');
  await tabTo(page, 'export-pem');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('exported')).toContainText('kb-root.pem');
  await expect(page.getByTestId('export-pem')).toBeFocused();
  expectRing(await focus(page), 'after exporting');
  await app.screen('result');
  expect(readFileSync(join(app.workDir, 'kb-root.pem'), 'utf8')).toBe(readFileSync(saved, 'utf8'));
  expect(opensslVerify(['-x509_strict', '-CAfile', saved, saved])).toContain(': OK');
  expect(execFileSync('openssl', ['x509', '-in', saved, '-noout', '-subject'], { encoding: 'utf8' })).toContain(CN);

  // A CRL by keyboard: its signing button is disabled while the token works, so focus must land on the outcome.
  await tabTo(page, 'next-crl');
  await page.keyboard.press('Enter');
  await expectHeadingFocused(page, 'Generate a CRL');
  await auditTabOrder(page, 'crl');
  await tabTo(page, 'review-crl-button');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('review-crl-number')).toBeVisible();
  await tabTo(page, 'confirm-witness');
  await page.keyboard.press('Space');
  await tabTo(page, 'sign');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('crl-saved')).toContainText(dir);
  await expect(page.getByTestId('crl-signed')).toBeFocused();
  expectRing(await focus(page), 'after signing the CRL');
  await app.screen('crl');
  const crlFile = (await page.getByTestId('crl-saved').textContent())!;
  const crlCheck = spawnSync('openssl', ['crl', '-in', crlFile, '-CAfile', saved, '-noout'], { encoding: 'utf8' });
  expect(crlCheck.status).toBe(0);
  expect(crlCheck.stderr).toContain('verify OK');

  // Back to the CA, then a TLS server certificate: its CSR pasted, two DNS names in a list field.
  await tabTo(page, 'button[Back]', { back: true });
  await page.keyboard.press('Enter');
  await expectHeadingFocused(page, 'CA directory');
  await tabTo(page, 'ca-ee');
  await page.keyboard.press('Enter');
  await expectHeadingFocused(page, 'Issue an end-entity certificate');
  await tabTo(page, 'profile');
  await selectByArrows(page, 'profile', 'ec/tls-server');
  await tabTo(page, 'csr');
  await page.keyboard.insertText(readFileSync(opensslCsr(app.workDir, 'kb-server', 'prime256v1', '/CN=kb.example.com'), 'utf8')); // as Ctrl+V would
  // The common name comes pre-filled from the request.
  await expect(page.getByTestId('var-cn')).toHaveValue('kb.example.com');
  await tabTo(page, 'var-dns_names-0');
  await page.keyboard.type('www.kb.example.com');
  await page.keyboard.press('Tab');
  expect((await focus(page))?.name).toBe('button[Add another]');
  await page.keyboard.press('Enter');
  // The new entry takes focus, as a witness row does.
  await expect(page.getByTestId('var-dns_names-1')).toBeFocused();
  await page.keyboard.type('api.kb.example.com');
  // One entry too many, removed again: focus goes back to the entry before it.
  await tabTo(page, 'button[Add another]');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('var-dns_names-2')).toBeFocused();
  await page.keyboard.press('Tab');
  expect((await focus(page))?.name).toBe('button[Remove DNS names entry 3]');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('var-dns_names-2')).toHaveCount(0);
  await expect(page.getByTestId('var-dns_names-1')).toBeFocused();
  await auditTabOrder(page, 'issue');
  // A root signs an end entity only by the operator's override, asked again by main.
  await tabTo(page, 'root-ee-override');
  await page.keyboard.press('Space');
  await tabTo(page, 'review-issue');
  await app.screen('issue-tls');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('review-csr')).toContainText('CN=kb.example.com');
  await tabTo(page, 'confirm-witness');
  await page.keyboard.press('Space');
  await tabTo(page, 'sign');
  await page.keyboard.press('Enter');
  await expectHeadingFocused(page, 'Certificate signed');
  const leaf = (await page.getByTestId('saved-to').textContent())!;
  expect(opensslVerify(['-x509_strict', '-purpose', 'sslserver', '-CAfile', saved, leaf])).toContain(': OK');
  const san = execFileSync('openssl', ['x509', '-in', leaf, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
  for (const n of ['kb.example.com', 'www.kb.example.com', 'api.kb.example.com']) expect(san).toContain(`DNS:${n}`);

  // Closing the ceremony by keyboard too.
  await tabTo(page, 'end-ceremony');
  await page.keyboard.press('Enter');
  await expectHeadingFocused(page, 'Ceremony closed');
  await auditTabOrder(page, 'closed');
  await tabTo(page, 'back-to-start');
  await app.screen('closed');
  await page.keyboard.press('Enter');
  await expectHeadingFocused(page, 'What do you want to do?');
  expect(app.foreign).toEqual([]);
});

/**
 * The wizard as it is used in a ceremony room: on a laptop (1024×640) every screen's next step
 * and any progress line are in view without scrolling, at 200% zoom nothing runs off to the
 * side, and each screen is saved at the sizes a room sees (1024×640, 1280×800, 200%) so a
 * person can look at them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CDPSession, Locator, Page } from '@playwright/test';
import { test, expect, type App } from './fixtures';
import { chooseDirectory, confirmPreflightThroughUi, makeToken, openCeremonyThroughUi, openTokenThroughUi, opensslCsr, PEOPLE } from './helpers';
import { handlerCalls } from '../test/handler-calls';

const SO_PIN = 'room-so-pin-0123456789';
const USER_PIN = 'room-user-pin-0123456789';
const LABEL = 'room-layout';
const ARTIFACTS = resolve(__dirname, 'artifacts');
// The fixture's page size, given back after each look so the walk's own screenshots stay as they were.
const DEFAULT_VIEWPORT = { width: 1280, height: 900 };

const LAPTOP = { width: 1024, height: 640 };
const DESKTOP = { width: 1280, height: 800 };
// A 1280×800 window at 200% zoom: Chromium then lays the page out in 640×400 CSS pixels at two
// device pixels each, which is what this emulates (window.devicePixelRatio is 2, as when zoomed).
const ZOOMED = { width: 640, height: 400, scale: 2 };

/**
 * Lay the page out at a size. Playwright's own viewport first (its screenshots clip to it), then
 * the device scale factor through DevTools, since Playwright sets that only per context.
 */
async function resize(page: Page, cdp: CDPSession, size: { width: number; height: number; scale?: number }): Promise<void> {
  await page.setViewportSize({ width: size.width, height: size.height });
  if (size.scale && size.scale !== 1) {
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: size.width, height: size.height, deviceScaleFactor: size.scale, mobile: false });
  }
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  expect(await page.evaluate(() => [window.innerWidth, window.innerHeight, window.devicePixelRatio])).toEqual([size.width, size.height, size.scale ?? 1]);
}

/** Fully inside the viewport as it is at the top of the page, and not covered by anything else. */
async function expectInView(page: Page, what: Locator, name: string, size: { width: number; height: number }): Promise<void> {
  await expect(what, `${name} is shown`).toBeVisible();
  const box = await what.boundingBox();
  expect(box, `${name} has a box`).not.toBeNull();
  const b = box!;
  expect(b.y, `${name} top (${b.y}) in view`).toBeGreaterThanOrEqual(0);
  expect(b.y + b.height, `${name} bottom (${b.y + b.height}) in view at height ${size.height}`).toBeLessThanOrEqual(size.height);
  expect(b.x, `${name} left (${b.x}) in view`).toBeGreaterThanOrEqual(0);
  expect(b.x + b.width, `${name} right (${b.x + b.width}) in view at width ${size.width}`).toBeLessThanOrEqual(size.width);
  // In view is not enough if the journal drawer or a sticky bar lies over it.
  const onTop = await what.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === el || el.contains(hit));
  });
  expect(onTop, `${name} is not covered`).toBe(true);
}

interface Look {
  /** The screen's next step; by default the last button of its sticky action bar. */
  primary?: Locator;
  /** A call is held open while the screen is looked at: some progress line must be on show. */
  working?: boolean;
}

/** Whatever tells the room the app is busy: the status line under the action bar, or any other. */
const PROGRESS = '.busy:not(:empty), .progress, [role="progressbar"], .spinner';

function layoutChecker(app: App, cdp: CDPSession) {
  const { page } = app;
  const seen: string[] = [];
  return {
    seen,
    async look(screen: string, opts: Look = {}): Promise<void> {
      seen.push(screen);
      const primary = opts.primary ?? page.getByTestId('action-bar').last().getByRole('button').last();
      // The operator reads the screen as it arrives: from its top, whatever the walk scrolled to.
      const top = () => page.evaluate(() => window.scrollTo(0, 0));

      await resize(page, cdp, LAPTOP);
      await top();
      await expectInView(page, primary, `${screen}: primary action at 1024×640`, LAPTOP);
      // Every one on show, the status line and its spinner alike: none may sit below the fold.
      const lines = await page.locator(PROGRESS).filter({ visible: true }).all();
      if (opts.working) expect(lines.length, `${screen}: a progress line is shown while the call runs`).toBeGreaterThan(0);
      for (const [i, line] of lines.entries()) await expectInView(page, line, `${screen}: progress line ${i + 1} at 1024×640`, LAPTOP);
      // Viewport shots, not full-page ones: what the people in the room actually see.
      await page.screenshot({ path: join(ARTIFACTS, `room-${screen}-1024x640.png`) });

      await resize(page, cdp, DESKTOP);
      await top();
      await page.screenshot({ path: join(ARTIFACTS, `room-${screen}-1280x800.png`) });

      await resize(page, cdp, ZOOMED);
      await top();
      const widths = await page.evaluate(() => {
        const d = document.documentElement;
        // The widest elements name the culprit when the page does overflow.
        const wide = [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > d.clientWidth + 1)
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}[${e.getAttribute('data-testid') ?? ''}] right=${Math.round(e.getBoundingClientRect().right)}`);
        return { scroll: d.scrollWidth, client: d.clientWidth, wide };
      });
      expect(widths.scroll, `${screen}: no horizontal overflow at 200% (${widths.wide.join(', ')})`).toBeLessThanOrEqual(widths.client + 1);
      // Through DevTools, not page.screenshot: Playwright scales its shots to the context's device
      // pixels (1), and the zoomed window's are two per CSS pixel, 1280×800 in all.
      const shot = (await cdp.send('Page.captureScreenshot', { format: 'png' })) as { data: string };
      writeFileSync(join(ARTIFACTS, `room-${screen}-200pct.png`), Buffer.from(shot.data, 'base64'));
      // (Saved first, so a failing check below has its picture.)
      // The zoomed room reads the same screen: a sticky action bar's buttons stay whole in the
      // window (a bar of three or more buttons is not sticky there, by design: see styles.css).
      const bar = page.getByTestId('action-bar').last();
      if (await bar.count() && await bar.evaluate((el) => getComputedStyle(el).position === 'sticky')) {
        await expectInView(page, bar.getByRole('button').last(), `${screen}: the action bar's last button at 200%`, { width: 640, height: 400 });
      }
      // The header and the step line leave most of the zoomed window to the step (they took half of it).
      const head = await page.evaluate(() => (document.querySelector('.steps')?.getBoundingClientRect().bottom ?? document.querySelector('header.top')!.getBoundingClientRect().bottom) / window.innerHeight);
      expect(head, `${screen}: header and step line at 200% take ${Math.round(head * 100)} % of the window`).toBeLessThanOrEqual(0.3);

      await cdp.send('Emulation.clearDeviceMetricsOverride');
      await page.setViewportSize(DEFAULT_VIEWPORT);
    },
  };
}

/**
 * Hold one channel's calls until released, so a screen can be looked at while its progress line
 * is up; every other call goes straight to this worker's handler table.
 */
function holdChannel(app: App, channel: string): { release: () => void; held: Promise<void> } {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let arrived!: () => void;
  const held = new Promise<void>((r) => { arrived = r; });
  app.route(async (c, input) => {
    if (c === `qpki:${channel}`) {
      arrived();
      await gate;
    }
    return app.harness.invoke(c, input);
  });
  return { release: () => { release(); }, held };
}

test('every screen of a ceremony in view on a laptop, whole at 200% zoom', async ({ app }) => {
  const { page } = app;
  mkdirSync(ARTIFACTS, { recursive: true });
  const cdp = await page.context().newCDPSession(page);
  const room = layoutChecker(app, cdp);
  const busyLine = page.locator('.busy:not(:empty)');
  await makeToken(app, LABEL, SO_PIN, USER_PIN);

  await expect(page.getByTestId('start-ceremony')).toBeVisible();
  // The start screen has no action bar: its cards are the choices, the first one the ceremony.
  await room.look('start', { primary: page.getByTestId('start-ceremony') });

  // The token step's bar holds only Back: its next step is a token's own Use button. The first
  // token's, since this worker's store holds the tokens of every test before this one, in its order.
  const firstUse = page.locator('[data-testid^="use-token-"]').first();
  await openTokenThroughUi(app, LABEL, { visit: (s) => room.look(s, s === 'token' ? { primary: firstUse } : {}) });
  await room.look('pin');
  await page.getByTestId('pin').fill(USER_PIN);
  await page.getByTestId('login').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
  await room.look('key');

  // Key generation held open: the operator pressed Generate and waits, watching the progress line.
  await page.getByTestId('key-label').fill('room-key');
  const generating = holdChannel(app, 'generateKey');
  await page.getByTestId('generate-key').click();
  await generating.held;
  await expect(busyLine).toContainText('Generating the key inside the token');
  await room.look('key-generating', { working: true });
  generating.release();
  await expect(page.getByTestId('generated')).toContainText('Key generated: “room-key”');
  app.route(null);
  await room.look('key-generated');

  await page.getByTestId('key-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  await page.getByTestId('profile').selectOption('ec/root-ca');
  await page.getByTestId('var-cn').fill('Room Layout Root CA');
  await page.getByTestId('var-organization').fill('QPKI Test');
  await page.getByTestId('var-country').fill('FR');
  const dir = join(app.workDir, 'root');
  mkdirSync(dir);
  await chooseDirectory(app, 'choose-ca-dir', dir);
  await room.look('profile');

  await page.getByTestId('to-review').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review before signing');
  await page.getByTestId('confirm-cn').fill('Room Layout Root CA');
  await page.getByTestId('confirm-witness').check();
  await expect(page.getByTestId('sign')).toBeEnabled();
  await room.look('review');

  // Signing held open the same way: the witnesses watch the line while the token signs.
  const signing = holdChannel(app, 'sign');
  await page.getByTestId('sign').click();
  await signing.held;
  await expect(busyLine).toContainText('Signing with the CA key');
  await room.look('review-signing', { working: true });
  signing.release();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  app.route(null);
  await room.look('result');

  // The journal drawer over a laptop's window: its close button in view, nothing off to the side.
  // Its toggle shows only in a narrow window; the wide one has the journal beside the step.
  await resize(page, cdp, LAPTOP);
  await page.getByTestId('journal-toggle').click();
  const closeJournal = page.locator('#journal-drawer').getByRole('button', { name: 'Close', exact: true });
  await room.look('journal', { primary: closeJournal });
  await resize(page, cdp, LAPTOP);
  await closeJournal.click();
  await expect(page.getByTestId('journal-toggle')).toHaveAttribute('aria-expanded', 'false');
  await page.setViewportSize(DEFAULT_VIEWPORT);

  await page.getByTestId('next-sub-ca').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Issue a subordinate CA from a CSR');
  await page.getByTestId('profile').selectOption('ec/issuing-ca');
  await page.getByTestId('csr').fill(readFileSync(opensslCsr(app.workDir, 'room-issuing', 'prime256v1', '/CN=Room Layout Issuing CA'), 'utf8'));
  await expect(page.getByTestId('var-cn')).toHaveValue('Room Layout Issuing CA');
  await room.look('issue');

  // The subordinate's review: the request's own details as well make it the longest screen.
  await page.getByTestId('review-issue').click();
  await expect(page.getByTestId('review-csr')).toContainText('CN=Room Layout Issuing CA');
  await page.getByTestId('confirm-witness').check();
  await room.look('issue-review');
  await page.getByTestId('review-back').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Issue a subordinate CA from a CSR');

  await page.getByRole('button', { name: 'Back' }).click();
  await expect(page.getByTestId('ca-close-ceremony')).toBeVisible();
  await room.look('ca');

  await page.getByTestId('ca-close-ceremony').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ceremony closed');
  await room.look('closed');

  // The token-initialization flow: its form is the longest of the wizard's.
  await page.getByTestId('back-to-start').click();
  await openCeremonyThroughUi(app, { ...PEOPLE, purpose: 'Initialize a spare token' }, { card: 'start-init' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Which library reaches the token?');
  await room.look('init-storage');
  await page.getByTestId('storage-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Initialize a token');
  await room.look('init');

  // That ceremony ends unused: started over, its record closed.
  await page.getByTestId('home').click();
  await page.getByTestId('start-over-confirm').click();
  await page.getByTestId('back-to-start').click();
  await page.getByTestId('start-inspect').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Inspect a file');
  // The inspector has no action bar: its first step is the file to open.
  await room.look('inspect', { primary: page.getByTestId('drop') });

  expect(room.seen).toEqual([
    'start', 'ceremony', 'preflight', 'storage', 'token', 'pin', 'key', 'key-generating', 'key-generated',
    'profile', 'review', 'review-signing', 'result', 'journal', 'issue', 'issue-review', 'ca', 'closed', 'init-storage', 'init', 'inspect',
  ]);
  expect(app.foreign).toEqual([]);
});

/** A plan of every step the app walks, long enough that its list runs past a laptop's fold. */
const ROOM_PLAN = `version: 1
ceremony:
  id: ROOM-PLAN-2027
  purpose: Generate the Room Root CA 2027, its issuing CA, and their first CRL
  location: Secure room B
participants:
  - { name: Alice Martin, role: operator }
  - { name: Bruno Keller, role: witness }
  - { name: Chloe Dubois, role: internal-auditor }
steps:
  - { id: root-key, type: key, token: ca, label: room-plan-root, algorithm: ec-p384 }
  - { id: issuing-key, type: key, token: ca, label: room-plan-issuing, algorithm: ec-p384 }
  - id: root
    type: root
    key: root-key
    profile: br/ec/root-ca
    variables: { cn: Room Plan Root CA 2027, organization: Example Corp., country: FR }
    out: root-ca
  - id: issuing
    type: subordinate
    issuer: root
    key: issuing-key
    profile: br/ec/tls-issuing-ca
    variables: { cn: Room Plan Issuing CA 2027, organization: Example Corp., country: FR, crl_url: "http://crl.example.com/room-2027.crl", ca_issuers_url: "http://pki.example.com/room-2027.cer" }
    out: issuing-ca
  - { id: root-crl, type: crl, issuer: root, nextUpdateDays: 90, out: root-crl }
  - { id: issuing-crl, type: crl, issuer: issuing, nextUpdateDays: 7, out: issuing-crl }
`;

test('the plan and revocation screens in view on a laptop, whole at 200% zoom', async ({ app }) => {
  const { page, harness: h } = app;
  mkdirSync(ARTIFACTS, { recursive: true });
  const cdp = await page.context().newCDPSession(page);
  const room = layoutChecker(app, cdp);

  // The plan before it starts: its hash, people and every step, then Start in the action bar.
  h.answers.planFile = join(app.workDir, 'room-plan.yaml');
  writeFileSync(h.answers.planFile, ROOM_PLAN);
  await page.getByTestId('start-plan').click();
  await room.look('plan-open', { primary: page.getByTestId('plan-open') });
  await page.getByTestId('plan-open').click();
  await expect(page.getByTestId('plan-step-6')).toContainText('Step 6 of 6');
  await room.look('plan-review', { primary: page.getByTestId('plan-start') });
  // Started: the witness's clock check comes before the plan's list, not under it.
  await page.getByTestId('plan-start').click();
  await expect(page.getByTestId('preflight-confirm-button')).toBeVisible();
  await room.look('plan-preflight', { primary: page.getByTestId('preflight-confirm-button') });
  await confirmPreflightThroughUi(app, 'Bruno Keller');
  await expect(page.getByTestId('plan-current')).toContainText('Step 1 of 6');
  await room.look('plan-step', { primary: page.getByTestId('plan-do-step') });
  await page.getByTestId('plan-deviation').click();
  await page.getByTestId('plan-deviation-note').fill('Rehearsal: the room layout is checked, not the key.');
  await room.look('plan-deviation', { primary: page.getByTestId('plan-deviation-record') });
  await page.getByTestId('plan-deviation-record').click();
  await expect(page.getByTestId('plan-deviations')).toContainText('Rehearsal');
  await page.getByTestId('home').click();
  await page.getByTestId('start-over-confirm').click();
  await page.getByTestId('back-to-start').click();

  // Revocation: a CA with one subordinate, made in the ceremony the UI opens on an existing CA.
  await makeToken(app, 'room-revoke', SO_PIN, USER_PIN);
  await openCeremonyThroughUi(app, PEOPLE, { card: 'start-open-ca' });
  const { ok, root, openCa, issue } = handlerCalls(h);
  const slots = (await ok('listSlots')).slots as Array<{ token: { label: string; serial: string } | null }>;
  await ok('openToken', { serial: slots.find((s) => s.token?.label === 'room-revoke')!.token!.serial });
  await ok('login', { pin: USER_PIN });
  await ok('generateKey', { algorithm: 'ec-p384', label: 'room-revoke-root' });
  const dir = join(app.workDir, 'room-revoke-root');
  await root('ec/root-ca', { cn: 'Room Revoke Root' }, dir);
  await openCa(dir);
  for (const n of [1, 2, 3]) await issue('subordinate-ca', readFileSync(opensslCsr(app.workDir, `room-sub-${n}`, 'prime256v1', `/CN=Room Revoke Issuing ${n}`), 'utf8'), 'ec/issuing-ca', { cn: `Room Revoke Issuing ${n}` });
  await chooseDirectory(app, 'choose-open-dir', dir);
  await page.getByTestId('open-ca').click();
  await page.getByTestId('ca-revoke').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Revoke a certificate');
  await expect(page.getByTestId('revoke-list')).toContainText('CN=Room Revoke Issuing 3');
  await expect(page.getByTestId('revoke-list')).not.toContainText('/CN=');
  await expect(page.getByTestId('step-indicator')).toHaveText('Step 4 of 7: Revoke');
  await page.locator('[data-testid^="revoke-pick-"]').first().check();
  await page.getByTestId('revoke-reason-keyCompromise').check();
  await room.look('revoke', { primary: page.getByTestId('revoke-button') });

  // The software keystore's choice on the storage step: its algorithm list in words.
  await page.getByTestId('home').click();
  await page.getByTestId('start-over-confirm').click();
  await page.getByTestId('back-to-start').click();
  await openCeremonyThroughUi(app, { ...PEOPLE, purpose: 'A software-key rehearsal' });
  await page.getByTestId('kind-software').check();
  await expect(page.locator('#sw-alg option:checked')).toHaveText('ECDSA P-384 (ec-p384)');
  await room.look('storage-software');

  expect(room.seen).toEqual(['plan-open', 'plan-review', 'plan-preflight', 'plan-step', 'plan-deviation', 'revoke', 'storage-software']);
  expect(app.foreign).toEqual([]);
});

/**
 * Everything about the window's hardening that can be stated without importing `electron`,
 * so unit tests check the very values main.ts uses.
 */

/**
 * The renderer's Content-Security-Policy. No remote origin anywhere, no eval, no inline script;
 * `connect-src 'none'` makes every fetch/XHR/WebSocket from the page fail.
 * (frame-ancestors is ignored in a <meta> tag, so main also sends it as a header.)
 */
export const CSP_DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self' data:"],
  ['font-src', "'self'"],
  ['connect-src', "'none'"],
  ['media-src', "'none'"],
  ['object-src', "'none'"],
  ['frame-src', "'none'"],
  ['worker-src', "'none'"],
  ['manifest-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
];

export const CSP = CSP_DIRECTIVES.map(([k, v]) => `${k} ${v}`).join('; ');
/** The header form adds what only a header can carry. */
export const CSP_HEADER = `${CSP}; frame-ancestors 'none'`;

/** webPreferences and window options for the one BrowserWindow (typed loosely: no electron import). */
export function windowOptions(opts: { preloadPath: string; production: boolean }) {
  return {
    width: 1280,
    height: 900,
    minWidth: 900,
    minHeight: 640,
    show: false,
    backgroundColor: '#ffffff',
    title: 'QPKI Ceremony',
    autoHideMenuBar: true,
    webPreferences: {
      preload: opts.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !opts.production,
      experimentalFeatures: false,
      enableWebSQL: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      // A middle click on a link would ask for a new window; the window-open handler denies it
      // anyway, and without auxclick the page never sees the click either (Electronegativity's
      // AUXCLICK_JS_CHECK asks for this).
      disableBlinkFeatures: 'Auxclick',
    },
  } as const;
}

/**
 * True when `url` belongs to the app's own renderer: the origin of `appBaseUrl`, which is
 * app://qpki in the app (app-protocol.ts) and http://127.0.0.1:<port> under the e2e bridge. Used
 * for network filtering and the IPC sender check. A file:// URL is never the app any more.
 */
export function isAppUrl(url: string, appBaseUrl: string): boolean {
  let u: URL;
  let base: URL;
  try {
    u = new URL(url);
    base = new URL(appBaseUrl);
  } catch {
    return false;
  }
  if (u.protocol !== base.protocol) return false;
  if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin === base.origin;
  // For a scheme WHATWG does not know (app:), URL.origin is the string "null" for every URL, so
  // the parts are compared instead: the same host, and nothing else where the host is.
  if (u.protocol === 'app:') return u.host === base.host && u.host !== '' && u.username === '' && u.password === '' && u.port === '';
  return false;
}

/** Requests the session lets through: the app's own files, plus devtools in development builds. */
export function isAllowedRequest(url: string, appBaseUrl: string, production: boolean): boolean {
  if (isAppUrl(url, appBaseUrl)) return true;
  if (!production && url.startsWith('devtools://')) return true;
  return false;
}

/**
 * The IPC sender check: only the window's main frame, showing the app's own page, may call.
 * `senderFrame` is null when the frame navigated away or was destroyed.
 */
export function isTrustedSender(
  senderFrame: { url: string } | null | undefined,
  mainFrame: unknown,
  appBaseUrl: string,
): boolean {
  if (!senderFrame || senderFrame !== mainFrame) return false;
  return isAppUrl(senderFrame.url, appBaseUrl);
}

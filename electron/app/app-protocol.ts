/**
 * The renderer is served from `app://qpki/…`, a privileged scheme of the app's own, instead of
 * file://: a file:// page is one origin with every file on the disk, and Electron gives it
 * privileges beyond a browser's (the grantFileProtocolExtraPrivileges fuse, turned off in
 * electron-builder.yml). Under app://qpki the page is its own origin and can reach only what the
 * handler below chooses to answer: regular files inside the renderer folder, of known types.
 *
 * No `electron` import: main.ts registers the scheme and wraps `serveAppRequest` in a Response,
 * the e2e static server answers with the same function, and the unit tests call it directly.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { CSP_HEADER } from './window-config';

export const APP_SCHEME = 'app';
export const APP_HOST = 'qpki';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * For protocol.registerSchemesAsPrivileged. `standard` gives the scheme an origin and relative
 * URLs (the Vite build links its assets relatively); `secure` makes the page a secure context as
 * https would. Everything else stays off: the page fetches nothing (connect-src 'none'), registers
 * no service worker, and the CSP is never bypassed.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  bypassCSP: false,
  allowServiceWorkers: false,
  supportFetchAPI: false,
  corsEnabled: false,
  stream: false,
  codeCache: false,
} as const;

/** The only file types served; anything else is refused rather than sent as a guess. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface AppResponse {
  status: 200 | 400 | 404 | 405;
  headers: Record<string, string>;
  body: Buffer | null;
}

/** Sent with every answer, refusals included: the page's policy does not depend on the meta tag alone. */
const COMMON_HEADERS = {
  'Content-Security-Policy': CSP_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * The file inside `rendererDir` that an app URL path names, or why not. The URL parser has
 * already resolved "." and ".." segments; what is checked here is what it leaves:
 * percent-encoded separators and dot segments (%2F, %5C, %2E%2E: refused), NUL, empty segments, a
 * symbolic link leading out of the folder (the real path must stay inside the folder's real
 * path), directories, and unknown types.
 */
export function resolveRendererPath(pathname: string, rendererDir: string): { file: string; type: string } | { status: 400 | 404; reason: string } {
  if (!pathname.startsWith('/')) return { status: 400, reason: 'not an absolute path' };
  const segments: string[] = [];
  for (const raw of (pathname === '/' ? '/index.html' : pathname).slice(1).split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return { status: 400, reason: 'bad percent-encoding' };
    }
    if (seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) return { status: 400, reason: 'path segment not allowed' };
    if (seg === '') return { status: 404, reason: 'no directory listings' };
    segments.push(seg);
  }
  const type = MIME_TYPES[extname(segments[segments.length - 1]).toLowerCase()];
  if (!type) return { status: 404, reason: 'type not served' };
  let root: string;
  let file: string;
  try {
    root = realpathSync(rendererDir);
    file = realpathSync(join(root, ...segments));
  } catch {
    return { status: 404, reason: 'no such file' };
  }
  if (!file.startsWith(root + sep)) return { status: 404, reason: 'outside the renderer folder' };
  try {
    if (!statSync(file).isFile()) return { status: 404, reason: 'not a file' };
  } catch {
    return { status: 404, reason: 'no such file' };
  }
  return { file, type };
}

function refusal(status: 400 | 404 | 405, reason: string): AppResponse {
  return { status, headers: { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from(`${status}: ${reason}\n`) };
}

/** The answer to a request for `pathname` (already taken out of a URL of the app's origin). */
export function serveRendererPath(pathname: string, rendererDir: string, method = 'GET'): AppResponse {
  if (method !== 'GET' && method !== 'HEAD') return refusal(405, 'only GET');
  const r = resolveRendererPath(pathname, rendererDir);
  if ('status' in r) return refusal(r.status, r.reason);
  let body: Buffer;
  try {
    // The real path just checked is what is read (not the requested name, which a link could re-point).
    body = readFileSync(r.file);
  } catch {
    return refusal(404, 'no such file');
  }
  return { status: 200, headers: { ...COMMON_HEADERS, 'Content-Type': r.type }, body: method === 'HEAD' ? null : body };
}

/**
 * The path an app URL asks for, or null when the URL is not of the app's origin. URL is the
 * WHATWG parser, as Chromium's for a standard scheme: host and dot segments come out resolved.
 */
export function appRequestPath(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST || u.username !== '' || u.password !== '') return null;
  return u.pathname;
}

/** What main's protocol.handle answers for `url` (query and fragment are ignored). */
export function serveAppRequest(url: string, rendererDir: string, method = 'GET'): AppResponse {
  const path = appRequestPath(url);
  if (path === null) return refusal(404, 'not an app URL');
  return serveRendererPath(path, rendererDir, method);
}

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_INDEX_URL, APP_SCHEME_PRIVILEGES, appRequestPath, resolveRendererPath, serveAppRequest, serveRendererPath } from './app-protocol';
import { CSP_HEADER } from './window-config';

let top: string;
let dir: string;

before(() => {
  top = mkdtempSync(join(tmpdir(), 'qpki-app-proto-'));
  dir = join(top, 'renderer');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'assets', 'index-1.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'index-1.css'), 'body{}');
  writeFileSync(join(dir, 'assets', 'logo.svg'), '<svg/>');
  writeFileSync(join(dir, 'assets', 'notes.txt'), 'not a served type');
  writeFileSync(join(dir, 'renderer.js'), 'inside');
  // Outside the renderer folder: what traversal and links would reach.
  writeFileSync(join(top, 'secret.js'), 'SECRET');
  mkdirSync(join(top, 'renderer-other'));
  writeFileSync(join(top, 'renderer-other', 'x.js'), 'SIBLING');
  symlinkSync(join(top, 'secret.js'), join(dir, 'assets', 'link-out.js'));
  symlinkSync(top, join(dir, 'up'));
  symlinkSync(join(dir, 'renderer.js'), join(dir, 'assets', 'link-in.js'));
});
after(() => rmSync(top, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => serveAppRequest(url, dir, method);
const text = (r: { body: Buffer | null }) => r.body?.toString('utf8');

describe('app:// serves the renderer folder', () => {
  test('the index, at / and by name, and assets with their types', () => {
    for (const url of ['app://qpki/', APP_INDEX_URL, `${APP_INDEX_URL}?x=1#/step`]) {
      const r = get(url);
      assert.equal(r.status, 200, url);
      assert.equal(r.headers['Content-Type'], 'text/html; charset=utf-8');
      assert.equal(text(r), '<!doctype html><title>app</title>');
    }
    assert.equal(get('app://qpki/assets/index-1.js').headers['Content-Type'], 'text/javascript; charset=utf-8');
    assert.equal(get('app://qpki/assets/index-1.css').headers['Content-Type'], 'text/css; charset=utf-8');
    assert.equal(get('app://qpki/assets/logo.svg').headers['Content-Type'], 'image/svg+xml');
    assert.equal(get('app://qpki/ASSETS/../assets/index-1.js').status, 200, 'dot segments inside the folder resolve as a browser does');
  });

  test('a link that stays inside the folder is served', () => {
    const r = get('app://qpki/assets/link-in.js');
    assert.equal(r.status, 200);
    assert.equal(text(r), 'inside');
  });

  test('every answer, refusals too, carries the CSP header and nosniff', () => {
    for (const url of [APP_INDEX_URL, 'app://qpki/missing.js', 'app://evil/index.html', 'app://qpki/%zz.js']) {
      const r = get(url);
      assert.equal(r.headers['Content-Security-Policy'], CSP_HEADER, url);
      assert.equal(r.headers['X-Content-Type-Options'], 'nosniff', url);
    }
  });

  test('HEAD answers without a body; other methods are refused', () => {
    const head = get(APP_INDEX_URL, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(get(APP_INDEX_URL, 'POST').status, 405);
  });
});

describe('app:// refuses what is not a file of the renderer folder', () => {
  const refusedPaths: Array<[string, number]> = [
    // Traversal the URL parser does not resolve, because it is encoded.
    ['/%2e%2e/secret.js', 400],
    ['/assets/%2E%2E/%2e%2e/secret.js', 400],
    ['/assets%2f..%2f..%2fsecret.js', 400],
    ['/assets/..%5c..%5csecret.js', 400],
    ['/%2fetc%2fpasswd.js', 400],
    ['/index.html%00.js', 400],
    ['/%zz.js', 400],
    ['relative.js', 400],
    // Links leading out, the folder's sibling with the same prefix, directories and unknown types.
    ['/assets/link-out.js', 404],
    ['/up/secret.js', 404],
    ['/up/renderer-other/x.js', 404],
    ['/assets/', 404],
    ['/assets', 404],
    ['//index.html', 404],
    ['/assets/notes.txt', 404],
    ['/missing.js', 404],
  ];
  for (const [path, status] of refusedPaths) {
    test(`${path} → ${status}`, () => {
      const r = serveRendererPath(path, dir);
      assert.equal(r.status, status);
      assert.doesNotMatch(String(text(r)), /SECRET|SIBLING/);
    });
  }

  test('URL-level traversal ends inside the folder, never above it', () => {
    // The parser resolves these dot segments against the root, as Chromium does for a standard scheme.
    assert.equal(appRequestPath('app://qpki/../../secret.js'), '/secret.js');
    assert.equal(get('app://qpki/../../secret.js').status, 404);
    assert.equal(appRequestPath('app://qpki/assets/%2e%2e/%2e%2e/secret.js'), '/secret.js');
    assert.equal(get('app://qpki/assets/%2e%2e/%2e%2e/secret.js').status, 404);
    // A backslash is no separator for this scheme's parser: it reaches the check, which refuses it.
    assert.equal(get('app://qpki/assets\\..\\..\\secret.js').status, 400);
  });

  test('other origins of the scheme, and other schemes, are not answered', () => {
    for (const url of ['app://evil/index.html', 'app://user:pw@qpki/index.html', 'file:///etc/passwd', 'https://qpki/index.html', 'app:index.html', 'nonsense']) {
      assert.equal(appRequestPath(url), null, url);
      assert.equal(get(url).status, 404, url);
    }
  });

  test('a renderer folder that does not exist answers nothing', () => {
    assert.deepEqual(resolveRendererPath('/index.html', join(top, 'nope')), { status: 404, reason: 'no such file' });
  });
});

test('the scheme is standard and secure and bypasses nothing', () => {
  assert.equal(APP_SCHEME_PRIVILEGES.standard, true);
  assert.equal(APP_SCHEME_PRIVILEGES.secure, true);
  assert.equal(APP_SCHEME_PRIVILEGES.bypassCSP, false);
  assert.equal(APP_SCHEME_PRIVILEGES.allowServiceWorkers, false);
  assert.equal(APP_SCHEME_PRIVILEGES.supportFetchAPI, false);
});

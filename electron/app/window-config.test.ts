import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CSP, CSP_HEADER, isAllowedRequest, isAppUrl, isTrustedSender, windowOptions } from './window-config';

import { APP_INDEX_URL } from './app-protocol';

const APP = APP_INDEX_URL;

describe('window options', () => {
  test('production window is isolated, sandboxed, without node, devtools or spellcheck', () => {
    const w = windowOptions({ preloadPath: '/x/preload.cjs', production: true }).webPreferences;
    assert.equal(w.contextIsolation, true);
    assert.equal(w.sandbox, true);
    assert.equal(w.nodeIntegration, false);
    assert.equal(w.nodeIntegrationInWorker, false);
    assert.equal(w.nodeIntegrationInSubFrames, false);
    assert.equal(w.webSecurity, true);
    assert.equal(w.allowRunningInsecureContent, false);
    assert.equal(w.webviewTag, false);
    assert.equal(w.spellcheck, false);
    assert.equal(w.devTools, false);
    assert.equal(w.preload, '/x/preload.cjs');
    assert.equal(w.disableBlinkFeatures, 'Auxclick');
  });
  test('development builds may open devtools, nothing else changes', () => {
    const prod = windowOptions({ preloadPath: 'p', production: true }).webPreferences;
    const dev = windowOptions({ preloadPath: 'p', production: false }).webPreferences;
    assert.equal(dev.devTools, true);
    assert.deepEqual({ ...dev, devTools: false }, prod);
  });
});

describe('content security policy', () => {
  const directives = new Map(CSP.split(';').map((d) => { const [k, ...v] = d.trim().split(/\s+/); return [k, v.join(' ')]; }));
  test('defaults to none and names no remote origin', () => {
    assert.equal(directives.get('default-src'), "'none'");
    assert.doesNotMatch(CSP, /https?:|wss?:|\*/);
  });
  test('no eval and no inline script or style', () => {
    assert.doesNotMatch(CSP, /unsafe-eval|unsafe-inline|wasm-unsafe-eval|unsafe-hashes/);
    assert.equal(directives.get('script-src'), "'self'");
    assert.equal(directives.get('style-src'), "'self'");
  });
  test('the page can connect nowhere, embed nothing, post no form', () => {
    for (const k of ['connect-src', 'object-src', 'frame-src', 'worker-src', 'base-uri', 'form-action']) assert.equal(directives.get(k), "'none'", k);
  });
  test('the header adds frame-ancestors', () => {
    assert.ok(CSP_HEADER.startsWith(CSP));
    assert.match(CSP_HEADER, /frame-ancestors 'none'$/);
  });
});

describe('app URLs and network filter', () => {
  test('the app origin is the app, whatever the path', () => {
    assert.equal(APP, 'app://qpki/index.html');
    assert.equal(isAppUrl(APP, APP), true);
    assert.equal(isAppUrl('app://qpki/assets/index-1.js', APP), true);
    assert.equal(isAppUrl(APP + '#/x', APP), true);
    assert.equal(isAppUrl('app://qpki/../../etc/passwd', APP), true, 'still the app origin: what it may read is app-protocol.ts\'s decision');
  });
  test('other hosts of the scheme, credentials, ports, other schemes and file:// are not', () => {
    // URL.origin is "null" for every app: URL, so a comparison of origins would have let all of these through.
    for (const u of ['app://evil/index.html', 'app://qpki.evil/index.html', 'app://user@qpki/index.html', 'app://qpki:1/index.html', 'app:///index.html', 'app:qpki/index.html', 'other://qpki/index.html']) {
      assert.equal(isAppUrl(u, APP), false, u);
    }
    assert.equal(isAppUrl('file:///opt/qpki/resources/app.asar/dist/renderer/index.html', APP), false);
    assert.equal(isAppUrl('file:///etc/passwd', APP), false);
    assert.equal(isAppUrl('https://example.com/', APP), false);
    assert.equal(isAppUrl('not a url', APP), false);
    assert.equal(isAppUrl('file:///x/index.html', 'file:///x/index.html'), false, 'a file:// base is no app origin');
  });
  test('http origin apps compare origins', () => {
    assert.equal(isAppUrl('http://127.0.0.1:4000/assets/a.js', 'http://127.0.0.1:4000/index.html'), true);
    assert.equal(isAppUrl('http://127.0.0.1:4001/assets/a.js', 'http://127.0.0.1:4000/index.html'), false);
  });
  test('every remote request is cancelled; devtools only in development', () => {
    for (const u of ['https://example.com/', 'http://127.0.0.1/', 'ws://localhost/', 'data:text/html,x', 'blob:null/1']) {
      assert.equal(isAllowedRequest(u, APP, true), false, u);
      assert.equal(isAllowedRequest(u, APP, false), false, u);
    }
    assert.equal(isAllowedRequest('devtools://devtools/bundled/x.html', APP, false), true);
    assert.equal(isAllowedRequest('devtools://devtools/bundled/x.html', APP, true), false);
    assert.equal(isAllowedRequest(APP, APP, true), true);
    assert.equal(isAllowedRequest('app://qpki/assets/a.css', APP, true), true);
    assert.equal(isAllowedRequest('file:///etc/passwd', APP, false), false);
  });
});

describe('IPC sender check', () => {
  const main = { url: APP };
  test('the main frame on the app page is trusted', () => {
    assert.equal(isTrustedSender(main, main, APP), true);
  });
  test('a foreign frame is refused, even on an app URL', () => {
    const sub = { url: APP };
    assert.equal(isTrustedSender(sub, main, APP), false);
  });
  test('the main frame after navigating away is refused', () => {
    const navigated = { url: 'https://example.com/' };
    assert.equal(isTrustedSender(navigated, navigated, APP), false);
  });
  test('a frame of another host of the app scheme is refused', () => {
    const other = { url: 'app://evil/index.html' };
    assert.equal(isTrustedSender(other, other, APP), false);
  });
  test('a missing frame is refused', () => {
    assert.equal(isTrustedSender(null, main, APP), false);
    assert.equal(isTrustedSender(undefined, main, APP), false);
  });
});

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parsePemBlocks, pemOrDer, scanPemBlocks, toPem } from './pem';
import { pemDecodeAll } from '../keys/pkcs8';
import { QpkiError } from '../errors';

const pemInvalid = (message: RegExp) => (e: unknown) => e instanceof QpkiError && e.code === 'PEM_INVALID' && message.test(e.message);

/**
 * The expression the scanner replaced, its labels widened to RFC 7468's (a hyphen between label
 * characters, as in QPKI's "ML-DSA-65 PRIVATE KEY"): its matches are the specification, on texts
 * small enough for it.
 */
const LABEL = '[A-Z0-9 ](?:[A-Z0-9 ]|-(?=[A-Z0-9]))*';
const OLD_PEM_RE = new RegExp(`-----BEGIN (${LABEL})-----\\r?\\n([\\s\\S]*?)-----END (${LABEL})-----`, 'g');
function oracle(text: string) {
  return [...text.matchAll(OLD_PEM_RE)].map((m) => ({ label: m[1], endLabel: m[3], body: m[2] }));
}

/** A small deterministic generator (mulberry32), so a failure names a case that can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]);

describe('PEM scanner', () => {
  test('finds what the old expression found, on near-miss texts', () => {
    // Whole markers, so that many texts hold blocks (about 40 %, some several), and their parts, so that many almost do.
    const pieces = ['-----BEGIN A-----\n', '-----BEGIN X509 CRL-----\r\n', '-----END A-----', '-----END X509 CRL-----', '-----BEGIN ', '-----END ', '-----', '----', '-', 'A', 'X509 CRL', 'b', ' ', '\n', '\r', 'MIIB', '==', '/+'];
    const next = rng(20261203);
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const len = 1 + Math.floor(next() * 24);
      for (let i = 0; i < len; i++) text += pieces[Math.floor(next() * pieces.length)];
      assert.deepEqual(scanPemBlocks(text), oracle(text), `case ${n}: ${JSON.stringify(text)}`);
    }
  });

  test('chosen cases: nesting, CRLF, labels with spaces, text around blocks', () => {
    const cases = [
      '',
      'no pem here',
      '-----BEGIN A-----\n-----BEGIN B-----\nxx\n-----END B-----',
      '-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n',
      'junk\n-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n-----BEGIN A-----\nBB==\n-----END A-----tail',
      '-----BEGIN A-----x\n-----END A-----',
      '-----BEGIN a-----\nAAAA\n-----END a-----',
      '------BEGIN A-----\nAAAA\n-----END A------',
      '-----BEGIN A-----\nAAAA\n-----END -----\n-----END A-----',
      '-----BEGIN A -----\nAAAA\n-----END A -----',
    ];
    for (const t of cases) assert.deepEqual(scanPemBlocks(t), oracle(t), JSON.stringify(t));
  });
});

describe('PEM decoding', () => {
  test('toPem and back, LF and CRLF, several blocks in order', () => {
    const pem = toPem(der, 'CERTIFICATE');
    assert.deepEqual(parsePemBlocks(pem), [{ label: 'CERTIFICATE', der }]);
    assert.deepEqual(parsePemBlocks(pem.replace(/\n/g, '\r\n')), [{ label: 'CERTIFICATE', der }]);
    const two = parsePemBlocks(`intro\n${toPem(der, 'X509 CRL')}between\n${pem}`);
    assert.deepEqual(two.map((b) => b.label), ['X509 CRL', 'CERTIFICATE']);
    assert.deepEqual(pemOrDer(`${toPem(der, 'X509 CRL')}${pem}`, ['CERTIFICATE']), der);
  });

  test('mismatched labels, bad base64 and empty blocks are PEM_INVALID', () => {
    assert.throws(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----'), pemInvalid(/begins with "CERTIFICATE" but ends with "X509 CRL"/));
    assert.throws(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----'), pemInvalid(/"CERTIFICATE" PEM block is not valid base64/));
    assert.throws(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----'), pemInvalid(/not valid base64/));
    assert.throws(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----'), pemInvalid(/not valid base64/));
    // A nested BEGIN is body text, so the outer block is reported with the inner END.
    assert.throws(() => parsePemBlocks('-----BEGIN A-----\n-----BEGIN B-----\nAAAA\n-----END B-----'), pemInvalid(/begins with "A" but ends with "B"/));
    assert.throws(() => pemOrDer('-----BEGIN CERTIFICATE-----\nAAAA\n', ['CERTIFICATE']), pemInvalid(/no complete BEGIN\/END block/));
    assert.throws(() => pemOrDer(toPem(der, 'X509 CRL'), ['CERTIFICATE']), pemInvalid(/labelled CERTIFICATE, found X509 CRL/));
    assert.throws(() => pemOrDer('plain text', ['CERTIFICATE']), pemInvalid(/not PEM/));
    assert.deepEqual(pemOrDer(der, ['CERTIFICATE']), der);
  });

  test('the key file reader shares the scanner and keeps its own checks', () => {
    const key = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nMAMCAQU=\n-----END ENCRYPTED PRIVATE KEY-----\n';
    assert.deepEqual(pemDecodeAll(key), [{ label: 'ENCRYPTED PRIVATE KEY', headers: { 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,00' }, der }]);
    assert.throws(() => pemDecodeAll('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----'), pemInvalid(/"PRIVATE KEY" ends with "PUBLIC KEY"/));
    assert.throws(() => pemDecodeAll('-----BEGIN PRIVATE KEY-----\nA!AA\n-----END PRIVATE KEY-----'), pemInvalid(/malformed base64/));
  });
});

// The old expression took about 26 s on the first of these texts, blocking the main process (the
// IPC handlers parse pasted PEM there); the scan takes milliseconds. The timeout is a guard
// against a return of that hang, far above the scan's time so a slow machine never fails it —
// not a performance target (figures belong in `npm run bench`).
describe('hostile PEM texts finish', { timeout: 8_000 }, () => {
  const MB = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length));

  test('a megabyte of BEGIN lines and no END', () => {
    const text = fill('-----BEGIN CERTIFICATE-----\n');
    assert.deepEqual(parsePemBlocks(text), []);
    assert.deepEqual(pemDecodeAll(text), []);
    assert.throws(() => pemOrDer(text, ['CERTIFICATE']), pemInvalid(/no complete BEGIN\/END block/));
  });

  test('one BEGIN, then a megabyte of END markers that never close', () => {
    const text = '-----BEGIN CERTIFICATE-----\n' + fill('-----END CERTIFICATE----\n');
    assert.deepEqual(parsePemBlocks(text), []);
  });

  test('BEGIN markers without a line end, labels that never end, then one valid block', () => {
    const tail = toPem(der, 'CERTIFICATE');
    for (const unit of ['-----BEGIN CERTIFICATE-----', '-----BEGIN ' + 'A'.repeat(1000), '-----BEGIN A-----\r\r']) {
      assert.deepEqual(parsePemBlocks(fill(unit) + ' ' + tail), [{ label: 'CERTIFICATE', der }], JSON.stringify(unit.slice(0, 30)));
    }
  });

  test('a megabyte of BEGIN lines closed by one END is one block, refused', () => {
    const text = fill('-----BEGIN CERTIFICATE-----\n') + '-----END CERTIFICATE-----\n';
    assert.throws(() => parsePemBlocks(text), pemInvalid(/not valid base64/));
  });
});

/**
 * `ca info` reads a CA certificate's subject and end of validity with the app's own DER reader
 * (view.ts plainCertSummary) and takes the ASN.1 schema parse (certFacts) only for forms that
 * reader leaves to it. Both must say the same of every certificate: here for every certificate
 * in x509-limbo and for names built to sit on each edge (escaping, several values in one RDN,
 * non-ASCII and BOM-led UTF-8, invalid UTF-8, the string types left to the full parse, both
 * time types).
 */
import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa } from './authority';
import { certFacts } from './certFacts';
import { caCertSummary, plainCertSummary } from './view';
import { loadProfile } from '../profiles/index';
import { children, encodeTlv, oidContent, slice, whole } from '../x509/der';
import { pemOrDer } from '../x509/pem';

const LIMBO = process.env.QPKI_LIMBO ?? join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'x509-limbo', 'limbo.json');

function full(der: Uint8Array): { subject: string; notAfter: number } {
  const f = certFacts(der);
  return { subject: f.subject, notAfter: f.notAfter.getTime() };
}

/** A CA certificate made here (software key), to rebuild with other subjects and times. */
async function baseCertificate(): Promise<{ der: Uint8Array; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'qpki-summary-'));
  const dir = join(root, 'ca');
  await initCa({ dir, profile: loadProfile('ec/root-ca'), vars: { cn: 'Summary CA' }, key: { kind: 'software', passphrase: null } });
  return { der: pemOrDer(readFileSync(join(dir, 'ca.crt'), 'utf8'), ['CERTIFICATE']), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The certificate with another subject and, when given, another notAfter (the signature no longer matches; neither reader checks it). */
function rebuilt(der: Uint8Array, subject: Uint8Array, notAfter?: Uint8Array): Uint8Array {
  const [tbsT, algT, sigT] = children(der, whole(der));
  const f = children(der, tbsT);
  const i = f[0].tag === 0xa0 ? 1 : 0;
  const parts = f.map((t) => slice(der, t));
  if (notAfter) parts[i + 3] = encodeTlv(0x30, [slice(der, children(der, f[i + 3])[0]), notAfter]);
  parts[i + 4] = subject;
  return encodeTlv(0x30, [encodeTlv(0x30, parts), slice(der, algT), slice(der, sigT)]);
}

const bytes = (s: string) => new TextEncoder().encode(s);
const atv = (oid: string, tag: number, value: Uint8Array) => encodeTlv(0x30, [encodeTlv(0x06, [oidContent(oid)]), encodeTlv(tag, [value])]);
const nameOf = (...rdns: Uint8Array[][]) => encodeTlv(0x30, rdns.map((r) => encodeTlv(0x31, r)));
const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const C = '2.5.4.6';
const E = '1.2.840.113549.1.9.1';

test('the plain reader and the full parse give the same subject and notAfter, and the plain one reads the usual names itself', async () => {
  const { der, cleanup } = await baseCertificate();
  try {
    const bmp = (s: string) => new Uint8Array([...s].flatMap((ch) => [ch.charCodeAt(0) >> 8, ch.charCodeAt(0) & 0xff]));
    const cases: { what: string; subject: Uint8Array; notAfter?: Uint8Array; plain: boolean }[] = [
      { what: 'the CA as made', subject: nameOf([atv(CN, 0x0c, bytes('Summary CA'))]), plain: true },
      {
        what: 'RFC 4514 escapes, an unknown attribute, IA5 e-mail',
        subject: nameOf([atv(C, 0x13, bytes('DE'))], [atv(O, 0x0c, bytes('Acme, "Root" + <CA>; \\ok'))], [atv('1.3.6.1.4.1.99999.1', 0x0c, bytes('#lead and trail '))], [atv(E, 0x16, bytes('ca@example.com'))]),
        plain: true,
      },
      { what: 'several values in one RDN', subject: nameOf([atv(CN, 0x0c, bytes('Multi')), atv(OU, 0x13, bytes('Ops'))]), plain: true },
      { what: 'non-ASCII UTF-8', subject: nameOf([atv(CN, 0x0c, bytes('Zürich 東京 😀 CA'))]), plain: true },
      { what: 'UTF-8 led by a byte order mark', subject: nameOf([atv(CN, 0x0c, new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('BOM CA')]))]), plain: true },
      { what: 'an empty name', subject: encodeTlv(0x30, []), plain: true },
      { what: 'GeneralizedTime notAfter', subject: nameOf([atv(CN, 0x0c, bytes('Late CA'))]), notAfter: encodeTlv(0x18, [bytes('20991231235959Z')]), plain: true },
      { what: 'UTCTime notAfter in the 1900s', subject: nameOf([atv(CN, 0x0c, bytes('Old CA'))]), notAfter: encodeTlv(0x17, [bytes('991231235959Z')]), plain: true },
      // Left to the full parse: its text is what the ASN.1 libraries make of these.
      { what: 'invalid UTF-8', subject: nameOf([atv(CN, 0x0c, new Uint8Array([0x41, 0xc3, 0x28, 0x42]))]), plain: false },
      { what: 'BMPString', subject: nameOf([atv(CN, 0x1e, bmp('BMP CA'))]), plain: false },
      { what: 'TeletexString', subject: nameOf([atv(CN, 0x14, new Uint8Array([0x54, 0xe9, 0x6c]))]), plain: false },
      { what: 'VisibleString', subject: nameOf([atv(CN, 0x1a, bytes('Visible CA'))]), plain: false },
      { what: 'NumericString', subject: nameOf([atv('2.5.4.5', 0x12, bytes('12345'))]), plain: false },
      { what: 'UniversalString', subject: nameOf([atv(CN, 0x1c, new Uint8Array([0, 0, 0, 0x55, 0, 1, 0xf6, 0x00]))]), plain: false },
      { what: 'UTCTime without seconds', subject: nameOf([atv(CN, 0x0c, bytes('Short CA'))]), notAfter: encodeTlv(0x17, [bytes('4912312359Z')]), plain: false },
    ];
    for (const c of cases) {
      const cert = rebuilt(der, c.subject, c.notAfter);
      const expected = full(cert);
      const plain = plainCertSummary(cert);
      assert.equal(plain !== undefined, c.plain, `${c.what}: read by the plain reader? ${plain !== undefined}`);
      if (plain) assert.deepEqual(plain, expected, c.what);
      assert.deepEqual(caCertSummary(cert), expected, c.what);
    }
    // The cases above do reach both kinds of text: the escaped one, and the full parse's hex of a VisibleString.
    assert.match(caCertSummary(rebuilt(der, cases[1].subject)).subject, /O=Acme\\, \\"Root\\" \\\+ \\<CA\\>\\; \\\\ok/);
    assert.match(caCertSummary(rebuilt(der, cases[11].subject)).subject, /^CN=[0-9a-f]+$/);
  } finally {
    cleanup();
  }
});

test('x509-limbo: every certificate reads the same through the plain reader as through the full parse', (t) => {
  if (!existsSync(LIMBO)) {
    t.skip(`x509-limbo is not at ${LIMBO} (../shared/fixtures); set QPKI_LIMBO`);
    return;
  }
  const doc = JSON.parse(readFileSync(LIMBO, 'utf8')) as { testcases: { trusted_certs: string[]; untrusted_intermediates: string[]; peer_certificate: string }[] };
  const pems = new Set(doc.testcases.flatMap((c) => [...c.trusted_certs, ...c.untrusted_intermediates, c.peer_certificate]));
  let plain = 0;
  let compared = 0;
  for (const pem of pems) {
    const der = pemOrDer(pem, ['CERTIFICATE']);
    let expected;
    try {
      expected = full(der);
    } catch {
      continue; // not a certificate the full parse reads: nothing to compare
    }
    compared++;
    const p = plainCertSummary(der);
    if (p) {
      plain++;
      assert.deepEqual(p, expected, pem);
    }
    assert.deepEqual(caCertSummary(der), expected, pem);
  }
  t.diagnostic(`${compared} certificates compared, ${plain} read by the plain reader`);
  assert.ok(compared > 400, `only ${compared} certificates compared`);
  assert.ok(plain > compared * 0.9, `the plain reader read only ${plain} of ${compared}`);
});

test('reading a CA directory (describeCaDir, what ca info runs) loads none of the ASN.1 schema libraries', async () => {
  const root = mkdtempSync(join(tmpdir(), 'qpki-summary-'));
  try {
    const dir = join(root, 'ca');
    await initCa({ dir, profile: loadProfile('ec/root-ca'), vars: { cn: 'Loader CA' }, key: { kind: 'software', passphrase: null } });
    // A fresh process, so what this test file loaded does not count.
    const probe = (fn: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', [
        `const v = require(${JSON.stringify(join(__dirname, 'view.ts'))});`,
        `const d = v.${fn}(${JSON.stringify(dir)});`,
        "process.stdout.write(JSON.stringify({ subject: d.subject, peculiar: Object.keys(require.cache).filter((f) => f.includes('@peculiar')).length }));",
      ].join('\n')], { encoding: 'utf8', timeout: 60_000 });
    const r = probe('describeCaDir');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { subject: string; peculiar: number };
    assert.equal(out.subject, 'CN=Loader CA');
    assert.equal(out.peculiar, 0, 'an @peculiar module was loaded');
    // The probe would see them: the full parse loads them.
    const seen = spawnSync(process.execPath, ['--import', 'tsx', '-e', [
      `require(${JSON.stringify(join(__dirname, 'certFacts.ts'))});`,
      "process.stdout.write(String(Object.keys(require.cache).filter((f) => f.includes('@peculiar')).length));",
    ].join('\n')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(seen.status, 0, seen.stderr);
    assert.ok(Number(seen.stdout) > 0, 'the probe sees no @peculiar module even where one is loaded');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

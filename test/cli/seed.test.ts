/**
 * The reference design's two commands, verbatim, on a real SoftHSM2 token; then a three-level
 * chain (root → issuing CA → TLS server) checked by openssl, GnuTLS and python cryptography,
 * revocation and a CRL, and the read-only commands over the result. One CA for the whole file:
 * every test after `before` only reads it or adds to it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, firstPem, makeLab, ok, pemToDer, PIN_ENV, sh, SOFTHSM_LIB, tokenArgs, USER_PIN, wrotePaths, type Lab } from './helpers';
import { pythonCertFacts, pythonCrlFacts } from './independent';

let lab: Lab;
let rootOut: string;
let rootErr: string;
let enrollOut: string;
let leafPath: string;
let leafSerial: string;
let seedLeafSerial: string;

describe('qpki seed commands and the chain they build', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab('CA Token', USER_PIN);
    // Verbatim from the reference design (only the PIN's value differs).
    const root = lab.run(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', '/usr/lib/softhsm/libsofthsm2.so', '--pkcs11-token', 'CA Token', '--pkcs11-pin', USER_PIN, '--pkcs11-key-label', 'ca-key', '--var', 'cn=My Root CA', '--dir', './hsm-ca']);
    rootOut = ok(root);
    rootErr = root.stderr;
    const enroll = lab.run(['credential', 'enroll', '--ca-dir', './hsm-ca', '--profile', 'ec/tls-server', '--var', 'cn=server.example.com', '--pkcs11-pin', USER_PIN]);
    enrollOut = ok(enroll);
    seedLeafSerial = /serial:\s+([0-9a-f]+)/.exec(enrollOut)![1];

    // Issuing CA under the root, its key in the same token.
    ok(lab.run(['ca', 'init', '--profile', 'ec/issuing-ca', '--parent', './hsm-ca', ...tokenArgs(), '--pkcs11-key-label', 'issuing-key', '--var', 'cn=Issuing CA', '--var', 'organization=ACME, Inc.', '--dir', './issuing'], PIN_ENV));
    const leaf = ok(lab.run(['credential', 'enroll', '--ca-dir', './issuing', '--profile', 'ec/tls-server', '--var', 'cn=www.example.com', '--var', 'dns_names=api.example.com', '--cred-dir', './creds', ...tokenArgs()], PIN_ENV));
    leafPath = wrotePaths(leaf).find((p) => p.endsWith('cert.pem'))!;
    leafSerial = /serial:\s+([0-9a-f]+)/.exec(leaf)![1];
  });
  after(() => lab?.cleanup());

  test('ca init (seed form) creates the CA with its key in the token and warns about the PIN on the command line', () => {
    assert.match(rootOut, /CA created in .*hsm-ca/);
    assert.match(rootOut, /in token "CA Token".*label "ca-key"/);
    assert.match(rootOut, /test signature verified: yes/);
    assert.match(rootErr, /warning: a token PIN given with --pkcs11-pin is visible to other processes/);
    for (const f of ['ca.crt', 'ca.meta.json', 'index.txt', 'serial', 'journal.jsonl']) assert.ok(existsSync(lab.path('hsm-ca', f)), f);
    const meta = readFileSync(lab.path('hsm-ca', 'ca.meta.json'), 'utf8');
    assert.ok(!meta.includes(USER_PIN));
  });

  test('credential enroll (seed form) issues server.example.com from the token-held CA', () => {
    assert.match(enrollOut, /Credential issued: CN=server\.example\.com/);
    const paths = wrotePaths(enrollOut);
    assert.equal(paths.length, 3, enrollOut);
    for (const p of paths) assert.ok(existsSync(p), p);
    const cert = paths.find((p) => p.endsWith('cert.pem'))!;
    const v = sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('hsm-ca', 'ca.crt'), cert]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
  });

  test('openssl verify -x509_strict: root → issuing CA → leaf', () => {
    const v = sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('hsm-ca', 'ca.crt'), '-untrusted', lab.path('issuing', 'ca.crt'), leafPath]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    assert.match(v.stdout, /: OK/);
    // And the chain does not verify without the issuing CA (the check can fail).
    const bad = sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('hsm-ca', 'ca.crt'), leafPath]);
    assert.notEqual(bad.code, 0);
  });

  test('GnuTLS certtool --verify-chain accepts leaf, issuing CA, root', () => {
    const chain = join(lab.dir, 'certtool-chain.pem');
    writeFileSync(chain, firstPem(readFileSync(leafPath, 'utf8')) + readFileSync(lab.path('issuing', 'ca.crt'), 'utf8') + readFileSync(lab.path('hsm-ca', 'ca.crt'), 'utf8'));
    const v = sh('certtool', ['--verify-chain', '--infile', chain]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /Chain verification output: Verified/);
  });

  test('python cryptography: strict DER, issued-by links, 16-byte positive serials, SKI/AKI, exact validity, no keyEncipherment on EC', () => {
    const facts = pythonCertFacts([leafPath, lab.path('issuing', 'ca.crt'), lab.path('hsm-ca', 'ca.crt')]);
    const [leaf, issuing, root] = facts;
    assert.equal(leaf.verifiedBy, 'CN=Issuing CA,O=ACME\\, Inc.');
    assert.equal(issuing.verifiedBy, 'CN=My Root CA');
    assert.equal(root.verifiedBy, 'CN=My Root CA');
    for (const f of facts) {
      assert.ok(f.serial > 0, `${f.path}: serial positive`);
      assert.equal(f.serialBytes, 16, `${f.path}: serial is 16 bytes`);
      assert.ok(f.ski, `${f.path}: SKI`);
      assert.ok(f.aki, `${f.path}: AKI`);
      assert.equal(f.ec, true);
      assert.notEqual(f.keyEncipherment, true, `${f.path}: EC key never carries keyEncipherment`);
    }
    assert.equal(leaf.aki, issuing.ski);
    assert.equal(issuing.aki, root.ski);
    assert.equal(root.days, 7300);
    assert.equal(issuing.days, 3650);
    assert.equal(leaf.days, 365);
    // "ACME, Inc." stays one O value, comma included.
    assert.deepEqual(issuing.o, ['ACME, Inc.']);
  });

  test('pkcs11-tool reads the CA key back as sensitive, never extractable, sign only', () => {
    const r = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '-O', '--type', 'privkey'], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    const blocks = r.stdout.split(/(?=Private Key Object)/);
    for (const label of ['ca-key', 'issuing-key']) {
      const b = blocks.find((x) => new RegExp(`label:\\s+${label}\\s*$`, 'm').test(x));
      assert.ok(b, `${label} listed:\n${r.stdout}`);
      assert.match(b, /Usage:\s+sign\s*$/m, `${label}: usage sign only`);
      const access = /Access:\s+(.*)$/m.exec(b)![1];
      assert.match(access, /\bsensitive\b/);
      assert.match(access, /never extractable/);
      assert.doesNotMatch(access.replace('never extractable', ''), /extractable/);
    }
  });

  test('ca info, ca export --out, ca check, journal verify and show', () => {
    const info = ok(lab.run(['ca', 'info', '--dir', './issuing']));
    assert.match(info, /subject:\s+CN=Issuing CA, O=ACME\\, Inc\./);
    assert.match(info, /token "CA Token".*label "issuing-key"/);
    assert.match(info, /issued:\s+1 certificate/);
    const infoJson = JSON.parse(ok(lab.run(['--json', 'ca', 'info', '--ca-dir', './hsm-ca'])));
    assert.equal(infoJson.issued, 2); // the seed leaf and the issuing CA

    const exp = lab.run(['ca', 'export', '--dir', './hsm-ca', '--out', './root-export.pem']);
    ok(exp);
    assert.equal(readFileSync(lab.path('root-export.pem'), 'utf8'), readFileSync(lab.path('hsm-ca', 'ca.crt'), 'utf8'));
    const again = lab.run(['ca', 'export', '--dir', './hsm-ca', '--out', './root-export.pem']);
    assert.equal(again.code, 1);
    assert.equal(errorLine(again).code, 'OUTPUT_EXISTS');
    const chain = ok(lab.run(['ca', 'export', '--dir', './issuing', '--bundle', 'chain']));
    assert.equal((chain.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);

    assert.match(ok(lab.run(['ca', 'check', '--dir', './hsm-ca'])), /CA directory consistent: 2 certificate/);
    const jv = ok(lab.run(['journal', 'verify', '--ca-dir', './hsm-ca']));
    assert.match(jv, /journal intact: \d+ entries, last hash ([0-9a-f]{4} ){15}[0-9a-f]{4}/);
    const js = ok(lab.run(['journal', 'show', '--ca-dir', './hsm-ca']));
    assert.match(js, /key\.generated/);
    assert.match(js, /server\.example\.com/);
  });

  test('cert revoke --reason, crl gen --days N: CRL checked by openssl and python', () => {
    const rv = ok(lab.run(['cert', 'revoke', leafSerial, '--reason', 'keyCompromise', '--ca-dir', './issuing']));
    assert.match(rv, new RegExp(`Certificate ${leafSerial} revoked \\(keyCompromise\\)`));
    const twice = lab.run(['cert', 'revoke', leafSerial, '--ca-dir', './issuing']);
    assert.equal(errorLine(twice).code, 'ALREADY_REVOKED');
    const unknown = lab.run(['cert', 'revoke', '00112233445566778899AABBCCDDEEFF', '--ca-dir', './issuing']);
    assert.equal(errorLine(unknown).code, 'SERIAL_NOT_FOUND');
    const badReason = lab.run(['cert', 'revoke', leafSerial, '--reason', 'becauseIsaidSo', '--ca-dir', './issuing']);
    assert.equal(badReason.code, 2, 'an invalid choice is a usage error');

    const gen = ok(lab.run(['crl', 'gen', '--days', '30', '--ca-dir', './issuing', ...tokenArgs()], PIN_ENV));
    assert.match(gen, /CRL #\d+ signed: 1 revoked certificate/);
    const crlPem = lab.path('issuing', 'crl', 'ca.crl');
    const v = sh('openssl', ['crl', '-in', crlPem, '-noout', '-verify', '-CAfile', lab.path('issuing', 'ca.crt')]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr + v.stdout, /verify OK/);
    const facts = pythonCrlFacts(crlPem, lab.path('issuing', 'ca.crt'));
    assert.equal(facts.valid, true);
    assert.deepEqual(facts.revoked.map((s: string) => s.toLowerCase()), [leafSerial.replace(/^0+/, '')]);
    assert.deepEqual(facts.reasons, ['key_compromise']);
    assert.equal(facts.hours, 30 * 24);
    // The revoked leaf now fails openssl's CRL check; the other one of the root does not.
    const crlCheck = sh('openssl', ['verify', '-crl_check', '-CAfile', lab.path('hsm-ca', 'ca.crt'), '-untrusted', lab.path('issuing', 'ca.crt'), '-CRLfile', crlPem, leafPath]);
    assert.notEqual(crlCheck.code, 0);
    assert.match(crlCheck.stdout + crlCheck.stderr, /certificate revoked/);
    const bad = lab.run(['crl', 'gen', '--days', 'soon', '--ca-dir', './issuing', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(bad).code, 'INPUT_INVALID');
    assert.ok(seedLeafSerial);
  });

  test('cert show: certificate, CSR and CRL, PEM and DER, with the SHA-256 fingerprint', () => {
    const der = (src: string, name: string) => {
      const p = join(lab.dir, name);
      writeFileSync(p, pemToDer(firstPem(readFileSync(src, 'utf8'))));
      return p;
    };
    const csrPem = lab.path('req.csr');
    const g = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', lab.path('req.key'), '-subj', '/CN=show.example', '-out', csrPem]);
    assert.equal(g.code, 0, g.stderr);
    const crlPem = lab.path('hsm-ca', 'crl', 'ca.crl');
    ok(lab.run(['crl', 'gen', '--ca-dir', './hsm-ca', ...tokenArgs()], PIN_ENV));
    const cases: { pem: string; derName: string; kind: RegExp; tool: string; issuer?: string }[] = [
      { pem: leafPath, derName: 'leaf.der', kind: /^Certificate$/m, tool: 'x509', issuer: lab.path('issuing', 'ca.crt') },
      { pem: csrPem, derName: 'req.der', kind: /^Certificate request$/m, tool: 'req' },
      { pem: crlPem, derName: 'crl.der', kind: /^CRL$/m, tool: 'crl', issuer: lab.path('hsm-ca', 'ca.crt') },
    ];
    for (const c of cases) {
      // The fingerprint as openssl computes it over the DER, in the one hash format (groups of 4) qpki prints.
      const hex = sh('sh', ['-c', `openssl ${c.tool} -in "$1" -outform DER | sha256sum`, 'sh', c.pem]).stdout.split(' ')[0];
      assert.match(hex, /^[0-9a-f]{64}$/);
      const expected = hex.match(/.{4}/g)!.join(' ');
      for (const file of [c.pem, der(c.pem, c.derName)]) {
        const out = ok(lab.run(['cert', 'show', file, ...(c.issuer ? ['--issuer', c.issuer] : [])]));
        assert.match(out, c.kind, file);
        assert.ok(out.includes(`SHA-256 fingerprint: ${expected}`), `${file}: fingerprint ${expected}\n${out}`);
        assert.match(out, /signature \([a-z0-9-]+\): VALID/, out);
      }
    }
    // A certificate shown against the wrong issuer is reported INVALID and exits 1.
    const wrong = lab.run(['cert', 'show', leafPath, '--issuer', lab.path('hsm-ca', 'ca.crt')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /INVALID/);
    const garbage = lab.path('garbage.bin');
    writeFileSync(garbage, 'not a certificate');
    const g2 = lab.run(['cert', 'show', garbage]);
    assert.equal(g2.code, 1);
    errorLine(g2);
    assert.ok(statSync(garbage).size > 0);
  });
  test('journal verify and ca check exit 1 on an edited journal (checked on a copy of the CA)', () => {
    const copy = lab.path('tampered-ca');
    cpSync(lab.path('hsm-ca'), copy, { recursive: true });
    const jpath = join(copy, 'journal.jsonl');
    const lines = readFileSync(jpath, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('server.example.com'));
    assert.ok(i > 0);
    lines[i] = lines[i].replace('server.example.com', 'server.example.org');
    writeFileSync(jpath, lines.join('\n'));
    const v = lab.run(['journal', 'verify', '--ca-dir', copy]);
    assert.equal(v.code, 1);
    assert.match(v.stdout, new RegExp(`journal BROKEN at entry ${i + 1}`));
    const c = lab.run(['ca', 'check', '--dir', copy]);
    assert.equal(c.code, 1);
    assert.match(c.stdout, /problems/);
    // The original is still intact.
    assert.match(ok(lab.run(['journal', 'verify', '--ca-dir', './hsm-ca'])), /journal intact/);
  });
});

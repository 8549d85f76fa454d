/**
 * The external-parent flow: `ca csr` makes a key in the token and a CSR; another CA issues it
 * with `cert issue`, whose profile (not the CSR) decides the extensions; a CSR whose signature
 * does not verify is refused and journaled, and nothing is issued.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ensureCliBuilt, errorLine, makeLab, ok, pemToDer, PIN_ENV, sh, tokenArgs, treeHash, type Lab } from './helpers';
import { pythonCertFacts } from './independent';

const OID_SAN = '2.5.29.17';
const OID_EKU = '2.5.29.37';

let lab: Lab;

describe('qpki ca csr and cert issue', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'root', '--var', 'cn=CSR Root', '--dir', 'root'], PIN_ENV));
  });
  after(() => lab?.cleanup());

  test('ca csr makes a token key and a CSR openssl verifies; cert issue from it verifies under the root', () => {
    const out = ok(lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs(), '--pkcs11-key-label', 'ext-sub', '--var', 'cn=External Sub', '--out', 'ext-sub.csr'], PIN_ENV));
    assert.match(out, /CSR written to ext-sub\.csr/);
    assert.match(out, /key in token: "ext-sub"/);
    const v = sh('openssl', ['req', '-in', lab.path('ext-sub.csr'), '-verify', '-noout']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr + v.stdout, /verify OK/i);
    const issued = ok(lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', 'ext-sub.csr', '--profile', 'ec/issuing-ca', '--out', 'ext-sub.crt', ...tokenArgs()], PIN_ENV));
    assert.match(issued, /issued to CN=External Sub/);
    const [sub] = pythonCertFacts([lab.path('ext-sub.crt'), lab.path('root', 'ca.crt')]);
    assert.equal(sub.verifiedBy, 'CN=CSR Root');
    assert.equal(sub.days, 3650);
    // Same key as in the CSR.
    const spki = (f: string, tool: string) => sh('sh', ['-c', `openssl ${tool} -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`, 'sh', f]).stdout;
    assert.equal(spki(lab.path('ext-sub.crt'), 'x509'), spki(lab.path('ext-sub.csr'), 'req'));
    // The output is never overwritten.
    const again = lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', 'ext-sub.csr', '--profile', 'ec/issuing-ca', '--out', 'ext-sub.crt', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(again).code, 'OUTPUT_EXISTS');
  });

  test('the profile decides the extensions: an extension requested in the CSR but not in the profile is absent', () => {
    const g = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', lab.path('greedy.key'), '-subj', '/CN=Greedy Sub', '-addext', 'subjectAltName=DNS:evil.example', '-addext', 'extendedKeyUsage=codeSigning', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:5', '-out', lab.path('greedy.csr')]);
    assert.equal(g.code, 0, g.stderr);
    // The request really asks for them (so their absence below means something).
    assert.match(sh('openssl', ['req', '-in', lab.path('greedy.csr'), '-noout', '-text']).stdout, /evil\.example[\s\S]*Code Signing|Code Signing[\s\S]*evil\.example/);
    ok(lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', 'greedy.csr', '--profile', 'ec/issuing-ca', '--out', 'greedy.crt', ...tokenArgs()], PIN_ENV));
    const [c] = pythonCertFacts([lab.path('greedy.crt'), lab.path('root', 'ca.crt')]);
    assert.ok(!c.exts.includes(OID_SAN), `no subjectAltName: ${c.exts}`);
    assert.ok(!c.exts.includes(OID_EKU), `no extendedKeyUsage: ${c.exts}`);
    const text = sh('openssl', ['x509', '-in', lab.path('greedy.crt'), '-noout', '-text']).stdout;
    assert.match(text, /CA:TRUE, pathlen:0/, 'pathLen from the profile, not the CSR');
    assert.doesNotMatch(text, /evil\.example|Code Signing/);
  });

  test('a CSR with a broken signature is CSR_SIGNATURE_INVALID, journaled as csr.refused, and nothing is issued', () => {
    const g = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', lab.path('bad.key'), '-subj', '/CN=Tampered', '-outform', 'DER', '-out', lab.path('good.der')]);
    assert.equal(g.code, 0, g.stderr);
    const der = readFileSync(lab.path('good.der'));
    // The DER ends with the signature BIT STRING; its last byte is inside the ECDSA s value.
    const bad = Buffer.from(der);
    bad[bad.length - 1] ^= 0x01;
    writeFileSync(lab.path('bad.der'), bad);
    // Both forms: DER and PEM.
    writeFileSync(lab.path('bad.pem'), `-----BEGIN CERTIFICATE REQUEST-----\n${bad.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`);
    // openssl 3.0 agrees it is bad (it says so, though its exit status stays 0).
    const o = sh('openssl', ['req', '-inform', 'DER', '-in', lab.path('bad.der'), '-verify', '-noout']);
    assert.match(o.stdout + o.stderr, /verify failure|did not verify/i);
    assert.deepEqual(pemToDer(readFileSync(lab.path('bad.pem'), 'utf8')), bad);

    const certsBefore = readdirSync(lab.path('root', 'certs'));
    const indexBefore = readFileSync(lab.path('root', 'index.txt'), 'utf8');
    const serialBefore = readFileSync(lab.path('root', 'serial'), 'utf8');
    for (const f of ['bad.der', 'bad.pem']) {
      const r = lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', f, '--profile', 'ec/issuing-ca', '--out', `${f}.crt`, ...tokenArgs()], PIN_ENV);
      assert.equal(r.code, 1);
      assert.equal(errorLine(r).code, 'CSR_SIGNATURE_INVALID');
      assert.deepEqual(readdirSync(lab.dir).filter((n) => n === `${f}.crt`), []);
    }
    assert.deepEqual(readdirSync(lab.path('root', 'certs')), certsBefore);
    assert.equal(readFileSync(lab.path('root', 'index.txt'), 'utf8'), indexBefore);
    assert.equal(readFileSync(lab.path('root', 'serial'), 'utf8'), serialBefore);
    const entries = readFileSync(lab.path('root', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const refused = entries.filter((e) => e.kind === 'csr.refused');
    assert.equal(refused.length, 2);
    assert.equal(refused[0].facts.code, 'CSR_SIGNATURE_INVALID');
    assert.equal(refused[0].facts.file, 'bad.der');
    // The journal still verifies after the refusals.
    assert.match(ok(lab.run(['journal', 'verify', '--ca-dir', 'root'])), /journal intact/);
    assert.match(ok(lab.run(['ca', 'check', '--dir', 'root'])), /consistent/);
  });

  test('a CSR whose key does not fit the profile, a file that is no CSR, a missing file: one clear error each', () => {
    const before = treeHash(lab.path('root'));
    const rsa = sh('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', lab.path('rsa.key'), '-subj', '/CN=RSA', '-out', lab.path('rsa.csr')]);
    assert.equal(rsa.code, 0, rsa.stderr);
    const r1 = lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', 'rsa.csr', '--profile', 'ec/tls-server', '--var', 'cn=rsa.example.com', '--out', 'rsa.crt', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(r1).code, 'CSR_INVALID');
    writeFileSync(lab.path('junk.csr'), 'hello');
    const r2 = lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', 'junk.csr', '--profile', 'ec/issuing-ca', '--out', 'junk.crt', ...tokenArgs()], PIN_ENV);
    assert.equal(r2.code, 1);
    assert.match(errorLine(r2).code, /^(CSR_INVALID|PEM_INVALID)$/);
    const r3 = lab.run(['cert', 'issue', '--ca-dir', 'root', '--csr', 'missing.csr', '--profile', 'ec/issuing-ca', '--out', 'm.crt', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(r3).code, 'INPUT_INVALID');
    // Only the journal may have grown (refusals are recorded); certificates, index, serial are as before.
    const after = treeHash(lab.path('root'));
    delete before['journal.jsonl'];
    delete after['journal.jsonl'];
    assert.deepEqual(after, before);
  });
});

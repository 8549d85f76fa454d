/**
 * A subordinate CA under a parent this tool does not run: `ca csr --dir` leaves a pending CA
 * directory (key in the token or a file, ca.csr, the public key in ca.meta.json), an OpenSSL-made
 * root signs the CSR, and `ca import-cert` makes the CA active. Its leaves must then verify with
 * `openssl verify -x509_strict`. Wrong certificates are refused with the CA left pending and
 * untouched, and an import that fails part-way leaves the CA pending, ready for another try.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { ensureCliBuilt, errorLine, makeLab, ok, pemToDer, PIN_ENV, python, sh, tokenArgs, treeHash, wrotePaths, type Lab } from './helpers';

const CA_EXT = 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
const PASS_ENV = { SUB_PASS: 'sub-CA-passphrase-0123' };

let lab: Lab;

/** An external root made with OpenSSL alone: key, self-signed CA certificate. */
function makeRoot(name: string, cn: string, ext = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n'): void {
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', lab.path(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '60', '-out', lab.path(`${name}.crt`)];
  for (const line of ext.trim().split('\n')) args.push('-addext', line);
  const r = sh('openssl', args);
  assert.equal(r.code, 0, r.stderr);
}

/** The root signs a CSR with the given extensions (OpenSSL's x509 -req, as an external CA would). */
function signCsr(root: string, csr: string, out: string, ext = CA_EXT, days = 30): void {
  writeFileSync(lab.path(`${out}.ext`), ext);
  const r = sh('openssl', ['x509', '-req', '-in', lab.path(csr), '-CA', lab.path(`${root}.crt`), '-CAkey', lab.path(`${root}.key`), '-CAcreateserial', '-days', String(days), '-extfile', lab.path(`${out}.ext`), '-out', lab.path(out)]);
  assert.equal(r.code, 0, r.stderr);
}

function meta(dir: string): { active: string; versions: Record<string, Record<string, unknown> & { status: string; keys: { storage: Record<string, unknown> }[] }> } {
  return JSON.parse(readFileSync(lab.path(dir, 'ca.meta.json'), 'utf8'));
}

function spkiSha256(file: string, tool: 'x509' | 'req'): string {
  return sh('sh', ['-c', `openssl ${tool} -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`, 'sh', file]).stdout.split(' ')[0];
}

function journalKinds(dir: string): string[] {
  return readFileSync(lab.path(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind);
}

function stagingLeft(): string[] {
  return readdirSync(lab.dir).filter((n) => n.includes('.partial-'));
}

describe('qpki ca csr --dir and ca import-cert', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    makeRoot('root', 'External Root');
    makeRoot('other-root', 'Other Root');
  });
  after(() => lab?.cleanup());

  test('token key: pending CA, signed by an OpenSSL root, imported; its leaves pass openssl verify -x509_strict', () => {
    const out = ok(lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs(), '--pkcs11-key-label', 'sub-key', '--var', 'cn=Token Sub CA', '--dir', 'tsub', '--out', 'tsub.csr'], PIN_ENV));
    assert.match(out, /pending CA created in .*tsub/);
    // The pending directory: metadata, CSR, journal; no certificate yet.
    const m = meta('tsub');
    const v = m.versions[m.active];
    assert.equal(v.status, 'pending');
    assert.deepEqual(v.profiles, ['ec/issuing-ca']);
    const st = v.keys[0].storage;
    assert.equal(st.type, 'pkcs11');
    assert.equal(st.token_label, 'CA Token');
    assert.equal(st.token_serial, lab.serial);
    assert.equal(st.key_label, 'sub-key');
    assert.match(String(st.key_id), /^[0-9a-f]+$/);
    assert.equal(readFileSync(lab.path('tsub', 'ca.csr'), 'utf8'), readFileSync(lab.path('tsub.csr'), 'utf8'), '--out is a copy of ca.csr');
    // The recorded public key is the CSR's (checked with openssl), and its SHA-256 matches.
    const csrKey = spkiSha256(lab.path('tsub', 'ca.csr'), 'req');
    assert.equal(v.spki_sha256, csrKey);
    assert.equal(sh('sh', ['-c', 'printf %s "$1" | base64 -d | sha256sum', 'sh', String(v.spki)]).stdout.split(' ')[0], csrKey);
    assert.match(sh('openssl', ['req', '-in', lab.path('tsub', 'ca.csr'), '-verify', '-noout']).stderr, /verify OK|self-signature ok/i);
    assert.ok(!existsSync(lab.path('tsub', 'ca.crt')));
    assert.deepEqual(journalKinds('tsub').filter((k) => k.startsWith('key.') || k.startsWith('csr.')), ['key.generated', 'csr.created']);
    assert.deepEqual(stagingLeft(), []);
    // The key is in the token, non-extractable (pkcs11-tool, not our code, says so).
    const objs = sh('pkcs11-tool', ['--module', tokenArgs()[1], '--token-label', 'CA Token', '--login', '--pin', PIN_ENV.QPKI_TEST_PIN, '--list-objects', '--type', 'privkey'], { env: lab.env }).stdout;
    assert.match(objs, /label:\s+sub-key[\s\S]*?Access:\s+sensitive, always sensitive, never extractable, local/);

    // Pending: info says so; using it as a CA is refused in words.
    const info = ok(lab.run(['ca', 'info', '--dir', 'tsub']));
    assert.match(info, /PENDING/);
    assert.match(info, /qpki ca import-cert --dir/);
    assert.equal(JSON.parse(ok(lab.run(['--json', 'ca', 'info', '--dir', 'tsub']))).status, 'pending');
    const early = lab.run(['credential', 'enroll', '--ca-dir', 'tsub', '--profile', 'ec/tls-server', '--var', 'cn=early.example.com', ...tokenArgs()], PIN_ENV);
    const e = errorLine(early);
    assert.equal(e.code, 'CA_INVALID');
    assert.match(e.message, /pending.*qpki ca import-cert/);
    assert.equal(errorLine(lab.run(['ca', 'export', '--dir', 'tsub'])).code, 'CA_INVALID');

    signCsr('root', 'tsub.csr', 'tsub.crt');
    const imp = ok(lab.run(['ca', 'import-cert', '--dir', 'tsub', '--cert', 'tsub.crt', '--chain', 'root.crt']));
    assert.match(imp, /is active/);
    assert.match(imp, /issuer:\s+CN=External Root/);
    assert.match(imp, /1 parent certificate\(s\), verified/);
    const after = meta('tsub');
    assert.equal(after.versions.v1.status, 'active');
    assert.ok(after.versions.v1.activated_at);
    assert.equal(after.versions.v1.spki, undefined, 'the pending-only fields are gone');
    assert.deepEqual(pemToDer(readFileSync(lab.path('tsub', 'ca.crt'), 'utf8')), pemToDer(readFileSync(lab.path('tsub.crt'), 'utf8')));
    assert.deepEqual(pemToDer(readFileSync(lab.path('tsub', 'versions', 'v1', 'certs', 'ca.ecdsa-p256.pem'), 'utf8')), pemToDer(readFileSync(lab.path('tsub.crt'), 'utf8')));
    const chain = readFileSync(lab.path('tsub', 'chain.crt'), 'utf8');
    assert.equal((chain.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    for (const f of ['index.txt', 'serial', 'crlnumber', 'certs', 'crl']) assert.ok(existsSync(lab.path('tsub', f)), f);
    const entries = readFileSync(lab.path('tsub', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const imported = entries.filter((x) => x.kind === 'certificate.signed' && x.facts.imported === true);
    assert.equal(imported.length, 1);
    assert.equal(imported[0].facts.chainVerified, true);
    assert.equal(imported[0].facts.certificateSha256Fingerprint, sh('sh', ['-c', 'openssl x509 -in "$1" -outform DER | sha256sum', 'sh', lab.path('tsub.crt')]).stdout.split(' ')[0]);

    // The new CA works: a leaf from the token key, verified by OpenSSL up to the external root.
    const enr = ok(lab.run(['credential', 'enroll', '--ca-dir', 'tsub', '--profile', 'ec/tls-server', '--var', 'cn=leaf.example.com', '--cred-dir', 'tcred', ...tokenArgs()], PIN_ENV));
    const leaf = wrotePaths(enr).find((p) => p.endsWith('cert.pem'))!;
    const vr = sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('root.crt'), '-untrusted', lab.path('tsub', 'ca.crt'), leaf]);
    assert.equal(vr.code, 0, vr.stdout + vr.stderr);
    assert.match(vr.stdout, /: OK/);
    // Without the sub-CA the leaf does not verify: the check above means something.
    assert.notEqual(sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('root.crt'), leaf]).code, 0);
    // A CRL from the imported CA verifies under its certificate too.
    ok(lab.run(['crl', 'gen', '--ca-dir', 'tsub', '--days', '7', ...tokenArgs()], PIN_ENV));
    const crl = sh('openssl', ['crl', '-in', lab.path('tsub', 'crl', 'ca.crl'), '-CAfile', lab.path('tsub', 'ca.crt'), '-noout']);
    assert.match(crl.stdout + crl.stderr, /verify OK/);
    assert.match(ok(lab.run(['ca', 'check', '--dir', 'tsub'])), /consistent/);
    assert.match(ok(lab.run(['journal', 'verify', '--ca-dir', 'tsub'])), /journal intact/);

    // A second import is refused and changes nothing.
    const before = treeHash(lab.path('tsub'));
    const again = lab.run(['ca', 'import-cert', '--dir', 'tsub', '--cert', 'tsub.crt', '--chain', 'root.crt']);
    assert.equal(errorLine(again).code, 'CA_EXISTS');
    assert.deepEqual(treeHash(lab.path('tsub')), before);
  });

  test('software key: encrypted key inside the pending directory; import from a PEM that carries the chain; enroll with the passphrase', () => {
    ok(lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', '--var', 'cn=File Sub CA', '--dir', 'fsub', '--passphrase-env', 'SUB_PASS'], PASS_ENV));
    const v = meta('fsub').versions.v1;
    assert.equal(v.status, 'pending');
    assert.deepEqual(v.keys[0].storage, { type: 'software', path: 'versions/v1/keys/ca.ecdsa-p256.key', encrypted: true });
    const keyPem = readFileSync(lab.path('fsub', 'versions', 'v1', 'keys', 'ca.ecdsa-p256.key'), 'utf8');
    assert.match(keyPem, /BEGIN ENCRYPTED PRIVATE KEY/);
    // OpenSSL opens the key with the passphrase, and it is the CSR's key.
    const pub = sh('sh', ['-c', 'openssl pkey -in "$1" -passin env:SUB_PASS -pubout -outform DER | sha256sum', 'sh', lab.path('fsub', 'versions', 'v1', 'keys', 'ca.ecdsa-p256.key')], { env: { ...process.env, ...PASS_ENV } }).stdout.split(' ')[0];
    assert.equal(pub, spkiSha256(lab.path('fsub', 'ca.csr'), 'req'));
    assert.equal(pub, v.spki_sha256);

    signCsr('root', 'fsub/ca.csr', 'fsub.crt');
    // Certificate and chain in one file, as many parents send them; no --chain.
    writeFileSync(lab.path('fsub-bundle.pem'), readFileSync(lab.path('fsub.crt'), 'utf8') + readFileSync(lab.path('root.crt'), 'utf8'));
    const imp = ok(lab.run(['ca', 'import-cert', '--ca-dir', 'fsub', '--cert', 'fsub-bundle.pem']));
    assert.match(imp, /1 parent certificate\(s\), verified/);
    const noPass = lab.run(['credential', 'enroll', '--ca-dir', 'fsub', '--profile', 'ec/tls-server', '--var', 'cn=nopass.example.com', '--cred-dir', 'fcred']);
    assert.equal(errorLine(noPass).code, 'PASSPHRASE_REQUIRED');
    const enr = ok(lab.run(['credential', 'enroll', '--ca-dir', 'fsub', '--profile', 'ec/tls-server', '--var', 'cn=file-leaf.example.com', '--cred-dir', 'fcred', '--ca-passphrase-env', 'SUB_PASS'], PASS_ENV));
    const leaf = wrotePaths(enr).find((p) => p.endsWith('cert.pem'))!;
    const vr = sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('root.crt'), '-untrusted', lab.path('fsub', 'ca.crt'), leaf]);
    assert.equal(vr.code, 0, vr.stdout + vr.stderr);
  });

  test('refusals: wrong key, not a CA, no keyCertSign, wrong or unordered chain, expired, not yet valid; the pending CA is left as it was', () => {
    ok(lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs(), '--pkcs11-key-label', 'refuse-key', '--var', 'cn=Refusing Sub', '--dir', 'rsub'], PIN_ENV));
    const before = treeHash(lab.path('rsub'));
    const refuse = (args: string[], code: string, words: RegExp) => {
      const r = lab.run(['ca', 'import-cert', '--dir', 'rsub', ...args]);
      assert.equal(r.code, 1, r.stdout);
      const e = errorLine(r);
      assert.equal(e.code, code, e.line);
      assert.match(e.message, words);
      assert.deepEqual(treeHash(lab.path('rsub')), before, `${args.join(' ')} left the CA untouched`);
    };
    // A CA certificate for another key (a CSR OpenSSL made).
    const g = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', lab.path('stranger.key'), '-subj', '/CN=Refusing Sub', '-out', lab.path('stranger.csr')]);
    assert.equal(g.code, 0, g.stderr);
    signCsr('root', 'stranger.csr', 'stranger.crt');
    refuse(['--cert', 'stranger.crt', '--chain', 'root.crt'], 'KEY_INVALID', /another key.*pending key/);
    // The right key, but an end-entity certificate; then a CA without keyCertSign.
    signCsr('root', 'rsub/ca.csr', 'rsub-leaf.crt', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
    refuse(['--cert', 'rsub-leaf.crt', '--chain', 'root.crt'], 'CERT_INVALID', /not a CA certificate/);
    signCsr('root', 'rsub/ca.csr', 'rsub-noku.crt', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,cRLSign\n');
    refuse(['--cert', 'rsub-noku.crt', '--chain', 'root.crt'], 'CERT_INVALID', /keyCertSign not set/);
    // A good certificate with a chain that did not sign it (other root, same name and not).
    signCsr('root', 'rsub/ca.csr', 'rsub.crt');
    refuse(['--cert', 'rsub.crt', '--chain', 'other-root.crt'], 'CERT_INVALID', /issued by CN=External Root.*chain starts with CN=Other Root/);
    makeRoot('impostor', 'External Root');
    refuse(['--cert', 'rsub.crt', '--chain', 'impostor.crt'], 'CERT_INVALID', /does not verify under the first certificate of the chain/);
    // A chain whose second link does not sign the first.
    writeFileSync(lab.path('bad-order.pem'), readFileSync(lab.path('root.crt'), 'utf8') + readFileSync(lab.path('other-root.crt'), 'utf8'));
    refuse(['--cert', 'rsub.crt', '--chain', 'bad-order.pem'], 'CERT_INVALID', /Chain certificate 1 .* does not verify under chain certificate 2/);
    // A parent with pathLenConstraint 0 cannot have a CA below it.
    makeRoot('pl0', 'PathLen Zero Root', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
    signCsr('pl0', 'rsub/ca.csr', 'rsub-pl0.crt');
    refuse(['--cert', 'rsub-pl0.crt', '--chain', 'pl0.crt'], 'CERT_INVALID', /pathLenConstraint 0/);
    // Expired and not yet valid (python cryptography signs with the root's key, dates of our choosing).
    const dated = `
import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
csr = x509.load_pem_x509_csr(open(sys.argv[1],'rb').read())
root = x509.load_pem_x509_certificate(open(sys.argv[2],'rb').read())
key = serialization.load_pem_private_key(open(sys.argv[3],'rb').read(), None)
now = datetime.datetime.now(datetime.timezone.utc)
start = now + datetime.timedelta(days=int(sys.argv[4])); end = start + datetime.timedelta(days=int(sys.argv[5]))
c = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(root.subject).public_key(csr.public_key())
  .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
  .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
  .add_extension(x509.KeyUsage(False,False,False,False,False,True,True,False,False), critical=True)
  .sign(key, hashes.SHA256()))
open(sys.argv[6],'wb').write(c.public_bytes(serialization.Encoding.PEM))
`;
    python(dated, [lab.path('rsub', 'ca.csr'), lab.path('root.crt'), lab.path('root.key'), '-20', '10', lab.path('rsub-expired.crt')]);
    refuse(['--cert', 'rsub-expired.crt', '--chain', 'root.crt'], 'CERT_INVALID', /expired/);
    python(dated, [lab.path('rsub', 'ca.csr'), lab.path('root.crt'), lab.path('root.key'), '5', '10', lab.path('rsub-future.crt')]);
    refuse(['--cert', 'rsub-future.crt', '--chain', 'root.crt'], 'CERT_INVALID', /not valid yet/);
    // Not a certificate at all, and a missing file.
    refuse(['--cert', 'rsub/ca.csr'], 'CERT_INVALID', /CERTIFICATE REQUEST/);
    refuse(['--cert', 'missing.crt'], 'INPUT_INVALID', /Cannot read the certificate/);
    // After all that, the right certificate imports (DER this time).
    const der = sh('openssl', ['x509', '-in', lab.path('rsub.crt'), '-outform', 'DER', '-out', lab.path('rsub.der')]);
    assert.equal(der.code, 0);
    assert.match(ok(lab.run(['ca', 'import-cert', '--dir', 'rsub', '--cert', 'rsub.der', '--chain', 'root.crt'])), /is active/);
  });

  test('ca csr --dir refuses an existing CA or a non-empty directory before any key is made; --key-out does not go with --dir', () => {
    const keysBefore = sh('pkcs11-tool', ['--module', tokenArgs()[1], '--token-label', 'CA Token', '--login', '--pin', PIN_ENV.QPKI_TEST_PIN, '--list-objects', '--type', 'privkey'], { env: lab.env }).stdout;
    const r1 = lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs(), '--pkcs11-key-label', 'never-1', '--var', 'cn=X', '--dir', 'tsub'], PIN_ENV);
    assert.equal(errorLine(r1).code, 'CA_EXISTS');
    mkdirSync(lab.path('busy'));
    writeFileSync(lab.path('busy', 'note.txt'), 'x');
    const r2 = lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs(), '--pkcs11-key-label', 'never-2', '--var', 'cn=X', '--dir', 'busy'], PIN_ENV);
    assert.equal(errorLine(r2).code, 'OUTPUT_EXISTS');
    const r3 = lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', '--var', 'cn=X', '--dir', 'k', '--key-out', 'k.key', '--unencrypted-key']);
    assert.equal(errorLine(r3).code, 'INPUT_INVALID');
    const r4 = lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', '--var', 'cn=X']);
    assert.equal(errorLine(r4).code, 'INPUT_INVALID');
    const keysAfter = sh('pkcs11-tool', ['--module', tokenArgs()[1], '--token-label', 'CA Token', '--login', '--pin', PIN_ENV.QPKI_TEST_PIN, '--list-objects', '--type', 'privkey'], { env: lab.env }).stdout;
    assert.equal(keysAfter, keysBefore, 'no key was generated');
    for (const d of ['k']) assert.ok(!existsSync(lab.path(d)), d);
    assert.deepEqual(stagingLeft(), []);
  });

  test('an import that fails before the metadata is replaced leaves the CA pending; run again, it completes', () => {
    ok(lab.run(['ca', 'csr', '--profile', 'ec/issuing-ca', ...tokenArgs(), '--pkcs11-key-label', 'crash-key', '--var', 'cn=Crash Sub', '--dir', 'csub'], PIN_ENV));
    signCsr('root', 'csub/ca.csr', 'csub.crt');
    const metaBefore = readFileSync(lab.path('csub', 'ca.meta.json'), 'utf8');
    // chain.crt is written after the CA certificate files and before ca.meta.json: a directory
    // in its place makes that write fail (even for root, unlike a read-only mode).
    mkdirSync(lab.path('csub', 'chain.crt'));
    const r = lab.run(['ca', 'import-cert', '--dir', 'csub', '--cert', 'csub.crt', '--chain', 'root.crt']);
    assert.equal(errorLine(r).code, 'IO_ERROR');
    // Files before the failure point were written (so the failure really was part-way) …
    assert.ok(existsSync(lab.path('csub', 'ca.crt')));
    // … but the metadata is byte for byte the pending one, and the CA is not usable.
    assert.equal(readFileSync(lab.path('csub', 'ca.meta.json'), 'utf8'), metaBefore);
    assert.match(ok(lab.run(['ca', 'info', '--dir', 'csub'])), /PENDING/);
    const use = lab.run(['credential', 'enroll', '--ca-dir', 'csub', '--profile', 'ec/tls-server', '--var', 'cn=too-early.example.com', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(use).code, 'CA_INVALID');
    assert.ok(!readFileSync(lab.path('csub', 'journal.jsonl'), 'utf8').includes('"imported":true'));
    // The obstacle gone, the same import completes.
    rmdirSync(lab.path('csub', 'chain.crt'));
    assert.match(ok(lab.run(['ca', 'import-cert', '--dir', 'csub', '--cert', 'csub.crt', '--chain', 'root.crt'])), /is active/);
    assert.equal(meta('csub').versions.v1.status, 'active');
    const enr = ok(lab.run(['credential', 'enroll', '--ca-dir', 'csub', '--profile', 'ec/tls-server', '--var', 'cn=after-crash.example.com', '--cred-dir', 'ccred', ...tokenArgs()], PIN_ENV));
    const leaf = wrotePaths(enr).find((p) => p.endsWith('cert.pem'))!;
    const vr = sh('openssl', ['verify', '-x509_strict', '-CAfile', lab.path('root.crt'), '-untrusted', lab.path('csub', 'ca.crt'), leaf]);
    assert.equal(vr.code, 0, vr.stdout + vr.stderr);
    assert.match(ok(lab.run(['ca', 'check', '--dir', 'csub'])), /consistent/);
  });
});

/**
 * Ours and the real QPKI on the same CA directories, both ways, for the four kinds of CA both
 * make: software EC, EC in a SoftHSM2 token (QPKI's --hsm-config), ML-DSA, Catalyst. Each tool
 * reads, issues, revokes and signs CRLs in the other's directory; what they issue is verified by
 * both, by OpenSSL (classical) and by liboqs (ML-DSA, over the TBS and the Catalyst pre-TBS that
 * asn1js derives); serials are never reused; `ca check` is clean afterwards and its repair
 * idempotent. Every SoftHSM2 token lives in this test's own directory (SOFTHSM2_CONF).
 */
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, sh, SOFTHSM_LIB, TOKEN_LABEL, USER_PIN, type Lab } from '../cli/helpers';
import { asn1jsPreTbs, bitStringContents, liboqsVerify, parseSigned, readDer, spkiParts, type MlDsaName } from '../pq/verifiers';
import { activeCaCert, certFileSerials, indexSerials, peer, peerMissing, peerOk } from './peer';

const skip = peerMissing();
const PASS = 'interop-passphrase-0123';
let lab: Lab;
let env: NodeJS.ProcessEnv;

const ours = (args: string[]) => lab.run(args, { HSM_PIN: USER_PIN, IP: PASS });
const theirs = (args: string[]) => peer(args, { env, cwd: lab.dir });

function noDuplicates(dir: string): void {
  const s = indexSerials(dir).map((x) => x.toLowerCase().replace(/^0+/, ''));
  assert.equal(new Set(s).size, s.length, `${dir}: no serial twice in index.txt (${s.join(' ')})`);
  // Every listed serial has its file under the lower-case name QPKI looks for.
  for (const x of indexSerials(dir)) assert.ok(certFileSerials(dir).includes(x), `${dir}: certs/${x}.crt`);
  const next = BigInt('0x' + readFileSync(join(dir, 'serial'), 'utf8').trim());
  for (const x of s) assert.ok(next > BigInt('0x' + x), `${dir}: the serial file (next) is above ${x}`);
}

function opensslVerify(ca: string, cert: string, crl?: string): { code: number | null; out: string } {
  const r = sh('openssl', ['verify', '-x509_strict', '-CAfile', ca, ...(crl ? ['-crl_check', '-CRLfile', crl] : []), cert]);
  return { code: r.code, out: r.stdout + r.stderr };
}

function opensslCrl(ca: string, crl: string): void {
  const r = sh('openssl', ['crl', '-in', crl, '-noout', '-verify', '-CAfile', ca]);
  assert.match(r.stdout + r.stderr, /verify OK/, `openssl crl -verify ${crl}: ${r.stderr}`);
}

/** ML-DSA signature of a certificate or CRL checked by liboqs against the CA certificate's key. */
async function liboqsPrimary(alg: MlDsaName, caPem: string, doc: string, kind: 'certificate' | 'crl'): Promise<boolean> {
  const ca = parseSigned(readDer(caPem), 'certificate');
  const d = parseSigned(readDer(doc), kind);
  return liboqsVerify(alg, ca.spki!.publicKey, d.tbs, d.signature);
}

/** The Catalyst alternative signature, over the pre-TBS asn1js derives, under the CA's subjectAltPublicKeyInfo. */
async function liboqsAlternative(alg: MlDsaName, caPem: string, doc: string, kind: 'certificate' | 'crl'): Promise<boolean> {
  const ca = parseSigned(readDer(caPem), 'certificate');
  const d = parseSigned(readDer(doc), kind);
  const altKey = spkiParts(ca.extensions.get('2.5.29.72')!);
  return liboqsVerify(alg, altKey.publicKey, asn1jsPreTbs(d.tbs, kind), bitStringContents(d.extensions.get('2.5.29.74')!));
}

const serialOf = (stdout: string) => /serial:\s+([0-9a-f]+)/.exec(stdout)![1];
const qpkiSerialOf = (stdout: string) => /Serial:\s+([0-9A-Fa-f]+)/.exec(stdout)![1].toLowerCase();
const credCert = (root: string) => {
  const dirs = readdirSync(root).map((d) => join(root, d));
  const newest = dirs.sort().pop()!;
  const certs = join(newest, 'versions', 'v1', 'certs');
  return join(certs, readdirSync(certs)[0]);
};

describe('QPKI interop: each tool works in the other\'s CA directories', { skip }, () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    env = { ...lab.env, HSM_PIN: USER_PIN, IP: PASS };
    writeFileSync(lab.path('hsm.yaml'), `type: pkcs11\npkcs11:\n  lib: ${SOFTHSM_LIB}\n  token: "${TOKEN_LABEL}"\n  pin_env: HSM_PIN\n`);
  });
  after(() => lab?.cleanup());

  test('QPKI software EC CA: ours reads it, issues, revokes a QPKI serial and signs CRLs; QPKI reads, issues and revokes after ours', () => {
    peerOk(theirs(['ca', 'init', '-P', 'ec/root-ca', '-d', 'qec', '--var', 'cn=QPKI EC Root']));
    const q1 = qpkiSerialOf(peerOk(theirs(['credential', 'enroll', '-d', 'qec', '-c', 'qcred', '-P', 'ec/tls-server', '--var', 'cn=q1.example', '--var', 'dns_names=q1.example'])));
    const q1Cert = credCert(lab.path('qcred'));
    const ca = activeCaCert(lab.path('qec'));

    const info = ok(ours(['ca', 'info', '-d', 'qec']));
    assert.match(info, /CN=QPKI EC Root/);
    assert.match(info, /issued:\s+1 certificate/);
    const check = ours(['ca', 'check', '-d', 'qec']);
    assert.equal(check.code, 0, check.stdout);
    assert.match(check.stdout, /no journal yet/, 'a CA without a journal is a note, not a problem');

    const o1 = ok(ours(['credential', 'enroll', '-d', 'qec', '-c', 'ocred', '-P', 'ec/tls-server', '--var', 'cn=o1.example', '--var', 'dns_names=o1.example', '--unencrypted-key']));
    const o1Serial = serialOf(o1);
    const o1Cert = lab.path('qec', 'certs', `${o1Serial}.crt`);
    // A CSR made by QPKI, issued by ours.
    peerOk(theirs(['csr', 'gen', '-a', 'ecdsa-p256', '--cn', 'o2.example', '--dns', 'o2.example', '--keyout', 'o2.key', '-o', 'o2.csr']));
    ok(ours(['cert', 'issue', '--csr', 'o2.csr', '-P', 'ec/tls-server', '-d', 'qec', '-o', 'o2.crt']));
    for (const c of [o1Cert, lab.path('o2.crt'), q1Cert]) assert.equal(opensslVerify(ca, c).code, 0, `openssl: ${c}`);
    // QPKI verifies what ours issued in its CA, and lists it.
    assert.match(peerOk(theirs(['cert', 'verify', o1Cert, '--ca', ca])), /VALID/);
    assert.match(peerOk(theirs(['cert', 'list', '-d', 'qec'])), /Total: 3 certificate/);

    // Ours revokes QPKI's certificate and signs the CRL; QPKI and OpenSSL accept it.
    ok(ours(['cert', 'revoke', q1, '-d', 'qec', '-r', 'keyCompromise', '--gen-crl']));
    const crl = lab.path('qec', 'crl', 'ca.crl');
    opensslCrl(ca, crl);
    assert.match(peerOk(theirs(['crl', 'verify', crl, '--ca', ca])), /successful/);
    assert.notEqual(opensslVerify(ca, q1Cert, crl).code, 0, 'the revoked QPKI certificate fails the CRL check');
    assert.equal(opensslVerify(ca, o1Cert, crl).code, 0);

    // QPKI revokes ours' certificate (its lower-case lookup finds it) and issues after ours.
    peerOk(theirs(['cert', 'revoke', o1Serial, '-d', 'qec', '--gen-crl']));
    assert.match(peerOk(theirs(['crl', 'info', crl])), new RegExp(o1Serial, 'i'));
    assert.match(ok(ours(['crl', 'verify', crl, '--ca', ca])), /CRL verified/);
    assert.notEqual(opensslVerify(ca, o1Cert, crl).code, 0, 'ours revoked by QPKI');
    const q2 = qpkiSerialOf(peerOk(theirs(['credential', 'enroll', '-d', 'qec', '-c', 'qcred', '-P', 'ec/tls-server', '--var', 'cn=q2.example', '--var', 'dns_names=q2.example'])));
    assert.ok(![q1, o1Serial].includes(q2), `QPKI's next serial ${q2} is new`);
    noDuplicates(lab.path('qec'));

    // ca check: clean; --repair records QPKI's certificates once, and a second run changes nothing.
    assert.equal(ours(['ca', 'check', '-d', 'qec']).code, 0);
    const rep = ok(ours(['ca', 'check', '-d', 'qec', '--repair']));
    assert.match(rep, /recorded in the journal 2 certificate\(s\) another tool \(QPKI\) issued/);
    const index = readFileSync(lab.path('qec', 'index.txt'), 'utf8');
    const journal = readFileSync(lab.path('qec', 'journal.jsonl'), 'utf8');
    const again = ok(ours(['ca', 'check', '-d', 'qec', '--repair']));
    assert.doesNotMatch(again, /recorded|listed serial|restored|serial file set/);
    assert.equal(readFileSync(lab.path('qec', 'index.txt'), 'utf8'), index, 'a second repair leaves index.txt as it was');
    assert.equal(readFileSync(lab.path('qec', 'journal.jsonl'), 'utf8'), journal, 'and the journal');
    assert.match(ok(ours(['journal', 'verify', '--ca-dir', 'qec'])), /intact|valid|ok/i);
  });

  test('QPKI CA with its key in SoftHSM2 (--hsm-config): ours signs through the CA\'s hsm.yaml, PIN from its pin_env; QPKI carries on', () => {
    peerOk(theirs(['ca', 'init', '-P', 'ec/root-ca', '-d', 'qhsm', '--hsm-config', 'hsm.yaml', '--key-label', 'qpki-root', '--var', 'cn=QPKI HSM Root']));
    const ca = activeCaCert(lab.path('qhsm'));
    assert.match(ok(ours(['ca', 'info', '-d', 'qhsm'])), /token "CA Token".*label "qpki-root".*\(from hsm\.yaml\)/);
    // No PIN flag: QPKI's usage, the variable its hsm.yaml names (HSM_PIN).
    const o1 = serialOf(ok(ours(['credential', 'enroll', '-d', 'qhsm', '-c', 'ohcred', '-P', 'ec/tls-server', '--var', 'cn=h1.example', '--var', 'dns_names=h1.example', '--unencrypted-key'])));
    const q1 = qpkiSerialOf(peerOk(theirs(['credential', 'enroll', '-d', 'qhsm', '-c', 'qhcred', '-P', 'ec/tls-server', '--var', 'cn=h2.example', '--var', 'dns_names=h2.example'])));
    assert.notEqual(q1, o1);
    ok(ours(['cert', 'revoke', q1, '-d', 'qhsm', '--gen-crl']));
    const crl = lab.path('qhsm', 'crl', 'ca.crl');
    opensslCrl(ca, crl);
    assert.match(peerOk(theirs(['crl', 'verify', crl, '--ca', ca])), /successful/);
    assert.equal(opensslVerify(ca, lab.path('qhsm', 'certs', `${o1}.crt`), crl).code, 0);
    assert.notEqual(opensslVerify(ca, lab.path('qhsm', 'certs', `${q1}.crt`), crl).code, 0);
    peerOk(theirs(['crl', 'gen', '-d', 'qhsm']));
    assert.match(ok(ours(['crl', 'verify', crl, '--ca', ca])), /CRL verified/);
    noDuplicates(lab.path('qhsm'));
    assert.equal(ours(['ca', 'check', '-d', 'qhsm']).code, 0);
  });

  test('QPKI ML-DSA-87 CA, key in QPKI\'s legacy-encrypted "ML-DSA-87 PRIVATE KEY": ours issues and signs CRLs; liboqs verifies; QPKI cannot verify ML-DSA CRLs', async () => {
    peerOk(theirs(['ca', 'init', '-P', 'ml/root-ca', '-d', 'qml', '--var', 'cn=QPKI ML Root', '-p', 'env:IP']));
    assert.match(readFileSync(lab.path('qml', 'versions', 'v1', 'keys', 'ca.ml-dsa-87.key'), 'utf8'), /BEGIN ML-DSA-87 PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED/);
    const ca = activeCaCert(lab.path('qml'));
    const wrong = lab.run(['crl', 'gen', '-d', 'qml', '--ca-passphrase', 'env:WRONG'], { WRONG: 'not-the-passphrase' });
    assert.equal(errorLine(wrong).code, 'PASSPHRASE_INCORRECT');
    const o1 = serialOf(ok(ours(['credential', 'enroll', '-d', 'qml', '-c', 'omcred', '-P', 'ml/tls-server', '--var', 'cn=m1.example', '--var', 'dns_names=m1.example', '--unencrypted-key', '--ca-passphrase', 'env:IP'])));
    const q1 = qpkiSerialOf(peerOk(theirs(['credential', 'enroll', '-d', 'qml', '-c', 'qmcred', '-P', 'ml/tls-server', '--var', 'cn=m2.example', '--var', 'dns_names=m2.example', '-p', 'env:IP'])));
    ok(ours(['cert', 'revoke', q1, '-d', 'qml', '--gen-crl', '--ca-passphrase', 'env:IP']));
    const crl = lab.path('qml', 'crl', 'ca.crl');
    assert.equal(await liboqsPrimary('ml-dsa-87', ca, lab.path('qml', 'certs', `${o1}.crt`), 'certificate'), true, 'liboqs: ours\' certificate in QPKI\'s ML-DSA CA');
    assert.equal(await liboqsPrimary('ml-dsa-87', ca, crl, 'crl'), true, 'liboqs: ours\' CRL');
    assert.match(peerOk(theirs(['cert', 'verify', lab.path('qml', 'certs', `${o1}.crt`), '--ca', ca])), /VALID/);
    // QPKI itself cannot verify ML-DSA CRLs (its peer README says so); this records that it still cannot.
    const qv = theirs(['crl', 'verify', crl, '--ca', ca]);
    assert.notEqual(qv.code, 0, 'QPKI verifies no ML-DSA CRL');
    assert.match(qv.stderr + qv.stdout, /unimplemented|not supported|failed/i);
    peerOk(theirs(['crl', 'gen', '-d', 'qml', '--ca-passphrase', 'env:IP']));
    assert.match(ok(ours(['crl', 'verify', crl, '--ca', ca])), /CRL verified/);
    assert.equal(await liboqsPrimary('ml-dsa-87', ca, crl, 'crl'), true, 'liboqs: QPKI\'s ML-DSA CRL');
    noDuplicates(lab.path('qml'));
    assert.equal(ours(['ca', 'check', '-d', 'qml']).code, 0);
  });

  test('QPKI Catalyst CA (ca.catalyst-ecdsa-p384-mldsa87.pem): ours issues hybrids and signs CRLs with both keys; QPKI, OpenSSL and liboqs verify', async () => {
    peerOk(theirs(['ca', 'init', '-P', 'hybrid/catalyst/root-ca', '-d', 'qcat', '--var', 'cn=QPKI Catalyst Root']));
    const ca = activeCaCert(lab.path('qcat'));
    assert.match(ca, /ca\.catalyst-ecdsa-p384-mldsa87\.pem$/);
    const o1 = serialOf(ok(ours(['credential', 'enroll', '-d', 'qcat', '-c', 'occred', '-P', 'hybrid/catalyst/tls-server', '--var', 'cn=c1.example', '--var', 'dns_names=c1.example', '--unencrypted-key'])));
    const q1 = qpkiSerialOf(peerOk(theirs(['credential', 'enroll', '-d', 'qcat', '-c', 'qccred', '-P', 'hybrid/catalyst/tls-server', '--var', 'cn=c2.example', '--var', 'dns_names=c2.example'])));
    ok(ours(['cert', 'revoke', q1, '-d', 'qcat', '--gen-crl']));
    const crl = lab.path('qcat', 'crl', 'ca.crl');
    const o1Cert = lab.path('qcat', 'certs', `${o1}.crt`);
    assert.equal(opensslVerify(ca, o1Cert, crl).code, 0, 'OpenSSL: the classical signature, CRL checked');
    opensslCrl(ca, crl);
    assert.equal(await liboqsAlternative('ml-dsa-87', ca, o1Cert, 'certificate'), true, 'liboqs: the alternative signature of ours\' certificate');
    assert.equal(await liboqsAlternative('ml-dsa-87', ca, crl, 'crl'), true, 'liboqs: the alternative signature of ours\' CRL');
    assert.match(peerOk(theirs(['cert', 'verify', o1Cert, '--ca', ca])), /VALID/);
    assert.match(peerOk(theirs(['crl', 'verify', crl, '--ca', ca])), /successful/);
    peerOk(theirs(['crl', 'gen', '-d', 'qcat']));
    const v = ok(ours(['crl', 'verify', crl, '--ca', ca]));
    assert.match(v, /primary signature .*VALID[\s\S]*alternative signature \(ml-dsa-87\): VALID/);
    noDuplicates(lab.path('qcat'));
    assert.equal(ours(['ca', 'check', '-d', 'qcat']).code, 0);
  });

  test('our CAs used by QPKI: software EC (after `key convert --to qpki`), SoftHSM2 (our hsm.yaml), ML-DSA and Catalyst (converted keys)', async () => {
    // Our keys stay in our format; QPKI needs the explicit conversion (legacy PEM encryption, bare ML-DSA).
    const convert = (dir: string, file: string) => {
      const k = lab.path(dir, 'versions', 'v1', 'keys', file);
      ok(ours(['key', 'convert', k, '--to', 'qpki', '-o', `${k}.qpki`, '-p', 'env:IP', '--new-passphrase', 'env:IP']));
      renameSync(k, `${k}.ours`);
      renameSync(`${k}.qpki`, k);
    };
    ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', 'oec', '--var', 'cn=Ours EC Root', '-p', 'env:IP']));
    assert.match(readFileSync(lab.path('oec', 'versions', 'v1', 'keys', 'ca.ecdsa-p384.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/, 'ours writes PKCS#8 with scrypt');
    const before = theirs(['credential', 'enroll', '-d', 'oec', '-c', 'x', '-P', 'ec/tls-server', '--var', 'cn=x.example', '--var', 'dns_names=x.example', '-p', 'env:IP']);
    assert.notEqual(before.code, 0, 'QPKI reads no scrypt PKCS#8: hence key convert');
    convert('oec', 'ca.ecdsa-p384.key');
    ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', 'ohsm', '--var', 'cn=Ours HSM Root', '--hsm-config', 'hsm.yaml', '--key-label', 'ours-root']));
    assert.match(readFileSync(lab.path('ohsm', 'hsm.yaml'), 'utf8'), /pin_env: "HSM_PIN"/);
    ok(ours(['ca', 'init', '-P', 'ml/root-ca', '-d', 'oml', '--var', 'cn=Ours ML Root', '-p', 'env:IP']));
    convert('oml', 'ca.ml-dsa-87.key');
    ok(ours(['ca', 'init', '-P', 'hybrid/catalyst/root-ca', '-d', 'ocat', '--var', 'cn=Ours Catalyst Root', '-p', 'env:IP']));
    convert('ocat', 'ca.ecdsa-p384.key');
    convert('ocat', 'ca.ml-dsa-87.key');
    assert.ok(existsSync(lab.path('ocat', 'versions', 'v1', 'certs', 'ca.catalyst-ecdsa-p384-mldsa87.pem')), 'the Catalyst certificate under QPKI\'s name');

    const cases: { dir: string; profile: string; pq?: MlDsaName; catalyst?: boolean }[] = [
      { dir: 'oec', profile: 'ec/tls-server' },
      { dir: 'ohsm', profile: 'ec/tls-server' },
      { dir: 'oml', profile: 'ml/tls-server', pq: 'ml-dsa-87' },
      { dir: 'ocat', profile: 'hybrid/catalyst/tls-server', pq: 'ml-dsa-87', catalyst: true },
    ];
    for (const c of cases) {
      const ca = activeCaCert(lab.path(c.dir));
      assert.match(peerOk(theirs(['ca', 'info', '-d', c.dir])), /Type:\s+Root CA/, `QPKI ca info ${c.dir}`);
      const o1 = serialOf(ok(ours(['credential', 'enroll', '-d', c.dir, '-c', `oc-${c.dir}`, '-P', c.profile, '--var', `cn=o.${c.dir}.example`, '--var', `dns_names=o.${c.dir}.example`, '--unencrypted-key', '--ca-passphrase', 'env:IP'])));
      const q1 = qpkiSerialOf(peerOk(theirs(['credential', 'enroll', '-d', c.dir, '-c', `qc-${c.dir}`, '-P', c.profile, '--var', `cn=q.${c.dir}.example`, '--var', `dns_names=q.${c.dir}.example`, '-p', 'env:IP'])));
      assert.notEqual(q1, o1, `${c.dir}: QPKI took a new serial`);
      // QPKI revokes ours' certificate and signs the CRL; ours reads it.
      peerOk(theirs(['cert', 'revoke', o1, '-d', c.dir, '--gen-crl', '--ca-passphrase', 'env:IP']));
      const crl = lab.path(c.dir, 'crl', 'ca.crl');
      assert.match(ok(ours(['crl', 'verify', crl, '--ca', ca])), /CRL verified/, `${c.dir}: ours verifies QPKI's CRL`);
      // Ours revokes QPKI's and signs the next CRL.
      ok(ours(['cert', 'revoke', q1, '-d', c.dir, '--gen-crl', '--ca-passphrase', 'env:IP']));
      const qCert = lab.path(c.dir, 'certs', `${q1}.crt`);
      if (!c.pq || c.catalyst) {
        opensslCrl(ca, crl);
        assert.notEqual(opensslVerify(ca, qCert, crl).code, 0, `${c.dir}: QPKI's certificate revoked by ours`);
        assert.match(peerOk(theirs(['crl', 'verify', crl, '--ca', ca])), /successful/, `${c.dir}: QPKI verifies ours' CRL`);
      } else {
        assert.equal(await liboqsPrimary(c.pq, ca, crl, 'crl'), true, `${c.dir}: liboqs verifies ours' ML-DSA CRL`);
        assert.equal(await liboqsPrimary(c.pq, ca, qCert, 'certificate'), true, `${c.dir}: liboqs verifies QPKI's ML-DSA certificate`);
      }
      if (c.catalyst) assert.equal(await liboqsAlternative(c.pq!, ca, qCert, 'certificate'), true, `${c.dir}: QPKI's Catalyst certificate, alternative signature`);
      assert.match(ok(ours(['cert', 'show', qCert, '--issuer', ca])), /VALID/);
      noDuplicates(lab.path(c.dir));
      const chk = ours(['ca', 'check', '-d', c.dir]);
      assert.equal(chk.code, 0, `${c.dir}: ${chk.stdout}`);
    }
    // QPKI rejects nothing of ours' metadata, and its cert list agrees with ours on the count.
    for (const c of cases) {
      const q = /Total: (\d+)/.exec(peerOk(theirs(['cert', 'list', '-d', c.dir])))![1];
      const o = JSON.parse(ok(lab.run(['--json', 'cert', 'list', '-d', c.dir]))) as unknown[];
      assert.equal(Number(q), o.length, `${c.dir}: both readers list the same certificates`);
    }
  });
});

/**
 * The QPKI commands a ceremony needs, as ours runs them: key rollover (ca rotate with cross
 * certificates, ca versions, ca activate), OCSP responses signed offline (by the CA key in the
 * token, by a delegated responder), the read-only listings, and QPKI's flags on the shared
 * commands. What they make is checked by OpenSSL and, where it is present, by the real QPKI.
 */
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, sh, SOFTHSM_LIB, TOKEN_LABEL, USER_PIN, type Lab } from './helpers';
import { peer, peerMissing, peerOk } from '../interop/peer';

const noPeer = peerMissing();
const PASS = 'commands-passphrase-0123';
let lab: Lab;
const ours = (args: string[], extra: Record<string, string> = {}) => lab.run(args, { HSM_PIN: USER_PIN, CP: PASS, ...extra });
const theirs = (args: string[]) => peer(args, { env: { ...lab.env, HSM_PIN: USER_PIN, CP: PASS }, cwd: lab.dir });
const serialOf = (s: string) => /serial:\s+([0-9a-f]+)/.exec(s)![1];

describe('QPKI commands of a ceremony, and QPKI flags', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    writeFileSync(lab.path('hsm.yaml'), `type: pkcs11\npkcs11:\n  lib: ${SOFTHSM_LIB}\n  token: "${TOKEN_LABEL}"\n  pin_env: HSM_PIN\n`);
  });
  after(() => lab?.cleanup());

  test('QPKI flags: -P -d -p env:VAR --validity --path-len; a repeated --profile is a usage error; -p VALUE warns like a PIN on the command line', () => {
    const twice = ours(['ca', 'init', '-P', 'ec/root-ca', '-P', 'rsa/root-ca', '--var', 'cn=X', '-d', 'twice']);
    assert.equal(twice.code, 2);
    assert.match(errorLine(twice).message, /--profile is given more than once/);
    assert.equal(existsSync(lab.path('twice')), false);
    const r = ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', 'flags', '--var', 'cn=Flags Root', '-p', 'env:CP', '--validity', '3', '--path-len', '0']));
    assert.match(r, /serial:\s+[0-9a-f]+/);
    const text = sh('openssl', ['x509', '-in', lab.path('flags', 'ca.crt'), '-noout', '-text', '-dates']).stdout;
    assert.match(text, /CA:TRUE, pathlen:0/);
    const [nb, na] = [/notBefore=(.+)/.exec(text)![1], /notAfter=(.+)/.exec(text)![1]].map((d) => new Date(d).getTime());
    assert.equal((na - nb) / 86_400_000, 3 * 365, '--validity 3 is 3 × 365 days');
    const literal = ours(['credential', 'enroll', '-d', 'flags', '-c', 'fc', '-P', 'ec/tls-server', '--var', 'cn=f.example', '--var', 'dns_names=f.example', '-p', 'a-visible-passphrase', '--ca-passphrase', 'env:CP']);
    assert.equal(literal.code, 0, literal.stderr);
    assert.match(literal.stderr, /given with --passphrase is visible to other processes/);
    assert.doesNotMatch(literal.stderr + literal.stdout, /a-visible-passphrase/, 'the passphrase itself is never printed');
    // --path-len 0: this CA may not make a subordinate.
    const sub = ours(['ca', 'init', '-P', 'ec/issuing-ca', '-d', 'flags-sub', '--parent', 'flags', '--parent-passphrase', 'env:CP', '--var', 'cn=Sub', '--unencrypted-key']);
    assert.equal(errorLine(sub).code, 'PROFILE_INVALID');
  });

  test('key gen -a with QPKI names (token and file), token list / hsm list with --hsm-config, hsm mechanisms --filter, hsm test, ca export -f der / --all / -b root, cert issue --pubkey', () => {
    ok(ours(['key', 'gen', '-a', 'ecdsa-p384', '--key-label', 'qpki-named', '--key-id', 'a1b2', '--hsm-config', 'hsm.yaml']));
    assert.match(ok(ours(['key', 'list', '--hsm-config', 'hsm.yaml'])), /"qpki-named"\s+id a1b2\s+ec-p384/);
    ok(ours(['key', 'gen', '-a', 'ecdsa-p256', '-o', 'leaf.key', '-p', 'env:CP']));
    assert.match(readFileSync(lab.path('leaf.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.match(ok(ours(['token', 'list', '--hsm-config', 'hsm.yaml'])), /token "CA Token"/);
    assert.match(ok(ours(['hsm', 'list', '--hsm-config', 'hsm.yaml'])), /token "CA Token"/);
    const mechs = ok(ours(['hsm', 'mechanisms', '--hsm-config', 'hsm.yaml', '--filter', 'ecdsa']));
    assert.match(mechs, /CKM_ECDSA/);
    assert.doesNotMatch(mechs, /CKM_RSA_PKCS\b/);
    assert.match(ok(ours(['hsm', 'test', '--hsm-config', 'hsm.yaml', '--key-label', 'qpki-named'])), /test signature .* verified in software: yes[\s\S]*all tests passed/);
    ok(ours(['ca', 'export', '-d', 'flags', '-f', 'der', '-o', 'flags.der']));
    assert.match(sh('openssl', ['x509', '-inform', 'DER', '-in', lab.path('flags.der'), '-noout', '-subject']).stdout, /Flags Root/);
    ok(ours(['ca', 'export', '-d', 'flags', '--all', '-o', 'all.pem']));
    ok(ours(['ca', 'export', '-d', 'flags', '-b', 'root', '-o', 'root.pem']));
    assert.equal(readFileSync(lab.path('root.pem'), 'utf8'), readFileSync(lab.path('flags', 'ca.crt'), 'utf8'));
    // A bare public key (QPKI's --pubkey): the subject from --var.
    sh('openssl', ['pkey', '-in', lab.path('leaf.key'), '-passin', `pass:${PASS}`, '-pubout', '-out', lab.path('leaf.pub')]);
    ok(ours(['cert', 'issue', '--pubkey', 'leaf.pub', '-P', 'ec/tls-server', '-d', 'flags', '-o', 'leaf.crt', '--var', 'cn=pub.example', '--var', 'dns_names=pub.example', '--ca-passphrase', 'env:CP']));
    assert.equal(sh('openssl', ['verify', '-CAfile', lab.path('flags', 'ca.crt'), lab.path('leaf.crt')]).code, 0);
    const both = ours(['cert', 'issue', '--pubkey', 'leaf.pub', '--csr', 'x.csr', '-P', 'ec/tls-server', '-d', 'flags', '-o', 'x.crt']);
    assert.equal(errorLine(both).code, 'INPUT_INVALID');
  });

  test('ca rotate --cross-sign, ca versions, ca activate (CA key in the token): OpenSSL builds chains across the rollover both ways; QPKI reads the versions', () => {
    ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', 'roll', '--var', 'cn=Roll Root', '--hsm-config', 'hsm.yaml', '--key-label', 'roll-v1']));
    const before = serialOf(ok(ours(['credential', 'enroll', '-d', 'roll', '-c', 'rc', '-P', 'ec/tls-server', '--var', 'cn=before.example', '--var', 'dns_names=before.example', '--unencrypted-key'])));
    const dry = ok(ours(['ca', 'rotate', '-d', 'roll', '--cross-sign', '--dry-run']));
    assert.match(dry, /nothing is made/);
    assert.equal(existsSync(lab.path('roll', 'versions', 'v2')), false);
    const rot = ok(ours(['ca', 'rotate', '-d', 'roll', '--cross-sign']));
    assert.match(rot, /New version v2 .* PENDING/);
    assert.match(rot, /in token "CA Token", label "roll-v1-v2"/);
    const v1 = lab.path('roll', 'versions', 'v1', 'certs', 'ca.ecdsa-p384.pem');
    const v2 = lab.path('roll', 'versions', 'v2', 'certs', 'ca.ecdsa-p384.pem');
    const byV1 = lab.path('roll', 'versions', 'v2', 'cross-signed', 'by-v1.crt');
    const byV2 = lab.path('roll', 'versions', 'v1', 'cross-signed', 'by-v2.crt');
    assert.equal(sh('openssl', ['verify', '-x509_strict', '-CAfile', v1, byV1]).code, 0, 'the old key certifies the new');
    assert.equal(sh('openssl', ['verify', '-x509_strict', '-CAfile', v2, byV2]).code, 0, 'the new key certifies the old');
    const versions = ok(ours(['ca', 'versions', '-d', 'roll']));
    assert.match(versions, /v1\s+active[\s\S]*v2\s+pending/);
    // Still v1 signing until activation.
    const stillV1 = serialOf(ok(ours(['credential', 'enroll', '-d', 'roll', '-c', 'rc', '-P', 'ec/tls-server', '--var', 'cn=still.example', '--var', 'dns_names=still.example', '--unencrypted-key'])));
    assert.equal(sh('openssl', ['verify', '-CAfile', v1, lab.path('roll', 'certs', `${stillV1}.crt`)]).code, 0);
    assert.match(ok(ours(['ca', 'activate', '-d', 'roll', '--version', 'v2'])), /v2 is now active/);
    const after = serialOf(ok(ours(['credential', 'enroll', '-d', 'roll', '-c', 'rc', '-P', 'ec/tls-server', '--var', 'cn=after.example', '--var', 'dns_names=after.example', '--unencrypted-key'])));
    const afterCert = lab.path('roll', 'certs', `${after}.crt`);
    assert.equal(sh('openssl', ['verify', '-x509_strict', '-CAfile', v2, afterCert]).code, 0, 'the new root');
    assert.equal(sh('openssl', ['verify', '-CAfile', v1, '-untrusted', byV1, afterCert]).code, 0, 'an old-root relying party reaches it through the cross certificate');
    assert.equal(sh('openssl', ['verify', '-CAfile', v2, '-untrusted', byV2, lab.path('roll', 'certs', `${before}.crt`)]).code, 0, 'a new-root relying party reaches the old leaves');
    // Every listed certificate, old key's or new's, and both cross certificates, check clean.
    const check = ours(['ca', 'check', '-d', 'roll']);
    assert.equal(check.code, 0, check.stdout);
    assert.match(readFileSync(lab.path('roll', 'journal.jsonl'), 'utf8'), /"kind":"ca\.rotated"[\s\S]*"kind":"ca\.activated"/);
    if (!noPeer) {
      const q = peerOk(theirs(['ca', 'versions', '-d', 'roll']));
      assert.match(q, /v2\s+active/);
      assert.match(q, /v1\s+archived/);
    }
  });

  test('a QPKI rotation is activated by ours, and ours signs with the new version (QPKI lists no keys for it: the file path is implied)', { skip: noPeer }, () => {
    peerOk(theirs(['ca', 'init', '-P', 'ec/root-ca', '-d', 'qroll', '--var', 'cn=QPKI Roll']));
    peerOk(theirs(['ca', 'rotate', '-d', 'qroll', '-P', 'ec/root-ca', '--cross-sign']));
    assert.match(ok(ours(['ca', 'versions', '-d', 'qroll'])), /v2\s+pending[\s\S]*cross-signed by previous/);
    ok(ours(['ca', 'activate', '-d', 'qroll', '--version', 'v2']));
    const s = serialOf(ok(ours(['credential', 'enroll', '-d', 'qroll', '-c', 'qrc', '-P', 'ec/tls-server', '--var', 'cn=qr.example', '--var', 'dns_names=qr.example', '--unencrypted-key'])));
    const v2 = lab.path('qroll', 'versions', 'v2', 'certs', 'ca.ecdsa-p384.pem');
    assert.equal(sh('openssl', ['verify', '-CAfile', v2, lab.path('qroll', 'certs', `${s}.crt`)]).code, 0);
    assert.match(peerOk(theirs(['ca', 'versions', '-d', 'qroll'])), /v2\s+active/);
    // QPKI issues with v2 as well after our activation.
    peerOk(theirs(['credential', 'enroll', '-d', 'qroll', '-c', 'qrq', '-P', 'ec/tls-server', '--var', 'cn=qq.example', '--var', 'dns_names=qq.example']));
    assert.equal(ours(['ca', 'check', '-d', 'qroll']).code, 0);
  });

  test('ocsp sign by the CA key in the token and by a delegated responder; statuses from the index; OpenSSL and QPKI verify; cert list / info, crl info / verify / list, inspect', () => {
    ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', 'oc', '--var', 'cn=OCSP Root', '--hsm-config', 'hsm.yaml', '--key-label', 'ocsp-root']));
    const ca = lab.path('oc', 'ca.crt');
    const good = serialOf(ok(ours(['credential', 'enroll', '-d', 'oc', '-c', 'occ', '-P', 'ec/tls-server', '--var', 'cn=good.example', '--var', 'dns_names=good.example', '--unencrypted-key'])));
    const bad = serialOf(ok(ours(['credential', 'enroll', '-d', 'oc', '-c', 'occ', '-P', 'ec/tls-server', '--var', 'cn=bad.example', '--var', 'dns_names=bad.example', '--unencrypted-key'])));
    ok(ours(['cert', 'revoke', bad, '-d', 'oc', '-r', 'keyCompromise', '--gen-crl']));
    ok(ours(['ocsp', 'sign', '-d', 'oc', '--serial', good, '--validity', '7d', '-o', 'good.ocsp']));
    ok(ours(['ocsp', 'sign', '-d', 'oc', '--serial', bad, '-o', 'bad.ocsp']));
    const goodText = sh('openssl', ['ocsp', '-respin', lab.path('good.ocsp'), '-CAfile', ca, '-issuer', ca, '-serial', `0x${good}`]);
    assert.match(goodText.stdout + goodText.stderr, /Response verify OK/);
    assert.match(goodText.stdout, new RegExp(`0x${good}: good`));
    const badText = sh('openssl', ['ocsp', '-respin', lab.path('bad.ocsp'), '-CAfile', ca, '-issuer', ca, '-serial', `0x${bad}`]);
    assert.match(badText.stdout + badText.stderr, /Response verify OK/);
    assert.match(badText.stdout, new RegExp(`0x${bad}: revoked[\\s\\S]*Reason: keyCompromise`));
    assert.match(ok(ours(['ocsp', 'verify', 'bad.ocsp', '--ca', ca])), /REVOKED[\s\S]*OCSP response verified/);
    // A serial this CA never issued is "unknown"; a "good" for it is refused, and nothing written.
    ok(ours(['ocsp', 'sign', '-d', 'oc', '--serial', '0bad0bad', '-o', 'unknown.ocsp']));
    assert.match(ok(ours(['ocsp', 'verify', 'unknown.ocsp', '--ca', ca])), /serial 0bad0bad: UNKNOWN/);
    const never = ours(['ocsp', 'sign', '-d', 'oc', '--serial', '0bad0bad', '--status', 'good', '-o', 'never.ocsp']);
    assert.equal(errorLine(never).code, 'SERIAL_NOT_FOUND', 'no "good" for a serial never issued');
    assert.equal(existsSync(lab.path('never.ocsp')), false);
    // A delegated responder (ec/ocsp-responder, id-kp-OCSPSigning, ocsp-nocheck).
    const rc = ok(ours(['credential', 'enroll', '-d', 'oc', '-c', 'ocsp-cred', '-P', 'ec/ocsp-responder', '--var', 'cn=OCSP Responder', '--unencrypted-key']));
    const [respCert, , respKey] = [...rc.matchAll(/wrote:\s+(\S+)/g)].map((m) => m[1]);
    ok(ours(['ocsp', 'sign', '-d', 'oc', '--serial', good, '--cert', respCert, '--key', respKey, '-o', 'delegated.ocsp']));
    const dText = sh('openssl', ['ocsp', '-respin', lab.path('delegated.ocsp'), '-CAfile', ca, '-issuer', ca, '-serial', `0x${good}`]);
    assert.match(dText.stdout + dText.stderr, /Response verify OK/);
    assert.match(dText.stdout, new RegExp(`0x${good}: good`));
    assert.match(ok(ours(['ocsp', 'verify', 'delegated.ocsp', '--ca', ca])), /delegated responder/);
    const notResponder = ours(['ocsp', 'sign', '-d', 'oc', '--serial', good, '--cert', lab.path('oc', 'certs', `${good}.crt`), '--key', respKey, '-o', 'wrong.ocsp']);
    assert.equal(errorLine(notResponder).code, 'CERT_INVALID');
    if (!noPeer) {
      assert.match(peerOk(theirs(['ocsp', 'verify', 'good.ocsp', '--ca', ca])), /good|GOOD/);
      // QPKI writes `revoked` as [1] EXPLICIT RevokedInfo, where RFC 6960's module has IMPLICIT
      // TAGS: it cannot read a standard revoked response (ours, OpenSSL's), and OpenSSL cannot read
      // its own. Recorded here so the README's table stays true.
      const qBad = theirs(['ocsp', 'verify', 'bad.ocsp', '--ca', ca]);
      assert.notEqual(qBad.code, 0);
      assert.match(qBad.stderr, /RevokedInfo/);
      peerOk(theirs(['ocsp', 'sign', '--ca', ca, '--cert', respCert, '--key', respKey, '--serial', bad, '--status', 'revoked', '--revocation-reason', 'keyCompromise', '-o', 'qpki-bad.ocsp']));
      const osslOnQpki = sh('openssl', ['ocsp', '-respin', lab.path('qpki-bad.ocsp'), '-CAfile', ca, '-issuer', ca, '-serial', `0x${bad}`]);
      assert.match(osslOnQpki.stderr, /Field=value\.revoked/, 'OpenSSL does not parse QPKI\'s revoked response either');
      const oursOnQpki = ours(['ocsp', 'verify', 'qpki-bad.ocsp', '--ca', ca]);
      assert.equal(errorLine(oursOnQpki).code, 'INPUT_INVALID', 'ours refuses it with one error line');
    }
    assert.match(readFileSync(lab.path('oc', 'journal.jsonl'), 'utf8'), /"kind":"ocsp\.signed"/);

    // The read-only listings.
    const list = ok(ours(['cert', 'list', '-d', 'oc', '--status', 'revoked']));
    assert.match(list, new RegExp(`^${bad}\\s+revoked`, 'm'));
    assert.doesNotMatch(list, new RegExp(good));
    assert.match(ok(ours(['cert', 'info', good.toUpperCase(), '-d', 'oc'])), /status: valid[\s\S]*primary signature .*VALID/);
    assert.match(ok(ours(['crl', 'info', join('oc', 'crl', 'ca.crl')])), new RegExp(`${bad} at .*\\(keyCompromise\\)`));
    assert.match(ok(ours(['crl', 'verify', join('oc', 'crl', 'ca.crl'), '--ca', ca, '--check-expiry'])), /CRL verified/);
    assert.match(ok(ours(['crl', 'list', '-d', 'oc'])), /1 revoked/);
    assert.match(ok(ours(['inspect', 'good.ocsp'])), /OCSP response: successful/);
    assert.match(ok(ours(['inspect', 'oc'])), /CA directory .*oc/);
    assert.match(ok(ours(['inspect', respKey])), /private key .*NOT encrypted/);
  });
});

/**
 * The lint gate on the command line: a certificate from a CSR, or a CRL, that fails a lint is
 * refused before the token is asked to sign (OpenSC's pkcs11-spy sits between qpki and SoftHSM2
 * and logs every call, so "not touched" is counted, not assumed), and the CA directory is left as
 * it was. A profile that accepts the lint by name, with a reason, lets it through, and the
 * journal records the lint and the reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, ROOT, sh, SOFTHSM_LIB, TOKEN_LABEL, treeHash, type Lab } from './helpers';

const SPY = ['/usr/lib/x86_64-linux-gnu/pkcs11-spy.so', '/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so'].find(existsSync);
if (!SPY) console.log('# lint gate CLI tests skipped: OpenSC pkcs11-spy.so is not installed (Debian package opensc-pkcs11)');

describe('lint gate (CLI)', { skip: !SPY }, () => {
  let lab: Lab;
  let log: string;
  let env: Record<string, string>;
  const tok = () => ['--pkcs11-lib', SPY!, '--pkcs11-token', TOKEN_LABEL, '--pkcs11-pin-env', 'QPKI_TEST_PIN'];
  /** C_Sign calls the token has been asked to make so far. */
  const signCalls = () => (existsSync(log) ? readFileSync(log, 'utf8').match(/\bC_Sign\b/g)?.length ?? 0 : 0);

  before(() => {
    ensureCliBuilt();
    lab = makeLab();
    log = lab.path('spy.log');
    env = { ...PIN_ENV, PKCS11SPY: SOFTHSM_LIB, PKCS11SPY_OUTPUT: log };
    // A BR root (its CRLs list CAs: 12 months at most) and a private root in the token.
    ok(lab.run(['ca', 'init', '--profile', 'br/ec/root-ca', ...tok(), '--pkcs11-key-label', 'br-root', '--var', 'cn=Gate BR Root', '--var', 'organization=Example', '--var', 'country=DE', '--dir', 'br'], env));
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tok(), '--pkcs11-key-label', 'private-root', '--var', 'cn=Gate Private Root', '--dir', 'priv'], env));
    assert.ok(signCalls() >= 2, 'the spy sees the roots signed');
    // A TLS server profile declared public-TLS but without what the BR require (no policy, no AIA, no revocation pointer).
    const base = readFileSync(join(ROOT, 'resources', 'profiles', 'ec', 'tls-server.yaml'), 'utf8');
    assert.match(base, /^pki: private$/m);
    writeFileSync(lab.path('incomplete.yaml'), base.replace('name: ec/tls-server', 'name: custom/public-incomplete').replace(/^pki: private$/m, 'pki: public-tls').replace(/^validity: 365d$/m, 'validity: 90d'));
    const k = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', lab.path('srv.key'), '-subj', '/CN=srv.example.com', '-addext', 'subjectAltName=DNS:srv.example.com', '-out', lab.path('srv.csr')]);
    assert.equal(k.code, 0, k.stderr);
  });
  after(() => lab?.cleanup());

  test('a certificate from a CSR that fails a lint: refused, the token never asked to sign, the CA untouched', () => {
    const before = treeHash(lab.path('priv'));
    const calls = signCalls();
    const r = lab.run(['cert', 'issue', '--csr', 'srv.csr', '--profile', lab.path('incomplete.yaml'), '--ca-dir', 'priv', ...tok(), '-o', 'srv.crt'], env);
    const e = errorLine(r);
    assert.equal(e.code, 'LINT_FAILED');
    for (const lint of ['br.subscriber.certificate_policies_missing', 'br.subscriber.aia_missing', 'br.subscriber.revocation_pointer_missing']) assert.ok(e.message.includes(lint), `${lint} named: ${e.message}`);
    assert.match(e.message, /nothing was signed/);
    assert.equal(signCalls(), calls, 'no C_Sign reached the token');
    assert.equal(existsSync(lab.path('srv.crt')), false);
    const after = treeHash(lab.path('priv'));
    // The refusal is on the record; nothing else changed.
    const { 'journal.jsonl': j1, ...rest1 } = before;
    const { 'journal.jsonl': j2, ...rest2 } = after;
    assert.deepEqual(rest2, rest1, 'index, serial file, certs/: unchanged');
    assert.notEqual(j2, j1);
    const last = readFileSync(lab.path('priv', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    assert.equal(last.kind, 'signing.failed');
    assert.equal(last.facts.code, 'LINT_FAILED');
  });

  test('the same profile accepting those lints by name, with reasons: issued, printed, and journaled with the reasons', () => {
    const accept = ['br.subscriber.certificate_policies_missing', 'br.subscriber.aia_missing', 'br.subscriber.revocation_pointer_missing'];
    const text = readFileSync(lab.path('incomplete.yaml'), 'utf8') + `\nlint:\n  accept:\n${accept.map((l) => `    - lint: ${l}\n      reason: "lab hierarchy, never publicly trusted (${l})"`).join('\n')}\n`;
    writeFileSync(lab.path('accepted.yaml'), text.replace('name: custom/public-incomplete', 'name: custom/public-accepted'));
    const calls = signCalls();
    const out = ok(lab.run(['cert', 'issue', '--csr', 'srv.csr', '--profile', lab.path('accepted.yaml'), '--ca-dir', 'priv', ...tok(), '-o', 'srv.crt'], env));
    assert.ok(signCalls() > calls, 'now the token signed');
    for (const l of accept) assert.ok(out.includes(`lint accepted by the profile: ${l}`), out);
    const entries = readFileSync(lab.path('priv', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const signed = entries.filter((e) => e.kind === 'certificate.signed').at(-1);
    assert.deepEqual(signed.facts.lint.accepted.map((a: { lint: string }) => a.lint).sort(), [...accept].sort());
    assert.ok(signed.facts.lint.accepted.every((a: { reason: string }) => a.reason.startsWith('lab hierarchy')));
    assert.equal(sh('openssl', ['verify', '-CAfile', lab.path('priv', 'ca.crt'), lab.path('srv.crt')]).code, 0);
  });

  test('a root CRL valid 400 days (BR 7.2 allow 12 months): refused before the token is reached, as the app refuses it, so the lint behind it never has to; 365 days pass the lint', () => {
    const before = treeHash(lab.path('br'));
    const calls = signCalls();
    const r = lab.run(['crl', 'gen', '--ca-dir', 'br', '--days', '400', ...tok()], env);
    const e = errorLine(r);
    // The CLI holds every CA to 365 days (CRL_VALIDITY_TOO_LONG) before opening the CA; the lint
    // gate's br.crl.next_update_too_far stays behind it for public-TLS hierarchies.
    assert.equal(e.code, 'CRL_VALIDITY_TOO_LONG');
    assert.equal(signCalls(), calls, 'no C_Sign reached the token');
    const after = treeHash(lab.path('br'));
    assert.equal(after['crlnumber'], before['crlnumber']);
    assert.equal(after['crl/ca.crl'], undefined);
    const out = ok(lab.run(['crl', 'gen', '--ca-dir', 'br', '--days', '365', ...tok()], env));
    assert.match(out, /lint: {4}no error \(public TLS rules\)/);
    assert.equal(sh('openssl', ['crl', '-in', lab.path('br', 'crl', 'ca.crl'), '-CAfile', lab.path('br', 'ca.crt'), '-noout']).code, 0);
  });
});

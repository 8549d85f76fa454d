/**
 * CA/Browser Forum BR 7.2 on the command line: a CA's CRL has its nextUpdate at most 12 months
 * (365 days) after its thisUpdate. `crl gen --days N` and `cert revoke --gen-crl --crl-days N`
 * with N over that are refused with the app's code (CRL_VALIDITY_TOO_LONG), before the CA is
 * opened: no CRL, no CRL number spent, no revocation, not one journal line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, sh, tokenArgs, treeHash, USER_PIN, type Lab } from './helpers';

let lab: Lab;
let leafSerial: string;

describe('crl gen --days over BR 7.2', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'root-key', '--var', 'cn=CRL Limit Root', '--dir', 'root'], PIN_ENV));
    // A private root (not BR-linted): the limit holds for every CA, not only public-TLS ones.
    const out = ok(lab.run(['credential', 'enroll', '-d', 'root', '-c', 'creds', '-P', 'ec/tls-server', '--var', 'cn=leaf.example', '--var', 'dns_names=leaf.example', '--unencrypted-key', ...tokenArgs()], PIN_ENV));
    leafSerial = /serial:\s+([0-9a-f]+)/.exec(out)![1];
  });
  after(() => lab?.cleanup());

  test('366 and 400 days: exit 1, CRL_VALIDITY_TOO_LONG saying the limit and what to do; no CRL file, the CA directory and its journal byte for byte as they were', () => {
    const before = treeHash(lab.path('root'));
    assert.equal(before['crl/ca.crl'], undefined, 'no CRL yet');
    for (const days of ['366', '400']) {
      const r = lab.run(['crl', 'gen', '--ca-dir', 'root', '--days', days, ...tokenArgs()], PIN_ENV);
      assert.equal(r.code, 1, r.stderr);
      const e = errorLine(r);
      assert.equal(e.code, 'CRL_VALIDITY_TOO_LONG');
      assert.match(e.message, new RegExp(`at most 365 days .*BR 7\\.2.*${days} days were asked`));
      assert.match(e.message, /Nothing was signed or written\. Give --days 365 or fewer/);
      assert.ok(!(r.stdout + r.stderr).includes(USER_PIN));
    }
    assert.equal(existsSync(lab.path('root', 'crl', 'ca.crl')), false, 'no CRL file');
    assert.deepEqual(treeHash(lab.path('root')), before, 'journal, crlnumber, index: unchanged');
  });

  test('cert revoke --gen-crl --crl-days 400: refused before the index changes; nothing revoked or journaled', () => {
    const before = treeHash(lab.path('root'));
    const r = lab.run(['cert', 'revoke', leafSerial, '-d', 'root', '-r', 'keyCompromise', '--gen-crl', '--crl-days', '400', ...tokenArgs()], PIN_ENV);
    assert.equal(r.code, 1, r.stderr);
    const e = errorLine(r);
    assert.equal(e.code, 'CRL_VALIDITY_TOO_LONG');
    assert.match(e.message, /Nothing was revoked, signed or written\. Give --crl-days 365 or fewer/);
    assert.deepEqual(treeHash(lab.path('root')), before);
    assert.match(ok(lab.run(['cert', 'list', '-d', 'root', '--status', 'valid'])), new RegExp(`^${leafSerial}\\s+valid`, 'm'), 'still valid');
  });

  test('365 days, the limit itself, is signed: nextUpdate 365 days after thisUpdate', () => {
    ok(lab.run(['crl', 'gen', '--ca-dir', 'root', '--days', '365', ...tokenArgs()], PIN_ENV));
    const text = sh('openssl', ['crl', '-in', lab.path('root', 'crl', 'ca.crl'), '-noout', '-lastupdate', '-nextupdate']).stdout;
    const [last, next] = [/lastUpdate=(.+)/.exec(text)![1], /nextUpdate=(.+)/.exec(text)![1]].map((d) => new Date(d).getTime());
    assert.equal((next - last) / 86_400_000, 365);
  });
});

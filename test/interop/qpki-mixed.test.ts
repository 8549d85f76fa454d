/**
 * One CA directory, two tools taking turns: ours and the real QPKI issue 20 certificates
 * alternately (in a CA each of them made), and no serial is ever used twice; both readers list
 * the same certificates; `ca check` is clean and its repair idempotent. A directory an earlier
 * version of ours wrote (upper-case hex, serial file naming the LAST serial) is read, and
 * `ca check --repair` makes it safe for QPKI. Hostile QPKI metadata gets one clear error line
 * and leaves the directory byte for byte as it was.
 */
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, sh, SOFTHSM_LIB, TOKEN_LABEL, treeHash, USER_PIN, type Lab } from '../cli/helpers';
import { activeCaCert, certFileSerials, indexSerials, peer, peerMissing, peerOk } from './peer';

const skip = peerMissing();
let lab: Lab;
let env: NodeJS.ProcessEnv;
const ours = (args: string[], extra: Record<string, string> = {}) => lab.run(args, { HSM_PIN: USER_PIN, ...extra });
const theirs = (args: string[]) => peer(args, { env, cwd: lab.dir });

/**
 * QPKI's turn: a CSR (software key) and `cert issue`. Its `credential enroll` works once per HSM
 * CA only: it makes each credential's key in the token as "<CA key label>-0", so the second
 * enrollment finds two keys of that label and stops (QPKI's own limitation, alone as well).
 */
function qpkiIssue(dir: string, cn: string): void {
  peerOk(theirs(['csr', 'gen', '-a', 'ecdsa-p256', '--cn', cn, '--dns', cn, '--keyout', `${dir}-${cn}.key`, '-o', `${dir}-${cn}.csr`]));
  peerOk(theirs(['cert', 'issue', '-d', dir, '-P', 'ec/tls-server', '--csr', `${dir}-${cn}.csr`, '-o', `${dir}-${cn}.crt`, '--var', `cn=${cn}`, '--var', `dns_names=${cn}`]));
}

function assertUniqueAndAbove(dir: string, expected: number): string[] {
  const s = indexSerials(dir);
  assert.equal(s.length, expected, `${dir}: ${expected} certificates listed`);
  assert.equal(new Set(s.map((x) => x.toLowerCase())).size, s.length, `${dir}: no serial used twice: ${s.join(' ')}`);
  assert.deepEqual([...certFileSerials(dir)].sort(), [...s].sort(), `${dir}: one file per listed serial, named as listed`);
  const next = BigInt('0x' + readFileSync(join(dir, 'serial'), 'utf8').trim());
  for (const x of s) assert.ok(next > BigInt('0x' + x), `${dir}: the serial file is above ${x}`);
  return s;
}

describe('QPKI interop: one directory, both tools', { skip }, () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    env = { ...lab.env, HSM_PIN: USER_PIN };
    writeFileSync(lab.path('hsm.yaml'), `type: pkcs11\npkcs11:\n  lib: ${SOFTHSM_LIB}\n  token: "${TOKEN_LABEL}"\n  pin_env: HSM_PIN\n`);
  });
  after(() => lab?.cleanup());

  for (const maker of ['QPKI', 'ours'] as const) {
    test(`taking turns, 20 certificates in a CA ${maker} made (key in SoftHSM2): no serial twice, both readers agree, check clean, repair idempotent`, () => {
      const dir = `mixed-${maker}`;
      if (maker === 'QPKI') peerOk(theirs(['ca', 'init', '-P', 'ec/root-ca', '-d', dir, '--hsm-config', 'hsm.yaml', '--key-label', `k-${maker}`, '--var', 'cn=Mixed Root']));
      else ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', dir, '--hsm-config', 'hsm.yaml', '--key-label', `k-${maker}`, '--var', 'cn=Mixed Root']));
      for (let i = 0; i < 20; i++) {
        const cn = `m${i}.example`;
        if (i % 2 === 0) ok(ours(['credential', 'enroll', '-d', dir, '-c', `${dir}-creds`, '-P', 'ec/tls-server', '--var', `cn=${cn}`, '--var', `dns_names=${cn}`, '--unencrypted-key']));
        else qpkiIssue(dir, cn);
      }
      const serials = assertUniqueAndAbove(lab.path(dir), 20);
      // Every certificate verifies under the CA (OpenSSL), whichever tool signed it.
      const ca = activeCaCert(lab.path(dir));
      for (const s of serials) assert.equal(sh('openssl', ['verify', '-CAfile', ca, lab.path(dir, 'certs', `${s}.crt`)]).code, 0, `openssl verify ${s}`);
      // Both readers see the same 20, and each finds every serial by its own lookup.
      assert.match(peerOk(theirs(['cert', 'list', '-d', dir])), /Total: 20 certificate/);
      assert.equal((JSON.parse(ok(lab.run(['--json', 'cert', 'list', '-d', dir]))) as unknown[]).length, 20);
      for (const s of [serials[0], serials[1], serials[19]]) {
        assert.match(peerOk(theirs(['cert', 'info', s, '-d', dir])), /Subject/);
        assert.match(ok(ours(['cert', 'info', s, '-d', dir])), /primary signature .*VALID/);
      }
      const check = ours(['ca', 'check', '-d', dir]);
      assert.equal(check.code, 0, check.stdout);
      assert.match(check.stdout, /10 listed certificate\(s\) verify under the CA key but the journal does not record them/);
      const first = ok(ours(['ca', 'check', '-d', dir, '--repair']));
      assert.match(first, /recorded in the journal 10 certificate/);
      const snapshot = treeHash(lab.path(dir));
      const second = ok(ours(['ca', 'check', '-d', dir, '--repair']));
      assert.doesNotMatch(second, /recorded|listed serial|restored|serial file set|revoked serial/);
      assert.deepEqual(treeHash(lab.path(dir)), snapshot, 'the second repair changes nothing');
      // One more turn each after the repair.
      ok(ours(['credential', 'enroll', '-d', dir, '-c', `${dir}-creds`, '-P', 'ec/tls-server', '--var', 'cn=after.example', '--var', 'dns_names=after.example', '--unencrypted-key']));
      qpkiIssue(dir, 'after2.example');
      assertUniqueAndAbove(lab.path(dir), 22);
    });
  }

  test('a directory an earlier qpki wrote (upper-case hex, serial file = last serial): read, flagged, and after --repair QPKI reuses nothing', () => {
    ok(ours(['ca', 'init', '-P', 'ec/root-ca', '-d', 'old', '--var', 'cn=Old Root', '--unencrypted-key']));
    for (const h of ['a', 'b']) ok(ours(['credential', 'enroll', '-d', 'old', '-c', 'oldc', '-P', 'ec/tls-server', '--var', `cn=${h}.example`, '--var', `dns_names=${h}.example`, '--unencrypted-key']));
    // Rewrite it as the earlier version left it: upper case everywhere, serial = the last one.
    const d = lab.path('old');
    const lines = readFileSync(join(d, 'index.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
    for (const f of lines) {
      renameSync(join(d, 'certs', `${f[3]}.crt`), join(d, 'certs', `${f[3].toUpperCase()}.crt`));
      f[3] = f[3].toUpperCase();
    }
    writeFileSync(join(d, 'index.txt'), lines.map((f) => f.join('\t') + '\n').join(''));
    writeFileSync(join(d, 'serial'), lines[lines.length - 1][3] + '\n');
    const journal = readFileSync(join(d, 'journal.jsonl'), 'utf8');

    const check = ours(['ca', 'check', '-d', 'old']);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /the serial file names [0-9A-F]+, which is not above serial [0-9a-f]+ already used: QPKI would issue it again/);
    assert.equal(check.stdout.match(/^\s+- /gm)?.length, 1, `only the serial file is a problem (upper case is read):\n${check.stdout}`);
    // Ours reads and revokes either case.
    ok(ours(['cert', 'revoke', lines[0][3].toLowerCase(), '-d', 'old', '-r', 'superseded']));
    const rep = ok(ours(['ca', 'check', '-d', 'old', '--repair']));
    assert.match(rep, /serial file set to [0-9a-f]+, above every serial used/);
    assert.equal(ours(['ca', 'check', '-d', 'old']).code, 0);
    assert.ok(readFileSync(join(d, 'journal.jsonl'), 'utf8').startsWith(journal), 'the journal only grew');
    const q = /Serial: ([0-9A-F]+)/.exec(peerOk(theirs(['credential', 'enroll', '-d', 'old', '-c', 'oldq', '-P', 'ec/tls-server', '--var', 'cn=c.example', '--var', 'dns_names=c.example'])))![1].toLowerCase();
    assert.ok(!lines.some((f) => f[3].toLowerCase() === q), `QPKI took a new serial (${q})`);
    assert.equal(new Set(indexSerials(d).map((s) => s.toLowerCase())).size, 3);
  });

  test('hostile or broken QPKI metadata: one clear error line, no crash, no write', () => {
    peerOk(theirs(['ca', 'init', '-P', 'ec/root-ca', '-d', 'base', '--hsm-config', 'hsm.yaml', '--key-label', 'hostile-base', '--var', 'cn=Base Root']));
    peerOk(theirs(['credential', 'enroll', '-d', 'base', '-c', 'basec', '-P', 'ec/tls-server', '--var', 'cn=b.example', '--var', 'dns_names=b.example']));
    peerOk(theirs(['ca', 'init', '-P', 'ec/root-ca', '-d', 'soft', '--var', 'cn=Soft Root']));
    const cases: { name: string; from: string; spoil: (d: string) => void; code: string; says: RegExp }[] = [
      { name: 'hsm.yaml names a relative module', from: 'base', spoil: (d) => writeFileSync(join(d, 'hsm.yaml'), 'type: pkcs11\npkcs11:\n  lib: ./evil.so\n  token: "CA Token"\n  pin_env: HSM_PIN\n'), code: 'CA_INVALID', says: /not an absolute path/ },
      {
        name: 'hsm.yaml names a module inside the CA directory',
        from: 'base',
        spoil: (d) => {
          writeFileSync(join(d, 'evil.so'), 'not a library');
          writeFileSync(join(d, 'hsm.yaml'), `type: pkcs11\npkcs11:\n  lib: ${join(d, 'evil.so')}\n  token: "CA Token"\n  pin_env: HSM_PIN\n`);
        },
        code: 'CA_INVALID',
        says: /lies inside the CA directory/,
      },
      { name: 'hsm.yaml holds a PIN', from: 'base', spoil: (d) => writeFileSync(join(d, 'hsm.yaml'), `type: pkcs11\npkcs11:\n  lib: ${SOFTHSM_LIB}\n  token: "CA Token"\n  pin: "1234"\n`), code: 'CA_INVALID', says: /holds a PIN/ },
      { name: 'hsm.yaml is missing', from: 'base', spoil: (d) => unlinkSync(join(d, 'hsm.yaml')), code: 'CA_INVALID', says: /HSM configuration hsm\.yaml .* is missing/ },
      { name: 'the key file is missing', from: 'soft', spoil: (d) => rmSync(join(d, 'versions', 'v1', 'keys'), { recursive: true }), code: 'KEY_NOT_FOUND', says: /CA key file .* is missing/ },
      { name: 'a malformed index line', from: 'base', spoil: (d) => writeFileSync(join(d, 'index.txt'), readFileSync(join(d, 'index.txt'), 'utf8') + 'V\tgarbage\n'), code: 'CA_INVALID', says: /index\.txt line 2 is malformed/ },
      { name: 'a key path climbing out of the directory', from: 'soft', spoil: (d) => writeFileSync(join(d, 'ca.meta.json'), readFileSync(join(d, 'ca.meta.json'), 'utf8').replace('versions/v1/keys/ca.ecdsa-p384.key', '../../../etc/shadow')), code: 'CA_INVALID', says: /climbs out of the CA directory/ },
      { name: 'a version named like a path', from: 'soft', spoil: (d) => writeFileSync(join(d, 'ca.meta.json'), readFileSync(join(d, 'ca.meta.json'), 'utf8').replace(/"v1"/g, '"../x"')), code: 'CA_INVALID', says: /not a plain name/ },
      { name: 'ca.meta.json cut short', from: 'soft', spoil: (d) => writeFileSync(join(d, 'ca.meta.json'), readFileSync(join(d, 'ca.meta.json'), 'utf8').slice(0, 80)), code: 'CA_INVALID', says: /not valid JSON/ },
    ];
    for (const c of cases) {
      const dir = `hostile-${readdirSync(lab.dir).filter((n) => n.startsWith('hostile-')).length}`;
      cpSync(lab.path(c.from), lab.path(dir), { recursive: true });
      c.spoil(lab.path(dir));
      const before = treeHash(lab.path(dir));
      for (const args of [
        ['credential', 'enroll', '-d', dir, '-c', `${dir}-c`, '-P', 'ec/tls-server', '--var', 'cn=x.example', '--var', 'dns_names=x.example', '--unencrypted-key'],
        ['crl', 'gen', '-d', dir],
      ]) {
        const r = ours(args);
        assert.notEqual(r.code, 0, `${c.name}: ${args[0]} refused`);
        const e = errorLine(r); // exactly one error line, no stack trace
        assert.equal(e.code, c.code, `${c.name}: ${e.line}`);
        assert.match(e.message, c.says, `${c.name}: ${e.line}`);
        assert.doesNotMatch(r.stderr + r.stdout, /1234/, 'a PIN found in a file is never repeated');
      }
      assert.deepEqual(treeHash(lab.path(dir)), before, `${c.name}: nothing written`);
    }
  });
});

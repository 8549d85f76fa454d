/**
 * One code path per operation: a root CA, an issuing CA from a request and a CRL, made once by the
 * command line (`qpki ca init`, `cert issue`, `crl gen`) and once by the app's handler table (the
 * wizard's calls), from the same inputs (the same RSA key in the token, the same request file,
 * profile and variables, the same clock and serial sequence, preloaded by deterministic.cjs into
 * both processes). RSA PKCS#1 v1.5 signatures are deterministic, so the same inputs signed by one
 * engine give the same bytes: the DER is compared whole, signatures included.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureCliBuilt, firstPem, makeLab, ok, pemToDer, PIN_ENV, tokenArgs, USER_PIN, SOFTHSM_LIB, TOKEN_LABEL, type Lab } from '../cli/helpers';

const PRELOAD = resolve(__dirname, 'deterministic.cjs');
const APP_FLOW = resolve(__dirname, 'app-flow.ts');
const FIXED_TIME = '2027-01-15T09:30:00Z';
const ROOT_CN = 'One Path Root CA';
const SUB_CN = 'One Path Issuing CA';

let lab: Lab;
let csr = '';
const det = () => ({ NODE_OPTIONS: `--require ${PRELOAD}`, QPKI_TEST_FIXED_TIME: FIXED_TIME });
const der = (path: string) => pemToDer(firstPem(readFileSync(path, 'utf8')));

before(() => {
  ensureCliBuilt();
  lab = makeLab();
  ok(lab.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'rsa-4096', '--pkcs11-key-label', 'one-path-root'], PIN_ENV));
  csr = lab.path('sub.csr');
  execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:4096', '-nodes', '-keyout', lab.path('sub.key'), '-out', csr, '-subj', `/CN=${SUB_CN}`], { stdio: 'pipe' });
});
after(() => lab?.cleanup());

test('a root, an issuing CA from a request and a CRL: the command line and the app sign the same DER from the same inputs', () => {
  // The command line.
  const cliRoot = lab.path('cli-root');
  ok(lab.run(['ca', 'init', '--profile', 'rsa/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'one-path-root', '--use-existing-key', '--var', `cn=${ROOT_CN}`, '--dir', cliRoot], { ...PIN_ENV, ...det() }));
  const cliSub = lab.path('cli-sub.crt');
  ok(lab.run(['cert', 'issue', '--ca-dir', cliRoot, '--csr', csr, '--profile', 'rsa/issuing-ca', '--var', `cn=${SUB_CN}`, '--out', cliSub, '--pkcs11-pin-env', 'QPKI_TEST_PIN'], { ...PIN_ENV, ...det() }));
  ok(lab.run(['crl', 'gen', '--ca-dir', cliRoot, '--days', '30', '--pkcs11-pin-env', 'QPKI_TEST_PIN'], { ...PIN_ENV, ...det() }));

  // The app's handler table, in its own process with the same clock and serial sequence.
  const appRoot = lab.path('app-root');
  const args = { lib: SOFTHSM_LIB, tokenSerial: lab.serial, pinEnv: 'QPKI_TEST_PIN', keyLabel: 'one-path-root', rootDir: appRoot, csr, rootCn: ROOT_CN, subCn: SUB_CN, crlDays: 30, dataDir: lab.path('app-data') };
  const r = spawnSync(process.execPath, ['--import', 'tsx', APP_FLOW, JSON.stringify(args)], { env: { ...lab.env, ...PIN_ENV, ...det() }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const app = JSON.parse(r.stdout) as { root: string; sub: string; crl: string };

  const pairs: Array<[string, string, string]> = [
    ['root CA certificate', join(cliRoot, 'ca.crt'), app.root],
    ['issuing CA certificate', cliSub, app.sub],
    ['CRL', join(cliRoot, 'crl', 'ca.crl'), app.crl],
  ];
  for (const [what, a, b] of pairs) {
    const x = der(a);
    const y = der(b);
    if (!x.equals(y)) {
      // Say where they part, in OpenSSL's words, so a drift between the two paths is readable.
      const show = (p: string) => execFileSync('openssl', [what === 'CRL' ? 'crl' : 'x509', '-in', p, '-noout', '-text'], { encoding: 'utf8' });
      assert.equal(show(b), show(a), `${what}: the app's bytes differ from the command line's`);
    }
    assert.ok(x.equals(y), `${what}: the same DER (${x.length} bytes)`);
  }
  // The same inputs really were the same: one key, one clock.
  const dates = execFileSync('openssl', ['x509', '-in', app.root, '-noout', '-startdate'], { encoding: 'utf8' });
  assert.match(dates, /Jan 15 09:30:00 2027 GMT/);
  for (const f of [join(cliRoot, 'journal.jsonl'), join(appRoot, 'journal.jsonl')]) assert.ok(!readFileSync(f, 'utf8').includes(USER_PIN));
  assert.ok(TOKEN_LABEL);
});

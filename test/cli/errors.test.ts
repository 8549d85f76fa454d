/**
 * How `qpki` fails: every refusal is exit 1 with exactly one `error [CODE]: message` line and no
 * stack; a usage error is exit 2 in the same form. Each case checks that nothing was left behind.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { errorLine, ensureCliBuilt, makeLab, ok, PIN_ENV, sh, SOFTHSM_LIB, tokenArgs, treeHash, USER_PIN, type Lab } from './helpers';
import { pythonCertFacts } from './independent';

const labs: Lab[] = [];
function lab(): Lab {
  const l = makeLab();
  labs.push(l);
  return l;
}

function initArgs(label: string, dir: string, extra: string[] = []): string[] {
  return ['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'CA Token', '--pkcs11-key-label', label, '--var', 'cn=Err CA', '--dir', dir, ...extra];
}

/** Private keys in the token, read by pkcs11-tool (not by qpki). */
function tokenKeyLabels(l: Lab): string[] {
  const r = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '-O', '--type', 'privkey'], { env: l.env });
  return [...r.stdout.matchAll(/label:\s+(.+)$/gm)].map((m) => m[1].trim());
}

describe('qpki errors: PINs', () => {
  before(ensureCliBuilt);
  afterEach(() => {
    while (labs.length) labs.pop()!.cleanup();
  });

  test('a wrong PIN is PIN_INCORRECT: exit 1, one line, no stack, no key, no CA dir, the PIN not echoed', () => {
    const l = lab();
    const r = l.run(initArgs('k', 'ca', ['--pkcs11-pin-env', 'PIN']), { PIN: 'wrong-PIN-555555' });
    assert.equal(r.code, 1);
    const e = errorLine(r);
    assert.equal(e.code, 'PIN_INCORRECT');
    assert.equal(r.stdout, '');
    assert.ok(!r.stderr.includes('wrong-PIN-555555'));
    assert.ok(!existsSync(l.path('ca')));
    assert.deepEqual(tokenKeyLabels(l), []);
  });

  test('an empty PIN variable is PIN_REQUIRED; so is an unset one and an empty PIN file', () => {
    const l = lab();
    const empty = l.run(initArgs('k', 'ca', ['--pkcs11-pin-env', 'EMPTY_PIN']), { EMPTY_PIN: '' });
    assert.equal(empty.code, 1);
    assert.equal(errorLine(empty).code, 'PIN_REQUIRED');
    assert.match(errorLine(empty).message, /EMPTY_PIN.*empty/);
    const env = { ...l.env };
    delete env.UNSET_PIN;
    const unset = l.run(initArgs('k', 'ca', ['--pkcs11-pin-env', 'UNSET_PIN']));
    assert.equal(errorLine(unset).code, 'PIN_REQUIRED');
    assert.match(errorLine(unset).message, /UNSET_PIN.*not set/);
    writeFileSync(l.path('empty-pin'), '\n');
    const file = l.run(initArgs('k', 'ca', ['--pkcs11-pin-file', 'empty-pin']));
    assert.equal(errorLine(file).code, 'PIN_REQUIRED');
    const missingFile = l.run(initArgs('k', 'ca', ['--pkcs11-pin-file', 'no-such-file']));
    assert.equal(missingFile.code, 1);
    assert.match(errorLine(missingFile).message, /no-such-file/);
    assert.ok(!existsSync(l.path('ca')));
  });

  test('no PIN and no terminal: PIN_REQUIRED saying how to give one', () => {
    const l = lab();
    const r = l.run(initArgs('k', 'ca'));
    assert.equal(r.code, 1);
    const e = errorLine(r);
    assert.equal(e.code, 'PIN_REQUIRED');
    assert.match(e.message, /--pkcs11-pin-env/);
    assert.match(e.message, /--pkcs11-pin-file/);
    // Same for a command that opens an existing CA.
    ok(l.run(initArgs('k', 'ca', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV));
    const crl = l.run(['crl', 'gen', '--ca-dir', 'ca']);
    assert.equal(errorLine(crl).code, 'PIN_REQUIRED');
  });

  test('a PIN on the command line works but prints the visibility warning; from env or file it does not', () => {
    const l = lab();
    const r = l.run(initArgs('k', 'ca', ['--pkcs11-pin', USER_PIN]));
    ok(r);
    assert.match(r.stderr, /^warning: a token PIN given with --pkcs11-pin is visible to other processes.*prefer --pkcs11-pin-env/m);
    const quiet = l.run(['crl', 'gen', '--ca-dir', 'ca', ...tokenArgs()], PIN_ENV);
    ok(quiet);
    assert.doesNotMatch(quiet.stderr, /visible to other processes/);
  });
});

describe('qpki errors: token, module, CA directory', () => {
  afterEach(() => {
    while (labs.length) labs.pop()!.cleanup();
  });

  test('the same --pkcs11-key-label twice: KEY_LABEL_EXISTS, the second CA dir is not created, one key stays', () => {
    const l = lab();
    ok(l.run(initArgs('ca-key', 'first', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV));
    const r = l.run(initArgs('ca-key', 'second', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV);
    assert.equal(r.code, 1);
    const e = errorLine(r);
    assert.equal(e.code, 'KEY_LABEL_EXISTS');
    assert.match(e.message, /"ca-key"/);
    assert.ok(!existsSync(l.path('second')));
    assert.deepEqual(tokenKeyLabels(l), ['ca-key']);
    // The first CA still signs with that key.
    ok(l.run(['crl', 'gen', '--ca-dir', 'first', ...tokenArgs()], PIN_ENV));
  });

  test('a module path that does not exist, a file that is no library, a library that is not PKCS#11: MODULE_LOAD_FAILED', () => {
    const l = lab();
    writeFileSync(l.path('not-a-lib.so'), 'this is text, not an ELF file\n');
    const libz = ['/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/lib/aarch64-linux-gnu/libz.so.1'].find(existsSync);
    const modules = [l.path('missing', 'libpkcs11.so'), l.path('not-a-lib.so'), ...(libz ? [libz] : [])];
    assert.ok(libz, 'libz present to stand for a real shared library without C_GetFunctionList');
    for (const m of modules) {
      const r = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', m, '--pkcs11-token', 'CA Token', '--pkcs11-pin-env', 'QPKI_TEST_PIN', '--pkcs11-key-label', 'k', '--var', 'cn=X', '--dir', 'ca'], PIN_ENV);
      assert.equal(r.code, 1, m);
      const e = errorLine(r);
      assert.equal(e.code, 'MODULE_LOAD_FAILED', `${m}: ${e.line}`);
      assert.ok(e.message.includes(m), `names the path: ${e.line}`);
      const list = l.run(['token', 'list', '--pkcs11-lib', m]);
      assert.equal(errorLine(list).code, 'MODULE_LOAD_FAILED');
    }
    assert.ok(!existsSync(l.path('ca')));
  });

  test('an unknown token label is TOKEN_NOT_FOUND', () => {
    const l = lab();
    const r = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'No Such Token', '--pkcs11-pin-env', 'QPKI_TEST_PIN', '--pkcs11-key-label', 'k', '--var', 'cn=X', '--dir', 'ca'], PIN_ENV);
    assert.equal(errorLine(r).code, 'TOKEN_NOT_FOUND');
    assert.match(errorLine(r).message, /No Such Token/);
  });

  test('two tokens with the same label: TOKEN_AMBIGUOUS naming the serials; the serial then picks one', () => {
    const l = lab();
    // The store's helper finds a serial by label, which is ambiguous here: take the serial that is new.
    const serials = () => [...sh('softhsm2-util', ['--show-slots'], { env: l.env }).stdout.matchAll(/Serial number:\s+(\S+)/g)].map((m) => m[1]);
    const before = new Set(serials());
    l.store.initToken('CA Token', 'so-PIN-2222222222', 'user-PIN-2222222222');
    const fresh = serials().filter((x) => !before.has(x));
    assert.equal(fresh.length, 1, fresh.join(','));
    const second = fresh[0];
    assert.notEqual(second, l.serial);
    const r = l.run(initArgs('k', 'ca', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV);
    assert.equal(r.code, 1);
    const e = errorLine(r);
    assert.equal(e.code, 'TOKEN_AMBIGUOUS');
    assert.ok(e.message.includes(l.serial) && e.message.includes(second), e.line);
    assert.ok(!existsSync(l.path('ca')));
    const out = ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token-serial', second, '--pkcs11-pin-env', 'P2', '--pkcs11-key-label', 'k', '--var', 'cn=Second', '--dir', 'ca'], { P2: 'user-PIN-2222222222' }));
    assert.match(out, new RegExp(`serial ${second}`));
    // The CA remembers the serial, so it opens without naming the token again.
    ok(l.run(['crl', 'gen', '--ca-dir', 'ca', '--pkcs11-pin-env', 'P2'], { P2: 'user-PIN-2222222222' }));
  });

  test('an existing CA dir is CA_EXISTS and every file in it is untouched; no key is generated', () => {
    const l = lab();
    ok(l.run(initArgs('one', 'ca', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV));
    ok(l.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=x.example.com', '--cred-dir', 'creds', ...tokenArgs()], PIN_ENV));
    const before = treeHash(l.path('ca'));
    for (const flag of ['--dir', '--ca-dir']) {
      const r = l.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'two', '--var', 'cn=Again', flag, 'ca'], PIN_ENV);
      assert.equal(r.code, 1);
      assert.equal(errorLine(r).code, 'CA_EXISTS');
    }
    const soft = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-env', 'QPKI_TEST_PIN', '--var', 'cn=Again', '--dir', 'ca'], PIN_ENV);
    assert.equal(errorLine(soft).code, 'CA_EXISTS');
    assert.deepEqual(treeHash(l.path('ca')), before);
    assert.deepEqual(tokenKeyLabels(l), ['one']);
    // A non-empty directory that is not a CA is not taken over either.
    writeFileSync(l.path('creds', 'note.txt'), 'mine');
    const credsBefore = treeHash(l.path('creds'));
    const other = l.run(initArgs('three', 'creds', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV);
    assert.equal(other.code, 1);
    errorLine(other);
    assert.deepEqual(treeHash(l.path('creds')), credsBefore);
    assert.deepEqual(tokenKeyLabels(l), ['one'], 'no key generated for a CA that cannot be created');
  });

  test('a directory that is not a CA: CA_NOT_FOUND for every command that opens one', () => {
    const l = lab();
    for (const args of [['ca', 'info', '--dir', 'nowhere'], ['ca', 'check', '--dir', 'nowhere'], ['crl', 'gen', '--ca-dir', 'nowhere', ...tokenArgs()], ['credential', 'enroll', '--ca-dir', 'nowhere', '--profile', 'ec/tls-server', '--var', 'cn=a.example.com', ...tokenArgs()], ['cert', 'revoke', '01', '--ca-dir', 'nowhere']]) {
      const r = l.run(args, PIN_ENV);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(errorLine(r).code, 'CA_NOT_FOUND', `${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('qpki errors: profile variables through the command line', () => {
  let l: Lab;
  after(() => {
    while (labs.length) labs.pop()!.cleanup();
  });
  before(() => {
    l = makeLab();
    labs.push(l);
    ok(l.run(initArgs('ca', 'ca', ['--pkcs11-pin-env', 'QPKI_TEST_PIN']), PIN_ENV));
    // A profile with one variable per rule (built-ins have no enum or integer).
    writeFileSync(
      l.path('rules.yaml'),
      `name: test/rules
description: "one variable per rule"
algorithm: ec-p256
validity: 30d
variables:
  cn: { type: string, required: true, maxLength: 64 }
  tier: { type: string, enum: [gold, silver] }
  code: { type: string, pattern: "^[A-Z]{3}$" }
  seats: { type: integer, min: 1, max: 10 }
  host: { type: dns_name }
  mail: { type: email }
  addr: { type: ip_list }
  organization: { type: string }
subject:
  o: "{{ organization }}"
  cn: "{{ cn }}"
extensions:
  basicConstraints: { critical: true, ca: false }
  keyUsage: { critical: true, values: [digitalSignature] }
  subjectAltName:
    dns: "{{ host }}"
    email: "{{ mail }}"
    ip: "{{ addr }}"
`,
    );
  });

  const cases: { vars: string[]; variable: string; rule: RegExp; value: string }[] = [
    { vars: [], variable: 'cn', rule: /required/, value: '' },
    { vars: ['cn=x', 'code=abc'], variable: 'code', rule: /pattern/, value: 'abc' },
    { vars: ['cn=x', 'tier=bronze'], variable: 'tier', rule: /enum/, value: 'bronze' },
    { vars: ['cn=x', 'seats=0'], variable: 'seats', rule: /min/, value: '0' },
    { vars: ['cn=x', 'seats=11'], variable: 'seats', rule: /max/, value: '11' },
    { vars: ['cn=x', 'seats=two'], variable: 'seats', rule: /integer/, value: 'two' },
    { vars: ['cn=x', 'host=bad host'], variable: 'host', rule: /DNS name/, value: 'bad host' },
    { vars: ['cn=x', 'mail=nobody'], variable: 'mail', rule: /e-mail/, value: 'nobody' },
    { vars: ['cn=x', 'addr=10.0.0.300'], variable: 'addr', rule: /IPv4 or IPv6/, value: '10.0.0.300' },
    { vars: ['cn=x', 'colour=blue'], variable: 'colour', rule: /not defined by profile|unknown/, value: 'blue' },
  ];
  for (const c of cases) {
    test(`${c.variable}: ${c.rule.source} → VARIABLE_INVALID naming variable, rule and value`, () => {
      const r = l.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', l.path('rules.yaml'), ...c.vars.flatMap((v) => ['--var', v]), '--cred-dir', 'creds', ...tokenArgs()], PIN_ENV);
      assert.equal(r.code, 1);
      const e = errorLine(r);
      assert.equal(e.code, 'VARIABLE_INVALID', e.line);
      assert.ok(e.message.includes(`"${c.variable}"`), `names the variable: ${e.line}`);
      assert.match(e.message, c.rule, `names the rule: ${e.line}`);
      if (c.value) assert.ok(e.message.includes(JSON.stringify(c.value)), `names the value: ${e.line}`);
      assert.ok(!existsSync(l.path('creds')), 'nothing written');
    });
  }

  test('the refusal comes before any key is made: ca init with a bad variable leaves no key and no dir', () => {
    const r = l.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'never', '--var', 'cn=X', '--var', 'country=france', '--dir', 'never'], PIN_ENV);
    assert.equal(errorLine(r).code, 'VARIABLE_INVALID');
    assert.ok(!existsSync(l.path('never')));
    assert.ok(!tokenKeyLabels(l).includes('never'));
  });

  test('--var organization="ACME, Inc." stays one O value; all rules passing issues the certificate', () => {
    const out = ok(l.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', l.path('rules.yaml'), '--var', 'cn=Rules', '--var', 'organization=ACME, Inc.', '--var', 'tier=gold', '--var', 'code=ABC', '--var', 'seats=10', '--var', 'host=ok.example.com', '--var', 'mail=a@example.com', '--var', 'addr=10.0.0.1', '--cred-dir', 'ok-creds', ...tokenArgs()], PIN_ENV));
    const cert = /wrote:\s+(\S+cert\.pem)/.exec(out)![1];
    const [f] = pythonCertFacts([cert, l.path('ca', 'ca.crt')]);
    assert.deepEqual(f.o, ['ACME, Inc.']);
    assert.equal(f.days, 30);
    const text = sh('openssl', ['x509', '-in', cert, '-noout', '-text']).stdout;
    assert.match(text, /DNS:ok\.example\.com/);
    assert.match(text, /email:a@example\.com/);
    assert.match(text, /IP Address:10\.0\.0\.1/);
  });
});

describe('qpki usage errors and help', () => {
  test('unknown option, missing required option, unknown command, bad choice: exit 2, one line with a code and the help to read', () => {
    const env = { ...process.env };
    const cases: [string[], RegExp][] = [
      [['ca', 'init', '--profile', 'ec/root-ca', '--no-such-flag'], /unknown option '--no-such-flag' \(see: qpki ca init --help\)/],
      [['ca', 'init', '--dir', 'x'], /required option '-P, --profile <name>' not specified/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['cert', 'revoke', '01', '--reason', 'whim'], /argument 'whim' is invalid/],
      [['token', 'list', '--pkcs11-lib'], /option '--pkcs11-lib <path>' argument missing/],
    ];
    // Without a module (it may come from --pkcs11-lib or --hsm-config): one line saying both, exit 1.
    const noLib = sh(process.execPath, [require.resolve('../../bin/qpki.cjs'), 'token', 'list'], { env });
    assert.equal(noLib.code, 1);
    assert.match(errorLine(noLib).message, /--pkcs11-lib \(or --hsm-config\)/);
    for (const [args, msg] of cases) {
      const r = sh(process.execPath, [require.resolve('../../bin/qpki.cjs'), ...args], { env });
      assert.equal(r.code, 2, args.join(' '));
      const e = errorLine(r);
      assert.equal(e.code, 'INPUT_INVALID');
      assert.match(e.line, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('--help lists every command; each command documents its options; --version prints the version', () => {
    const run = (a: string[]) => sh(process.execPath, [require.resolve('../../bin/qpki.cjs'), ...a]);
    const top = run(['--help']);
    assert.equal(top.code, 0);
    for (const c of ['ca', 'cert', 'crl', 'credential', 'token', 'key', 'journal', 'profile']) assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), c);
    const init = run(['ca', 'init', '--help']).stdout;
    for (const o of ['--profile', '--pkcs11-lib', '--pkcs11-token', '--pkcs11-token-serial', '--pkcs11-pin-env', '--pkcs11-pin-file', '--pkcs11-key-label', '--use-existing-key', '--hsm-config', '--var', '--dir', '--ca-dir', '--parent', '--passphrase-env', '--passphrase-file']) assert.ok(init.includes(o), `ca init --help shows ${o}`);
    const enroll = run(['credential', 'enroll', '--help']).stdout;
    for (const o of ['--ca-dir', '--profile', '--cred-dir', '--key-in-token', '--passphrase-env']) assert.ok(enroll.includes(o), `credential enroll --help shows ${o}`);
    const v = run(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});

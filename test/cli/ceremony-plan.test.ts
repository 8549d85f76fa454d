/**
 * Ceremony plans through the real command line: the README's example plan (token initialization,
 * root, issuing CA from a key of the plan, CRL) rehearsed on Debian's SoftHSM2 and run unchanged,
 * with only the environment file different, on another module build (SoftHSM2 with ML-DSA, from
 * ../shared); `ceremony compare` passes, and fails once one variable of the plan changes. What
 * it makes is checked with OpenSSL and Python `cryptography`; bad plans and environment files are
 * refused with the line named, before anything is done; a failing step stops the run and is recorded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, ok, python, qpki, ROOT, sh, SOFTHSM_LIB } from './helpers';
import { makeSoftHsmStore, mldsaTokenMissing, MLDSA_SOFTHSM, type SoftHsmStore } from '../softhsm';

const PLAN = join(ROOT, 'examples', 'ceremony', 'root-ceremony.yaml');
const ENV_FILE = join(ROOT, 'examples', 'ceremony', 'environment.rehearsal.yaml');
const USER = 'plan-user-PIN-4711-canary';
const SO = 'plan-so-PIN-0815-canary';
const PINS = { CEREMONY_CA_PIN: USER, CEREMONY_CA_SO_PIN: SO };
const JUSTIFY = ['--preflight-justification', 'Test machine: the network stays up in CI; witnesses agreed.'];

const stores: SoftHsmStore[] = [];
let work: string;

function store(module?: typeof MLDSA_SOFTHSM): SoftHsmStore {
  const s = makeSoftHsmStore(module ?? undefined);
  stores.push(s);
  return s;
}

function run(s: SoftHsmStore, args: string[]) {
  return qpki(args, { env: { ...s.env, ...PINS } });
}

function envFor(lib: string, name: string): string {
  const p = join(work, name);
  writeFileSync(p, readFileSync(ENV_FILE, 'utf8').replace('/usr/lib/softhsm/libsofthsm2.so', lib));
  return p;
}

function journal(dir: string): { kind: string; facts: Record<string, unknown> }[] {
  return readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

before(() => {
  ensureCliBuilt();
  const s = makeSoftHsmStore();
  stores.push(s);
  work = join(s.dir, 'plans');
  mkdirSync(work);
});
after(() => stores.forEach((s) => s.cleanup()));

describe('the example plan, rehearsed and run unchanged on another module', { skip: mldsaTokenMissing() }, () => {
  let rehearsal: string;
  let production: string;

  test('check prints the plan in words with its SHA-256, and does nothing', () => {
    const s = store();
    const r = run(s, ['ceremony', 'check', PLAN, '--env', ENV_FILE]);
    const out = ok(r);
    const hash = sha256(readFileSync(PLAN));
    assert.ok(out.replace(/\s+/g, '').includes(hash), `the plan's SHA-256 ${hash} is printed:\n${out}`);
    assert.match(out, /Step 1 of 6: initialize the ca token/);
    assert.match(out, /Step 5 of 6: subordinate CA CN=Example TLS Issuing CA 2027/);
    assert.match(out, /Alice Martin \(operator\)/);
    assert.deepEqual(readdirSync(s.tokenDir), [], 'no token was initialized by check');
  });

  test('rehearsal on Debian SoftHSM2 2.6', () => {
    const s = store();
    rehearsal = join(work, 'rehearsal');
    const r = run(s, ['ceremony', 'run', PLAN, '--env', ENV_FILE, '--out', rehearsal, '--rehearsal']);
    ok(r);
    assert.match(r.stderr, /Step 6 of 6: CRL of root/);
    const m = JSON.parse(readFileSync(join(rehearsal, 'outputs.json'), 'utf8'));
    assert.equal(m.completed, true);
    assert.equal(m.rehearsal, true);
    assert.equal(m.steps.length, 6);
    assert.deepEqual(readFileSync(join(rehearsal, 'plan.yaml')), readFileSync(PLAN), 'the plan is kept byte for byte');
    // The transcript the witnesses sign says each step as the operator's screen did, and what it made.
    const html = join(work, 'rehearsal-transcript.html');
    ok(qpki(['journal', 'transcript', '--dir', rehearsal, '--out', html], { env: s.env }));
    const page = readFileSync(html, 'utf8');
    assert.ok(page.includes('<span class="k">Plan step</span> <span class="v">Step 3 of 6 (root): self-signed root CA CN=Example Root CA 2027'), 'the started step in words');
    assert.ok(page.includes('<span class="k">Plan step</span> <span class="v">Step 3 of 6 (root, root CA)</span>'), 'the completed step in words');
    assert.ok(page.includes('<span class="k">Made</span> <span class="v">CA directory root-ca/, certificate root-ca/'), 'the files the root step made');
    const rootCrt = m.steps.find((x: { id: string }) => x.id === 'root').outputs.find((o: { kind: string }) => o.kind === 'certificate');
    assert.ok(page.replace(/\s+/g, '').includes(`SHA-256of${rootCrt.path}</span><spanclass="vhex">${rootCrt.sha256}`), 'each file with its SHA-256, shown as a fingerprint');
    const raw = [...page.matchAll(/<div class="kind">([a-z.]+)<\/div>(?:(?!<div class="kind">).)*?<span class="k">(of|type)<\/span>/gs)].map((x) => `${x[1]}: ${x[2]}`);
    assert.deepEqual(raw, [], 'no raw step facts left');
  });

  test('the same plan runs on the ML-DSA SoftHSM2 build, only the environment file differs', () => {
    const s = store(MLDSA_SOFTHSM);
    production = join(work, 'production');
    const env = envFor(MLDSA_SOFTHSM!.lib, 'environment.production.yaml');
    const r = run(s, ['ceremony', 'run', PLAN, '--env', env, '--out', production, ...JUSTIFY, '--clock-reference', new Date().toISOString().replace(/\.\d+Z$/, 'Z'), '--clock-witness', 'Bruno Keller']);
    ok(r);
    assert.match(r.stderr, /warning: the ca token's module is SoftHSM2, a development token/);
    const j = journal(production);
    // The record opens with the ceremony and the plan's hash, and closes it.
    assert.equal(j[0].kind, 'ceremony.opened');
    assert.equal(j[0].facts.planSha256, sha256(readFileSync(PLAN)));
    assert.equal(j[0].facts.rehearsal, false);
    assert.equal(j.at(-1)!.kind, 'ceremony.closed');
    assert.equal(j.at(-1)!.facts.outcome, 'completed');
    const loaded = j.find((e) => e.kind === 'plan.loaded')!;
    assert.equal(loaded.facts.planSha256, sha256(readFileSync(PLAN)));
    assert.deepEqual(j.filter((e) => e.kind === 'plan.step.completed').map((e) => e.facts.step), [1, 2, 3, 4, 5, 6]);
    const clock = j.find((e) => e.kind === 'witness.acknowledged' && e.facts.what === 'clock')!;
    assert.equal(clock.facts.witness, 'Bruno Keller');
    assert.ok(Math.abs(Number(clock.facts.differenceSeconds)) < 120);
    const keys = j.filter((e) => e.kind === 'key.generated');
    assert.equal(keys.length, 2);
    for (const k of keys) assert.deepEqual({ s: (k.facts.attributes as Record<string, boolean>).sensitive, x: (k.facts.attributes as Record<string, boolean>).extractable }, { s: true, x: false });
    const init = j.find((e) => e.kind === 'token.initialized')!;
    assert.equal(init.facts.label, 'EXAMPLE-ROOT-2027');
    // The module loaded is the one the environment names.
    assert.ok(j.some((e) => e.kind === 'module.loaded' && e.facts.path === MLDSA_SOFTHSM!.lib && e.facts.developmentToken === true));
    // Every journal (the ceremony's and each CA's) verifies.
    for (const d of [production, join(production, 'root-ca'), join(production, 'issuing-ca')]) ok(qpki(['journal', 'verify', '--ca-dir', d], { env: s.env }));
    // The keys are in the token, as pkcs11-tool (not ours) lists them.
    const objs = sh('pkcs11-tool', ['--module', MLDSA_SOFTHSM!.lib, '--token-label', 'EXAMPLE-ROOT-2027', '--login', '--pin', USER, '--list-objects', '--type', 'privkey'], { env: s.env });
    assert.match(objs.stdout, /label:\s+example-root-2027/);
    assert.match(objs.stdout, /label:\s+example-issuing-2027/);
  });

  test('what the run made verifies with OpenSSL and Python cryptography', () => {
    const root = join(production, 'root-ca', 'ca.crt');
    const issuing = join(production, 'issuing-ca', 'ca.crt');
    const crl = join(production, 'root-ca.crl');
    assert.equal(sh('openssl', ['verify', '-x509_strict', '-CAfile', root, issuing]).code, 0);
    const c = sh('openssl', ['crl', '-in', crl, '-noout', '-CAfile', root]);
    assert.match(c.stderr + c.stdout, /verify OK/);
    const out = python(
      `import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
root = x509.load_pem_x509_certificate(open(sys.argv[1],'rb').read())
sub = x509.load_pem_x509_certificate(open(sys.argv[2],'rb').read())
crl = x509.load_pem_x509_crl(open(sys.argv[3],'rb').read())
root.public_key().verify(sub.signature, sub.tbs_certificate_bytes, ec.ECDSA(sub.signature_hash_algorithm))
assert crl.is_signature_valid(root.public_key())
days = (crl.next_update_utc - crl.last_update_utc).days
print(sub.subject.rfc4514_string(), sub.issuer == root.subject, days)`,
      [root, issuing, crl],
    );
    assert.equal(out.trim(), 'CN=Example TLS Issuing CA 2027,O=Example Corp.,C=FR True 365');
  });

  test('compare: the rehearsal and the run agree', () => {
    const r = qpki(['ceremony', 'compare', rehearsal, production], { env: process.env });
    assert.match(ok(r), /The runs agree: 3 documents compared/);
  });

  test('compare: one variable changed in the plan makes the runs differ', () => {
    const s = store();
    const changed = join(work, 'changed.yaml');
    writeFileSync(changed, readFileSync(PLAN, 'utf8').replace('http://crl.example.com/root-2027.crl', 'http://crl.example.com/root.crl'));
    const out = join(work, 'changed-run');
    ok(run(s, ['ceremony', 'run', changed, '--env', ENV_FILE, '--out', out, '--rehearsal']));
    const r = qpki(['ceremony', 'compare', out, production], { env: process.env });
    assert.equal(r.code, 1);
    assert.equal(errorLine(r).code, 'RUNS_DIFFER');
    assert.match(r.stdout, /plan SHA-256/);
    // The CRL distribution point extension of the issuing CA (2.5.29.31) is named.
    assert.match(r.stdout, /step 5 \(issuing\) issuing-ca\/ca\.crt: extension 2\.5\.29\.31/);
    assert.doesNotMatch(r.stdout, /2\.5\.29\.14|serial/i, 'key identifiers and serials are not differences');
  });

  test('no PIN reaches the record, the outputs or the console', () => {
    for (const d of [rehearsal, production]) {
      for (const f of allFiles(d)) {
        const text = readFileSync(f).toString('latin1');
        assert.ok(!text.includes(USER) && !text.includes(SO), `a PIN is in ${f}`);
      }
    }
  });
});

describe('a run that cannot go on', () => {
  test('a production run with preflight warnings and no justification is refused before anything is done', (t) => {
    const up = Object.entries(networkInterfaces()).some(([name, as]) => name !== 'lo' && (as ?? []).some((a) => !a.internal));
    if (!up) {
      t.skip('no network interface is up on this machine, so the preflight has no warning to justify');
      return;
    }
    const s = store();
    const out = join(work, 'refused');
    const r = run(s, ['ceremony', 'run', PLAN, '--env', ENV_FILE, '--out', out]);
    assert.equal(errorLine(r).code, 'INPUT_INVALID');
    assert.match(r.stderr, /--preflight-justification/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(s.tokenDir), []);
  });

  test('the witness rules are the app\'s: a clock more than 5 minutes off, a reference time not in UTC, the operator as clock witness and a reason under 10 characters are each refused before anything is done', () => {
    const s = store();
    const hourAgo = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cases: [string[], RegExp][] = [
      [['--clock-reference', hourAgo, '--clock-witness', 'Bruno Keller'], /is 3\d{3} s ahead of the reference time: more than 5 minutes\. Set the laptop clock, then run the ceremony again\. Nothing was done\./],
      [['--clock-reference', now.replace('Z', '+01:00'), '--clock-witness', 'Bruno Keller'], /is not a UTC time/],
      [['--clock-reference', now, '--clock-witness', 'Alice Martin'], /“Alice Martin” is not one/],
    ];
    const up = Object.entries(networkInterfaces()).some(([name, as]) => name !== 'lo' && (as ?? []).some((a) => !a.internal));
    // A reason too short to say anything: refused when the preflight warned (a network interface up).
    if (up) cases.push([['--preflight-justification', 'ok', '--clock-reference', now, '--clock-witness', 'Bruno Keller'], /at least 10 characters \(qpki: --preflight-justification TEXT\)/]);
    for (const [i, [flags, message]] of cases.entries()) {
      const out = join(work, `witness-refused-${i}`);
      const r = run(s, ['ceremony', 'run', PLAN, '--env', ENV_FILE, '--out', out, ...(up && !flags.includes('--preflight-justification') ? JUSTIFY : []), ...flags]);
      const e = errorLine(r);
      assert.equal(e.code, 'INPUT_INVALID', `${flags.join(' ')}: ${r.stderr}`);
      assert.match(e.message, message);
      assert.equal(existsSync(out), false, 'no output directory');
    }
    assert.deepEqual(readdirSync(s.tokenDir), [], 'the token store is untouched');
  });

  test('a step that fails stops the run, is recorded, and the output directory is never reused', () => {
    const s = store();
    // A token with the plan's label is already there: initializing a second one is refused.
    s.initToken('EXAMPLE-ROOT-2027', SO, USER);
    const out = join(work, 'stopped');
    const r = run(s, ['ceremony', 'run', PLAN, '--env', ENV_FILE, '--out', out, '--rehearsal']);
    const e = errorLine(r);
    assert.equal(e.code, 'PLAN_STEP_FAILED');
    assert.match(e.message, /Step 1 of 6 \(init-ca-token/);
    assert.match(e.message, /What to do:/);
    const j = journal(out);
    assert.ok(j.some((x) => x.kind === 'error' && x.facts.step === 1));
    assert.match(String(j.at(-1)!.facts.outcome), /stopped at step 1 of 6/);
    assert.equal(JSON.parse(readFileSync(join(out, 'outputs.json'), 'utf8')).completed, false);
    const again = run(s, ['ceremony', 'run', PLAN, '--env', ENV_FILE, '--out', out, '--rehearsal']);
    assert.equal(errorLine(again).code, 'OUTPUT_EXISTS');
  });
});

describe('bad plans and environment files are refused with the line, and nothing is done', () => {
  const base = () => readFileSync(PLAN, 'utf8');
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const cases: { name: string; make: () => string; needle: string; message: RegExp }[] = [
    { name: 'an unknown key', make: () => base().replace('    label: example-root-2027', '    label: example-root-2027\n    lable: typo'), needle: 'lable: typo', message: /unknown key "lable"/ },
    { name: 'a wrong type', make: () => base().replace('nextUpdateDays: 365', 'nextUpdateDays: "a year"'), needle: 'nextUpdateDays', message: /nextUpdateDays: must be a number$/ },
    { name: 'a step using a key no earlier step makes', make: () => base().replace('    key: issuing-key', '    key: issuing-kee'), needle: 'key: issuing-kee', message: /no earlier key step makes/ },
    { name: 'a YAML tag', make: () => base().replace('cn: Example Root CA 2027', 'cn: !!binary RXhhbXBsZQ=='), needle: '!!binary', message: /tags/ },
    { name: 'an alias bomb', make: () => base().replace('participants:', 'bomb: &a ["x","x","x","x"]\nbomb2: [*a,*a,*a,*a]\nparticipants:'), needle: '&a', message: /anchors|aliases/ },
    { name: 'a PIN in the plan', make: () => base().replace('    token: ca\n  - id: root-key', '    token: ca\n    pin: "123456"\n  - id: root-key'), needle: 'pin: "123456"', message: /belongs in the environment file/ },
    { name: 'a module path in the plan', make: () => base().replace('  location:', '  lib: /usr/lib/softhsm/libsofthsm2.so\n  location:'), needle: 'lib: /usr', message: /belongs in the environment file/ },
    { name: 'a CRL longer than 12 months', make: () => base().replace('nextUpdateDays: 365', 'nextUpdateDays: 400'), needle: 'nextUpdateDays: 400', message: /BR 7\.2/ },
    { name: 'a variable the profile refuses', make: () => base().replace('      country: FR\n    out: root-ca', '      country: France\n    out: root-ca'), needle: 'cn: Example Root CA 2027', message: /country/i },
    { name: 'the operator also a witness', make: () => base().replace('Bruno Keller, role: witness', 'Alice Martin, role: witness'), needle: 'Alice Martin, role: witness', message: /listed twice/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const s = store();
      const text = c.make();
      const file = join(work, `bad-${c.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, text);
      const out = join(work, `bad-out-${c.name.replace(/\W+/g, '-')}`);
      const r = run(s, ['ceremony', 'run', file, '--env', ENV_FILE, '--out', out, '--rehearsal']);
      const e = errorLine(r);
      assert.equal(e.code, 'PLAN_INVALID', e.line);
      assert.match(e.message, c.message);
      const want = lineOf(text, c.needle);
      const got = Number(/line (\d+)/.exec(e.message)?.[1]);
      assert.ok(got > 0 && got === want, `line ${got} named, the offending text is on line ${want}: ${e.message}`);
      assert.equal(existsSync(out), false, 'nothing was created');
      assert.deepEqual(readdirSync(s.tokenDir), [], 'the token was not touched');
      assert.equal(r.stderr.includes(USER) || r.stderr.includes(SO), false);
    });
  }

  test('an environment file with a PIN in it, or without the role the plan uses', () => {
    const s = store();
    const withPin = join(work, 'env-pin.yaml');
    writeFileSync(withPin, readFileSync(ENV_FILE, 'utf8').replace('      pin_env: CEREMONY_CA_PIN', `      pin: "${USER}"`));
    const r = run(s, ['ceremony', 'check', PLAN, '--env', withPin]);
    const e = errorLine(r);
    assert.equal(e.code, 'PLAN_ENV_INVALID');
    assert.match(e.message, /line \d+: "pin" would hold a secret/);
    assert.equal(r.stderr.includes(USER), false, 'the PIN written in the file is not repeated');
    const noRole = join(work, 'env-backup.yaml');
    writeFileSync(noRole, readFileSync(ENV_FILE, 'utf8').replace('  ca:', '  backup:'));
    const r2 = run(s, ['ceremony', 'check', PLAN, '--env', noRole]);
    assert.equal(errorLine(r2).code, 'PLAN_ENV_INVALID');
    assert.match(r2.stderr, /uses the ca token/);
  });

  test('an environment file that breaks its schema: the same words and line numbers as a plan (one helper for both)', () => {
    const s = store();
    const base = readFileSync(ENV_FILE, 'utf8');
    const cases: { make: string; needle: string; message: RegExp }[] = [
      { make: base.replace('      pin_env: CEREMONY_CA_PIN', '      pin_env: CEREMONY_CA_PIN\n      slto: 3'), needle: 'slto: 3', message: /: tokens\.ca\.pkcs11: unknown key "slto"$/ },
      { make: base.replace('version: 1', 'version: "one"'), needle: 'version: "one"', message: /: version: must be one of 1$/ },
      { make: base.replace('    type: pkcs11', '    type: pkcs12'), needle: 'type: pkcs12', message: /: tokens\.ca\.type: must be one of "pkcs11"$/ },
      { make: base.replace('      lib: /usr/lib/softhsm/libsofthsm2.so', '      lib: 7'), needle: 'lib: 7', message: /: tokens\.ca\.pkcs11\.lib: must be a string$/ },
    ];
    for (const [i, c] of cases.entries()) {
      const file = join(work, `env-schema-${i}.yaml`);
      writeFileSync(file, c.make);
      const e = errorLine(run(s, ['ceremony', 'check', PLAN, '--env', file]));
      assert.equal(e.code, 'PLAN_ENV_INVALID', e.line);
      assert.match(e.message, c.message);
      const want = c.make.split('\n').findIndex((l) => l.includes(c.needle)) + 1;
      assert.match(e.message, new RegExp(`^Environment file .*, line ${want}: `), `line ${want} holds ${c.needle}: ${e.message}`);
    }
  });

  test('an unset PIN variable stops the run before anything is done', () => {
    const s = store();
    const out = join(work, 'no-pin');
    const r = qpki(['ceremony', 'run', PLAN, '--env', ENV_FILE, '--out', out, '--rehearsal'], { env: { ...s.env, CEREMONY_CA_SO_PIN: SO } });
    assert.equal(errorLine(r).code, 'PIN_REQUIRED');
    assert.equal(existsSync(out), false);
    assert.ok(statSync(s.tokenDir).isDirectory() && readdirSync(s.tokenDir).length === 0);
  });
});


describe('every step type: a CSR for an external parent, a subordinate from a request file, a cross-certificate, revocations', () => {
  test('runs, and what it makes verifies with OpenSSL', () => {
    const s = store();
    const dir = join(work, 'all-steps');
    mkdirSync(dir);
    // An outside CA's request, made by OpenSSL: the plan reads it beside itself.
    assert.equal(sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'partner.key'), '-subj', '/CN=Partner Issuing CA/O=Partner', '-out', join(dir, 'partner.csr')]).code, 0);
    // An outside root, to be cross-certified under the same name.
    assert.equal(sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(dir, 'other.key'), '-subj', '/CN=Other Root/O=Other', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', join(dir, 'other-root.crt')]).code, 0);
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, `version: 1
ceremony: { id: ALL-STEPS, purpose: Every step type once, location: Test bench }
participants:
  - { name: Op, role: operator }
  - { name: Wit, role: witness }
steps:
  - { id: init, type: token-init, token: ca }
  - { id: root-key, type: key, token: ca, label: root, algorithm: ecdsa-p384 }
  - id: root
    type: root
    key: root-key
    profile: ec/root-ca
    variables: { cn: All Steps Root }
    notBefore: "2026-01-01T00:00:00Z"
    notAfter: "2036-01-01T00:00:00Z"
    out: root
  - { id: init-backup, type: token-init, token: backup }
  - { id: ext-key, type: key, token: backup, label: external, algorithm: ec-p256 }
  - { id: ext-csr, type: csr, key: ext-key, profile: ec/issuing-ca, variables: { cn: Issuing CA for an external parent }, out: external.csr }
  - { id: partner, type: subordinate, issuer: root, csr: partner.csr, profile: ec/issuing-ca, variables: { cn: Partner Issuing CA }, out: partner.crt }
  - { id: cross, type: cross, issuer: root, certificate: other-root.crt, profile: ec/issuing-ca, variables: { cn: Other Root, organization: Other }, out: other-cross.crt }
  - id: crl
    type: crl
    issuer: root
    nextUpdateDays: 30
    revoke:
      - { step: partner, reason: keyCompromise }
    out: root.crl
`);
    // Two token roles: the CA token and a backup token, each initialized by the plan.
    const env = join(dir, 'env.yaml');
    writeFileSync(env, `${readFileSync(ENV_FILE, 'utf8')}  backup:
    type: pkcs11
    pkcs11:
      lib: ${SOFTHSM_LIB}
      token: BACKUP-2027
      pin_env: BACKUP_PIN
      so_pin_env: BACKUP_SO_PIN
`);
    const r = qpki(['ceremony', 'run', plan, '--env', env, '--out', join(dir, 'out'), '--rehearsal'], { env: { ...s.env, ...PINS, BACKUP_PIN: 'backup-user-PIN-1234', BACKUP_SO_PIN: 'backup-so-PIN-1234' } });
    ok(r);
    const out = join(dir, 'out');
    const j = journal(out);
    assert.deepEqual(j.filter((e) => e.kind === 'token.initialized').map((e) => [e.facts.role, e.facts.label]), [['ca', 'EXAMPLE-ROOT-2027'], ['backup', 'BACKUP-2027']]);
    assert.equal(j.find((e) => e.kind === 'key.generated' && e.facts.label === 'external')!.facts.token, 'BACKUP-2027');
    const root = join(out, 'root', 'ca.crt');
    const rootText = sh('openssl', ['x509', '-in', root, '-noout', '-dates']).stdout;
    assert.match(rootText, /notBefore=Jan  1 00:00:00 2026 GMT/);
    assert.match(rootText, /notAfter=Jan  1 00:00:00 2036 GMT/);
    assert.equal(sh('openssl', ['verify', '-CAfile', root, join(out, 'partner.crt')]).code, 0);
    assert.equal(sh('openssl', ['verify', '-CAfile', root, join(out, 'other-cross.crt')]).code, 0);
    const cross = sh('openssl', ['x509', '-in', join(out, 'other-cross.crt'), '-noout', '-subject', '-pubkey']).stdout;
    const other = sh('openssl', ['x509', '-in', join(dir, 'other-root.crt'), '-noout', '-subject', '-pubkey']).stdout;
    assert.equal(cross, other, 'the cross-certificate names the same subject and key as the certificate it crosses');
    const req = sh('openssl', ['req', '-in', join(out, 'external.csr'), '-noout', '-verify', '-subject']);
    assert.match(req.stdout + req.stderr, /verify OK/i);
    assert.match(req.stdout, /Issuing CA for an external parent/);
    const crl = sh('openssl', ['crl', '-in', join(out, 'root.crl'), '-noout', '-text', '-CAfile', root]);
    assert.match(crl.stdout + crl.stderr, /verify OK/);
    const partnerSerial = sh('openssl', ['x509', '-in', join(out, 'partner.crt'), '-noout', '-serial']).stdout.trim().split('=')[1];
    assert.match(crl.stdout, new RegExp(`Serial Number: ${partnerSerial}`, 'i'));
    assert.match(crl.stdout, /Key Compromise/);
  });

  test('a cross-certificate under another name is refused, and the run stops there', () => {
    const s = store();
    const dir = join(work, 'cross-bad');
    mkdirSync(dir);
    assert.equal(sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(dir, 'o.key'), '-subj', '/CN=Other Root', '-days', '365', '-out', join(dir, 'o.crt')]).code, 0);
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, `version: 1
ceremony: { id: CROSS, purpose: Cross, location: Bench }
participants: [{ name: Op, role: operator }, { name: Wit, role: witness }]
steps:
  - { id: init, type: token-init, token: ca }
  - { id: k, type: key, token: ca, label: r, algorithm: ec-p384 }
  - { id: root, type: root, key: k, profile: ec/root-ca, variables: { cn: R }, out: root }
  - { id: cross, type: cross, issuer: root, certificate: o.crt, profile: ec/issuing-ca, variables: { cn: Not The Same Name }, out: x.crt }
`);
    const r = run(s, ['ceremony', 'run', plan, '--env', ENV_FILE, '--out', join(dir, 'out'), '--rehearsal']);
    const e = errorLine(r);
    assert.equal(e.code, 'PLAN_STEP_FAILED');
    assert.match(e.message, /Step 4 of 4 \(cross.*not the subject of o\.crt/);
    assert.equal(existsSync(join(dir, 'out', 'x.crt')), false);
  });
});

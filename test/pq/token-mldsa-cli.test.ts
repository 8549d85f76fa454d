/**
 * ML-DSA CA keys in a PKCS#11 3.2 token, end to end through the real command line, on SoftHSM2's
 * ML-DSA build (../shared/tokens/softhsm2-mldsa):
 * - ML-DSA alone: an ML-DSA-87 root, ML-DSA-65 and ML-DSA-44 issuing CAs, end-entity credentials,
 *   a revocation and CRLs, every signature made in the token;
 * - Catalyst with the ML-DSA key in a token too: both keys in one token, the ML-DSA key in a
 *   second token, and the classical key on another module altogether (Debian's SoftHSM2 2.6,
 *   which has no ML-DSA) with the ML-DSA key on this one.
 * Everything issued is checked by python `cryptography`, liboqs and Bouncy Castle; the token's own
 * view by pkcs11-tool and a ctypes client. Beside them, on Debian's SoftHSM2 alone (so they run
 * without the ML-DSA module too): the Catalyst default (ML-DSA in a file) and its passphrase.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, ROOT, sh, SOFTHSM_LIB, tokenArgs, USER_PIN, wrotePaths, type Lab } from '../cli/helpers';
import { mldsaTokenMissing, MLDSA_SOFTHSM } from '../softhsm';
import {
  algIdParts,
  asn1jsPreTbs,
  bcVerify,
  bitStringContents,
  bouncyCastle,
  havePythonMlDsa,
  liboqsVerify,
  ML_DSA_OIDS,
  mlDsaAlgId,
  p11direct,
  parseSigned,
  pythonCheck,
  readDer,
  spkiParts,
  versionAtLeast,
  type MlDsaName,
  type P11Attrs,
} from './verifiers';

const PQ = 'PQ Token';
const SECOND = 'PQ Second';
const CLASSIC = 'Classic Token';
const PIN2 = 'second-PIN-0123456789';
const PIN3 = 'classic-PIN-0123456789';
const PASS = { QPKI_TEST_PASS: 'pq-test-passphrase-1234' };
const ENV = { ...PIN_ENV, ...PASS, QPKI_PIN2: PIN2, QPKI_PIN3: PIN3 };
const pass = (flag: string) => [flag, 'QPKI_TEST_PASS'];
const missing = mldsaTokenMissing() ?? (!havePythonMlDsa() ? 'python3 cryptography with ML-DSA (>= 45) is not installed' : undefined);
const kindOf = (p: string) => (p.endsWith('.crl') ? 'crl' : 'certificate');

interface Meta { versions: Record<string, { keys: { id: string; storage: { type: string; lib?: string; token_label?: string; token_serial?: string; key_label?: string } }[] }>; active: string }
const meta = (lab: Lab, dir: string) => JSON.parse(readFileSync(lab.path(dir, 'ca.meta.json'), 'utf8')) as Meta;
const keysOf = (lab: Lab, dir: string) => meta(lab, dir).versions[meta(lab, dir).active].keys;

function bcOrSkip(t: { skip(m: string): void }): string | null {
  const bc = bouncyCastle();
  if ('missing' in bc) {
    console.log(`# Bouncy Castle check not run: ${bc.missing}`);
    t.skip(bc.missing);
    return null;
  }
  return bc.classpath;
}

describe('ML-DSA CAs with their keys in a PKCS#11 3.2 token, through qpki', { skip: missing }, () => {
  let lab: Lab;
  let lib: string;
  const pairs: { issuer: string; doc: string; alg: MlDsaName }[] = [];
  let initOut: Record<string, string> = {};

  before(async () => {
    await ensureCliBuilt();
    lib = MLDSA_SOFTHSM!.lib;
    lab = makeLab(PQ, USER_PIN, MLDSA_SOFTHSM!);
    // An ML-DSA-44 issuing CA: the built-in profile with the smaller parameter set.
    const p44 = readFileSync(join(ROOT, 'resources', 'profiles', 'ml', 'issuing-ca.yaml'), 'utf8').replace('name: ml/issuing-ca', 'name: ml44-issuing-ca').replace('algorithm: ml-dsa-65', 'algorithm: ml-dsa-44');
    assert.match(p44, /algorithm: ml-dsa-44/);
    writeFileSync(lab.path('ml44-issuing-ca.yaml'), p44);
    const tok = tokenArgs(PQ, lib);
    const run = (args: string[]) => ok(lab.run(args, ENV));
    initOut = {
      root: run(['ca', 'init', '--profile', 'ml/root-ca', ...tok, '--pkcs11-key-label', 'ml-root', '--var', 'cn=Token ML-DSA-87 Root', '--dir', 'root']),
      sub65: run(['ca', 'init', '--profile', 'ml/issuing-ca', '--parent', 'root', ...tok, '--pkcs11-key-label', 'ml-sub65', '--var', 'cn=Token ML-DSA-65 Issuing', '--dir', 'sub65']),
      sub44: run(['ca', 'init', '--profile', lab.path('ml44-issuing-ca.yaml'), '--parent', 'root', ...tok, '--pkcs11-key-label', 'ml-sub44', '--var', 'cn=Token ML-DSA-44 Issuing', '--dir', 'sub44']),
    };
    const enroll = (ca: string, profile: string, cn: string) => run(['credential', 'enroll', '--ca-dir', ca, '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN', '--cred-dir', 'creds', ...pass('--passphrase-env'), '--profile', profile, '--var', `cn=${cn}`]);
    const serverOut = enroll('sub65', 'ml/tls-server', 'pq-token.example.com');
    const server = wrotePaths(serverOut).find((p) => p.endsWith('cert.pem'))!;
    const client = wrotePaths(enroll('sub44', 'ml/tls-client', 'carol')).find((p) => p.endsWith('cert.pem'))!;
    run(['cert', 'revoke', /serial:\s+([0-9a-fA-F]+)/.exec(serverOut)![1], '--reason', 'keyCompromise', '--ca-dir', 'sub65']);
    for (const ca of ['root', 'sub65', 'sub44']) run(['crl', 'gen', '--ca-dir', ca, '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN']);
    const c = (d: string) => lab.path(d, 'ca.crt');
    const crl = (d: string) => lab.path(d, 'crl', 'ca.crl');
    pairs.push(
      { issuer: c('root'), doc: c('root'), alg: 'ml-dsa-87' },
      { issuer: c('root'), doc: c('sub65'), alg: 'ml-dsa-87' },
      { issuer: c('root'), doc: c('sub44'), alg: 'ml-dsa-87' },
      { issuer: c('root'), doc: crl('root'), alg: 'ml-dsa-87' },
      { issuer: c('sub65'), doc: server, alg: 'ml-dsa-65' },
      { issuer: c('sub65'), doc: crl('sub65'), alg: 'ml-dsa-65' },
      { issuer: c('sub44'), doc: client, alg: 'ml-dsa-44' },
      { issuer: c('sub44'), doc: crl('sub44'), alg: 'ml-dsa-44' },
    );
  });
  after(() => lab?.cleanup());

  test('ca init generates each CA key in the token (read back, test signature), writes no key file, and ca info says where the key lives', () => {
    for (const [dir, label, alg, set] of [['root', 'ml-root', 'ml-dsa-87', 3], ['sub65', 'ml-sub65', 'ml-dsa-65', 2], ['sub44', 'ml-sub44', 'ml-dsa-44', 1]] as const) {
      const out = initOut[dir];
      assert.match(out, new RegExp(`key:\\s+${alg} in token "${PQ}" .*label "${label}"`), dir);
      assert.match(out, /attributes:.*sensitive=true extractable=false.*neverExtractable=true local=true/, dir);
      assert.match(out, /test signature verified: yes/, dir);
      assert.ok(!existsSync(lab.path(dir, 'versions', 'v1', 'keys')) || readdirSync(lab.path(dir, 'versions', 'v1', 'keys')).length === 0, `${dir}: no key file`);
      assert.deepEqual(keysOf(lab, dir).map((k) => [k.id, k.storage.type, k.storage.lib, k.storage.token_label]), [['default', 'pkcs11', lib, PQ]]);
      const info = ok(lab.run(['ca', 'info', '--dir', dir]));
      assert.match(info, new RegExp(`key \\(default\\): token "${PQ}" serial ${lab.serial}, label "${label}", id [0-9a-f]+, module ${lib.replace(/[.+]/g, '\\$&')}`));
      const [attrs] = p11direct({ lib, token: PQ, pin: USER_PIN, label, env: lab.env }, [{ op: 'attrs' }]) as P11Attrs[];
      assert.deepEqual([attrs.private.CKA_PARAMETER_SET, attrs.public.CKA_PARAMETER_SET, attrs.private.CKA_SENSITIVE, attrs.private.CKA_EXTRACTABLE, attrs.private.CKA_LOCAL], [set, set, true, false, true], dir);
    }
  });

  test('token info names the PKCS#11 3.2 mechanisms; key list shows each ML-DSA key with its parameter set', () => {
    const info = ok(lab.run(['token', 'info', ...tokenArgs(PQ, lib)], ENV));
    assert.match(info, /^\s+CKM_ML_DSA_KEY_PAIR_GEN\s+1312\.\.2592\s+.*generate_key_pair/m);
    assert.match(info, /^\s+CKM_ML_DSA\s+1312\.\.2592\s+.*sign/m);
    assert.doesNotMatch(info, /0x0000001[cd]/);
    const json = JSON.parse(ok(lab.run(['--json', 'token', 'info', ...tokenArgs(PQ, lib)], ENV))) as { mechanisms: { name: string; type: number }[] };
    assert.deepEqual(json.mechanisms.filter((m) => m.type === 0x1c || m.type === 0x1d).map((m) => m.name).sort(), ['CKM_ML_DSA', 'CKM_ML_DSA_KEY_PAIR_GEN']);
    const keys = ok(lab.run(['key', 'list', ...tokenArgs(PQ, lib)], ENV));
    for (const [label, alg] of [['ml-root', 87], ['ml-sub65', 65], ['ml-sub44', 44]]) {
      assert.match(keys, new RegExp(`"${label}"\\s+id [0-9a-f]+\\s+ml-dsa-${alg} \\(CKP_ML_DSA_${alg}\\)\\s+sensitive never-extractable local`));
    }
  });

  test('RFC 9881 encodings, and python cryptography verifies every certificate and CRL the token signed', () => {
    const results = pythonCheck(pairs);
    for (const [i, r] of results.entries()) {
      const { alg, doc } = pairs[i];
      assert.equal(r.outer_alg, mlDsaAlgId(alg), `${doc}: outer signatureAlgorithm, parameters absent`);
      assert.equal(r.inner_alg, mlDsaAlgId(alg), `${doc}: TBS signature field`);
      assert.equal(r.primary, true, `${doc} (${r.primary_how})`);
    }
    // A certificate checked against the wrong issuer fails: this check can fail.
    assert.equal(pythonCheck([{ issuer: pairs[0].doc, doc: pairs[4].doc }])[0].primary, false);
  });

  test('liboqs verifies each signature over the TBS split out with asn1js', async () => {
    for (const { issuer, doc, alg } of pairs) {
      const key = parseSigned(readDer(issuer), 'certificate').spki!.publicKey;
      const d = parseSigned(readDer(doc), kindOf(doc));
      assert.equal(ML_DSA_OIDS[d.signatureOid as keyof typeof ML_DSA_OIDS], alg, doc);
      assert.equal(await liboqsVerify(alg, key, d.tbs, d.signature), true, doc);
      const bad = Uint8Array.from(d.tbs);
      bad[bad.length - 1] ^= 1;
      assert.equal(await liboqsVerify(alg, key, bad, d.signature), false, `${doc}: a changed TBS fails`);
    }
  });

  test('Bouncy Castle >= 1.80 verifies the chain and the CRLs', (t) => {
    const cp = bcOrSkip(t);
    if (!cp) return;
    for (const issuer of new Set(pairs.map((p) => p.issuer))) {
      const r = bcVerify(cp, issuer, pairs.filter((p) => p.issuer === issuer).map((p) => p.doc));
      assert.ok(versionAtLeast(r.version, '1.80'), r.version);
      for (const x of r.results) assert.deepEqual([x.primary, x.alternative], ['true', 'absent'], x.file);
    }
  });

  test('the journal records the keys as generated in the token with their attributes, never the PIN', () => {
    const entries = readFileSync(lab.path('root', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; facts: Record<string, unknown> });
    const gen = entries.find((e) => e.kind === 'key.generated')!;
    assert.equal((gen.facts.storage as { type: string }).type, 'pkcs11');
    assert.equal((gen.facts.attributes as Record<string, boolean>).extractable, false);
    assert.equal(gen.facts.testSignatureVerified, true);
    for (const d of ['root', 'sub65', 'sub44']) assert.ok(!readFileSync(lab.path(d, 'journal.jsonl'), 'utf8').includes(USER_PIN), `${d}: no PIN in the journal`);
  });
});

describe('Catalyst with the ML-DSA key in a token: one token, a second token, a second module', { skip: missing }, () => {
  let lab: Lab;
  let lib: string;
  let serial2: string;
  const pairs: { issuer: string; doc: string; primary: string; alt: MlDsaName }[] = [];
  const out: Record<string, string> = {};

  before(async () => {
    await ensureCliBuilt();
    lib = MLDSA_SOFTHSM!.lib;
    lab = makeLab(PQ, USER_PIN, MLDSA_SOFTHSM!);
    serial2 = lab.store.initToken(SECOND, 'second-so-0123456789', PIN2);
    lab.store.initToken(CLASSIC, 'classic-so-0123456789', PIN3);
    const run = (args: string[]) => ok(lab.run(args, ENV));
    const second = ['--pqc-pkcs11-token', SECOND, '--pqc-pkcs11-pin-env', 'QPKI_PIN2'];
    // Both keys in one token: one PIN, one session.
    out.both = run(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', ...tokenArgs(PQ, lib), '--pkcs11-key-label', 'hy-root', '--pqc-pkcs11-key-label', 'hy-root-pq', '--var', 'cn=Hybrid Root Both In Token', '--dir', 'both']);
    // Under it, an issuing CA whose ML-DSA key is in a second token of the same module.
    out.sub = run(['ca', 'init', '--profile', 'hybrid/catalyst/issuing-ca', '--parent', 'both', ...tokenArgs(PQ, lib), '--pkcs11-key-label', 'hy-sub', ...second, '--pqc-pkcs11-key-label', 'hy-sub-pq', '--var', 'cn=Hybrid Issuing Two Tokens', '--dir', 'sub']);
    // A root whose classical key is on Debian's SoftHSM2 2.6 (no ML-DSA) and whose ML-DSA key is on the ML-DSA module.
    out.cross = run(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', CLASSIC, '--pkcs11-pin-env', 'QPKI_PIN3', '--pkcs11-key-label', 'x-root', '--pqc-pkcs11-lib', lib, ...second, '--pqc-pkcs11-key-label', 'x-root-pq', '--var', 'cn=Hybrid Root Two Modules', '--dir', 'cross']);
    const server = wrotePaths(run(['credential', 'enroll', '--ca-dir', 'sub', '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN', '--pqc-pkcs11-pin-env', 'QPKI_PIN2', '--cred-dir', 'creds', ...pass('--passphrase-env'), '--profile', 'hybrid/catalyst/tls-server', '--var', 'cn=hybrid-token.example.com'])).find((p) => p.endsWith('cert.pem'))!;
    run(['crl', 'gen', '--ca-dir', 'both', '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN']);
    run(['crl', 'gen', '--ca-dir', 'sub', '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN', '--pqc-pkcs11-pin-env', 'QPKI_PIN2']);
    run(['crl', 'gen', '--ca-dir', 'cross', '--pkcs11-pin-env', 'QPKI_PIN3', '--pqc-pkcs11-lib', lib, '--pqc-pkcs11-pin-env', 'QPKI_PIN2']);
    const c = (d: string) => lab.path(d, 'ca.crt');
    const crl = (d: string) => lab.path(d, 'crl', 'ca.crl');
    pairs.push(
      { issuer: c('both'), doc: c('both'), primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: c('both'), doc: c('sub'), primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: c('both'), doc: crl('both'), primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: c('sub'), doc: server, primary: 'ecdsa-sha256', alt: 'ml-dsa-65' },
      { issuer: c('sub'), doc: crl('sub'), primary: 'ecdsa-sha256', alt: 'ml-dsa-65' },
      { issuer: c('cross'), doc: c('cross'), primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: c('cross'), doc: crl('cross'), primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
    );
  });
  after(() => lab?.cleanup());

  test('where each key lives: ca init, ca.meta.json and ca info name the token of each, and no key file is written', () => {
    assert.match(out.both, /key:\s+ec-p384 in token "PQ Token".*label "hy-root"/);
    assert.match(out.both, /alt key:\s+ml-dsa-87 token "PQ Token" serial \S+, label "hy-root-pq"/);
    assert.match(out.both, /alt attributes:.*sensitive=true extractable=false/);
    assert.match(out.both, /alt test signature verified: yes/);
    assert.match(out.sub, /alt key:\s+ml-dsa-65 token "PQ Second"/);
    assert.match(out.cross, /key:\s+ec-p384 in token "Classic Token"/);
    const want = {
      both: [['classical', lib, PQ, 'hy-root'], ['pqc', lib, PQ, 'hy-root-pq']],
      sub: [['classical', lib, PQ, 'hy-sub'], ['pqc', lib, SECOND, 'hy-sub-pq']],
      cross: [['classical', SOFTHSM_LIB, CLASSIC, 'x-root'], ['pqc', lib, SECOND, 'x-root-pq']],
    };
    for (const [dir, keys] of Object.entries(want)) {
      assert.deepEqual(keysOf(lab, dir).map((k) => [k.id, k.storage.lib, k.storage.token_label, k.storage.key_label]), keys, dir);
      assert.ok(!existsSync(lab.path(dir, 'versions', 'v1', 'keys')) || readdirSync(lab.path(dir, 'versions', 'v1', 'keys')).length === 0, `${dir}: no key file`);
      const info = ok(lab.run(['ca', 'info', '--dir', dir]));
      for (const [id, l, token, label] of keys) assert.match(info, new RegExp(`key \\(${id}\\): token "${token}" serial \\S+, label "${label}", id [0-9a-f]+, module ${l.replace(/[.+]/g, '\\$&')}`), `${dir} ${id}`);
    }
    // The token's own view: pkcs11-tool finds the ML-DSA private keys, sensitive and never extractable.
    const objs = sh('pkcs11-tool', ['--module', lib, '--token-label', SECOND, '--login', '--pin', PIN2, '--list-objects', '--type', 'privkey'], { env: lab.env }).stdout;
    for (const l of ['hy-sub-pq', 'x-root-pq']) assert.match(objs, new RegExp(`label:\\s+${l}\\n[\\s\\S]*?Access:\\s+sensitive, always sensitive, never extractable, local`));
    const [a] = p11direct({ lib, token: PQ, pin: USER_PIN, label: 'hy-root-pq', env: lab.env }, [{ op: 'attrs' }]) as P11Attrs[];
    assert.deepEqual([a.private.CKA_KEY_TYPE, a.private.CKA_PARAMETER_SET, a.private.CKA_EXTRACTABLE], [0x4a, 3, false]);
  });

  test('the journal records each token it used, with its own module fingerprint, and no PIN', () => {
    const entries = readFileSync(lab.path('cross', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; facts: Record<string, unknown> });
    const modules = entries.filter((e) => e.kind === 'module.loaded').map((e) => e.facts.path);
    assert.ok(modules.includes(SOFTHSM_LIB) && modules.includes(lib), modules.join(' '));
    const logins = new Set(entries.filter((e) => e.kind === 'login.succeeded').map((e) => e.facts.serial));
    assert.ok(logins.has(serial2), 'the ML-DSA token was logged in to, on the record');
    const alt = entries.find((e) => e.kind === 'key.generated' && /alternative/.test(String(e.facts.role)))!;
    assert.equal((alt.facts.storage as { token_serial: string }).token_serial, serial2);
    assert.equal(alt.facts.testSignatureVerified, true);
    for (const d of ['both', 'sub', 'cross']) {
      const text = readFileSync(lab.path(d, 'journal.jsonl'), 'utf8');
      for (const pin of [USER_PIN, PIN2, PIN3]) assert.ok(!text.includes(pin), `${d}: no PIN in the journal`);
    }
  });

  test('a second token needs its own PIN: without --pqc-pkcs11-pin-* the CRL is refused, naming the option, and nothing is signed', () => {
    const before = readFileSync(lab.path('sub', 'crlnumber'), 'utf8');
    const r = lab.run(['crl', 'gen', '--ca-dir', 'sub', '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN'], ENV);
    const e = errorLine(r);
    assert.equal(e.code, 'PIN_REQUIRED');
    assert.match(e.message, /--pqc-pkcs11-pin-env/);
    assert.equal(readFileSync(lab.path('sub', 'crlnumber'), 'utf8'), before);
    // The wrong PIN for the second token is that token's refusal, not the first one's.
    const wrong = lab.run(['crl', 'gen', '--ca-dir', 'sub', '--pkcs11-lib', lib, '--pkcs11-pin-env', 'QPKI_TEST_PIN', '--pqc-pkcs11-pin-env', 'QPKI_PIN3'], ENV);
    assert.equal(errorLine(wrong).code, 'PIN_INCORRECT');
    assert.equal(readFileSync(lab.path('sub', 'crlnumber'), 'utf8'), before);
  });

  test('python cryptography verifies both signatures of every certificate and CRL', () => {
    for (const r of pythonCheck(pairs)) {
      assert.equal(r.primary, true, `${r.doc}: primary (${r.primary_how})`);
      assert.equal(r.alt?.valid, true, `${r.doc}: alternative`);
      assert.equal(r.alt?.alg_params_absent, true);
    }
  });

  test('liboqs verifies each alternative signature over a pre-TBS derived with asn1js', async () => {
    for (const { issuer, doc, alt } of pairs) {
      const iss = parseSigned(readDer(issuer), 'certificate');
      const d = parseSigned(readDer(doc), kindOf(doc));
      const key = spkiParts(iss.extensions.get('2.5.29.72')!);
      assert.equal(ML_DSA_OIDS[algIdParts(d.extensions.get('2.5.29.73')!).oid as keyof typeof ML_DSA_OIDS], alt, doc);
      const pre = asn1jsPreTbs(d.tbs, d.kind);
      const sig = bitStringContents(d.extensions.get('2.5.29.74')!);
      assert.equal(await liboqsVerify(alt, key.publicKey, pre, sig), true, doc);
      assert.equal(await liboqsVerify(alt, key.publicKey, d.tbs, sig), false, `${doc}: over the TBS itself it fails`);
    }
  });

  test('Bouncy Castle >= 1.80 verifies the primary and the alternative signatures', (t) => {
    const cp = bcOrSkip(t);
    if (!cp) return;
    for (const issuer of new Set(pairs.map((p) => p.issuer))) {
      const r = bcVerify(cp, issuer, pairs.filter((p) => p.issuer === issuer).map((p) => p.doc));
      assert.ok(versionAtLeast(r.version, '1.80'), r.version);
      for (const x of r.results) assert.deepEqual([x.primary, x.alternative], ['true', 'true'], x.file);
    }
  });

  test('key gen makes both keys ahead of the ceremony; ca init --use-existing-key takes them, recorded as selected', () => {
    const gen = ok(lab.run(['key', 'gen', '--algorithm', 'ml-dsa-87', ...tokenArgs(PQ, lib), '--pkcs11-key-label', 'pre-pq'], ENV));
    assert.match(gen, /Key "pre-pq" generated in token "PQ Token" \(ml-dsa-87, id [0-9a-f]+\)/);
    assert.match(gen, /read back: sensitive=true extractable=false always_sensitive=true never_extractable=true local=true/);
    assert.match(gen, /test signature \(ml-dsa-87\) verified in software: yes/);
    ok(lab.run(['key', 'gen', '--algorithm', 'ec-p384', ...tokenArgs(PQ, lib), '--pkcs11-key-label', 'pre-ec'], ENV));
    // The ML-DSA key named as the classical one does not fit the profile: refused before anything is made.
    const swapped = lab.run(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', ...tokenArgs(PQ, lib), '--use-existing-key', '--pkcs11-key-label', 'pre-pq', '--pqc-pkcs11-key-label', 'pre-ec', '--var', 'cn=Swapped', '--dir', 'swapped'], ENV);
    assert.equal(errorLine(swapped).code, 'KEY_INVALID');
    assert.ok(!existsSync(lab.path('swapped')));
    ok(lab.run(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', ...tokenArgs(PQ, lib), '--use-existing-key', '--pkcs11-key-label', 'pre-ec', '--pqc-pkcs11-key-label', 'pre-pq', '--var', 'cn=Existing Keys Root', '--dir', 'existing'], ENV));
    const entries = readFileSync(lab.path('existing', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; facts: Record<string, unknown> });
    assert.deepEqual(entries.filter((e) => e.kind.startsWith('key.')).map((e) => [e.kind, (e.facts.storage as { key_label: string }).key_label]), [['key.selected', 'pre-ec'], ['key.selected', 'pre-pq']]);
    const [r] = pythonCheck([{ issuer: lab.path('existing', 'ca.crt'), doc: lab.path('existing', 'ca.crt') }]);
    assert.deepEqual([r.primary, r.alt?.valid], [true, true]);
  });

  test('qpki cert show: both signatures valid against the issuer', () => {
    for (const { issuer, doc, primary, alt } of pairs) {
      const o = JSON.parse(ok(lab.run(['--json', 'cert', 'show', doc, '--issuer', issuer]))) as { signatures: { which: string; algorithm: string; valid: boolean }[] };
      assert.deepEqual(o.signatures.map((s) => [s.which, s.algorithm, s.valid]), [['primary', primary, true], ['alternative', alt, true]], doc);
    }
  });
});

describe('Catalyst where the token has no ML-DSA (Debian SoftHSM2 2.6): the ML-DSA key stays a file, and --passphrase-* encrypts it', { skip: !havePythonMlDsa() && 'python3 cryptography with ML-DSA (>= 45) is not installed' }, () => {
  let lab: Lab;
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
  });
  after(() => lab?.cleanup());
  const init = (dir: string, label: string, extra: string[], env: Record<string, string> = ENV) =>
    lab.run(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', ...tokenArgs(), '--pkcs11-key-label', label, ...extra, '--var', `cn=${dir}`, '--dir', dir], env);

  test('--passphrase-env, the only key file of a CA whose classical key is in the token, encrypts the ML-DSA file; the CA signs with it', () => {
    ok(init('pass-root', 'pass-root', pass('--passphrase-env')));
    const file = lab.path('pass-root', 'versions', 'v1', 'keys', 'ca.ml-dsa-87.key');
    assert.match(readFileSync(file, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    // python opens it with that passphrase and with no other.
    const py = sh('python3', ['-c', `
import sys
from cryptography.hazmat.primitives import serialization as s
k = open(sys.argv[1], 'rb').read()
s.load_pem_private_key(k, sys.argv[2].encode())
try:
    s.load_pem_private_key(k, b'not-the-passphrase')
    print('opened with a wrong passphrase')
except ValueError:
    print('ok')
`, file, PASS.QPKI_TEST_PASS]);
    assert.equal(py.stdout.trim(), 'ok', py.stderr);
    ok(lab.run(['crl', 'gen', '--ca-dir', 'pass-root', ...tokenArgs(), ...pass('--pqc-passphrase-env')], ENV));
    const [r] = pythonCheck([{ issuer: lab.path('pass-root', 'ca.crt'), doc: lab.path('pass-root', 'crl', 'ca.crl') }]);
    assert.deepEqual([r.primary, r.alt?.valid], [true, true]);
  });

  test('--pqc-passphrase-env still works, and with neither the refusal names both options', () => {
    ok(init('pqc-root', 'pqc-root', pass('--pqc-passphrase-env')));
    assert.ok(existsSync(lab.path('pqc-root', 'versions', 'v1', 'keys', 'ca.ml-dsa-87.key')));
    const r = init('none-root', 'none-root', []);
    const e = errorLine(r);
    assert.equal(e.code, 'PASSPHRASE_REQUIRED');
    assert.match(e.message, /post-quantum \(ML-DSA\) CA key file: give --passphrase-env VAR or --passphrase-file FILE, or --pqc-passphrase-env VAR or --pqc-passphrase-file FILE/);
    assert.ok(!existsSync(lab.path('none-root')));
  });

  test('--pqc-pkcs11-key-label on a token without ML-DSA: MECHANISM_UNSUPPORTED pointing to the key file, no CA directory', () => {
    const r = init('nomech-root', 'nomech-root', ['--pqc-pkcs11-key-label', 'nomech-pq']);
    const e = errorLine(r);
    assert.equal(e.code, 'MECHANISM_UNSUPPORTED');
    assert.match(e.message, /"CA Token" has no ML-DSA \(PKCS#11 3\.2 CKM_ML_DSA\)/);
    assert.match(e.message, /software ML-DSA key file \(the default/);
    assert.ok(!existsSync(lab.path('nomech-root')));
    // Refused before either key was made: the token holds neither.
    const objs = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '--list-objects'], { env: lab.env }).stdout;
    assert.doesNotMatch(objs, /nomech-/);
  });

  test('--pqc-pkcs11-* with a profile of one key is refused before anything is made', () => {
    const r = lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'one-key', '--pqc-pkcs11-key-label', 'x', '--var', 'cn=One', '--dir', 'one'], ENV);
    assert.equal(errorLine(r).code, 'INPUT_INVALID');
    assert.match(errorLine(r).message, /Catalyst/);
    assert.ok(!existsSync(lab.path('one')));
  });
});

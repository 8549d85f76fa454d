/**
 * The reference design's hybrid deployment, end to end through the real command line: Catalyst
 * certificates (ITU-T X.509 (10/2019) §9.8) whose primary ECDSA signature is made by the key in
 * the token (SoftHSM2) and whose alternative ML-DSA signature is made by a software key file.
 * Root → issuing CA → TLS server and client credentials (the subject gets both keys) → CRL.
 *
 * Independent checks: python `cryptography` with its own pre-TBS derivation, liboqs over a pre-TBS
 * re-derived with asn1js, Bouncy Castle 1.80's own Catalyst verification, and the classical
 * verifiers (openssl -x509_strict, GnuTLS certtool) that must still accept every chain because
 * the three extensions are non-critical. A certificate and a CRL whose primary signature is good
 * but whose alternative one is not prove that each of these checks can fail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { ensureCliBuilt, makeLab, ok, PIN_ENV, sh, SOFTHSM_LIB, tokenArgs, USER_PIN, wrotePaths, type Lab } from '../cli/helpers';
import { generateSoftwareKey, signerFromPkcs8 } from '../../electron/core/keys/software';
import type { Signer } from '../../electron/core/keys/signer';
import { buildCertificate, newSerial, prepareCertificate } from '../../electron/core/x509/certificate';
import { signPrepared } from '../../electron/core/x509/tbs';
import { buildCrl, prepareCrl } from '../../electron/core/x509/crl';
import { toPem } from '../../electron/core/x509/pem';
import {
  algIdParts,
  asn1jsPreTbs,
  bcVerify,
  bitStringContents,
  bouncyCastle,
  havePythonMlDsa,
  liboqsVerify,
  ML_DSA_OIDS,
  parseSigned,
  pythonCheck,
  pythonJson,
  readDer,
  spkiParts,
  versionAtLeast,
  type MlDsaName,
} from './verifiers';

const PASS = { QPKI_TEST_PASS: 'pq-test-passphrase-1234' };
const pass = (flag: string) => [flag, 'QPKI_TEST_PASS'];
const SPKI_EXT = '2.5.29.72';
const ALG_EXT = '2.5.29.73';
const VALUE_EXT = '2.5.29.74';

let lab: Lab;
let rootOut: string;
let serverDir: string;
let serverCert: string;
let clientCert: string;
let revokedSerial: string;
const pairs: { issuer: string; doc: string; primary: string; alt: MlDsaName }[] = [];

const kindOf = (p: string) => (p.endsWith('.crl') ? 'crl' : 'certificate');

/**
 * The alternative signature re-checked from scratch: asn1js splits the document and derives the
 * pre-TBS, liboqs verifies it under the raw key inside the issuer's subjectAltPublicKeyInfo.
 */
async function liboqsAlternative(issuer: string, doc: string): Promise<{ valid: boolean; alg: MlDsaName; pre: Uint8Array }> {
  const iss = parseSigned(readDer(issuer), 'certificate');
  const d = parseSigned(readDer(doc), kindOf(doc));
  const altKey = spkiParts(iss.extensions.get(SPKI_EXT)!);
  const alg = ML_DSA_OIDS[algIdParts(d.extensions.get(ALG_EXT)!).oid as keyof typeof ML_DSA_OIDS];
  assert.equal(ML_DSA_OIDS[altKey.oid as keyof typeof ML_DSA_OIDS], alg, `${doc}: the issuer's alternative key fits the alternative algorithm`);
  const pre = asn1jsPreTbs(d.tbs, d.kind);
  return { valid: await liboqsVerify(alg, altKey.publicKey, pre, bitStringContents(d.extensions.get(VALUE_EXT)!)), alg, pre };
}

describe('Catalyst hybrid PKI: ECDSA in the token, ML-DSA in a file', { skip: !havePythonMlDsa() && 'python3 cryptography with ML-DSA (>= 45) is not installed' }, () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    const env = { ...PIN_ENV, ...PASS };
    const run = (args: string[]) => ok(lab.run(args, env));
    rootOut = run(['ca', 'init', '--profile', 'hybrid/catalyst/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'hybrid-root', ...pass('--pqc-passphrase-env'), '--var', 'cn=Hybrid Root', '--var', 'organization=PQ Lab', '--dir', 'hroot']);
    run(['ca', 'init', '--profile', 'hybrid/catalyst/issuing-ca', '--parent', 'hroot', ...pass('--parent-passphrase-env'), ...tokenArgs(), '--pkcs11-key-label', 'hybrid-sub', ...pass('--pqc-passphrase-env'), '--var', 'cn=Hybrid Issuing', '--dir', 'hsub']);
    const caArgs = ['--ca-dir', 'hsub', ...tokenArgs(), ...pass('--pqc-passphrase-env'), '--cred-dir', 'creds', ...pass('--passphrase-env')];
    const server = run(['credential', 'enroll', ...caArgs, '--profile', 'hybrid/catalyst/tls-server', '--var', 'cn=hybrid.example.com']);
    serverCert = wrotePaths(server).find((p) => p.endsWith('cert.pem'))!;
    serverDir = join(serverCert, '..');
    const client = run(['credential', 'enroll', ...caArgs, '--profile', 'hybrid/catalyst/tls-client', '--var', 'cn=bob']);
    clientCert = wrotePaths(client).find((p) => p.endsWith('cert.pem'))!;
    revokedSerial = /serial:\s+([0-9a-f]+)/.exec(client)![1];
    run(['cert', 'revoke', revokedSerial, '--reason', 'superseded', '--ca-dir', 'hsub']);
    run(['crl', 'gen', '--ca-dir', 'hsub', ...tokenArgs(), ...pass('--pqc-passphrase-env')]);
    run(['crl', 'gen', '--ca-dir', 'hroot', ...tokenArgs(), ...pass('--pqc-passphrase-env')]);
    const root = lab.path('hroot', 'ca.crt');
    const sub = lab.path('hsub', 'ca.crt');
    pairs.push(
      { issuer: root, doc: root, primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: root, doc: sub, primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: root, doc: lab.path('hroot', 'crl', 'ca.crl'), primary: 'ecdsa-sha384', alt: 'ml-dsa-87' },
      { issuer: sub, doc: serverCert, primary: 'ecdsa-sha256', alt: 'ml-dsa-65' },
      { issuer: sub, doc: clientCert, primary: 'ecdsa-sha256', alt: 'ml-dsa-65' },
      { issuer: sub, doc: lab.path('hsub', 'crl', 'ca.crl'), primary: 'ecdsa-sha256', alt: 'ml-dsa-65' },
    );
  });
  after(() => lab?.cleanup());

  test('ca init: the classical CA key is generated in the token, the ML-DSA key is an encrypted file, nothing classical on disk', () => {
    assert.match(rootOut, /key:\s+ec-p384 in token "CA Token".*label "hybrid-root"/);
    assert.match(rootOut, /test signature verified: yes/);
    assert.match(rootOut, /alt key:\s+ml-dsa-87 file versions\/v1\/keys\/ca\.ml-dsa-87\.key/);
    const objs = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '--list-objects', '--type', 'privkey'], { env: lab.env }).stdout;
    assert.match(objs, /label:\s+hybrid-root/);
    assert.match(objs, /label:\s+hybrid-sub/);
    for (const [dir, alg] of [['hroot', 'ml-dsa-87'], ['hsub', 'ml-dsa-65']]) {
      const keys = readdirSync(lab.path(dir, 'versions', 'v1', 'keys'));
      assert.deepEqual(keys, [`ca.${alg}.key`], `${dir}: only the ML-DSA key is a file`);
      const f = lab.path(dir, 'versions', 'v1', 'keys', keys[0]);
      assert.match(readFileSync(f, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      assert.equal(statSync(f).mode & 0o777, 0o600);
      const meta = JSON.parse(readFileSync(lab.path(dir, 'ca.meta.json'), 'utf8'));
      const v = meta.versions[meta.active];
      assert.deepEqual(v.keys.map((k: { id: string; storage: { type: string } }) => [k.id, k.storage.type]), [['classical', 'pkcs11'], ['pqc', 'software']]);
    }
  });

  test('every certificate carries the three Catalyst extensions, non-critical; CRLs carry the two signature ones; ML-DSA identifiers without parameters', () => {
    for (const { doc, alt } of pairs) {
      const d = parseSigned(readDer(doc), kindOf(doc));
      const a = algIdParts(d.extensions.get(ALG_EXT)!);
      assert.equal(ML_DSA_OIDS[a.oid as keyof typeof ML_DSA_OIDS], alt, doc);
      assert.equal(a.hasParams, false, `${doc}: altSignatureAlgorithm parameters absent`);
      assert.ok(d.extensions.has(VALUE_EXT), doc);
      if (d.kind === 'certificate') {
        const k = spkiParts(d.extensions.get(SPKI_EXT)!);
        assert.ok(ML_DSA_OIDS[k.oid as keyof typeof ML_DSA_OIDS], doc);
        assert.equal(k.hasParams, false, `${doc}: subjectAltPublicKeyInfo algorithm parameters absent`);
        assert.ok(d.spki!.oid === '1.2.840.10045.2.1', `${doc}: the primary key is EC`);
      } else assert.ok(!d.extensions.has(SPKI_EXT), 'a CRL has no subject key');
    }
    for (const r of pythonCheck(pairs)) {
      const want = r.kind === 'certificate' ? { [SPKI_EXT]: false, [ALG_EXT]: false, [VALUE_EXT]: false } : { [ALG_EXT]: false, [VALUE_EXT]: false };
      assert.deepEqual(r.catalyst_critical, want, r.doc);
    }
  });

  test('the subject gets both keys: the credential files hold the EC key of the SPKI and the ML-DSA key of subjectAltPublicKeyInfo', () => {
    const files = readdirSync(serverDir).sort();
    assert.deepEqual(files, ['cert.pem', 'chain.pem', 'key.ml-dsa-65.pem', 'key.pem']);
    const d = parseSigned(readDer(serverCert), 'certificate');
    const pubs = pythonJson<{ ec: string; ml: string }>(
      `
import json, sys
from cryptography.hazmat.primitives import serialization as s
r = json.load(sys.stdin)
pub = lambda p: s.load_pem_private_key(open(p, 'rb').read(), r['pass'].encode()).public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo).hex()
print(json.dumps({'ec': pub(r['ec']), 'ml': pub(r['ml'])}))
`,
      { ec: join(serverDir, 'key.pem'), ml: join(serverDir, 'key.ml-dsa-65.pem'), pass: PASS.QPKI_TEST_PASS },
    );
    assert.equal(pubs.ec, Buffer.from(d.spki!.der).toString('hex'));
    assert.equal(pubs.ml, Buffer.from(d.extensions.get(SPKI_EXT)!).toString('hex'));
  });

  test('python cryptography: ECDSA primary signatures verify, and ML-DSA alternative signatures verify over its own pre-TBS', () => {
    for (const r of pythonCheck(pairs)) {
      assert.equal(r.primary, true, `${r.doc}: primary (${r.primary_how})`);
      assert.ok(r.alt, r.doc);
      assert.equal(r.alt!.alg_params_absent, true);
      assert.equal(r.alt!.valid, true, `${r.doc}: alternative`);
    }
  });

  test('liboqs verifies every alternative signature over a pre-TBS derived with asn1js, which equals the one Python derived', async () => {
    const py = pythonCheck(pairs);
    for (const [i, { issuer, doc, alt }] of pairs.entries()) {
      const r = await liboqsAlternative(issuer, doc);
      assert.equal(r.alg, alt);
      assert.equal(r.valid, true, doc);
      assert.equal(Buffer.from(r.pre).toString('hex'), py[i].alt!.pre_tbs, `${doc}: two independent pre-TBS derivations agree`);
      // The pre-TBS is not the TBS: it lost the signature field and altSignatureValue.
      const tbs = parseSigned(readDer(doc), kindOf(doc)).tbs;
      assert.ok(r.pre.length < tbs.length - bitStringContents(parseSigned(readDer(doc), kindOf(doc)).extensions.get(VALUE_EXT)!).length);
    }
  });

  test('Bouncy Castle >= 1.80: primary and alternative signatures of every certificate and CRL', (t) => {
    const bc = bouncyCastle();
    if ('missing' in bc) {
      console.log(`# Bouncy Castle check not run: ${bc.missing}`);
      t.skip(bc.missing);
      return;
    }
    const root = lab.path('hroot', 'ca.crt');
    const sub = lab.path('hsub', 'ca.crt');
    const a = bcVerify(bc.classpath, root, pairs.filter((p) => p.issuer === root).map((p) => p.doc));
    const b = bcVerify(bc.classpath, sub, pairs.filter((p) => p.issuer === sub).map((p) => p.doc));
    assert.ok(versionAtLeast(a.version, '1.80'), a.version);
    assert.equal(a.results.length + b.results.length, pairs.length);
    for (const r of [...a.results, ...b.results]) assert.deepEqual([r.primary, r.alternative], ['true', 'true'], r.file);
  });

  test('classical verifiers ignore the non-critical extensions: openssl -x509_strict and certtool accept the chains and CRLs', () => {
    const root = lab.path('hroot', 'ca.crt');
    const sub = lab.path('hsub', 'ca.crt');
    for (const leaf of [serverCert, clientCert]) {
      const v = sh('openssl', ['verify', '-x509_strict', '-CAfile', root, '-untrusted', sub, leaf]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const chain = lab.path(`certtool-${leaf === serverCert ? 'server' : 'client'}.pem`);
      writeFileSync(chain, readFileSync(leaf, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0] + readFileSync(sub, 'utf8') + readFileSync(root, 'utf8'));
      const c = sh('certtool', ['--verify-chain', '--infile', chain]);
      assert.equal(c.code, 0, c.stdout + c.stderr);
      assert.match(c.stdout, /Chain verification output: Verified/);
    }
    // With the CRL checked, the revoked client certificate is refused and the server one accepted.
    const crlChain = lab.path('crls.pem');
    writeFileSync(crlChain, readFileSync(lab.path('hsub', 'crl', 'ca.crl'), 'utf8') + readFileSync(lab.path('hroot', 'crl', 'ca.crl'), 'utf8'));
    const good = sh('openssl', ['verify', '-x509_strict', '-crl_check_all', '-CRLfile', crlChain, '-CAfile', root, '-untrusted', sub, serverCert]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    const revoked = sh('openssl', ['verify', '-x509_strict', '-crl_check_all', '-CRLfile', crlChain, '-CAfile', root, '-untrusted', sub, clientCert]);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);
    for (const [crl, ca] of [[lab.path('hsub', 'crl', 'ca.crl'), sub], [lab.path('hroot', 'crl', 'ca.crl'), root]]) {
      const v = sh('certtool', ['--verify-crl', '--load-ca-certificate', ca, '--infile', crl]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /Verification output: Verified/);
    }
  });

  test('qpki cert show reports the primary and the alternative signature separately, against the issuer or the certificate itself', () => {
    for (const { issuer, doc, primary, alt } of pairs) {
      const out = JSON.parse(ok(lab.run(['--json', 'cert', 'show', doc, '--issuer', issuer]))) as { signatures: { which: string; algorithm: string; valid: boolean }[]; altPublicKey?: { algorithm: string } };
      assert.deepEqual(out.signatures.map((s) => [s.which, s.algorithm, s.valid]), [['primary', primary, true], ['alternative', alt, true]], doc);
    }
    const self = ok(lab.run(['cert', 'show', lab.path('hroot', 'ca.crt')]));
    assert.match(self, /primary signature \(ecdsa-sha384\): VALID — against its own key \(self-signed\)/);
    assert.match(self, /alternative signature \(ml-dsa-87\): VALID — against its own key \(self-signed\) \(alternative key\)/);
    assert.match(self, /alt key:\s+ml-dsa-87/);
    // Readable, not kilobytes of hex.
    assert.match(self, /Alt Signature Value \(Catalyst\)\n\s+4627-byte signature/);
    const crl = ok(lab.run(['cert', 'show', lab.path('hsub', 'crl', 'ca.crl'), '--ca-dir', lab.path('hsub')]));
    assert.match(crl, /primary signature \(ecdsa-sha256\): VALID/);
    assert.match(crl, /alternative signature \(ml-dsa-65\): VALID/);
    assert.match(crl, new RegExp(`${revokedSerial} at .* \\(superseded\\)`));
    // Checked against the wrong CA, both fail.
    const wrong = lab.run(['cert', 'show', serverCert, '--issuer', lab.path('hroot', 'ca.crt')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /primary signature \(ecdsa-sha256\): INVALID/);
    assert.match(wrong.stdout, /alternative signature \(ml-dsa-65\): INVALID/);
  });

  test('a good primary with a bad alternative signature is caught by qpki, python, liboqs and Bouncy Castle alike', async () => {
    // Built in-process with software keys: the alternative signer signs something other than the pre-TBS.
    const ec = generateSoftwareKey('ec-p256');
    const ml = generateSoftwareKey('ml-dsa-65');
    const storage = { type: 'software', path: 'mem', encrypted: false } as const;
    const ecSigner = signerFromPkcs8(ec.pkcs8, storage);
    const mlSigner = signerFromPkcs8(ml.pkcs8, storage);
    const liar: Signer = { keyAlgorithm: mlSigner.keyAlgorithm, spki: mlSigner.spki, storage, sign: (alg, data) => mlSigner.sign(alg, Uint8Array.from([...data, 0])) };
    const name = AsnConvert.parse(readDer(lab.path('hsub', 'ca.crt')), Certificate).tbsCertificate.subject;
    const now = new Date();
    const later = new Date(now.getTime() + 86_400_000);
    const spec = (alt: Signer) => ({ serial: newSerial(), issuer: name, subject: name, notBefore: now, notAfter: later, spki: ec.spki, extensions: [], signer: ecSigner, signatureAlgorithm: 'ecdsa-sha256' as const, subjectAltSpki: ml.spki, alt: { signer: alt, signatureAlgorithm: 'ml-dsa-65' as const } });
    // The engine itself never lets such a document out: its own check refuses it before any write.
    await assert.rejects(buildCertificate(spec(liar)), (e: { code?: string }) => e.code === 'SIGNATURE_INVALID');
    // So the bad document is assembled here from the prepared TBS, signed without the check.
    const make = async (alt: Signer) => {
      const { signer, alt: a, ...content } = spec(alt);
      return toPem(await signPrepared(prepareCertificate({ ...content, altSignatureAlgorithm: a.signatureAlgorithm }), signer, a.signer), 'CERTIFICATE');
    };
    const goodCa = lab.path('self-good.pem');
    const badCert = lab.path('self-bad-alt.pem');
    writeFileSync(goodCa, await make(mlSigner));
    writeFileSync(badCert, await make(liar));
    const crlContent = { issuer: name, issuerKeyId: new Uint8Array(20), thisUpdate: now, nextUpdate: later, crlNumber: 7n, revoked: [], signatureAlgorithm: 'ecdsa-sha256' as const, altSignatureAlgorithm: 'ml-dsa-65' as const };
    await assert.rejects(buildCrl({ ...crlContent, signer: ecSigner, alt: { signer: liar, signatureAlgorithm: 'ml-dsa-65' } }), (e: { code?: string }) => e.code === 'SIGNATURE_INVALID');
    const crl = (alt: Signer) => signPrepared(prepareCrl(crlContent), ecSigner, alt);
    const goodCrl = lab.path('good.crl');
    const badCrl = lab.path('bad-alt.crl');
    writeFileSync(goodCrl, toPem(await crl(mlSigner), 'X509 CRL'));
    writeFileSync(badCrl, toPem(await crl(liar), 'X509 CRL'));

    const py = pythonCheck([goodCa, badCert, goodCrl, badCrl].map((doc) => ({ issuer: goodCa, doc })));
    assert.deepEqual(py.map((r) => [r.primary, r.alt!.valid]), [[true, true], [true, false], [true, true], [true, false]]);
    for (const [doc, want] of [[goodCa, true], [badCert, false], [goodCrl, true], [badCrl, false]] as const) {
      assert.equal((await liboqsAlternative(goodCa, doc)).valid, want, doc);
    }
    const show = lab.run(['cert', 'show', badCert, '--issuer', goodCa]);
    assert.equal(show.code, 1);
    assert.match(show.stdout, /primary signature \(ecdsa-sha256\): VALID/);
    assert.match(show.stdout, /alternative signature \(ml-dsa-65\): INVALID/);
    const showCrl = lab.run(['cert', 'show', badCrl, '--issuer', goodCa]);
    assert.equal(showCrl.code, 1);
    assert.match(showCrl.stdout, /primary signature \(ecdsa-sha256\): VALID[\s\S]*alternative signature \(ml-dsa-65\): INVALID/);
    // openssl, blind to the alternative signature, accepts the bad one as a trust anchor: only PQ-aware checks can see it.
    const blind = sh('openssl', ['verify', '-CAfile', badCert, badCert]);
    assert.equal(blind.code, 0, blind.stdout + blind.stderr);
    const bc = bouncyCastle();
    if ('missing' in bc) {
      console.log(`# Bouncy Castle part not run: ${bc.missing}`);
      return;
    }
    const r = bcVerify(bc.classpath, goodCa, [goodCa, badCert, goodCrl, badCrl]).results;
    assert.deepEqual(r.map((x) => [x.primary, x.alternative]), [['true', 'true'], ['true', 'false'], ['true', 'true'], ['true', 'false']]);
  });
});


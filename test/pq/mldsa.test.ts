/**
 * ML-DSA alone, end to end through the real command line: a software ML-DSA-87 root, an
 * ML-DSA-65 issuing CA under it, TLS server/client and OCSP responder credentials, a
 * certificate issued from an ML-DSA CSR made by Python (not by us), revocation and a CRL.
 * Every certificate and CRL is checked against RFC 9881 (OIDs, parameters absent, raw key in the
 * BIT STRING, key usages) and verified by python `cryptography`, liboqs and, when it can be had,
 * Bouncy Castle 1.80. The token (SoftHSM2 2.6) has no ML-DSA: asking for one there must fail
 * plainly and leave nothing behind, never fall back to a software key.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ensureCliBuilt, errorLine, makeLab, ok, sh, SOFTHSM_LIB, tokenArgs, PIN_ENV, USER_PIN, wrotePaths, type Lab } from '../cli/helpers';
import {
  bcVerify,
  bouncyCastle,
  havePythonMlDsa,
  liboqsVerify,
  ML_DSA_OIDS,
  mlDsaAlgId,
  parseSigned,
  pythonCheck,
  pythonJson,
  readDer,
  versionAtLeast,
  type MlDsaName,
} from './verifiers';

const PASS = { QPKI_TEST_PASS: 'pq-test-passphrase-1234' };
const pass = (flag: string) => [flag, 'QPKI_TEST_PASS'];
const RFC9881_KU = new Set(['digital_signature', 'content_commitment', 'key_cert_sign', 'crl_sign']);
// Kept in the repository (test/fixtures), so this check runs wherever the tests do.
const FIXTURE = join(__dirname, '..', 'fixtures', 'ml-dsa', 'ML-DSA-44.crt');

let lab: Lab;
/** [issuer, document] for every signed thing the command line made. */
const pairs: { issuer: string; doc: string; alg: MlDsaName }[] = [];
let serverCert: string;
let csrCert: string;
let crlPath: string;
let revokedSerial: string;

function credCert(stdout: string): string {
  return wrotePaths(stdout).find((p) => p.endsWith('cert.pem'))!;
}

/** A PKCS#10 request built by hand in Python and signed by python `cryptography`'s ML-DSA (it cannot build one itself). */
function pythonCsr(alg: 'MLDSA44' | 'MLDSA65', cn: string, tamper = false): string {
  const code = `
import json, sys, base64
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives import serialization as s
req = json.load(sys.stdin)
def enc(tag, c):
    n = len(c)
    head = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([tag]) + head + c
key = getattr(mldsa, req['alg'] + 'PrivateKey').generate()
spki = key.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
name = enc(0x30, enc(0x31, enc(0x30, bytes.fromhex('0603550403') + enc(0x0c, req['cn'].encode()))))
info = enc(0x30, bytes.fromhex('020100') + name + spki + bytes.fromhex('a000'))
sig = key.sign(info)
if req['tamper']:
    sig = bytes([sig[0] ^ 1]) + sig[1:]
alg = spki[4:4 + 2 + spki[5]]  # the SPKI's AlgorithmIdentifier (after 30 82 LL LL): same OID, parameters absent
csr = enc(0x30, info + alg + enc(0x03, b'\\x00' + sig))
b = base64.b64encode(csr).decode()
print(json.dumps({'pem': '-----BEGIN CERTIFICATE REQUEST-----\\n' + '\\n'.join(b[i:i+64] for i in range(0, len(b), 64)) + '\\n-----END CERTIFICATE REQUEST-----\\n', 'spki': spki.hex()}))
`;
  const r = pythonJson<{ pem: string; spki: string }>(code, { alg, cn, tamper });
  const path = lab.path(`${cn}${tamper ? '-tampered' : ''}.csr`);
  writeFileSync(path, r.pem);
  writeFileSync(path + '.spki', r.spki);
  return path;
}

describe('ML-DSA CAs, credentials, CSRs and CRLs (RFC 9881) through qpki', { skip: !havePythonMlDsa() && 'python3 cryptography with ML-DSA (>= 45) is not installed' }, () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    const run = (args: string[]) => ok(lab.run(args, PASS));
    run(['ca', 'init', '--profile', 'ml/root-ca', '--dir', 'mlroot', ...pass('--passphrase-env'), '--var', 'cn=PQ Root ML-DSA-87']);
    run(['ca', 'init', '--profile', 'ml/issuing-ca', '--parent', 'mlroot', ...pass('--parent-passphrase-env'), '--dir', 'mlsub', ...pass('--passphrase-env'), '--var', 'cn=PQ Issuing ML-DSA-65']);
    const caArgs = ['--ca-dir', 'mlsub', ...pass('--ca-passphrase-env'), '--cred-dir', 'creds', ...pass('--passphrase-env')];
    const server = run(['credential', 'enroll', ...caArgs, '--profile', 'ml/tls-server', '--var', 'cn=pq.example.com', '--var', 'dns_names=www.pq.example.com']);
    serverCert = credCert(server);
    revokedSerial = /serial:\s+([0-9a-f]+)/.exec(server)![1];
    const clientCert = credCert(run(['credential', 'enroll', ...caArgs, '--profile', 'ml/tls-client', '--var', 'cn=alice']));
    const ocspCert = credCert(run(['credential', 'enroll', ...caArgs, '--profile', 'ml/ocsp-responder', '--var', 'cn=PQ OCSP']));
    const csr = pythonCsr('MLDSA65', 'csr.example.com');
    csrCert = lab.path('from-csr.crt');
    run(['cert', 'issue', '--csr', csr, '--profile', 'ml/tls-server', '--ca-dir', 'mlsub', ...pass('--ca-passphrase-env'), '--out', csrCert]);
    run(['cert', 'revoke', revokedSerial, '--reason', 'keyCompromise', '--ca-dir', 'mlsub']);
    run(['crl', 'gen', '--ca-dir', 'mlsub', ...pass('--ca-passphrase-env')]);
    crlPath = lab.path('mlsub', 'crl', 'ca.crl');
    const root = lab.path('mlroot', 'ca.crt');
    const sub = lab.path('mlsub', 'ca.crt');
    pairs.push(
      { issuer: root, doc: root, alg: 'ml-dsa-87' },
      { issuer: root, doc: sub, alg: 'ml-dsa-87' },
      { issuer: sub, doc: serverCert, alg: 'ml-dsa-65' },
      { issuer: sub, doc: clientCert, alg: 'ml-dsa-65' },
      { issuer: sub, doc: ocspCert, alg: 'ml-dsa-65' },
      { issuer: sub, doc: csrCert, alg: 'ml-dsa-65' },
      { issuer: sub, doc: crlPath, alg: 'ml-dsa-65' },
    );
  });
  after(() => lab?.cleanup());

  test('RFC 9881 encodings: ML-DSA OIDs with parameters ABSENT (outer, inner, SPKI), raw key in the BIT STRING, only allowed key usages', () => {
    const results = pythonCheck(pairs);
    for (const [i, r] of results.entries()) {
      const { alg, doc } = pairs[i];
      assert.equal(r.signature_oid, Object.entries(ML_DSA_OIDS).find(([, n]) => n === alg)![0], doc);
      assert.equal(r.outer_alg, mlDsaAlgId(alg), `${doc}: outer signatureAlgorithm`);
      assert.equal(r.inner_alg, mlDsaAlgId(alg), `${doc}: TBS signature field`);
      if (r.kind === 'certificate') {
        const parts = parseSigned(readDer(doc), 'certificate');
        const keyAlg = ML_DSA_OIDS[parts.spki!.oid as keyof typeof ML_DSA_OIDS];
        assert.ok(keyAlg, `${doc}: the subject key is ML-DSA`);
        assert.equal(r.spki_alg, mlDsaAlgId(keyAlg), `${doc}: SPKI algorithm without parameters`);
        // The BIT STRING holds the raw FIPS 204 public key: 1312 / 1952 / 2592 bytes, no wrapping.
        assert.equal(parts.spki!.publicKey.length, { 'ml-dsa-44': 1312, 'ml-dsa-65': 1952, 'ml-dsa-87': 2592 }[keyAlg], doc);
        assert.ok(r.key_usage && r.key_usage.length > 0, `${doc}: keyUsage present`);
        for (const ku of r.key_usage!) assert.ok(RFC9881_KU.has(ku), `${doc}: ${ku} is not allowed for ML-DSA`);
      }
    }
    // The CA certificates sign; the end entities only sign data.
    assert.deepEqual(results[0].key_usage, ['key_cert_sign', 'crl_sign']);
    assert.deepEqual(results[2].key_usage, ['digital_signature']);
  });

  test('python cryptography verifies every ML-DSA signature (certificates and the CRL) with the issuer key it parsed', () => {
    for (const r of pythonCheck(pairs)) {
      assert.equal(r.primary, true, `${r.doc} (${r.primary_how})`);
      assert.equal(r.alt, null, 'no Catalyst extensions in a pure ML-DSA chain');
    }
    // A signature checked against the wrong issuer fails: the check can fail.
    const wrong = pythonCheck([{ issuer: lab.path('mlroot', 'ca.crt'), doc: serverCert }]);
    assert.equal(wrong[0].primary, false);
  });

  test('liboqs verifies the ML-DSA signature over each TBS, split out with asn1js', async () => {
    for (const { issuer, doc, alg } of pairs) {
      const issuerKey = parseSigned(readDer(issuer), 'certificate').spki!.publicKey;
      const d = parseSigned(readDer(doc), doc.endsWith('.crl') ? 'crl' : 'certificate');
      assert.equal(ML_DSA_OIDS[d.signatureOid as keyof typeof ML_DSA_OIDS], alg);
      assert.equal(await liboqsVerify(alg, issuerKey, d.tbs, d.signature), true, doc);
      const bad = Uint8Array.from(d.tbs);
      bad[bad.length - 1] ^= 1;
      assert.equal(await liboqsVerify(alg, issuerKey, bad, d.signature), false, `${doc}: a changed TBS fails`);
    }
  });

  test('Bouncy Castle >= 1.80 verifies the ML-DSA chain and the CRL', (t) => {
    const bc = bouncyCastle();
    if ('missing' in bc) {
      console.log(`# Bouncy Castle check not run: ${bc.missing}`);
      t.skip(bc.missing);
      return;
    }
    const root = lab.path('mlroot', 'ca.crt');
    const sub = lab.path('mlsub', 'ca.crt');
    const a = bcVerify(bc.classpath, root, [root, sub]);
    assert.ok(versionAtLeast(a.version, '1.80'), a.version);
    const b = bcVerify(bc.classpath, sub, pairs.filter((p) => p.issuer === sub).map((p) => p.doc));
    for (const r of [...a.results, ...b.results]) {
      assert.equal(r.primary, 'true', r.file);
      assert.equal(r.alternative, 'absent', r.file);
    }
    // A certificate changed after signing (one letter of its name) fails in Bouncy Castle too.
    const der = Buffer.from(readDer(serverCert));
    const at = der.indexOf('www.pq.example.com');
    der[at] = 'v'.charCodeAt(0);
    const forged = lab.path('forged.pem');
    writeFileSync(forged, `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
    assert.equal(bcVerify(bc.classpath, sub, [forged]).results[0].primary, 'false');
  });

  test('qpki cert show verifies every certificate and the CRL against its issuer', () => {
    for (const { issuer, doc, alg } of pairs) {
      const out = JSON.parse(ok(lab.run(['--json', 'cert', 'show', doc, '--issuer', issuer]))) as { signatures: { which: string; algorithm: string; valid: boolean }[]; signatureAlgorithm: string };
      assert.equal(out.signatureAlgorithm, alg, doc);
      assert.deepEqual(out.signatures.map((s) => [s.which, s.algorithm, s.valid]), [['primary', alg, true]], doc);
    }
  });

  test('the CRL: python parses it, lists the revoked certificate with its reason, and CRL number 1', () => {
    const facts = pythonJson<{ revoked: [string, string][]; number: number; issuer: string }>(
      `
import json, sys
from cryptography import x509
crl = x509.load_pem_x509_crl(open(json.load(sys.stdin)['crl'], 'rb').read())
rev = [(format(r.serial_number, 'X'), r.extensions.get_extension_for_class(x509.CRLReason).value.reason.value) for r in crl]
print(json.dumps({'revoked': rev, 'number': crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number, 'issuer': crl.issuer.rfc4514_string()}))
`,
      { crl: crlPath },
    );
    assert.deepEqual(facts.revoked.map(([s, r]: [string, string]) => [s.toLowerCase(), r]), [[revokedSerial.replace(/^0+/, ''), 'keyCompromise']]);
    assert.equal(facts.number, 1);
    assert.equal(facts.issuer, 'CN=PQ Issuing ML-DSA-65');
  });

  test('cert issue --csr: an ML-DSA-65 request made by Python is verified and issued with its own key; tampered or mismatched requests are refused', () => {
    const spki = readFileSync(lab.path('csr.example.com.csr.spki'), 'utf8').trim();
    const cert = parseSigned(readDer(csrCert), 'certificate');
    assert.equal(Buffer.from(cert.spki!.der).toString('hex'), spki, 'the certificate carries the key of the request');
    const tampered = pythonCsr('MLDSA65', 'bad.example.com', true);
    const r = lab.run(['cert', 'issue', '--csr', tampered, '--profile', 'ml/tls-server', '--ca-dir', 'mlsub', ...pass('--ca-passphrase-env'), '--out', lab.path('bad.crt')], PASS);
    assert.equal(errorLine(r).code, 'CSR_SIGNATURE_INVALID');
    assert.ok(!existsSync(lab.path('bad.crt')));
    // An ML-DSA-44 key does not fit a profile made for ML-DSA-65.
    const small = pythonCsr('MLDSA44', 'small.example.com');
    const m = lab.run(['cert', 'issue', '--csr', small, '--profile', 'ml/tls-server', '--ca-dir', 'mlsub', ...pass('--ca-passphrase-env'), '--out', lab.path('small.crt')], PASS);
    assert.equal(errorLine(m).code, 'CSR_INVALID');
    assert.match(errorLine(m).message, /ml-dsa-44 key but profile ml\/tls-server is for ml-dsa-65/);
  });

  test('qpki ca csr makes an ML-DSA request that python and qpki accept', () => {
    const csr = lab.path('sub2.csr');
    ok(lab.run(['ca', 'csr', '--profile', 'ml/issuing-ca', '--var', 'cn=External ML-DSA Sub', '--out', csr, ...pass('--passphrase-env')], PASS));
    const der = readDer(csr);
    const facts = pythonJson<{ ok: boolean; alg: string }>(
      `
import json, sys
from cryptography import x509
c = x509.load_pem_x509_csr(open(json.load(sys.stdin)['csr'], 'rb').read())
c.public_key().verify(c.signature, c.tbs_certrequest_bytes)
print(json.dumps({'ok': True, 'alg': c.signature_algorithm_oid.dotted_string}))
`,
      { csr },
    );
    assert.deepEqual(facts, { ok: true, alg: '2.16.840.1.101.3.4.3.18' });
    assert.ok(Buffer.from(der).toString('hex').includes(mlDsaAlgId('ml-dsa-65')));
    const shown = JSON.parse(ok(lab.run(['--json', 'cert', 'show', csr]))) as { signatures: { valid: boolean }[] };
    assert.equal(shown.signatures[0].valid, true);
  });

  test('NULL parameters are refused: python cannot even parse such a certificate, and qpki cert show calls it INVALID', () => {
    // Same certificate body, self-signed with a fresh ML-DSA-65 key, in three variants.
    const base = AsnConvert.parse(readDer(serverCert), Certificate);
    const kp = ml_dsa65.keygen();
    const NULL = new Uint8Array([5, 0]).buffer;
    const make = (where: 'none' | 'spki' | 'signature') => {
      const c = AsnConvert.parse(AsnConvert.serialize(base), Certificate);
      const t = c.tbsCertificate;
      t.issuer = t.subject;
      t.extensions = t.extensions!.filter((e) => e.extnID !== '2.5.29.35');
      t.subjectPublicKeyInfo.subjectPublicKey = kp.publicKey.slice().buffer;
      if (where === 'spki') t.subjectPublicKeyInfo.algorithm.parameters = NULL;
      if (where === 'signature') {
        t.signature.parameters = NULL;
        c.signatureAlgorithm.parameters = NULL;
      }
      c.signatureValue = ml_dsa65.sign(new Uint8Array(AsnConvert.serialize(t)), kp.secretKey).slice().buffer;
      const p = lab.path(`null-${where}.der`);
      writeFileSync(p, Buffer.from(AsnConvert.serialize(c)));
      return p;
    };
    const files = { none: make('none'), spki: make('spki'), signature: make('signature') };
    const py = pythonJson<Record<string, string>>(
      `
import json, sys
from cryptography import x509
out = {}
for k, p in json.load(sys.stdin).items():
    try:
        c = x509.load_der_x509_certificate(open(p, 'rb').read())
        c.public_key().verify(c.signature, c.tbs_certificate_bytes)
        out[k] = 'verified'
    except Exception as e:
        out[k] = 'refused: ' + str(e)
print(json.dumps(out))
`,
      files,
    );
    assert.equal(py.none, 'verified', 'the control (parameters absent) verifies, so the refusals below are about NULL');
    assert.match(py.spki, /^refused: .*SubjectPublicKeyInfo::algorithm/);
    assert.match(py.signature, /^refused: .*signature_alg/);
    const show = (p: string) => lab.run(['cert', 'show', p]);
    assert.equal(show(files.none).code, 0);
    for (const p of [files.spki, files.signature]) {
      const r = show(p);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /primary signature \([^)]*\): INVALID .*(must have no algorithm parameters|wrong parameters)/);
    }
  });

  test('the RFC 9881 example certificate parses and verifies in qpki cert show; a flipped signature byte does not', { skip: !existsSync(FIXTURE) && `${FIXTURE} is not present` }, () => {
    const out = ok(lab.run(['cert', 'show', FIXTURE]));
    assert.match(out, /subject:\s+CN=LAMPS WG, O=IETF/);
    assert.match(out, /public key:\s+ml-dsa-44/);
    assert.match(out, /primary signature \(ml-dsa-44\): VALID — against its own key \(self-signed\)/);
    const der = Buffer.from(readDer(FIXTURE));
    der[der.length - 10] ^= 1;
    writeFileSync(lab.path('rfc9881-bad.der'), der);
    const bad = lab.run(['cert', 'show', lab.path('rfc9881-bad.der')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /primary signature \(ml-dsa-44\): INVALID/);
  });
});

describe('ML-DSA in the token: SoftHSM2 2.6 has none, and qpki says so without falling back to software', () => {
  let tlab: Lab;
  before(async () => {
    await ensureCliBuilt();
    tlab = makeLab();
  });
  after(() => tlab?.cleanup());

  const objects = () => sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '--list-objects'], { env: tlab.env }).stdout;

  test('the token offers no ML-DSA mechanism (checked with pkcs11-tool, not with qpki)', () => {
    const mechs = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--list-mechanisms'], { env: tlab.env });
    assert.equal(mechs.code, 0, mechs.stderr);
    assert.match(mechs.stdout, /ECDSA/);
    // CKM_ML_DSA_KEY_PAIR_GEN = 0x1c, CKM_ML_DSA = 0x1d (PKCS#11 3.2): pkcs11-tool would print them by name or number.
    assert.doesNotMatch(mechs.stdout, /ML-DSA|ML_DSA|0x0000001[cd]\b/i);
  });

  test('key gen --algorithm ml-dsa-65: MECHANISM_UNSUPPORTED, naming the way out, nothing created', () => {
    const before = objects();
    const r = tlab.run(['key', 'gen', '--algorithm', 'ml-dsa-65', ...tokenArgs(), '--pkcs11-key-label', 'pq-key'], PIN_ENV);
    const e = errorLine(r);
    assert.equal(e.code, 'MECHANISM_UNSUPPORTED');
    assert.match(e.message, /cannot generate ml-dsa-65 keys/);
    assert.match(e.message, /no PKCS#11 3\.2 ML-DSA/);
    assert.match(e.message, /software ML-DSA key/);
    assert.match(e.message, /hybrid/);
    assert.equal(objects(), before);
  });

  test('ca init --profile ml/root-ca with a token: MECHANISM_UNSUPPORTED, no CA directory, no key file, no token object', () => {
    const before = objects();
    const r = tlab.run(['ca', 'init', '--profile', 'ml/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'pq-root', '--var', 'cn=PQ in HSM', '--dir', 'pqhsm', ...pass('--passphrase-env')], { ...PIN_ENV, ...PASS });
    const e = errorLine(r);
    assert.equal(e.code, 'MECHANISM_UNSUPPORTED');
    assert.match(e.message, /cannot generate ml-dsa-87 keys/);
    assert.ok(!existsSync(tlab.path('pqhsm')), 'no CA directory');
    assert.deepEqual(readdirSync(tlab.dir).filter((n) => n.includes('pqhsm')), [], 'no staging directory left behind');
    assert.equal(objects(), before, 'no key generated in the token');
    assert.doesNotMatch(r.stdout, /CA created/);
    // Pointing at an existing key changes nothing: the token cannot hold one.
    const existing = tlab.run(['ca', 'init', '--profile', 'ml/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'pq-root', '--use-existing-key', '--var', 'cn=PQ in HSM', '--dir', 'pqhsm'], PIN_ENV);
    assert.equal(errorLine(existing).code, 'MECHANISM_UNSUPPORTED');
    assert.match(errorLine(existing).message, /has no ML-DSA .* software ML-DSA key .* hybrid\/catalyst profile/);
    assert.ok(!existsSync(tlab.path('pqhsm')));
    // Without the token options the same profile makes a software ML-DSA CA: the fallback is explicit, not silent.
    ok(tlab.run(['ca', 'init', '--profile', 'ml/root-ca', '--var', 'cn=PQ in a file', '--dir', 'pqsoft', ...pass('--passphrase-env')], PASS));
    assert.ok(existsSync(join(tlab.dir, 'pqsoft', 'versions', 'v1', 'keys', 'ca.ml-dsa-87.key')));
  });
});

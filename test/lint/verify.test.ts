/**
 * Verification that validates: the path validator on chains issued from the built-in profiles
 * (classical, ML-DSA, Catalyst with both signatures), the failures the issue names, `qpki cert
 * verify` and the app's verifyDocument, and the fixes to `cert show`'s signature verdicts —
 * checked against certificates OpenSSL makes where it can make them.
 */
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePath } from '../../electron/core/x509/validate/index';
import { describeDocument } from '../../electron/core/x509/describe';
import { assembleSigned } from '../../electron/core/x509/certificate';
import { children, encodeTlv, slice, whole } from '../../electron/core/x509/der';
import { toPem } from '../../electron/core/x509/pem';
import { compileProfile, loadProfile } from '../../electron/core/profiles/index';
import { generateSoftwareKey, signerFromPkcs8 } from '../../electron/core/keys/software';
import { signatureAlgorithmIdentifier } from '../../electron/core/keys/verify';
import { verify as appVerify } from '../../electron/ceremony/ca-views';
import { builtinFamilies, crlOf, issueFamily, issueFrom, type IssuedChain } from './chains';
import { ensureCliBuilt, qpki } from '../cli/helpers';

const family = (n: string) => builtinFamilies().find((f) => f.name === n)!;
const leafOf = (ch: IssuedChain, p: string) => ch.leaves.find((l) => l.profile.endsWith(p))!.der;
const software = (alg: 'ec-p256' | 'ec-p384') => signerFromPkcs8(generateSoftwareKey(alg).pkcs8, { type: 'software', path: '(test)', encrypted: false });

/** Re-sign a certificate whose TBS was edited: `edit` gets and returns the TBS DER. */
async function resign(der: Uint8Array, edit: (tbs: Uint8Array) => Uint8Array, signer: ReturnType<typeof software>): Promise<Uint8Array> {
  const [tbsT, algT] = children(der, whole(der));
  const tbs = edit(new Uint8Array(slice(der, tbsT)));
  const alg = signer.keyAlgorithm === 'ec-p384' ? 'ecdsa-sha384' : 'ecdsa-sha256';
  void algT;
  return assembleSigned(tbs, signatureAlgorithmIdentifier(alg), await signer.sign(alg, tbs));
}

describe('path validation of chains from the built-in profiles', () => {
  const chains = new Map<string, IssuedChain>();
  before(async () => {
    for (const n of ['ec', 'ml', 'hybrid/catalyst', 'br/rsa']) chains.set(n, await issueFamily(family(n)));
  });

  test('each TLS server certificate validates to its root through the issuing CA, for serverAuth', () => {
    for (const [n, ch] of chains) {
      const r = validatePath(leafOf(ch, 'tls-server'), { trusted: [ch.root.der], untrusted: [ch.issuing.der], purpose: 'serverAuth', peerName: 'www.example.com', crls: [ch.rootCrl] });
      assert.equal(r.valid, true, `${n}: ${r.reason}`);
      assert.equal(r.chain.length, 3);
      assert.equal(r.chain[2].trust, 'trust anchor');
      if (n === 'hybrid/catalyst') assert.deepEqual(r.chain.slice(0, 2).map((c) => c.trust), ['both signatures verified', 'both signatures verified']);
      // Without the intermediate there is no path.
      assert.match(validatePath(leafOf(ch, 'tls-server'), { trusted: [ch.root.der] }).reason!, /no path to a trusted certificate/);
    }
  });

  test('revocation from a CRL, the purpose, the peer name and the validation time each fail with their reason', () => {
    const ch = chains.get('ec')!;
    const base = { trusted: [ch.root.der], untrusted: [ch.issuing.der] };
    const revoked = ch.leaves[0]; // the issuing CA's CRL revokes the first leaf
    assert.match(validatePath(revoked.der, { ...base, crls: [ch.crl] }).reason!, /is revoked since .*keyCompromise/);
    assert.equal(validatePath(revoked.der, base).valid, true, 'without a CRL, revocation is not checked');
    assert.match(validatePath(leafOf(ch, 'tls-client'), { ...base, purpose: 'serverAuth' }).reason!, /extKeyUsage does not allow serverAuth/);
    assert.match(validatePath(leafOf(ch, 'tls-server'), { ...base, peerName: 'evil.example.net' }).reason!, /does not name evil\.example\.net/);
    assert.match(validatePath(leafOf(ch, 'tls-server'), { ...base, at: new Date(Date.now() + 400 * 86400_000) }).reason!, /expired at/);
    assert.match(validatePath(leafOf(ch, 'tls-server'), { ...base, at: new Date(Date.now() - 86400_000) }).reason!, /is not valid before/);
  });

  test('a Catalyst certificate whose alternative signature is tampered with does not validate, and cert show says INVALID', async () => {
    const ch = chains.get('hybrid/catalyst')!;
    // Rebuilt with the issuing CA's key pair: the primary signature stays valid, the alternative one is broken.
    const issuerKey = software('ec-p256');
    const ca = await issueFrom(loadProfile('hybrid/catalyst/issuing-ca'), { cn: 'Tamper CA' }, { signer: issuerKey, alt: signerFromPkcs8(generateSoftwareKey('ml-dsa-65').pkcs8, { type: 'software', path: '(t)', encrypted: false }) }, 'self');
    const leaf = await issueFrom(loadProfile('hybrid/catalyst/tls-server'), { cn: 'www.example.com' }, { spki: generateSoftwareKey('ec-p256').spki, altSpki: generateSoftwareKey('ml-dsa-65').spki }, ca.party!);
    const altOid = Buffer.from('0603551d4a', 'hex'); // 2.5.29.74 altSignatureValue
    const flipAlt = (tbs: Uint8Array) => {
      const at = Buffer.from(tbs).indexOf(altOid);
      tbs[at + 40] ^= 0x01; // a byte well inside the signature
      return tbs;
    };
    const tampered = await resign(leaf.der, flipAlt, issuerKey);
    const d = describeDocument(tampered, ca.der);
    assert.deepEqual(d.signatures.map((s) => [s.which, s.valid]), [['primary', true], ['alternative', false]]);
    assert.match(validatePath(tampered, { trusted: [ca.der] }).reason!, /alternative .* signature does not verify/);
    void ch;
  });

  test('pathLenConstraint and name constraints of the root bound the path', async () => {
    const rootKey = software('ec-p384');
    const root0 = await issueFrom(loadProfile('ec/issuing-ca'), { cn: 'Root pathLen 0', organization: 'Example', country: 'FR' }, { signer: rootKey }, 'self');
    const sub = await issueFrom(loadProfile('ec/issuing-ca'), { cn: 'Sub' }, { signer: software('ec-p256') }, root0.party!);
    const leaf = await issueFrom(loadProfile('ec/tls-server'), { cn: 'www.example.com' }, { spki: generateSoftwareKey('ec-p256').spki }, sub.party!);
    assert.match(validatePath(leaf.der, { trusted: [root0.der], untrusted: [sub.der] }).reason!, /pathLenConstraint/);
    const nc = compileProfile({ name: 'x/nc-root', algorithm: 'ec-p256', validity: '3650d', subject: { cn: 'NC Root' }, extensions: { basicConstraints: { ca: true }, keyUsage: { values: ['keyCertSign', 'cRLSign'] }, nameConstraints: { permitted: { dns: ['example.org'] } } } }, 'test');
    const ncRoot = await issueFrom(nc, {}, { signer: software('ec-p256') }, 'self');
    const bad = await issueFrom(loadProfile('ec/tls-server'), { cn: 'www.example.com' }, { spki: generateSoftwareKey('ec-p256').spki }, ncRoot.party!);
    assert.match(validatePath(bad.der, { trusted: [ncRoot.der] }).reason!, /not in the permitted subtrees/);
    const good = await issueFrom(loadProfile('ec/tls-server'), { cn: 'www.example.org' }, { spki: generateSoftwareKey('ec-p256').spki }, ncRoot.party!);
    assert.equal(validatePath(good.der, { trusted: [ncRoot.der] }).valid, true);
  });

  test('an issuer with CA false, digitalSignature only and another name: the signature verifies, the chain does not (cert show, the app)', async () => {
    const fake = await issueFrom(loadProfile('ec/tls-client'), { cn: 'not a CA' }, { signer: software('ec-p256') }, 'self');
    const leaf = await issueFrom(loadProfile('ec/tls-server'), { cn: 'www.example.com' }, { spki: generateSoftwareKey('ec-p256').spki }, { ...fake.party!, subject: (await issueFrom(loadProfile('ec/tls-client'), { cn: 'another name' }, { signer: software('ec-p256') }, 'self')).party!.subject });
    assert.equal(describeDocument(leaf.der, fake.der).signatures[0].valid, true, 'one signature is all cert show --issuer checks');
    const r = validatePath(leaf.der, { trusted: [fake.der] });
    assert.equal(r.valid, false);
    const app = appVerify(toPem(leaf.der, 'CERTIFICATE'), toPem(fake.der, 'CERTIFICATE'), null);
    assert.equal(app.ok, false);
    assert.match(app.message, /chain does not validate/);
  });
});

describe('qpki cert verify', () => {
  let dir: string;
  let ch: IssuedChain;
  before(async () => {
    await ensureCliBuilt();
    ch = await issueFamily(family('br/ec'));
    dir = mkdtempSync(join(tmpdir(), 'qpki-verify-'));
    writeFileSync(join(dir, 'root.pem'), toPem(ch.root.der, 'CERTIFICATE'));
    writeFileSync(join(dir, 'issuing.pem'), toPem(ch.issuing.der, 'CERTIFICATE'));
    writeFileSync(join(dir, 'leaf.pem'), toPem(ch.leaves[0].der, 'CERTIFICATE'));
    writeFileSync(join(dir, 'crl.pem'), toPem(ch.crl, 'X509 CRL'));
    writeFileSync(join(dir, 'other-root.pem'), toPem((await issueFamily(family('br/ec'))).root.der, 'CERTIFICATE'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => qpki(args, { env: process.env, cwd: dir });

  test('VALID with the chain (exit 0); INVALID with the reason (exit 1); a bad --at is a usage error', () => {
    const okRun = run(['cert', 'verify', 'leaf.pem', '--ca', 'root.pem', '--untrusted', 'issuing.pem', '--purpose', 'serverAuth', '--host', 'www.example.com', '--rules', 'webpki']);
    assert.equal(okRun.code, 0, okRun.stderr + okRun.stdout);
    assert.match(okRun.stdout, /^VALID/);
    assert.match(okRun.stdout, /2: .*Example Root CA.*trust anchor/);
    const revoked = run(['cert', 'verify', 'leaf.pem', '--ca', 'root.pem', '--untrusted', 'issuing.pem', '--crl', 'crl.pem']);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stdout, /^INVALID: .*is revoked/);
    const late = run(['--json', 'cert', 'verify', 'leaf.pem', '--ca', 'root.pem', '--untrusted', 'issuing.pem', '--at', '2040-01-01T00:00:00Z']);
    assert.equal(late.code, 1);
    assert.equal(JSON.parse(late.stdout).valid, false);
    const bad = run(['cert', 'verify', 'leaf.pem', '--ca', 'root.pem', '--at', 'tomorrow']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INPUT_INVALID/);
    // Any certificate given with --ca is a trust anchor (an intermediate too); a root of the same name and another key is not ours.
    assert.equal(run(['cert', 'verify', 'leaf.pem', '--ca', 'issuing.pem']).code, 0);
    const other = run(['cert', 'verify', 'leaf.pem', '--ca', 'other-root.pem', '--untrusted', 'issuing.pem']);
    assert.equal(other.code, 1);
    assert.match(other.stdout, /INVALID: no path to a trusted certificate/);
  });
});

describe('cert show verdicts (issue 13 fixes), on certificates OpenSSL makes', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'qpki-show-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  const read = (f: string) => readFileSync(join(tmp, f), 'utf8');

  test('an X.509 v1 certificate is read, not refused as "unrecognized structure"', () => {
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'v1.key', '-subj', '/CN=v1', '-out', 'v1.csr']);
    openssl(['x509', '-req', '-in', 'v1.csr', '-key', 'v1.key', '-days', '10', '-out', 'v1.pem']);
    assert.match(openssl(['x509', '-in', 'v1.pem', '-noout', '-text']).toString(), /Version: 1 \(0x0\)/);
    const d = describeDocument(read('v1.pem'));
    assert.equal(d.kind, 'certificate');
    assert.equal(d.subject, 'CN=v1');
    assert.equal(d.signatures[0].valid, true, 'self-signed v1');
  });

  test('a signature BIT STRING that declares unused bits does not verify', () => {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'u.key', '-subj', '/CN=u', '-days', '10', '-out', 'u.pem']);
    const der = new Uint8Array(execFileSync('openssl', ['x509', '-in', join(tmp, 'u.pem'), '-outform', 'DER']));
    const [, , sigT] = children(der, whole(der));
    assert.equal(describeDocument(der).signatures[0].valid, true);
    const bad = new Uint8Array(der);
    bad[sigT.contentStart] = 1;
    const s = describeDocument(bad).signatures[0];
    assert.equal(s.valid, false);
    assert.match(s.reason!, /unused bits/);
  });

  test('a Catalyst alternative signature that declares unused bits is INVALID, not an error', async () => {
    const issuerKey = software('ec-p256');
    const ca = await issueFrom(loadProfile('hybrid/catalyst/issuing-ca'), { cn: 'Bits CA' }, { signer: issuerKey, alt: signerFromPkcs8(generateSoftwareKey('ml-dsa-65').pkcs8, { type: 'software', path: '(t)', encrypted: false }) }, 'self');
    const altValue = Buffer.from('0603551d4a', 'hex');
    const set = (tbs: Uint8Array) => {
      const at = Buffer.from(tbs).indexOf(altValue);
      // OID, OCTET STRING header (4 bytes), BIT STRING header (4 bytes): then the unused-bits byte.
      const octet = at + altValue.length;
      const bitString = octet + 4;
      assert.equal(tbs[bitString], 0x03);
      tbs[bitString + 4] = 3;
      return tbs;
    };
    const bad = await resign(ca.der, set, issuerKey);
    const d = describeDocument(bad, ca.der);
    const alt = d.signatures.find((s) => s.which === 'alternative')!;
    assert.equal(d.signatures[0].valid, true);
    assert.equal(alt.valid, false);
    assert.match(alt.reason!, /unused bits/);
    void encodeTlv;
  });

  test('RSA-PSS salt 20, MGF1-SHA1, RSA 1024, P-192 and SHA-1 signatures are INVALID for this tool’s policy, not "not checked"', () => {
    const make = (name: string, keyArgs: string[], sigArgs: string[]) => {
      openssl(['req', '-x509', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-days', '10', ...sigArgs, '-out', `${name}.pem`]);
      return describeDocument(read(`${name}.pem`)).signatures[0];
    };
    const rsa = ['-newkey', 'rsa:2048'];
    const cases = [
      make('pss20', rsa, ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:20']),
      make('mgf1sha1', rsa, ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sigopt', 'rsa_mgf1_md:sha1']),
      make('rsa1024', ['-newkey', 'rsa:1024'], ['-sha256']),
      make('p192', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime192v1'], ['-sha256']),
      make('sha1', rsa, ['-sha1']),
    ];
    for (const s of cases) {
      assert.equal(s.valid, false, JSON.stringify(s));
      assert.match(s.reason!, /INVALID for this tool’s policy/, JSON.stringify(s));
    }
    // The same well-formed RSA-PSS with a salt as long as the hash verifies.
    assert.equal(make('pss32', rsa, ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']).valid, true);
  });

  test('a self-issued certificate signed by another key is not checked as self-signed', () => {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'old.key', '-subj', '/CN=Rollover CA', '-days', '10', '-out', 'old.pem']);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'new.key', '-subj', '/CN=Rollover CA', '-out', 'new.csr']);
    writeFileSync(join(tmp, 'ext.cnf'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    openssl(['x509', '-req', '-in', 'new.csr', '-CA', 'old.pem', '-CAkey', 'old.key', '-set_serial', '7', '-days', '10', '-extfile', 'ext.cnf', '-out', 'new-by-old.pem']);
    const alone = describeDocument(read('new-by-old.pem')).signatures[0];
    assert.equal(alone.valid, null, JSON.stringify(alone));
    assert.match(alone.against, /signed by another key/);
    assert.equal(describeDocument(read('new-by-old.pem'), read('old.pem')).signatures[0].valid, true);
    assert.equal(describeDocument(read('old.pem')).signatures[0].valid, true, 'a real self-signed one still checks against itself');
  });
});

describe('crlOf in the tests lists what it is given', () => {
  test('a CRL revoking with cACompromise is what BR 7.2.2 forbids, and our lint says so', async () => {
    const ch = await issueFamily(family('br/ec'));
    const { lintCrl } = await import('../../electron/core/lint/index');
    const ca = { signer: software('ec-p256') };
    void ca;
    const crl = await crlOf({ ...(await issueFrom(loadProfile('br/ec/root-ca'), { cn: 'R', organization: 'O', country: 'FR' }, { signer: software('ec-p384') }, 'self')).party! }, [{ der: ch.leaves[0].der, reason: 'cACompromise' }]);
    assert.ok(lintCrl(crl).some((f) => f.lint === 'br.crl.reason_code_not_allowed'));
  });
});

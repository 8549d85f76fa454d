import 'reflect-metadata';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, webcrypto } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extension as AsnExtension } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { keyFamily } from '../keys/algorithms';
import { buildExtensions, buildSubject, listProfiles, loadProfile, resolveVariables, subjectKeyIdentifier, type Profile } from '.';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const BUILTINS = [
  'ec/root-ca',
  'ec/issuing-ca',
  'ec/tls-server',
  'ec/tls-client',
  'ec/ocsp-responder',
  'rsa/root-ca',
  'rsa/issuing-ca',
  'rsa/tls-server',
  'rsa/tls-client',
  'ml/root-ca',
  'ml/issuing-ca',
  'ml/tls-server',
  'ml/tls-client',
  'ml/ocsp-responder',
  'hybrid/catalyst/root-ca',
  'hybrid/catalyst/issuing-ca',
  'hybrid/catalyst/tls-server',
  'hybrid/catalyst/tls-client',
];

/** Every variable a built-in may declare, with a value that passes its rules. */
const SAMPLE: Record<string, unknown> = {
  cn: 'host.example.com',
  organization: 'ACME, Inc.',
  organizational_unit: 'PKI',
  locality: 'Paris',
  state: 'Île-de-France',
  country: 'FR',
  dns_names: 'www.example.com,api.example.com',
  ip_addresses: '192.0.2.10,2001:db8::1',
  email: 'Alice@Example.com',
  serial_number: 'EMP-0042',
  policy_oid: '1.3.6.1.4.1.55555.1.2',
  cps_url: 'https://pki.example.com/cps',
  policy_notice: 'Issued under the example policy',
  crl_url: 'http://crl.example.com/ca.crl',
  ca_issuers_url: 'http://pki.example.com/ca.crt',
  ocsp_url: 'http://ocsp.example.com',
};

function sampleFor(p: Profile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of p.variables) if (v.name in SAMPLE) out[v.name] = SAMPLE[v.name];
  return out;
}

async function ecKeys(curve: 'P-256' | 'P-384' = 'P-256') {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  return { keys, spki };
}

/** A throwaway self-signed certificate carrying the profile's subject and extensions. */
async function selfSigned(p: Profile, values: Record<string, unknown>) {
  const { keys, spki } = await ecKeys();
  const v = resolveVariables(p, values);
  const exts = buildExtensions(p, v, { subjectSpki: spki, issuerSpki: spki });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: new x509.Name(AsnConvert.serialize(buildSubject(p, v))),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: exts.map((e) => new x509.Extension(AsnConvert.serialize(e))),
  });
  return { cert, exts, spki };
}

function extByOid(exts: AsnExtension[], oid: string): AsnExtension | undefined {
  return exts.find((e) => e.extnID === oid);
}

describe('built-in profiles', () => {
  test('all eighteen are listed and load', () => {
    const names = listProfiles().map((p) => p.name);
    for (const n of BUILTINS) assert.ok(names.includes(n), `${n} is listed`);
    for (const n of BUILTINS) {
      const p = loadProfile(n);
      assert.equal(p.name, n);
      assert.equal(p.source, 'builtin');
      const cn = p.variables.find((v) => v.name === 'cn');
      assert.ok(cn?.required, `${n}: cn is a required variable`);
    }
  });

  test('algorithms, validity and CA flags follow QPKI', () => {
    const expect: Record<string, [string, string | undefined, number, boolean, number | undefined]> = {
      'ec/root-ca': ['ec-p384', undefined, 7300, true, 1],
      'ec/issuing-ca': ['ec-p256', undefined, 3650, true, 0],
      'ec/tls-server': ['ec-p256', undefined, 365, false, undefined],
      'ec/ocsp-responder': ['ec-p384', undefined, 365, false, undefined],
      'rsa/root-ca': ['rsa-4096', undefined, 7300, true, 1],
      'rsa/tls-server': ['rsa-2048', undefined, 365, false, undefined],
      'ml/root-ca': ['ml-dsa-87', undefined, 7300, true, 1],
      'ml/issuing-ca': ['ml-dsa-65', undefined, 3650, true, 0],
      'hybrid/catalyst/root-ca': ['ec-p384', 'ml-dsa-87', 7300, true, 1],
      'hybrid/catalyst/issuing-ca': ['ec-p256', 'ml-dsa-65', 3650, true, 0],
      'hybrid/catalyst/tls-server': ['ec-p256', 'ml-dsa-65', 365, false, undefined],
      'hybrid/catalyst/tls-client': ['ec-p256', 'ml-dsa-65', 365, false, undefined],
    };
    for (const [n, [alg, alt, days, ca, pathLen]] of Object.entries(expect)) {
      const p = loadProfile(n);
      assert.equal(p.algorithm, alg, n);
      assert.equal(p.altAlgorithm, alt, n);
      assert.equal(p.validityDays, days, n);
      assert.equal(p.isCa, ca, n);
      assert.equal(p.pathLen, pathLen, n);
    }
  });

  test('the subject comes from variables: no fixed organization', () => {
    for (const n of BUILTINS) {
      const p = loadProfile(n);
      const v = resolveVariables(p, { cn: 'only.example.com' });
      const der = AsnConvert.serialize(buildSubject(p, v));
      assert.equal(new x509.Name(der).toString(), 'CN=only.example.com', n);
    }
  });

  for (const n of BUILTINS) {
    test(`${n} renders into a certificate that @peculiar/x509 parses`, async () => {
      const p = loadProfile(n);
      const { cert, exts, spki } = await selfSigned(p, sampleFor(p));
      const bc = cert.getExtension(x509.BasicConstraintsExtension);
      assert.ok(bc?.critical, 'basicConstraints critical');
      assert.equal(bc!.ca, p.isCa);
      assert.equal(bc!.pathLength, p.pathLen);
      const ku = cert.getExtension(x509.KeyUsagesExtension);
      assert.ok(ku?.critical, 'keyUsage critical');
      const fams = [p.algorithm, p.altAlgorithm].filter((a) => a !== undefined).map((a) => keyFamily(a!));
      if (fams.includes('ec')) {
        assert.equal(ku!.usages & x509.KeyUsageFlags.keyEncipherment, 0, 'EC never carries keyEncipherment');
        assert.equal(ku!.usages & x509.KeyUsageFlags.dataEncipherment, 0);
      }
      if (fams.includes('ml-dsa')) {
        const allowed = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
        assert.equal(ku!.usages & ~allowed, 0, 'ML-DSA carries only RFC 9881 key usages');
      }
      if (p.isCa) assert.equal(ku!.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
      // SKI = SHA-1 of the subjectPublicKey bits, computed here independently from the JWK.
      const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
      const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
      const ski = createHash('sha1').update(point).digest('hex');
      assert.equal(cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId, ski);
      assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId, ski, 'self-signed: AKI = own SKI');
      assert.equal(Buffer.from(subjectKeyIdentifier(spki)).toString('hex'), ski);
      assert.ok(extByOid(exts, '2.5.29.14') && extByOid(exts, '2.5.29.35'));
      // The optional URLs were given, so their extensions are present and not critical.
      const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
      const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
      if (n.endsWith('root-ca')) {
        assert.equal(cdp, null, 'a root has no CRL distribution point');
        assert.equal(aia, null, 'a root has no AIA');
      } else {
        assert.equal(cdp!.critical, false);
        assert.equal(cdp!.distributionPoints[0].distributionPoint!.fullName![0].uniformResourceIdentifier, 'http://crl.example.com/ca.crl');
        assert.deepEqual(aia!.caIssuers.map((g) => g.value), ['http://pki.example.com/ca.crt']);
      }
      const cp = cert.getExtension(x509.CertificatePolicyExtension);
      assert.equal(cp!.critical, false);
      assert.equal(cp!.policies[0], '1.3.6.1.4.1.55555.1.2');
    });
  }
});

describe('extension values', () => {
  test('ec/root-ca: basicConstraints critical CA pathLen 1, keyUsage critical keyCertSign|cRLSign, anyPolicy by default', async () => {
    const p = loadProfile('ec/root-ca');
    const { cert } = await selfSigned(p, { cn: 'Example Root CA', organization: 'Example', country: 'FR' });
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    assert.deepEqual([bc.critical, bc.ca, bc.pathLength], [true, true, 1]);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    assert.deepEqual([ku.critical, ku.usages], [true, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign]);
    assert.equal(cert.getExtension(x509.ExtendedKeyUsageExtension), null);
    assert.deepEqual([...cert.getExtension(x509.CertificatePolicyExtension)!.policies], ['2.5.29.32.0']);
    assert.equal(cert.subject, 'C=FR, O=Example, CN=Example Root CA');
    assert.equal(p.validityDays, 7300);
    assert.equal(p.signatureAlgorithm, undefined, 'ECDSA P-384 signs with its default, SHA-384');
  });

  test('ec/tls-server: SAN has the CN first, then DNS names and IPs; EKU serverAuth not critical', async () => {
    const p = loadProfile('ec/tls-server');
    const { cert } = await selfSigned(p, { cn: 'WWW.Example.COM.', dns_names: 'api.example.com,API.example.com', ip_addresses: '10.1.2.3,2001:DB8:0:0::1' });
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    assert.equal(san.critical, false);
    assert.deepEqual(
      san.names.items.map((g) => `${g.type}:${g.value}`),
      ['dns:www.example.com', 'dns:api.example.com', 'ip:10.1.2.3', 'ip:2001:db8::1'],
    );
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!;
    assert.deepEqual([eku.critical, [...eku.usages]], [false, ['1.3.6.1.5.5.7.3.1']]);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)!.usages, x509.KeyUsageFlags.digitalSignature);
    // Without URL variables the optional extensions are left out, not filled with placeholders.
    assert.equal(cert.getExtension(x509.CRLDistributionPointsExtension), null);
    assert.equal(cert.getExtension(x509.AuthorityInfoAccessExtension), null);
    assert.equal(cert.getExtension(x509.CertificatePolicyExtension), null);
  });

  test('ec/ocsp-responder: EKU OCSPSigning critical and ocspNoCheck present (NULL, not critical)', async () => {
    const p = loadProfile('ec/ocsp-responder');
    const { cert } = await selfSigned(p, { cn: 'OCSP responder' });
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!;
    assert.deepEqual([eku.critical, [...eku.usages]], [true, ['1.3.6.1.5.5.7.3.9']]);
    const nocheck = cert.getExtension('1.3.6.1.5.5.7.48.1.5')!;
    assert.equal(nocheck.critical, false);
    assert.equal(Buffer.from(nocheck.value).toString('hex'), '0500');
  });

  test('rsa/tls-server keeps keyEncipherment (RSA key transport), ec/tls-server does not', () => {
    for (const [n, flags] of [
      ['rsa/tls-server', x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment],
      ['ec/tls-server', x509.KeyUsageFlags.digitalSignature],
      ['hybrid/catalyst/tls-server', x509.KeyUsageFlags.digitalSignature],
    ] as const) {
      const p = loadProfile(n);
      const exts = buildExtensions(p, resolveVariables(p, { cn: 'a.example.com' }), { subjectSpki: SPKI_P256, issuerSpki: SPKI_P256 });
      const ku = new x509.KeyUsagesExtension(AsnConvert.serialize(extByOid(exts, '2.5.29.15')!));
      assert.equal(ku.usages, flags, n);
    }
  });

  test('tls-client: e-mail in the SAN (lowercased), serialNumber in the subject as PrintableString', async () => {
    const p = loadProfile('ec/tls-client');
    const { cert } = await selfSigned(p, { cn: 'Alice Martin', email: 'Alice@Example.com', serial_number: 'EMP-42' });
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    assert.deepEqual(san.names.items.map((g) => `${g.type}:${g.value}`), ['email:alice@example.com']);
    assert.equal(cert.subject, 'CN=Alice Martin, 2.5.4.5=EMP-42');
    const hex = Buffer.from(cert.subjectName.toArrayBuffer()).toString('hex');
    assert.ok(hex.includes('0603550405' + '1306' + Buffer.from('EMP-42').toString('hex')), 'serialNumber as PrintableString');
  });

  test('issuer AKI: keyIdentifier is the issuer SKI, not the subject one', async () => {
    const subject = await ecKeys();
    const issuer = await ecKeys('P-384');
    const p = loadProfile('ec/issuing-ca');
    const exts = buildExtensions(p, resolveVariables(p, { cn: 'Sub CA' }), { subjectSpki: subject.spki, issuerSpki: issuer.spki });
    const aki = new x509.AuthorityKeyIdentifierExtension(AsnConvert.serialize(extByOid(exts, '2.5.29.35')!));
    const ski = new x509.SubjectKeyIdentifierExtension(AsnConvert.serialize(extByOid(exts, '2.5.29.14')!));
    assert.equal(aki.keyId, Buffer.from(subjectKeyIdentifier(issuer.spki)).toString('hex'));
    assert.equal(ski.keyId, Buffer.from(subjectKeyIdentifier(subject.spki)).toString('hex'));
    assert.notEqual(aki.keyId, ski.keyId);
    assert.equal(aki.critical, false);
    assert.equal(ski.critical, false);
  });

  test('a country that is not two capitals is refused; C is a PrintableString, O a UTF8String', () => {
    const p = loadProfile('ec/root-ca');
    const der = Buffer.from(AsnConvert.serialize(buildSubject(p, resolveVariables(p, { cn: 'Ré CA', country: 'FR', organization: 'Société' }))));
    const hex = der.toString('hex');
    assert.ok(hex.includes('0603550406' + '1302' + Buffer.from('FR').toString('hex')), 'C as PrintableString (tag 0x13)');
    assert.ok(hex.includes('060355040a0c'), 'O as UTF8String (tag 0x0c)');
    assert.throws(() => resolveVariables(p, { cn: 'x', country: 'fr' }), { code: 'VARIABLE_INVALID', message: /"country".*"fr".*pattern/ });
  });

  test('a control character in a subject value is refused', () => {
    const p = loadProfile('ec/root-ca');
    assert.throws(() => resolveVariables(p, { cn: 'evil\u0000CA' }), { code: 'VARIABLE_INVALID', message: /"cn".*control character/ });
  });
});

let SPKI_P256: Uint8Array;
test.before(async () => {
  SPKI_P256 = (await ecKeys()).spki;
});

describe('independent parsers', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'qpki-profiles-'));
  test.after(() => rmSync(tmp, { recursive: true, force: true }));

  test('openssl and python cryptography read every built-in rendered certificate', async (t) => {
    const pems: string[] = [];
    for (const n of BUILTINS) {
      const p = loadProfile(n);
      const { cert } = await selfSigned(p, sampleFor(p));
      const file = join(tmp, n.replace(/\//g, '_') + '.pem');
      writeFileSync(file, cert.toString('pem'));
      pems.push(file);
      const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
      assert.match(text, /X509v3 Basic Constraints: critical/, n);
      assert.match(text, /X509v3 Key Usage: critical/, n);
      assert.match(text, /X509v3 Subject Key Identifier/, n);
      assert.match(text, /X509v3 Authority Key Identifier/, n);
      if (n.includes('tls-server')) assert.match(text, /DNS:host\.example\.com, DNS:www\.example\.com, DNS:api\.example\.com, IP Address:192\.0\.2\.10, IP Address:2001:DB8:0:0:0:0:0:1/, n);
      if (n.includes('ocsp')) assert.match(text, /OCSP No Check/, n);
      if (n.endsWith('ec/root-ca')) assert.match(text, /CA:TRUE, pathlen:1/);
      if (n.endsWith('tls-server')) assert.doesNotMatch(text, /CA:TRUE/);
    }
    // python's cryptography parses strictly (DER defaults, string types) and recomputes the SKI.
    const py = `
import sys
from cryptography import x509
for f in sys.argv[1:]:
    c = x509.load_pem_x509_certificate(open(f, 'rb').read())
    exts = {e.oid.dotted_string: e for e in c.extensions}
    ski = c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(c.public_key()).digest, f
    aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest, f
    ku = c.extensions.get_extension_for_class(x509.KeyUsage).value
    assert not ku.key_encipherment or 'rsa' in f, f
    print(f.rsplit('/', 1)[-1], len(exts))
`;
    let out: string;
    try {
      out = execFileSync('python3', ['-c', py, ...pems], { encoding: 'utf8' });
    } catch (e) {
      const err = e as { stderr?: string };
      if (err.stderr?.includes('No module named')) {
        t.skip('python3 cryptography is not installed');
        return;
      }
      throw e;
    }
    assert.equal(out.trim().split('\n').length, BUILTINS.length);
  });
});

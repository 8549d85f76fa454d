import 'reflect-metadata';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  Extension,
  Extensions,
  GeneralName,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { buildExtensions, buildSubject, listProfiles, loadProfile, resolveVariables } from '../profiles/index';
import { parseIp } from '../profiles/rules';
import { encodeExtension, encodeExtensions, encodeGeneralNames, encodeKeyIdentifier, type SanName } from './extensionsDer';
import { encodeName } from './certificate';

// The hand-written encoders must give asn1-schema's bytes exactly: a certificate's DER is what
// its signature covers, so "equivalent" is not enough.
const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

function spki(): Uint8Array {
  return new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
}

describe('extension DER written directly', () => {
  test('Extension with and without critical, short and long values', () => {
    for (const critical of [true, false]) {
      for (const len of [0, 2, 127, 128, 300, 70000]) {
        const e = new Extension({ extnID: '2.5.29.17', critical, extnValue: new OctetString(new Uint8Array(len).fill(0x5a)) });
        assert.equal(hex(encodeExtension(e)), hex(AsnConvert.serialize(e)), `critical=${critical} len=${len}`);
      }
    }
  });

  test('SubjectAltName names of every kind, IPv4 and IPv6, and non-ASCII text through the fallback', () => {
    const cases: SanName[][] = [
      [{ dns: 'host.example.com' }],
      [{ dns: '*.example.com' }, { dns: 'a.example' }, { ip: parseIp('192.0.2.7')! }, { ip: parseIp('2001:db8::1')! }],
      [{ email: 'ops@example.com' }, { uri: 'https://example.com/a?b=c' }],
      [{ email: 'bücher@example.com' }, { dns: 'xn--bcher-kva.example' }],
      [{ dns: 'x'.repeat(200) + '.example' }],
    ];
    for (const names of cases) {
      const peculiar = new SubjectAlternativeName(
        names.map((n) =>
          'dns' in n ? new GeneralName({ dNSName: n.dns })
          : 'email' in n ? new GeneralName({ rfc822Name: n.email })
          : 'uri' in n ? new GeneralName({ uniformResourceIdentifier: n.uri })
          : new GeneralName({ iPAddress: n.ip.length === 4 ? Array.from(n.ip).join('.') : Buffer.from(n.ip).toString('hex').replace(/(.{4})(?!$)/g, '$1:') }),
        ),
      );
      assert.equal(hex(encodeGeneralNames(names)), hex(AsnConvert.serialize(peculiar)), JSON.stringify(names));
    }
  });

  test('SubjectKeyIdentifier value', () => {
    const id = new Uint8Array(20).map((_, i) => i * 13);
    assert.equal(hex(encodeKeyIdentifier(id)), hex(AsnConvert.serialize(new SubjectKeyIdentifier(id))));
  });

  test('every built-in profile: the extensions encode as asn1-schema encodes them', () => {
    const subjectSpki = spki();
    const issuerSpki = spki();
    const vars: Record<string, unknown> = {
      cn: 'www.example.com',
      organization: 'ACME, Inc.',
      country: 'FR',
      dns_names: 'a.example.com,b.example.com',
      ip_addresses: '192.0.2.1,2001:db8::5',
      email: 'ops@example.com',
      policy_oid: '1.3.6.1.4.1.99999.1',
      cps_url: 'https://example.com/cps',
      crl_url: 'http://crl.example.com/ca.crl',
      ocsp_url: 'http://ocsp.example.com',
      ca_issuers_url: 'http://example.com/ca.crt',
    };
    let checked = 0;
    for (const { name } of listProfiles()) {
      const profile = loadProfile(name);
      // A profile that allows only some values (the BR-ready ones' policy OIDs) gets its first.
      const known = Object.fromEntries(Object.entries(vars).flatMap(([k, v]) => {
        const def = profile.variables.find((d) => d.name === k);
        return def ? [[k, def.enum?.length ? def.enum[0] : v]] : [];
      }));
      const values = resolveVariables(profile, known);
      const exts = buildExtensions(profile, values, { subjectSpki, issuerSpki });
      assert.equal(hex(encodeExtensions(exts)), hex(AsnConvert.serialize(new Extensions(exts))), name);
      // The second build reuses the cached constant extensions and must still encode the same.
      const again = buildExtensions(profile, values, { subjectSpki, issuerSpki });
      assert.equal(hex(encodeExtensions(again)), hex(encodeExtensions(exts)), `${name} (second build)`);
      checked++;
    }
    assert.ok(checked >= 18, `only ${checked} profiles checked`);
  });

  test('constant extensions follow the variables they depend on', () => {
    const profile = loadProfile('ec/tls-server');
    const s = spki();
    const withPolicy = (oid: string) => buildExtensions(profile, resolveVariables(profile, { cn: 'h.example.com', policy_oid: oid }), { subjectSpki: s, issuerSpki: s });
    const a = withPolicy('1.2.3.4');
    const b = withPolicy('1.2.3.5');
    const policies = (exts: Extension[]) => hex(encodeExtension(exts.find((e) => e.extnID === '2.5.29.32')!));
    assert.notEqual(policies(a), policies(b));
    assert.equal(policies(withPolicy('1.2.3.4')), policies(a));
  });
});

describe('Name DER written directly', () => {
  test('subjects of every built-in profile, including non-ASCII UTF8String and PrintableString', () => {
    for (const { name } of listProfiles()) {
      const profile = loadProfile(name);
      const vars: Record<string, unknown> = { cn: name.includes('tls-server') ? 'www.example.com' : 'Zürich Root – Ω', organization: 'ACME, Inc.', country: 'FR', email: 'ops@example.com',
        // What the BR-ready profiles require besides the subject.
        policy_oid: '2.23.140.1.2.2', crl_url: 'http://crl.example.com/ca.crl', ca_issuers_url: 'http://example.com/ca.crt', ocsp_url: 'http://ocsp.example.com', cps_url: 'https://example.com/cps' };
      // A profile that allows only some values (the BR-ready ones' policy OIDs) gets its first.
      const known = Object.fromEntries(Object.entries(vars).flatMap(([k, v]) => {
        const def = profile.variables.find((d) => d.name === k);
        return def ? [[k, def.enum?.length ? def.enum[0] : v]] : [];
      }));
      const subject = buildSubject(profile, resolveVariables(profile, known));
      assert.equal(hex(encodeName(subject)), hex(AsnConvert.serialize(subject)), name);
    }
  });

  test('names outside the simple form go through asn1-schema unchanged', () => {
    const multi = new Name([
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: 'b' }) }),
        new AttributeTypeAndValue({ type: '2.5.4.10', value: new AttributeValue({ printableString: 'a' }) }),
      ]),
      new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ bmpString: 'x' }) })]),
    ]);
    assert.equal(hex(encodeName(multi)), hex(AsnConvert.serialize(multi)));
  });
});

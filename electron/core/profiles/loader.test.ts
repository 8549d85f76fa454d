import 'reflect-metadata';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/x509';
import {
  buildExtensions,
  buildSubject,
  builtinProfilesDir,
  loadProfile,
  loadVarFile,
  parseVarArgs,
  resolveVariables,
  validityDaysFor,
} from '.';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const tmp = mkdtempSync(join(tmpdir(), 'qpki-profile-loader-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function profileFile(yaml: string): string {
  const p = join(tmp, `p${n++}.yaml`);
  writeFileSync(p, yaml);
  return p;
}

const BASE = `
name: custom/test
description: "test"
algorithm: ec-p256
validity: 30d
variables:
  cn: { type: string, required: true }
subject:
  cn: "{{ cn }}"
`;

describe('loading', () => {
  test('an unknown profile name is PROFILE_NOT_FOUND', () => {
    assert.throws(() => loadProfile('ec/nope'), { code: 'PROFILE_NOT_FOUND', message: /ec\/nope/ });
    assert.throws(() => loadProfile('ec/../../etc/passwd'), { code: 'PROFILE_NOT_FOUND' });
    assert.throws(() => loadProfile(join(tmp, 'missing.yaml')), { code: 'PROFILE_NOT_FOUND' });
  });

  test('a profile file loads, with its path as source', () => {
    const path = profileFile(BASE);
    const p = loadProfile(path);
    assert.equal(p.name, 'custom/test');
    assert.equal(p.source, path);
    assert.equal(p.validityDays, 30);
  });

  test('validity units: h, y, w', () => {
    for (const [v, days] of [['8760h', 365], ['10y', 3650], ['2w', 14], ['36h', 1.5]] as const) {
      assert.equal(loadProfile(profileFile(BASE.replace('validity: 30d', `validity: ${v}`))).validityDays, days);
    }
    assert.throws(() => loadProfile(profileFile(BASE.replace('validity: 30d', 'validity: forever'))), { code: 'PROFILE_INVALID', message: /validity/ });
  });

  test('an unknown extension is refused by name', () => {
    const path = profileFile(BASE + 'extensions:\n  basicConstraints: { ca: false }\n  fancyExtension: { critical: true }\n');
    assert.throws(() => loadProfile(path), { code: 'PROFILE_INVALID', message: /unknown extension "fancyExtension"/ });
  });

  test('wrong types, unknown variable types, undeclared variables, bad key usages are PROFILE_INVALID', () => {
    const cases: [string, RegExp][] = [
      [BASE + 'extensions:\n  basicConstraints: { ca: "yes" }\n', /basicConstraints/],
      [BASE.replace('{ type: string, required: true }', '{ type: colour, required: true }'), /unknown type "colour"/],
      [BASE.replace('cn: "{{ cn }}"', 'cn: "{{ common_name }}"'), /undeclared variable "common_name"/],
      [BASE + 'extensions:\n  keyUsage: { values: [keyEncipherment] }\n', /keyEncipherment" is not allowed for a ec-p256 key/],
      [BASE.replace('ec-p256', 'ml-dsa-65') + 'extensions:\n  keyUsage: { values: [keyAgreement] }\n', /not allowed for a ml-dsa-65 key/],
      [BASE + 'extensions:\n  keyUsage: { values: [keyCertSign] }\n', /keyCertSign needs basicConstraints ca: true/],
      [BASE + 'extensions:\n  basicConstraints: { ca: true, critical: false }\n', /must be critical/],
      [BASE + 'extensions:\n  extKeyUsage: { values: [serverAuthh] }\n', /unknown extKeyUsage "serverAuthh"/],
      [BASE.replace('algorithm: ec-p256', 'algorithm: dsa-1024'), /unknown algorithm "dsa-1024"/],
      [BASE.replace('algorithm: ec-p256', 'mode: composite\nalgorithms: [ec-p256, ml-dsa-65]'), /composite" is not supported/],
      [BASE.replace('algorithm: ec-p256', 'mode: catalyst\nalgorithms: [ml-dsa-65, ec-p256]'), /first catalyst algorithm must be classical/],
      [BASE + 'unexpected: 1\n', /unknown key "unexpected"/],
      [BASE.replace('cn: "{{ cn }}"', 'cn: "{{ cn }"'), /malformed placeholder/],
      [BASE + 'extensions:\n  subjectAltName: { dns: "{{ cn }}" }\n', /^(?!)/],
    ];
    for (const [yaml, re] of cases.slice(0, -1)) assert.throws(() => loadProfile(profileFile(yaml)), { code: 'PROFILE_INVALID', message: re }, String(re));
    // A scalar variable may fill a list field: this one is valid.
    assert.doesNotThrow(() => loadProfile(profileFile(cases[cases.length - 1][0])));
  });

  test('QPKI algorithm names are accepted (ecdsa-p384)', () => {
    assert.equal(loadProfile(profileFile(BASE.replace('ec-p256', 'ecdsa-p384'))).algorithm, 'ec-p384');
  });

  test('a signature block sets signatureAlgorithm and must fit the key', () => {
    const rsa = BASE.replace('ec-p256', 'rsa-3072') + 'signature: { scheme: rsassa-pss, hash: sha384 }\n';
    assert.equal(loadProfile(profileFile(rsa)).signatureAlgorithm, 'rsa-pss-sha384');
    assert.throws(() => loadProfile(profileFile(BASE + 'signature: { scheme: rsassa-pss }\n')), { code: 'PROFILE_INVALID', message: /does not fit/ });
  });

  test('an alias bomb is refused quickly instead of expanded', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
    }
    const bomb = profileFile(lines.join('\n') + '\n' + BASE);
    const t0 = performance.now();
    assert.throws(() => loadProfile(bomb), { code: 'PROFILE_INVALID', message: /not valid YAML/ });
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `refused in ${ms.toFixed(1)} ms`);
    const varBomb = join(tmp, 'bomb-vars.yaml');
    writeFileSync(varBomb, lines.join('\n') + '\n');
    assert.throws(() => loadVarFile(varBomb), { code: 'INPUT_INVALID' });
  });

  test('a duplicate key is refused', () => {
    assert.throws(() => loadProfile(profileFile(BASE + 'validity: 40d\n')), { code: 'PROFILE_INVALID', message: /not valid YAML/ });
  });

  test('QPKI_PROFILES_DIR overrides the built-in folder', () => {
    const dir = join(tmp, 'alt-profiles');
    mkdirSync(join(dir, 'x'), { recursive: true });
    writeFileSync(join(dir, 'x', 'only.yaml'), BASE.replace('custom/test', 'x/only'));
    const before = process.env.QPKI_PROFILES_DIR;
    process.env.QPKI_PROFILES_DIR = dir;
    try {
      assert.equal(builtinProfilesDir(), dir);
      assert.equal(loadProfile('x/only').source, 'builtin');
      assert.throws(() => loadProfile('ec/root-ca'), { code: 'PROFILE_NOT_FOUND' });
    } finally {
      if (before === undefined) delete process.env.QPKI_PROFILES_DIR;
      else process.env.QPKI_PROFILES_DIR = before;
    }
    assert.match(builtinProfilesDir(), /resources[/\\]profiles$/);
  });

  test('built-ins are found from an esbuild bundle in dist/, by walking up from the bundle', () => {
    // A copy of the app layout outside the repository: app/dist/probe.cjs beside app/resources/profiles.
    const app = join(tmp, 'app');
    cpSync(join(process.cwd(), 'resources', 'profiles'), join(app, 'resources', 'profiles'), { recursive: true });
    const entry = join(tmp, 'probe-entry.ts');
    writeFileSync(entry, `import { listProfiles, builtinProfilesDir } from ${JSON.stringify(join(process.cwd(), 'electron/core/profiles'))};\nconsole.log(listProfiles().length, builtinProfilesDir());\n`);
    const bundle = join(app, 'dist', 'probe.cjs');
    execFileSync(join(process.cwd(), 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=cjs', `--outfile=${bundle}`, '--log-level=error']);
    const env = { ...process.env };
    delete env.QPKI_PROFILES_DIR;
    const [count, dir] = execFileSync(process.execPath, [bundle], { cwd: tmpdir(), env, encoding: 'utf8' }).trim().split(' ');
    // As many as the YAML files shipped (the built-in set grows; the count must follow the files).
    const shipped = (readdirSync(join(process.cwd(), 'resources', 'profiles'), { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml')).length;
    assert.ok(shipped >= 31, `${shipped} built-in profile files`);
    assert.equal(Number(count), shipped);
    assert.equal(dir, join(app, 'resources', 'profiles'));
  });
});

describe('variables', () => {
  test('parseVarArgs splits at the first "=" and keeps commas', () => {
    assert.deepEqual(parseVarArgs(['cn=a=b', 'organization=ACME, Inc.', 'x= spaced ']), { cn: 'a=b', organization: 'ACME, Inc.', x: 'spaced' });
    assert.throws(() => parseVarArgs(['novalue']), { code: 'INPUT_INVALID' });
    assert.throws(() => parseVarArgs(['=v']), { code: 'INPUT_INVALID' });
    assert.throws(() => parseVarArgs(['bad-name=v']), { code: 'INPUT_INVALID' });
    assert.throws(() => parseVarArgs(['cn=a', 'cn=b']), { code: 'INPUT_INVALID', message: /twice/ });
  });

  test('the comma rule: only list-typed variables split', () => {
    const p = loadProfile('ec/tls-server');
    const v = resolveVariables(p, parseVarArgs(['cn=www.example.com', 'organization=ACME, Inc.', 'dns_names=a.example.com, b.example.com']));
    assert.equal(v.organization, 'ACME, Inc.');
    assert.deepEqual(v.dns_names, ['a.example.com', 'b.example.com']);
    const subject = new x509.Name(AsnConvert.serialize(buildSubject(p, v)));
    assert.equal(subject.getField('O')[0], 'ACME, Inc.');
  });

  test('an unknown variable name is VARIABLE_INVALID and lists the known ones', () => {
    const p = loadProfile('ec/root-ca');
    assert.throws(() => resolveVariables(p, { cn: 'x', org: 'y' }), { code: 'VARIABLE_INVALID', message: /variable "org" is not defined by profile ec\/root-ca.*organization/ });
  });

  test('a missing required cn is VARIABLE_INVALID', () => {
    assert.throws(() => resolveVariables(loadProfile('ec/root-ca'), {}), { code: 'VARIABLE_INVALID', message: /variable "cn".*required/ });
  });

  test('loadVarFile reads a mapping of values and lists', () => {
    const f = join(tmp, 'vars.yaml');
    writeFileSync(f, 'cn: api.example.com\norganization: "ACME, Inc."\ndns_names:\n  - a.example.com\n  - b.example.com\n');
    const vars = loadVarFile(f);
    assert.deepEqual(vars, { cn: 'api.example.com', organization: 'ACME, Inc.', dns_names: ['a.example.com', 'b.example.com'] });
    const v = resolveVariables(loadProfile('ec/tls-server'), vars);
    assert.deepEqual(v.dns_names, ['a.example.com', 'b.example.com']);
    writeFileSync(f, '- a\n- b\n');
    assert.throws(() => loadVarFile(f), { code: 'INPUT_INVALID', message: /mapping/ });
    writeFileSync(f, 'cn: { nested: 1 }\n');
    assert.throws(() => loadVarFile(f), { code: 'INPUT_INVALID' });
    assert.throws(() => loadVarFile(join(tmp, 'nope.yaml')), { code: 'IO_ERROR' });
  });

  test('validity from a duration variable', () => {
    const yaml = BASE.replace('validity: 30d', 'validity: "{{ validity }}"').replace(
      'cn: { type: string, required: true }',
      'cn: { type: string, required: true }\n  validity: { type: duration, default: 365d, max_duration: 825d }',
    );
    const p = loadProfile(profileFile(yaml));
    assert.equal(p.validityDays, 365);
    assert.equal(validityDaysFor(p, resolveVariables(p, { cn: 'x', validity: '90d' })), 90);
    assert.throws(() => resolveVariables(p, { cn: 'x', validity: '900d' }), { code: 'VARIABLE_INVALID', message: /max_duration/ });
  });
});

describe('custom extensions', () => {
  test('nameConstraints, URI SANs and user notices encode as strict DER', async () => {
    const yaml = `
name: custom/constrained-ca
algorithm: ec-p256
validity: 10y
variables:
  cn: { type: string, required: true }
  spiffe: { type: uri, required: false }
subject:
  cn: "{{ cn }}"
extensions:
  basicConstraints: { critical: true, ca: true, pathLen: 0 }
  keyUsage: { values: [keyCertSign, cRLSign, digitalSignature] }
  subjectAltName:
    uri: "{{ spiffe }}"
  nameConstraints:
    permitted:
      dns: [".example.com", "example.org"]
      email: ["@example.com"]
      ip: ["10.0.0.0/8", "2001:db8::/32"]
    excluded:
      dns: [".forbidden.example.com"]
  certificatePolicies:
    policies:
      - oid: "2.23.140.1.2.1"
        cps: "https://example.com/cps"
        userNotice: "Issued under the DV policy"
  extKeyUsage:
    values: [serverAuth, "1.3.6.1.5.5.7.3.17"]
`;
    const p = loadProfile(profileFile(yaml));
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const v = resolveVariables(p, { cn: 'Constrained CA', spiffe: 'spiffe://example.com/ns/prod' });
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '02',
      name: new x509.Name(AsnConvert.serialize(buildSubject(p, v))),
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2026-01-01T00:00:00Z'),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: buildExtensions(p, v, { subjectSpki: spki, issuerSpki: spki }).map((e) => new x509.Extension(AsnConvert.serialize(e))),
    });
    const file = join(tmp, 'constrained.pem');
    writeFileSync(file, cert.toString('pem'));
    const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
    assert.match(text, /X509v3 Name Constraints: critical/);
    assert.match(text, /DNS:\.example\.com/);
    assert.match(text, /email:example\.com/);
    assert.match(text, /IP:10\.0\.0\.0\/255\.0\.0\.0/);
    assert.match(text, /Excluded:\s+DNS:\.forbidden\.example\.com/);
    assert.match(text, /URI:spiffe:\/\/example\.com\/ns\/prod/);
    assert.match(text, /Explicit Text: Issued under the DV policy/);
    assert.match(text, /CPS: https:\/\/example\.com\/cps/);
    const py = `
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
nc = c.extensions.get_extension_for_class(x509.NameConstraints)
assert nc.critical
print(len(nc.value.permitted_subtrees), len(nc.value.excluded_subtrees))
cp = c.extensions.get_extension_for_class(x509.CertificatePolicies).value
print(cp[0].policy_qualifiers[1].explicit_text)
print([u.dotted_string for u in c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value])
`;
    const out = execFileSync('python3', ['-c', py, file], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(out, ['5 1', 'Issued under the DV policy', "['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.17']"]);
  });

  test('nameConstraints with host bits set past the prefix is refused', () => {
    const yaml = BASE + 'extensions:\n  basicConstraints: { ca: true }\n  nameConstraints:\n    permitted: { ip: ["10.0.0.1/8"] }\n';
    assert.throws(() => loadProfile(profileFile(yaml)), { code: 'PROFILE_INVALID', message: /bits set past its prefix/ });
  });
});

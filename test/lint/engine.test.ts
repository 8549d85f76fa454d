/**
 * The lint engine as the signing flow uses it: kinds read from certificates, BR lints only for a
 * public-tls profile, the throwaway-key lint of an exact TBS (certificate, CRL, ML-DSA,
 * Catalyst), the gate (blockingFindings) and acceptances written in a profile.
 */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { blockingFindings, certificateKindOf, lintCertificate, lintCrl, lintTbsWithThrowawayKey, runCertificateLints, LINT_NAMES, CERTIFICATE_LINTS, CRL_LINT_LIST } from '../../electron/core/lint/index';
import { compileProfile, loadProfile, resolveVariables, validityDaysFor } from '../../electron/core/profiles/index';
import { parseCertificateModel, parseCrlModel } from '../../electron/core/x509/model';
import { children, whole, slice } from '../../electron/core/x509/der';
import { builtinFamilies, issueFamily } from './chains';

const tbsOf = (der: Uint8Array) => slice(der, children(der, whole(der))[0]);

describe('lints', () => {
  test('every lint has a name, a severity and the rule it cites; names are unique and not zlint-style', () => {
    const all = [...CERTIFICATE_LINTS, ...CRL_LINT_LIST];
    assert.equal(LINT_NAMES.size, all.length);
    for (const l of all) {
      assert.match(l.name, /^(rfc\d+|br|catalyst)\.[a-z0-9_.]+$/, l.name);
      assert.ok(['error', 'warning', 'notice'].includes(l.severity), l.name);
      assert.match(l.source, /RFC \d+|CABF BR|ITU-T X\.509/, l.name);
    }
  });

  test('kinds are read from the certificates, and a lint that does not apply says so', async () => {
    const ch = await issueFamily(builtinFamilies().find((f) => f.name === 'ec')!);
    const kind = (der: Uint8Array) => certificateKindOf(parseCertificateModel(der));
    assert.equal(kind(ch.root.der), 'root');
    assert.equal(kind(ch.issuing.der), 'subordinate-ca');
    assert.equal(kind(ch.leaves.find((l) => l.profile === 'ec/tls-server')!.der), 'tls-subscriber');
    assert.equal(kind(ch.leaves.find((l) => l.profile === 'ec/tls-client')!.der), 'other-subscriber');
    const r = runCertificateLints(ch.root.der, { pki: 'public-tls' });
    assert.equal(r.results.find((x) => x.lint === 'br.subscriber.eku_missing')!.status, 'not-applicable');
    assert.equal(r.results.find((x) => x.lint === 'br.root.path_len_present')!.status, 'fail');
    // Under a private profile the BR lints do not apply at all.
    const priv = runCertificateLints(ch.root.der, { pki: 'private' });
    assert.ok(priv.results.filter((x) => x.lint.startsWith('br.')).every((x) => x.status === 'not-applicable'));
  });

  test('the QPKI-named issuing CA and TLS server, used for public TLS, fail the BR lints the issue names', async () => {
    const ch = await issueFamily(builtinFamilies().find((f) => f.name === 'ec')!);
    const sub = lintCertificate(ch.issuing.der, { pki: 'public-tls' }).map((f) => f.lint);
    assert.ok(sub.includes('br.sub_ca.eku_missing'), sub.join(', '));
    const server = lintCertificate(ch.leaves.find((l) => l.profile === 'ec/tls-server')!.der, { pki: 'public-tls' });
    const v = server.find((f) => f.lint === 'br.subscriber.validity_too_long');
    assert.ok(v && v.severity === 'error' && /BR 6\.3\.2/.test(v.source), JSON.stringify(server));
  });
});

describe('lints against an issuer', () => {
  test('each run reads the issuer it is given: the same one again, another one, or a copy changed in place', async () => {
    const ch = await issueFamily(builtinFamilies().find((f) => f.name === 'ec')!);
    const leaf = ch.leaves.find((l) => l.profile === 'ec/tls-server')!.der;
    const issuerFails = (issuer: Uint8Array) =>
      runCertificateLints(leaf, { pki: 'private', issuer }).results.filter((r) => r.status === 'fail' && /issuer|authority_key/.test(r.lint)).map((r) => r.lint).sort();
    assert.deepEqual(issuerFails(ch.issuing.der), []);
    assert.deepEqual(issuerFails(ch.issuing.der), [], 'the same issuer twice');
    // The root is not this leaf's issuer: its name and key identifier differ.
    assert.deepEqual(issuerFails(ch.root.der), ['rfc5280.authority_key_identifier_mismatch', 'rfc5280.issuer_name_mismatch']);
    assert.deepEqual(issuerFails(ch.issuing.der), [], 'back to the real issuer');
    // The caller's buffer changed after a run (the issuer's subject rewritten): read again.
    const changed = Uint8Array.from(ch.issuing.der);
    assert.deepEqual(issuerFails(changed), []);
    const cn = Buffer.from('Example Issuing CA');
    const at = Buffer.from(changed).indexOf(cn);
    assert.ok(at > 0);
    changed[at] = 'X'.charCodeAt(0);
    assert.deepEqual(issuerFails(changed), ['rfc5280.issuer_name_mismatch']);
  });
});

describe('the gate', () => {
  const findings = [
    { lint: 'br.subscriber.validity_too_long', severity: 'error' as const, source: 'CABF BR 6.3.2', message: 'x' },
    { lint: 'e_sub_cert_aia_does_not_contain_ocsp_url', severity: 'error' as const, source: 'zlint', message: 'y' },
    { lint: 'br.subscriber.common_name_present', severity: 'notice' as const, source: 'CABF BR 7.1.2.7.2', message: 'z' },
  ];

  test('errors block, warnings and notices never do; an acceptance names the lint and gives a reason', () => {
    assert.deepEqual(blockingFindings(findings).map((f) => f.lint), ['br.subscriber.validity_too_long', 'e_sub_cert_aia_does_not_contain_ocsp_url']);
    assert.deepEqual(blockingFindings(findings, [{ lint: 'e_sub_cert_aia_does_not_contain_ocsp_url', reason: 'BR 7.1.2.7.7 made OCSP optional (SC-063)' }]).map((f) => f.lint), ['br.subscriber.validity_too_long']);
    // An acceptance without its reason accepts nothing.
    assert.equal(blockingFindings(findings, [{ lint: 'br.subscriber.validity_too_long', reason: '  ' }]).length, 2);
  });

  test('a profile accepts lints by name with a written reason; a reason left out is refused when it loads', () => {
    const base = { name: 'custom/a', algorithm: 'ec-p256', validity: '30d', subject: { cn: 'x' } };
    const p = compileProfile({ ...base, lint: { accept: [{ lint: 'br.subscriber.common_name_present', reason: 'Legacy clients still read the CN' }] } }, 'test');
    assert.deepEqual(p.lintAccept, [{ lint: 'br.subscriber.common_name_present', reason: 'Legacy clients still read the CN' }]);
    assert.equal(p.pki, 'private');
    assert.throws(() => compileProfile({ ...base, lint: { accept: [{ lint: 'br.x', reason: 'ok' }] } }, 'test'), { code: 'PROFILE_INVALID', message: /written reason/ });
    assert.throws(() => compileProfile({ ...base, lint: { accept: [{ lint: 'br x', reason: 'a long enough reason' }] } }, 'test'), { code: 'PROFILE_INVALID' });
    assert.throws(() => compileProfile({ ...base, pki: 'public' }, 'test'), { code: 'PROFILE_INVALID' });
  });
});

describe('lint before the token signs: the exact TBS signed with a throwaway key', () => {
  test('certificate and CRL TBS of each family: the same findings as the real document, the TBS unchanged', async () => {
    for (const name of ['br/ec', 'rsa', 'ml', 'hybrid/catalyst']) {
      const f = builtinFamilies().find((x) => x.name === name)!;
      const ch = await issueFamily(f);
      const pki = loadProfile(f.root).pki;
      const leaf = ch.leaves[0];
      const issuerAlg = loadProfile(f.issuing).algorithm;
      const t = await lintTbsWithThrowawayKey(tbsOf(leaf.der), 'tls-subscriber', issuerAlg, { pki });
      assert.deepEqual(tbsOf(t.der), tbsOf(leaf.der), `${name}: the linted document carries the exact TBS`);
      assert.notDeepEqual(t.der, leaf.der, `${name}: signed by another key`);
      assert.deepEqual(t.findings, lintCertificate(leaf.der, { pki, kind: 'tls-subscriber' }), name);
      const c = await lintTbsWithThrowawayKey(tbsOf(ch.crl), 'crl', issuerAlg, { pki });
      assert.deepEqual(parseCrlModel(c.der).tbsDer, parseCrlModel(ch.crl).tbsDer);
      assert.deepEqual(c.findings, lintCrl(ch.crl, { pki }), name);
    }
  });

  test('a TBS whose signature algorithm does not fit the key algorithm is refused, not linted', async () => {
    const ch = await issueFamily(builtinFamilies().find((x) => x.name === 'br/ec')!);
    await assert.rejects(lintTbsWithThrowawayKey(tbsOf(ch.root.der), 'root', 'rsa-2048'), { code: 'INPUT_INVALID' });
  });
});

describe('BR 6.3.2 validity by issuance date', () => {
  test('br/*/tls-server: 397 days before 2026-03-15, then 199, 99 and 46 days (one second less: notAfter counts)', () => {
    const p = loadProfile('br/ec/tls-server');
    const v = resolveVariables(p, { cn: 'a.example.com', crl_url: 'http://c.example.com', ca_issuers_url: 'http://i.example.com', ocsp_url: 'http://o.example.com' });
    const at = (d: string) => validityDaysFor(p, v, new Date(d));
    assert.equal(at('2026-03-14T23:59:59Z'), 397);
    assert.equal(at('2026-03-15T00:00:00Z'), 199 - 1 / 86400);
    assert.equal(at('2027-03-15T00:00:00Z'), 99 - 1 / 86400);
    assert.equal(at('2029-03-15T00:00:00Z'), 46 - 1 / 86400);
    // A shorter validity asked for stays as asked.
    assert.equal(validityDaysFor(p, resolveVariables(p, { ...v, validity: '30d' }), new Date('2027-06-01Z')), 30);
    assert.throws(() => compileProfile({ name: 'x', algorithm: 'ec-p256', validity: '30d', subject: { cn: 'x' }, validity_schedule: [{ from: '2027-13-01', max: '10d' }] }, 'test'), { code: 'PROFILE_INVALID' });
  });

  test('every BR-ready profile is for public TLS and every QPKI-named one for a private PKI', () => {
    for (const f of builtinFamilies()) for (const n of [f.root, f.issuing, ...f.leaves]) assert.equal(loadProfile(n).pki, n.startsWith('br/') ? 'public-tls' : 'private', n);
  });
});

/**
 * `cert revoke` refuses reasons CA/Browser Forum BR 7.2.2 does not allow for the certificate's
 * kind: a subscriber certificate takes none (unspecified) or one of five, a CA certificate must
 * give one of those five. The CRLs then pass zlint's reason-code lints.
 */
import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, openCa } from '../../electron/core/ca/authority';
import { ALLOWED_REVOCATION_REASONS, revokeInIndex } from '../../electron/core/ca/revoke';
import { readIndex } from '../../electron/core/ca/indexFile';
import { generateSoftwareKey } from '../../electron/core/keys/software';
import { loadProfile } from '../../electron/core/profiles/index';
import { REVOCATION_REASONS } from '../../electron/core/x509/crl';
import { pemOrDer } from '../../electron/core/x509/pem';
import { runZlint } from '../../electron/core/lint/external';
import { lintCrl } from '../../electron/core/lint/index';
import { ensureZlint } from './zlint';

test('revocation reasons by kind (BR 7.2.2): refused with REVOCATION_REASON_NOT_ALLOWED and the section, the index untouched', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'qpki-revoke-'));
  try {
    const caVars = { organization: 'Example', country: 'FR' };
    await initCa({ dir: join(base, 'root'), profile: loadProfile('br/ec/root-ca'), vars: { cn: 'Root', ...caVars }, key: { kind: 'software', passphrase: null } });
    const root = await openCa(join(base, 'root'), {});
    const sub = await initCa({ dir: join(base, 'sub'), profile: loadProfile('br/ec/tls-issuing-ca'), vars: { cn: 'Sub', ...caVars, crl_url: 'http://c.example.com/r.crl', ca_issuers_url: 'http://p.example.com/r.crt' }, key: { kind: 'software', passphrase: null }, parent: root });
    const subCa = await openCa(join(base, 'sub'), {});
    const leaves: Awaited<ReturnType<typeof subCa.issue>>[] = [];
    for (let i = 0; i < 3; i++)
      leaves.push(await subCa.issue({ profile: loadProfile('br/ec/tls-server'), vars: { cn: `h${i}.example.com`, crl_url: 'http://c.example.com/s.crl', ca_issuers_url: 'http://p.example.com/s.crt', ocsp_url: 'http://o.example.com' }, spki: generateSoftwareKey('ec-p256').spki }));

    for (const reason of ['cACompromise', 'certificateHold', 'aACompromise'] as const) {
      assert.throws(() => revokeInIndex(join(base, 'sub'), leaves[0].serial, reason), (e: { code: string; message: string }) => e.code === 'REVOCATION_REASON_NOT_ALLOWED' && /BR 7\.2\.2/.test(e.message) && /keyCompromise/.test(e.message), reason);
    }
    assert.equal(readIndex(join(base, 'sub')).find((e) => e.serial === leaves[0].serial)!.status, 'V', 'a refused revocation changes nothing');
    revokeInIndex(join(base, 'sub'), leaves[0].serial, 'keyCompromise');
    revokeInIndex(join(base, 'sub'), leaves[1].serial, 'unspecified');
    revokeInIndex(join(base, 'sub'), leaves[2].serial, 'privilegeWithdrawn');

    // The subordinate CA's certificate, in the root's directory: a reason code is required.
    assert.throws(() => revokeInIndex(join(base, 'root'), sub.certificate.serial, 'unspecified'), { code: 'REVOCATION_REASON_NOT_ALLOWED', message: /must carry a reason code/ });
    assert.throws(() => revokeInIndex(join(base, 'root'), sub.certificate.serial, 'cACompromise'), { code: 'REVOCATION_REASON_NOT_ALLOWED', message: /keyCompromise/ });
    revokeInIndex(join(base, 'root'), sub.certificate.serial, 'keyCompromise');

    const subCrl = await subCa.generateCrl({ days: 7 });
    const rootCrl = await root.generateCrl({ days: 30 });
    await subCa.close();
    await root.close();
    const der = (p: string) => pemOrDer(readFileSync(p, 'utf8'), ['X509 CRL', 'CERTIFICATE']);
    // The root's CRL lists CA certificates (12 months allowed), the issuing CA's its subscribers (10 days).
    for (const [crl, issuer] of [[der(subCrl.paths[0]), sub.certificate.der], [der(rootCrl.paths[0]), der(join(base, 'root', 'ca.crt'))]]) {
      assert.deepEqual(lintCrl(crl, { issuer }).filter((f) => f.severity === 'error'), []);
    }
    const z = ensureZlint();
    if ('missing' in z) {
      t.diagnostic(`zlint not available (${z.missing}): the CRLs are checked by our lints only`);
      return;
    }
    for (const p of [subCrl.paths[0], rootCrl.paths[0]]) assert.deepEqual(runZlint(der(p), 'crl')!.filter((f) => f.severity === 'error'), [], p);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('every reason the CLI offers is judged: allowed for one kind, both, or neither', () => {
  for (const r of Object.keys(REVOCATION_REASONS)) {
    const kinds = (['subscriber', 'ca'] as const).filter((k) => ALLOWED_REVOCATION_REASONS[k].includes(r as never));
    assert.ok(r === 'cACompromise' || r === 'certificateHold' || r === 'aACompromise' ? kinds.length === 0 : kinds.length > 0, r);
  }
});

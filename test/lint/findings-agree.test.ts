/**
 * The gate's lintCertificate keeps only the failing lints, without building a result for each
 * of the others. What it finds must be exactly what runCertificateLints reports as failing, in
 * the same order with the same messages: checked on every certificate of x509-limbo and of
 * zlint's test data, under both PKI rule sets, with and without an issuer, each as the kind read
 * from it and as each kind forced.
 */
import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintCertificate, runCertificateLints, type LintContext, type LintFinding } from '../../electron/core/lint/index';
import { pemOrDer } from '../../electron/core/x509/pem';

const LIMBO = process.env.QPKI_LIMBO ?? join(__dirname, '..', '..', '..', 'shared', 'fixtures', 'x509-limbo', 'limbo.json');
const ZLINT_DATA = join(__dirname, 'zlint-testdata');

function fromResults(der: Uint8Array, ctx: LintContext): LintFinding[] | string {
  try {
    return runCertificateLints(der, ctx).results.filter((r) => r.status === 'fail').map((r) => ({ lint: r.lint, severity: r.severity, source: r.source, message: r.messages.join('; ') }));
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

function fromGate(der: Uint8Array, ctx: LintContext): LintFinding[] | string {
  try {
    return lintCertificate(der, ctx);
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

function certificates(): { name: string; der: Uint8Array; issuer?: Uint8Array }[] {
  const out: { name: string; der: Uint8Array; issuer?: Uint8Array }[] = [];
  for (const f of readdirSync(ZLINT_DATA).filter((n) => n.endsWith('.pem'))) {
    try {
      out.push({ name: `zlint ${f}`, der: pemOrDer(readFileSync(join(ZLINT_DATA, f), 'utf8'), ['CERTIFICATE']) });
    } catch { /* a file that holds no certificate */ }
  }
  if (existsSync(LIMBO)) {
    const doc = JSON.parse(readFileSync(LIMBO, 'utf8')) as { testcases: { id: string; trusted_certs: string[]; untrusted_intermediates: string[]; peer_certificate: string }[] };
    for (const c of doc.testcases) {
      const issuer = c.untrusted_intermediates[0] ?? c.trusted_certs[0];
      out.push({ name: `limbo ${c.id}`, der: pemOrDer(c.peer_certificate, ['CERTIFICATE']), ...(issuer ? { issuer: pemOrDer(issuer, ['CERTIFICATE']) } : {}) });
      for (const pem of [...c.trusted_certs, ...c.untrusted_intermediates]) out.push({ name: `limbo ${c.id} (CA)`, der: pemOrDer(pem, ['CERTIFICATE']) });
    }
  }
  return out;
}

test('the gate finds exactly the failures the full lint run reports, on every certificate of x509-limbo and zlint\'s test data', (t) => {
  if (!existsSync(LIMBO)) t.diagnostic(`x509-limbo is not at ${LIMBO} (../shared/fixtures): zlint's test data only`);
  const certs = certificates();
  let compared = 0;
  let failing = 0;
  for (const c of certs) {
    for (const pki of ['public-tls', 'private'] as const) {
      for (const kind of [undefined, 'root', 'subordinate-ca', 'tls-subscriber', 'other-subscriber'] as const) {
        for (const issuer of c.issuer ? [undefined, c.issuer] : [undefined]) {
          const ctx: LintContext = { pki, ...(kind ? { kind } : {}), ...(issuer ? { issuer } : {}) };
          const want = fromResults(c.der, ctx);
          assert.deepEqual(fromGate(c.der, ctx), want, `${c.name} ${JSON.stringify({ pki, kind, issuer: !!issuer })}`);
          compared++;
          if (typeof want !== 'string' && want.length) failing++;
        }
      }
    }
  }
  t.diagnostic(`${certs.length} certificates, ${compared} lint runs compared, ${failing} with findings`);
  assert.ok(certs.length >= 150, `only ${certs.length} certificates read`);
  assert.ok(failing > compared / 4, 'the corpus exercises failing lints');
});

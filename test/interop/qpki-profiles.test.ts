/**
 * Same-named profiles, same certificates: in one CA the real QPKI made, QPKI and ours each issue
 * from every end-entity profile both have, and python `cryptography` (not ours, not QPKI's) reads
 * both certificates: key algorithm, signature algorithm, validity, basicConstraints, key usages,
 * extended key usages and their criticality must agree. The differences are the ones each
 * profile file states: no keyEncipherment on EC keys (RFC 5480; QPKI sets it), RSA-PSS where
 * QPKI's rsa-pss profile asks for it but QPKI signs PKCS#1 v1.5, and none of QPKI's example
 * policy OIDs and URLs (ours fills those extensions only from variables).
 */
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, makeLab, ok, python, type Lab } from '../cli/helpers';
import { activeCaCert, peer, peerMissing, peerOk } from './peer';

const skip = peerMissing();
let lab: Lab;
const theirs = (args: string[]) => peer(args, { env: lab.env, cwd: lab.dir });

const FACTS = `
import sys, json
from cryptography import x509
from cryptography.x509.oid import ExtensionOID
out = []
for p in sys.argv[1:]:
    c = x509.load_pem_x509_certificate(open(p, 'rb').read())
    def ext(oid):
        try:
            return c.extensions.get_extension_for_oid(oid)
        except x509.ExtensionNotFound:
            return None
    ku = ext(ExtensionOID.KEY_USAGE)
    names = ['digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment', 'key_agreement', 'key_cert_sign', 'crl_sign']
    kus = sorted(n for n in names if ku and getattr(ku.value, n))
    eku = ext(ExtensionOID.EXTENDED_KEY_USAGE)
    bc = ext(ExtensionOID.BASIC_CONSTRAINTS)
    size = None
    try:
        k = c.public_key()
        size = getattr(k, 'key_size', None) or getattr(getattr(k, 'curve', None), 'name', None)
    except Exception:
        pass
    out.append({'path': p, 'key': c.public_key_algorithm_oid.dotted_string, 'size': size,
        'sig': c.signature_algorithm_oid.dotted_string,
        'days': (c.not_valid_after_utc - c.not_valid_before_utc).total_seconds() / 86400,
        'ku': kus, 'kuCritical': ku.critical if ku else None,
        'eku': sorted(o.dotted_string for o in eku.value) if eku else [], 'ekuCritical': eku.critical if eku else None,
        'ca': bc.value.ca if bc else None, 'bcCritical': bc.critical if bc else None,
        'nocheck': ext(x509.ObjectIdentifier('1.3.6.1.5.5.7.48.1.5')) is not None})
print(json.dumps(out))
`;

interface Facts { path: string; key: string; size: number | string | null; sig: string; days: number; ku: string[]; kuCritical: boolean | null; eku: string[]; ekuCritical: boolean | null; ca: boolean | null; bcCritical: boolean | null; nocheck: boolean }

const RSA_PSS = '1.2.840.113549.1.1.10';
const RSA_SHA256 = '1.2.840.113549.1.1.11';

/** The end-entity profiles both tools have, by the root they are issued under. */
const FAMILIES: { root: string; leaves: string[] }[] = [
  { root: 'ec/root-ca', leaves: ['ec/tls-server', 'ec/tls-client', 'ec/ocsp-responder', 'ec/code-signing', 'ec/timestamping', 'ec/email'] },
  { root: 'rsa/root-ca', leaves: ['rsa/tls-server', 'rsa/tls-client', 'rsa/ocsp-responder', 'rsa/code-signing', 'rsa/timestamping', 'rsa/email', 'rsa-pss/tls-server'] },
  { root: 'ml/root-ca', leaves: ['ml/tls-server', 'ml/tls-client', 'ml/ocsp-responder', 'ml/code-signing', 'ml/timestamping', 'ml/email-sign'] },
  { root: 'hybrid/catalyst/root-ca', leaves: ['hybrid/catalyst/tls-server', 'hybrid/catalyst/tls-client', 'hybrid/catalyst/ocsp-responder', 'hybrid/catalyst/timestamping'] },
];

function vars(profile: string, who: string): string[] {
  const host = `${who}.${profile.replace(/[^a-z0-9]+/g, '-')}.example`;
  const v = ['--var', `cn=${profile.includes('tls-server') ? host : `${who} ${profile}`}`];
  if (profile.includes('tls-server')) v.push('--var', `dns_names=${host}`);
  if (profile.includes('email') || profile.includes('tls-client')) v.push('--var', `email=${who}@example.com`);
  return v;
}

/** The certificate of the credential QPKI just enrolled (its output names the credential ID). */
function qpkiCredentialCert(credDir: string, stdout: string): string {
  const id = /Credential ID:\s+(\S+)/.exec(stdout)![1];
  const certs = join(credDir, id, 'versions', 'v1', 'certs');
  return join(certs, readdirSync(certs)[0]);
}

/** Profiles this QPKI build does not ship (its source has them): ours is checked against the source's values. */
const NOT_IN_QPKI_BUILD: Record<string, Partial<Facts>> = {
  // QPKI's source profile: rsa-4096, 365d, digitalSignature + keyEncipherment, serverAuth non-critical.
  'rsa-pss/tls-server': { size: 4096, days: 365, ku: ['digital_signature', 'key_encipherment'], kuCritical: true, eku: ['1.3.6.1.5.5.7.3.1'], ekuCritical: false, ca: false, bcCritical: true, sig: RSA_PSS },
};

describe('QPKI interop: same-named profiles make the same certificates', { skip }, () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
  });
  after(() => lab?.cleanup());

  for (const fam of FAMILIES) {
    test(`${fam.root} and ${fam.leaves.join(', ')}`, () => {
      const dir = fam.root.replace(/\//g, '-');
      peerOk(theirs(['ca', 'init', '-P', fam.root, '-d', dir, '--var', `cn=Profiles ${fam.root}`]));
      ok(lab.run(['ca', 'init', '-P', fam.root, '-d', `ours-${dir}`, '--var', `cn=Ours ${fam.root}`, '--unencrypted-key']));
      const pairs: { profile: string; q?: string; o: string }[] = [];
      for (const p of fam.leaves) {
        const q = NOT_IN_QPKI_BUILD[p] ? undefined : qpkiCredentialCert(lab.path(`q-${dir}`), peerOk(theirs(['credential', 'enroll', '-d', dir, '-c', `q-${dir}`, '-P', p, ...vars(p, 'q')])));
        const out = ok(lab.run(['credential', 'enroll', '-d', dir, '-c', `o-${dir}`, '-P', p, ...vars(p, 'o'), '--unencrypted-key']));
        pairs.push({ profile: p, q, o: /wrote:\s+(\S+cert\.pem)/.exec(out)![1] });
      }
      const paths = [activeCaCert(lab.path(dir)), activeCaCert(lab.path(`ours-${dir}`)), ...pairs.flatMap((x) => (x.q ? [x.q, x.o] : [x.o]))];
      const all = JSON.parse(python(FACTS, paths)) as Facts[];
      const byPath = new Map(all.map((f) => [f.path, f]));
      const facts = all;
      // The CA profile: same key, usages and constraints. Validity: ours gives the profile's days
      // exactly; QPKI turns a CA profile's days into whole calendar years (7300d → 20 years).
      const [qRoot, oRoot] = facts;
      for (const k of ['key', 'size', 'sig', 'ku', 'kuCritical', 'ca', 'bcCritical'] as const) assert.deepEqual(oRoot[k], qRoot[k], `${fam.root}: ${k}`);
      assert.ok(Math.abs(oRoot.days - qRoot.days) <= 6, `${fam.root}: validity ${oRoot.days} vs QPKI's ${qRoot.days} days`);
      for (const pair of pairs) {
        const o = byPath.get(pair.o)!;
        const p = pair.profile;
        if (!pair.q) {
          const want = NOT_IN_QPKI_BUILD[p];
          for (const [k, v] of Object.entries(want)) assert.deepEqual(o[k as keyof Facts], v, `${p} (QPKI's source profile): ${k}`);
          continue;
        }
        const q = byPath.get(pair.q)!;
        assert.equal(o.key, q.key, `${p}: key algorithm`);
        assert.equal(o.size, q.size, `${p}: key size or curve`);
        assert.equal(o.days, q.days, `${p}: validity`);
        // QPKI's ML-DSA issuance drops basicConstraints from end-entity certificates although its
        // profiles ask for it (critical, CA false); ours writes what the profile says.
        if (q.ca === null && p.startsWith('ml/')) assert.deepEqual([o.ca, o.bcCritical], [false, true], `${p}: basicConstraints as the profile says`);
        else assert.deepEqual([o.ca, o.bcCritical], [q.ca, q.bcCritical], `${p}: basicConstraints`);
        assert.deepEqual([o.eku, o.ekuCritical], [q.eku, q.ekuCritical], `${p}: extended key usage`);
        assert.equal(o.kuCritical, q.kuCritical, `${p}: keyUsage critical`);
        assert.equal(o.nocheck, q.nocheck, `${p}: ocsp-nocheck`);
        const ec = o.key === '1.2.840.10045.2.1';
        // QPKI puts keyEncipherment on EC keys, which cannot transport keys (RFC 5480): the one usage difference.
        assert.deepEqual(o.ku, ec ? q.ku.filter((u) => u !== 'key_encipherment') : q.ku, `${p}: key usages`);
        assert.ok(!(ec && o.ku.includes('key_encipherment')), `${p}: no keyEncipherment on an EC key`);
        if (p === 'rsa-pss/tls-server') {
          assert.equal(o.sig, RSA_PSS, 'ours signs the rsa-pss profile with RSASSA-PSS');
          assert.equal(q.sig, RSA_SHA256, "QPKI signs its rsa-pss profile with PKCS#1 v1.5 (recorded, not copied)");
        } else assert.equal(o.sig, q.sig, `${p}: signature algorithm`);
      }
    });
  }
});

/**
 * Post-quantum and Catalyst hybrid CAs through the wizard, on SoftHSM2 (which has no ML-DSA):
 * (a) a hybrid root (ECDSA P-384 in the token + ML-DSA-87 file), its CRL and a hybrid TLS server,
 *     each signature checked by the app on its own and again by openssl and Python `cryptography`;
 * (b) an ml/root-ca the token refuses, said on screen, until the operator switches to the software keystore;
 * (c) the inspector on Catalyst documents and on the RFC 9881 ML-DSA-44 example.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test, expect, type App } from './fixtures';
import { chooseDirectory, inPreparation, makeToken, openTokenThroughUi, opensslVerify, writeTemp } from './helpers';
import { handlerCalls } from '../test/handler-calls';
import { readJournal, verifyJournal } from '../electron/core/journal/journal';

const SO_PIN = 'so-pin-0123456789';
const USER_PIN = 'user-pin-0123456789';
const ALT_PASS = 'ml-dsa-file-passphrase-42';
const ROOT = resolve(__dirname, '..');
const ML_DSA_87 = '2.16.840.1.101.3.4.3.19';

interface PyCheck {
  doc: string;
  primary: boolean;
  alt: { alg_oid: string; valid: boolean | null; issuer_alt_spki: string | null } | null;
}

/** test/pq/independent.py: python `cryptography` and its own pre-TBS derivation, no code shared with the app. */
function independent(pairs: Array<{ issuer: string; doc: string }>): PyCheck[] {
  const out = execFileSync('python3', [join(ROOT, 'test', 'pq', 'independent.py')], { input: JSON.stringify({ pairs }), encoding: 'utf8' });
  return JSON.parse(out) as PyCheck[];
}

/** An ML-DSA public key made by Python, and an OpenSSL request whose requested extensions carry it as subjectAltPublicKeyInfo. */
function catalystCsr(dir: string, name: string, cn: string, alt: 'MLDSA65' | 'MLDSA44'): { csr: string; altSpkiSha256: string } {
  const hex = execFileSync('python3', ['-c', [
    'from cryptography.hazmat.primitives.asymmetric import mldsa',
    'from cryptography.hazmat.primitives import serialization as s',
    `k = mldsa.${alt}PrivateKey.generate()`,
    'print(k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo).hex())',
  ].join('\n')], { encoding: 'utf8' }).trim();
  const csr = join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', csr,
    '-subj', `/CN=${cn}`, '-addext', `2.5.29.72=DER:${hex}`], { stdio: 'pipe' });
  return { csr, altSpkiSha256: createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex') };
}

/** The one hash format on screen: lower-case hex in groups of 4 (core's groupHex). */
const grouped = (hex: string) => (hex.match(/.{1,4}/g) ?? []).join(' ');

async function loginAndGenerate(app: App, token: string, alg: string | null, label: string): Promise<void> {
  const { page } = app;
  await makeToken(app, token, SO_PIN, USER_PIN);
  await openTokenThroughUi(app, token);
  await page.getByTestId('pin').fill(USER_PIN);
  await page.getByTestId('login').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The CA key');
  if (!alg) return;
  await page.getByTestId('key-alg').selectOption(alg);
  await page.getByTestId('key-label').fill(label);
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('test-signature')).toContainText('Verified');
}

test('hybrid root ceremony: ECDSA P-384 in the token + ML-DSA-87 file, then its CRL and a hybrid TLS server', async ({ app }) => {
  const { page } = app;
  await loginAndGenerate(app, 'e2e-hybrid', 'ec-p384', 'hybrid-root-key');
  const keyFp = grouped((await page.getByTestId('generated-fingerprint').textContent())!.trim().replace(/ /g, ''));
  await page.getByTestId('key-next').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  // The list names each family; the chosen profile's badge says what it holds.
  const options = await page.getByTestId('profile').locator('option').allTextContents();
  expect(options.some((o) => o.startsWith('[Hybrid] hybrid/catalyst/root-ca'))).toBe(true);
  expect(options.some((o) => o.startsWith('[Post-quantum] ml/root-ca'))).toBe(true);
  expect(options.some((o) => o.startsWith('ec/root-ca'))).toBe(true);
  await page.getByTestId('profile').selectOption('hybrid/catalyst/root-ca');
  await expect(page.getByTestId('family-badge')).toHaveText('Hybrid (Catalyst): ECDSA P-384 + ML-DSA-87');
  await page.getByTestId('var-cn').fill('E2E Hybrid Root');
  await page.getByTestId('var-organization').fill('QPKI PQ Test');
  const dir = join(app.workDir, 'hybrid-root');
  await chooseDirectory(app, 'choose-ca-dir', dir);
  await app.screen('profile-hybrid');
  await page.getByTestId('to-review').click();

  // Review: both signatures, both keys and where each lives, the Catalyst extensions.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review before signing');
  await expect(page.getByTestId('review-signature')).toContainText('ecdsa-sha384');
  const token = app.harness.state.session!.token;
  await expect(page.getByTestId('review-signed-by')).toContainText(`key “hybrid-root-key”`);
  await expect(page.getByTestId('review-signed-by')).toContainText(`token “e2e-hybrid” (serial ${token.serial})`);
  await expect(page.getByTestId('review-alt-signature')).toContainText('ML-DSA-87 ml-dsa-87, made by the CA’s ML-DSA key');
  await expect(page.getByTestId('ca-keys-primary-where')).toContainText(`In PKCS#11 token “e2e-hybrid” (serial ${token.serial}), key “hybrid-root-key”`);
  await expect(page.getByTestId('ca-keys-primary-fingerprint')).toHaveText(keyFp);
  const altPath = join(dir, 'versions', 'v1', 'keys', 'ca.ml-dsa-87.key');
  await expect(page.getByTestId('ca-keys-alternative-where')).toContainText(`File in the CA directory, encrypted: ${altPath}`);
  // The ML-DSA key is made for the review: its real fingerprint is shown before anything signs.
  const reviewedAltFp = (await page.getByTestId('ca-keys-alternative-fingerprint').textContent())!;
  expect(reviewedAltFp).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  // The reviewed structure carries the alternative key and algorithm; the alternative signature is added at signing.
  const exts = page.getByTestId('review-extensions');
  for (const oid of ['2.5.29.72', '2.5.29.73']) await expect(exts).toContainText(oid);
  await expect(exts).not.toContainText('2.5.29.74');
  await expect(page.getByTestId('review-added-at-signing')).toContainText('2.5.29.74');
  await app.screen('review-hybrid');

  // The ML-DSA passphrase twice: a mismatch is refused and clears both fields.
  await page.getByTestId('confirm-cn').fill('E2E Hybrid Root');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('alt-passphrase').fill(ALT_PASS);
  await page.getByTestId('alt-passphrase2').fill(ALT_PASS + 'x');
  await page.getByTestId('sign').click();
  await expect(page.getByText('The two passphrases for the ML-DSA key file differ')).toBeVisible();
  await expect(page.getByTestId('alt-passphrase')).toHaveValue('');
  await expect(page.getByTestId('alt-passphrase2')).toHaveValue('');
  await expect(page.getByTestId('alt-passphrase')).toHaveAttribute('type', 'password');
  await app.screen('review-hybrid-mismatch');
  await page.getByTestId('alt-passphrase').fill(ALT_PASS);
  await page.getByTestId('alt-passphrase2').fill(ALT_PASS);
  await page.getByTestId('sign').click();

  // Result: each signature verified on its own; both keys with their fingerprints.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  await expect(page.getByTestId('verification')).toContainText('Both signatures verified');
  await expect(page.getByTestId('certificate-signatures-primary')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('certificate-signatures-primary')).toContainText('ECDSA with SHA-384');
  await expect(page.getByTestId('certificate-signatures-alternative')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('certificate-signatures-alternative')).toContainText('Alternative signature (Catalyst)');
  await expect(page.getByTestId('certificate-signatures-alternative')).toContainText('ML-DSA-87');
  const saved = (await page.getByTestId('saved-to').textContent())!;
  expect(saved).toBe(join(dir, 'ca.crt'));
  await expect(page.getByTestId('ca-keys-primary-fingerprint')).toHaveText(keyFp);
  await app.screen('result-hybrid');

  // Independent checks: openssl (classical, the Catalyst extensions being non-critical) and Python for ML-DSA.
  expect(opensslVerify(['-x509_strict', '-CAfile', saved, saved])).toContain(': OK');
  const [root] = independent([{ issuer: saved, doc: saved }]);
  expect(root.primary).toBe(true);
  expect(root.alt?.alg_oid).toBe(ML_DSA_87);
  expect(root.alt?.valid).toBe(true);
  const altFp = grouped(createHash('sha256').update(Buffer.from(root.alt!.issuer_alt_spki!, 'hex')).digest('hex'));
  await expect(page.getByTestId('ca-keys-alternative-fingerprint')).toHaveText(altFp);
  expect(altFp).toBe(reviewedAltFp);
  expect(readFileSync(altPath, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);

  // Next step: a CRL. The ML-DSA passphrase is asked where the PIN would be; a wrong one is refused.
  await page.getByTestId('next-crl').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate a CRL');
  await page.getByTestId('review-crl-button').click();
  await expect(page.getByTestId('review-crl-number')).toHaveText('1');
  await page.getByTestId('confirm-witness').check();
  await expect(page.getByTestId('sign')).toHaveText('Sign with the CA key and the ML-DSA key');
  await page.getByTestId('ca-alt-passphrase').fill('not-the-ml-dsa-passphrase');
  await page.getByTestId('sign').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'PASSPHRASE_INCORRECT');
  await expect(page.getByTestId('ca-alt-passphrase')).toHaveValue('');
  await page.getByTestId('ca-alt-passphrase').fill(ALT_PASS);
  await page.getByTestId('sign').click();
  const crlPath = (await page.getByTestId('crl-saved').textContent())!;
  await expect(page.getByTestId('signatures-primary')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('signatures-alternative')).toHaveAttribute('data-valid', 'true');
  await app.screen('crl-hybrid');

  // The CA screen lists both keys.
  await page.getByRole('button', { name: 'Back' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('CA directory');
  await expect(page.getByTestId('ca-keys-alternative-where')).toContainText(altPath);
  await expect(page.getByTestId('ca-keys-alternative-fingerprint')).toHaveText(altFp);
  await app.screen('ca-hybrid');

  // Next step: a hybrid TLS server; the request carries the holder's ML-DSA-65 key.
  const req = catalystCsr(app.workDir, 'hybrid-server', 'hybrid.example.com', 'MLDSA65');
  await page.getByTestId('ca-ee').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Issue an end-entity certificate');
  await page.getByTestId('profile').selectOption('hybrid/catalyst/tls-server');
  await expect(page.getByTestId('family-badge')).toHaveText('Hybrid (Catalyst): ECDSA P-256 + ML-DSA-65');
  await expect(page.getByTestId('catalyst-csr-hint')).toContainText('2.5.29.72');
  await page.getByTestId('csr').fill(readFileSync(req.csr, 'utf8'));
  await expect(page.getByTestId('var-cn')).toHaveValue('hybrid.example.com');
  // The CA is a root: the end entity needs the operator's override (BR 6.1.7), asked again by main.
  await page.getByTestId('root-ee-override').check();
  await app.screen('issue-hybrid-tls');
  await page.getByTestId('review-issue').click();
  await expect(page.getByTestId('review-csr')).toContainText('CN=hybrid.example.com');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('ca-alt-passphrase').fill(ALT_PASS);
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  await expect(page.getByTestId('verification')).toContainText('Both signatures verified');
  await expect(page.getByTestId('certificate-signatures-alternative')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('certificate')).toContainText(grouped(req.altSpkiSha256));
  const leaf = (await page.getByTestId('saved-to').textContent())!;
  await app.screen('result-hybrid-tls');

  expect(opensslVerify(['-x509_strict', '-purpose', 'sslserver', '-CAfile', saved, leaf])).toContain(': OK');
  expect(opensslVerify(['-x509_strict', '-crl_check', '-CAfile', saved, '-CRLfile', crlPath, leaf])).toContain(': OK');
  for (const r of independent([{ issuer: saved, doc: leaf }, { issuer: saved, doc: crlPath }])) {
    expect(r.primary, r.doc).toBe(true);
    expect(r.alt?.alg_oid, r.doc).toBe(ML_DSA_87);
    expect(r.alt?.valid, r.doc).toBe(true);
  }
  // No passphrase anywhere in the record.
  expect(verifyJournal(dir).ok).toBe(true);
  expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8').includes(ALT_PASS)).toBe(false);
  expect(app.foreign).toEqual([]);
});

test('ml/root-ca: the token has no ML-DSA, says so, and the operator switches to the software keystore', async ({ app }) => {
  const { page } = app;
  await loginAndGenerate(app, 'e2e-ml', null, '');
  await expect(page.getByTestId('pq-options')).toContainText('This token offers no ML-DSA key generation');
  await app.screen('key-pq-options');
  await page.getByTestId('key-next-pq').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile and details');
  await page.getByTestId('profile').selectOption('ml/root-ca');
  await expect(page.getByTestId('family-badge')).toHaveText('Post-quantum: ML-DSA-87');
  const refusal = page.getByTestId('token-lacks-ml-dsa');
  await expect(refusal).toContainText('Token “e2e-ml” has no ML-DSA: its mechanism list has no CKM_ML_DSA');
  await expect(page.getByTestId('to-review')).toBeDisabled();
  // Nothing switched by itself: the token is still open and logged in.
  await expect(page.getByTestId('session-state')).toContainText('Logged in to “e2e-ml”');
  expect(app.harness.state.session?.isLoggedIn).toBe(true);
  await app.screen('profile-ml-token-refuses');

  await page.getByTestId('use-software-ml-dsa').click();
  await expect(refusal).toHaveCount(0);
  await expect(page.getByTestId('session-state')).toHaveText('No token open');
  expect(app.harness.state.session).toBeNull();
  await expect(page.getByTestId('profile')).toHaveValue('ml/root-ca');
  await page.getByTestId('var-cn').fill('E2E ML-DSA Root');
  const dir = join(app.workDir, 'ml-root');
  await chooseDirectory(app, 'choose-ca-dir', dir);
  await app.screen('profile-ml-software');
  await page.getByTestId('to-review').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Review before signing');
  await expect(page.getByTestId('ca-keys-primary-where')).toContainText(`File in the CA directory, encrypted: ${join(dir, 'versions', 'v1', 'keys', 'ca.ml-dsa-87.key')}`);
  await expect(page.getByTestId('review-alt-signature')).toHaveCount(0);
  await app.screen('review-ml');
  await page.getByTestId('confirm-cn').fill('E2E ML-DSA Root');
  await page.getByTestId('confirm-witness').check();
  await page.getByTestId('passphrase').fill(ALT_PASS);
  await page.getByTestId('passphrase2').fill(ALT_PASS);
  await page.getByTestId('sign').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Certificate signed');
  await expect(page.getByTestId('verification')).toContainText('Signature verified');
  await expect(page.getByTestId('certificate-signatures-primary')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('certificate-signatures-primary')).toContainText('ML-DSA-87');
  await expect(page.getByTestId('certificate-signatures-alternative')).toHaveCount(0);
  await app.screen('result-ml');
  const saved = (await page.getByTestId('saved-to').textContent())!;
  const [r] = independent([{ issuer: saved, doc: saved }]);
  expect(r.primary).toBe(true);
  expect(r.alt).toBeNull();
  // The operator's switch is on the record as a decision, with the token's lack that prompted it; not as an error.
  const journal = readJournal(dir);
  const switched = journal.find((e) => e.kind === 'key.storage.chosen');
  expect(switched?.facts).toMatchObject({ algorithm: 'ml-dsa-87', token: 'e2e-ml', missingMechanism: 'CKM_ML_DSA' });
  expect(journal.filter((e) => e.kind === 'error')).toEqual([]);
  expect(app.foreign).toEqual([]);
});

test('inspector: a Catalyst certificate and CRL report both signatures separately; the RFC 9881 ML-DSA-44 example verifies', async ({ app }) => {
  const { page } = app;
  // A software hybrid CA made through the same handler table, then a hybrid leaf and a CRL.
  const { call, ok, root, signRaw, crl: makeCrl } = handlerCalls(app.harness);
  const dir = join(app.workDir, 'inspect-ca');
  const { leaf, crl } = await inPreparation((c, i) => call(c as keyof typeof app.harness.handlers, i), 'a hybrid CA to inspect', async () => {
    await ok('useSoftwareKeystore', { algorithm: 'ec-p384' });
    await root('hybrid/catalyst/root-ca', { cn: 'Inspect Hybrid Root' }, dir, { passphrase: ALT_PASS, altPassphrase: ALT_PASS });
    const req = catalystCsr(app.workDir, 'inspect-leaf', 'leaf.example.com', 'MLDSA65');
    const signedLeaf = await signRaw('prepareIssue', { purpose: 'end-entity', profile: 'hybrid/catalyst/tls-server', vars: { cn: 'leaf.example.com' }, csrPem: readFileSync(req.csr, 'utf8'), rootEndEntity: true }, { passphrase: ALT_PASS, altPassphrase: ALT_PASS });
    expect(signedLeaf.ok, JSON.stringify(signedLeaf.error)).toBe(true);
    return { leaf: signedLeaf.value.issued, crl: await makeCrl(7, { passphrase: ALT_PASS, altPassphrase: ALT_PASS }) };
  });
  const der = writeTemp(app.workDir, 'leaf.der', Buffer.from(leaf.certificate.pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));

  await page.getByTestId('start-inspect').click();
  await page.getByTestId('inspect-file').setInputFiles(der);
  await expect(page.getByTestId('inspected')).toContainText('CN=leaf.example.com');
  // Without the issuer, neither signature can be checked, and each says so.
  await expect(page.getByTestId('inspected-signatures-primary')).toHaveAttribute('data-valid', 'unchecked');
  await expect(page.getByTestId('inspected-signatures-alternative')).toHaveAttribute('data-valid', 'unchecked');
  await expect(page.getByTestId('inspected')).toContainText('Subject Alt Public Key Info (Catalyst)');
  await page.getByTestId('issuer-file').setInputFiles(join(dir, 'ca.crt'));
  await page.getByTestId('verify').click();
  await expect(page.getByTestId('verify-result')).toContainText('Valid');
  await expect(page.getByTestId('inspected-signatures-primary')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('inspected-signatures-alternative')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('inspected-signatures-alternative')).toContainText('ML-DSA-87');
  await app.screen('inspector-catalyst-verified');

  // A Catalyst CRL, verified against the CA certificate.
  await page.getByTestId('inspect-file').setInputFiles(crl.savedTo);
  await expect(page.getByTestId('inspected')).toContainText('Certificate revocation list');
  await page.getByTestId('issuer-file').setInputFiles(join(dir, 'ca.crt'));
  await page.getByTestId('verify').click();
  await expect(page.getByTestId('inspected-signatures-primary')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('inspected-signatures-alternative')).toHaveAttribute('data-valid', 'true');
  await app.screen('inspector-catalyst-crl');

  // The RFC 9881 example: a self-signed ML-DSA-44 certificate, its one signature checked.
  await page.getByTestId('inspect-file').setInputFiles(join(ROOT, 'test', 'fixtures', 'ml-dsa', 'ML-DSA-44.crt'));
  await expect(page.getByTestId('inspected-signatures-primary')).toHaveAttribute('data-valid', 'true');
  await expect(page.getByTestId('inspected-signatures-primary')).toContainText('ML-DSA-44');
  await expect(page.getByTestId('inspected-signatures-alternative')).toHaveCount(0);
  await app.screen('inspector-ml-dsa-44');
  expect(app.foreign).toEqual([]);
});

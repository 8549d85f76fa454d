/** `qpki cert issue|revoke|show` and `crl gen`. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { groupHex } from '../core/journal/format';
import { assertCaCrlDays, MAX_CA_CRL_DAYS } from '../core/x509/crlValidity';
import { prepareSubject } from '../core/ca/authority';
import { writeFileAtomic } from '../core/ca/fsx';
import { loadProfile, type Profile } from '../core/profiles/index';
import type { RevocationReason } from '../core/x509/crl';
import { parseAndVerifyCsr } from '../core/x509/csr';
import { describeDocument, type Described } from '../core/x509/describe';
import { nameString } from '../core/x509/names';
import { pemOrDer } from '../core/x509/pem';
import type { CaOpts, VarOptions } from './options';
import { caAccess, varsFrom } from './access';
import { emit } from './output';
import { openCaRecorded } from './ceremony';
import { lintLines } from './lintLines';

function caDir(o: CaOpts): string {
  return o.dir ?? o.caDir ?? './ca';
}

/** The subject variables a CSR suggests, used only where the operator gave none. */
function varsFromCsrSubject(profile: Profile, subject: string): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Set(profile.variables.map((v) => v.name));
  const map: Record<string, string[]> = { CN: ['cn'], O: ['organization', 'o'], C: ['country', 'c'], OU: ['organizational_unit', 'ou'], L: ['locality', 'l'], ST: ['state', 'st'] };
  for (const part of subject.split(/,\s*(?=[A-Za-z]+=)/)) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(part.trim());
    if (!m) continue;
    for (const n of map[m[1].toUpperCase()] ?? []) if (names.has(n) && out[n] === undefined) out[n] = m[2].replace(/\\(.)/g, '$1');
  }
  return out;
}

export function printDescribed(d: Described): string[] {
  const lines = [
    `${d.kind === 'certificate' ? 'Certificate' : d.kind === 'csr' ? 'Certificate request' : 'CRL'}`,
    ...(d.subject ? [`  subject:     ${d.subject}`] : []),
    ...(d.issuer ? [`  issuer:      ${d.issuer}`] : []),
    ...(d.serial ? [`  serial:      ${d.serial}`] : []),
    ...(d.notBefore ? [`  not before:  ${d.notBefore}`, `  not after:   ${d.notAfter}`] : []),
    ...(d.thisUpdate ? [`  this update: ${d.thisUpdate}`, `  next update: ${d.nextUpdate ?? '-'}`] : []),
    ...(d.publicKey ? [`  public key:  ${d.publicKey.algorithm} (SHA-256 ${groupHex(d.publicKey.sha256)})`] : []),
    ...(d.altPublicKey ? [`  alt key:     ${d.altPublicKey.algorithm} (SHA-256 ${groupHex(d.altPublicKey.sha256)})`] : []),
    `  signature:   ${d.signatureAlgorithm}`,
    `  SHA-256 fingerprint: ${groupHex(d.sha256)}`,
    '  extensions:',
    ...d.extensions.flatMap((e) => [`    ${e.name}${e.critical ? ' (critical)' : ''}`, ...e.value.map((v) => `      ${v}`)]),
    ...(d.revoked ? [`  revoked: ${d.revoked.length}`, ...d.revoked.map((r) => `    ${r.serial} at ${r.date}${r.reason ? ` (${r.reason})` : ''}`)] : []),
    '  verification:',
    ...d.signatures.map((s) => `    ${s.which} signature (${s.algorithm}): ${s.valid === null ? 'not checked' : s.valid ? 'VALID' : 'INVALID'} — against ${s.against}${s.reason ? ` (${s.reason})` : ''}`),
  ];
  return lines;
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new QpkiError('INPUT_INVALID', `Cannot read ${path}.`);
  }
}

/** `cert issue --pubkey FILE`: QPKI's form without a CSR (nothing proves possession of the key; the operator vouches). */
async function issueForPublicKey(o: CaOpts & VarOptions & { pubkey: string; profile: string; out: string }, profile: Profile): Promise<void> {
  const { keyAlgorithmOfSpki } = await import('../core/keys/verify');
  const raw = readInput(o.pubkey);
  let spki: Uint8Array;
  try {
    spki = raw[0] === 0x30 ? raw : pemOrDer(Buffer.from(raw).toString('latin1'), ['PUBLIC KEY']);
    keyAlgorithmOfSpki(spki);
  } catch {
    throw new QpkiError('INPUT_INVALID', `${o.pubkey} is not a public key (PEM "PUBLIC KEY" or DER SubjectPublicKeyInfo).`);
  }
  const alg = keyAlgorithmOfSpki(spki);
  if (alg !== profile.algorithm && !(profile.algorithm.startsWith('ec-') && alg.startsWith('ec-'))) throw new QpkiError('INPUT_INVALID', `${o.pubkey} holds a ${alg} key but profile ${profile.name} is for ${profile.algorithm} keys.`);
  const vars = varsFrom(o);
  prepareSubject(profile, vars);
  const ca = await openCaRecorded(caDir(o), caAccess(o), 'cert issue');
  let r;
  try {
    r = await ca.issue({ profile, vars, spki, source: `public key ${o.pubkey} (no CSR: possession not proven)` });
    writeFileAtomic(o.out, r.pem, { createOnly: true });
  } finally {
    await ca.close();
  }
  emit({ ...r, der: undefined, out: o.out }, () => [`Certificate ${r.serial} issued to ${r.subject} (from a bare public key: no CSR proved the key is held)`, `  profile: ${r.profile}`, `  SHA-256: ${groupHex(r.fingerprint)}`, `  written: ${o.out} and ${r.path}`, ...lintLines(r.lint), ...r.warnings.map((w) => `  warning: ${w}`)]);
}

/** `cert issue` */
export async function certIssue(o: CaOpts & VarOptions & { csr?: string; pubkey?: string; profile: string; out: string }): Promise<void> {
  const profile = loadProfile(o.profile);
  if (existsSync(o.out)) throw new QpkiError('OUTPUT_EXISTS', `${o.out} exists; it is never overwritten.`);
  if (!o.csr === !o.pubkey) throw new QpkiError('INPUT_INVALID', 'Give the subject with --csr FILE or --pubkey FILE (one of them).');
  if (o.pubkey) return issueForPublicKey({ ...o, pubkey: o.pubkey }, profile);
  if (!o.csr) return;
  let csr;
  try {
    csr = parseAndVerifyCsr(readInput(o.csr));
  } catch (e) {
    if (e instanceof QpkiError && existsSync(join(caDir(o), 'ca.meta.json'))) {
      const { Journal } = await import('../core/journal/journal');
      Journal.open(resolve(caDir(o))).append('csr.refused', { file: o.csr, code: e.code, reason: e.message });
    }
    throw e;
  }
  if (csr.keyAlgorithm !== profile.algorithm && !(profile.algorithm.startsWith('ec-') && csr.keyAlgorithm.startsWith('ec-'))) {
    throw new QpkiError('CSR_INVALID', `The request holds a ${csr.keyAlgorithm} key but profile ${profile.name} is for ${profile.algorithm} keys.`);
  }
  // The subject in the RFC 4514 words `cert show` gives, read from the request already parsed:
  // describing the whole request again cost about a tenth of the command.
  const subjectString = nameString(csr.subject);
  const vars = { ...varsFromCsrSubject(profile, subjectString), ...varsFrom(o) };
  prepareSubject(profile, vars); // variable errors before any PIN is asked
  const ca = await openCaRecorded(caDir(o), caAccess(o), 'cert issue');
  let r;
  try {
    ca.journal.append('csr.accepted', { file: o.csr, subject: subjectString, keyAlgorithm: csr.keyAlgorithm, signatureAlgorithm: csr.signatureAlgorithm, csrSha256: createHash('sha256').update(csr.der).digest('hex') });
    r = await ca.issue({ profile, vars, spki: csr.spki, source: `CSR ${o.csr}` });
    writeFileAtomic(o.out, r.pem, { createOnly: true });
  } finally {
    await ca.close();
  }
  emit({ ...r, der: undefined, out: o.out }, () => [`Certificate ${r.serial} issued to ${r.subject}`, `  profile: ${r.profile}`, `  valid:   ${r.notBefore.toISOString()} → ${r.notAfter.toISOString()}`, `  SHA-256: ${groupHex(r.fingerprint)}`, `  written: ${o.out} and ${r.path}`, ...lintLines(r.lint), ...r.warnings.map((w) => `  warning: ${w}`)]);
}

/** `cert revoke [--gen-crl --crl-days N]` */
export async function certRevoke(serial: string, o: CaOpts & { reason: RevocationReason; genCrl?: boolean; crlDays: string }): Promise<void> {
  if (o.genCrl && !/^\d+$/.test(o.crlDays)) throw new QpkiError('INPUT_INVALID', '--crl-days must be a whole number.');
  // Refused before the index changes: a revocation whose CRL then cannot be signed is half a step.
  if (o.genCrl) assertCaCrlDays(Number(o.crlDays), `Give --crl-days ${MAX_CA_CRL_DAYS} or fewer.`, 'Nothing was revoked, signed or written.');
  // Revocation changes only the index: no key is needed until the CRL is signed.
  const { revokeInIndex } = await import('../core/ca/revoke');
  const { participants } = await import('./ceremony');
  const e = revokeInIndex(caDir(o), serial, o.reason, new Date(), participants());
  if (!o.genCrl) {
    emit(e, () => [`Certificate ${e.serial} revoked (${o.reason}); generate a CRL to publish it: qpki crl gen --ca-dir ${caDir(o)}`]);
    return;
  }
  const ca = await openCaRecorded(caDir(o), caAccess(o), 'cert revoke --gen-crl');
  let r;
  try {
    r = await ca.generateCrl({ days: Number(o.crlDays) });
  } finally {
    await ca.close();
  }
  emit({ revoked: e, crl: { number: r.number, paths: r.paths, fingerprint: r.fingerprint, nextUpdate: r.nextUpdate } }, () => [`Certificate ${e.serial} revoked (${o.reason})`, `CRL #${r.number} signed: ${r.revoked} revoked certificate(s), next update ${r.nextUpdate.toISOString()}`, ...r.paths.map((p) => `  written: ${p}`), `  SHA-256: ${groupHex(r.fingerprint)}`, ...lintLines(r.lint)]);
}

/** `cert show` */
export async function certShow(file: string, o: { issuer?: string; caDir?: string; text?: boolean }): Promise<void> {
  let issuer: Uint8Array | undefined;
  if (o.issuer) issuer = readInput(o.issuer);
  else if (o.caDir) {
    const { describeCaDir } = await import('../core/ca/index');
    issuer = new TextEncoder().encode(describeCaDir(o.caDir).certPem);
  }
  const d = describeDocument(readInput(file), issuer);
  emit({ ...d, der: undefined }, () => [...printDescribed(d), ...(o.text ? ['', d.text] : [])]);
  if (d.signatures.some((s) => s.valid === false)) process.exitCode = 1;
}

/** `cert verify`: RFC 5280 path validation; exit 1 and the reason when the chain is invalid. */
export async function certVerify(file: string, o: { ca: string[]; untrusted?: string[]; crl?: string[]; at?: string; purpose?: string; host?: string; rules: 'rfc5280' | 'webpki' }): Promise<void> {
  const { validatePath, readBundle } = await import('../core/x509/validate/index');
  let at: Date | undefined;
  if (o.at !== undefined) {
    at = new Date(o.at);
    if (!/^\d{4}-\d{2}-\d{2}/.test(o.at) || Number.isNaN(at.getTime())) throw new QpkiError('INPUT_INVALID', `--at "${o.at}" is not a date and time (ISO 8601, such as 2027-01-31T12:00:00Z).`);
  }
  const { decodeInput } = await import('../core/x509/describe');
  const doc = decodeInput(readInput(file));
  if (doc.kind !== 'certificate') throw new QpkiError('INPUT_INVALID', `${file} is a ${doc.kind}, not a certificate.`);
  const r = validatePath(doc.der, {
    trusted: o.ca.flatMap((f) => readBundle(readInput(f), 'CERTIFICATE')),
    untrusted: (o.untrusted ?? []).flatMap((f) => readBundle(readInput(f), 'CERTIFICATE')),
    crls: (o.crl ?? []).flatMap((f) => readBundle(readInput(f), 'X509 CRL')),
    ...(at && { at }),
    ...(o.purpose && { purpose: o.purpose }),
    ...(o.host && { peerName: o.host }),
    rules: o.rules,
  });
  emit(r, () => [
    r.valid ? `VALID: ${file} validates to a trusted root (${o.rules} rules${at ? `, at ${at.toISOString()}` : ''})` : `INVALID: ${r.reason}`,
    ...r.chain.map((c, i) => `  ${i}: ${c.subject} (serial ${c.serial}) — ${c.trust}`),
    ...(r.valid && r.policies?.length ? [`  policies: ${r.policies.join(', ')}`] : []),
  ]);
  if (!r.valid) process.exitCode = 1;
}

/** `crl gen` */
export async function crlGen(o: CaOpts & { days: string; all?: boolean; algo?: string }): Promise<void> {
  if (!/^\d+$/.test(o.days)) throw new QpkiError('INPUT_INVALID', '--days must be a whole number.');
  // Before the CA is opened: the token is not logged in to and the journal gets nothing for a CRL
  // that would never be signed (the app refuses it at the same point, with the same code).
  assertCaCrlDays(Number(o.days), `Give --days ${MAX_CA_CRL_DAYS} or fewer (for instance --days ${MAX_CA_CRL_DAYS}).`);
  // QPKI signs one CRL per algorithm family of a multi-profile CA; ours makes no such CAs, so the
  // CA's one CRL is what --all and --algo of its own family mean. Another family is refused.
  if (o.algo !== undefined) {
    const { describeCaDir } = await import('../core/ca/index');
    const d = describeCaDir(caDir(o));
    const fams = d.meta.versions[d.meta.active].algos.map((a) => (a.startsWith('ecdsa-') ? 'ec' : a.startsWith('rsa-') ? 'rsa' : a.startsWith('ml-dsa') ? 'ml-dsa' : a));
    if (!fams.includes(o.algo)) throw new QpkiError('INPUT_INVALID', `This CA signs with ${fams.join(' + ')}; it has no ${o.algo} CRL.`);
  }
  const ca = await openCaRecorded(caDir(o), caAccess(o), 'crl gen');
  let r;
  try {
    r = await ca.generateCrl({ days: Number(o.days) });
  } finally {
    await ca.close();
  }
  emit({ number: r.number, paths: r.paths, fingerprint: r.fingerprint, revoked: r.revoked, nextUpdate: r.nextUpdate }, () => [`CRL #${r.number} signed: ${r.revoked} revoked certificate(s), next update ${r.nextUpdate.toISOString()}`, ...r.paths.map((p) => `  written: ${p}`), `  SHA-256: ${groupHex(r.fingerprint)}`, ...lintLines(r.lint)]);
}

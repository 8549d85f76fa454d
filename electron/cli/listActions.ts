/**
 * QPKI's read-only commands on a CA directory and its files: `cert list`, `cert info SERIAL`,
 * `crl info`, `crl verify`, `crl list`, `inspect`. They read ours and QPKI's directories alike
 * and change nothing, so they write no journal entry (there is nothing to account for).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { describeCaDir } from '../core/ca/view';
import { canonicalSerial, certFile, isHexSerial } from '../core/ca/serials';
import type { Described } from '../core/x509/describe';
import { emit } from './output';

// The document reader (the ASN.1 libraries, signature checks) and its printer (certActions, and
// through it the signing engine) load only for the commands that show a document: `cert list`
// reads the index alone, and loading them cost it about 20 ms of start-up.
const describeDocument = (...a: Parameters<typeof import('../core/x509/describe').describeDocument>) =>
  (require('../core/x509/describe') as typeof import('../core/x509/describe')).describeDocument(...a);
const printDescribed = (d: Described) => (require('./certActions') as typeof import('./certActions')).printDescribed(d);

function caDir(o: { dir?: string; caDir?: string }): string {
  return o.dir ?? o.caDir ?? './ca';
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new QpkiError('INPUT_INVALID', `Cannot read ${path}.`);
  }
}

type Status = 'valid' | 'revoked' | 'expired';

/** `cert list [--status S] [-v]`: the index, with expiry judged now (QPKI's status column). */
export function certList(o: { dir?: string; caDir?: string; status?: Status; verbose?: boolean }): void {
  const d = describeCaDir(caDir(o));
  const now = Date.now();
  const rows = d.issued
    .map((e) => ({ serial: e.serial, status: (e.status === 'R' ? 'revoked' : e.expires.getTime() < now ? 'expired' : 'valid') as Status, subject: e.subject, expires: e.expires.toISOString(), revoked: e.revoked ? { date: e.revoked.date.toISOString(), reason: e.revoked.reason ?? 'unspecified' } : undefined, file: certFile(d.dir, e.serial) }))
    .filter((r) => !o.status || r.status === o.status);
  emit(rows, () =>
    rows.length
      ? rows.map((r) => `${r.serial.padEnd(34)} ${r.status.padEnd(8)} ${r.subject}${o.verbose ? `\n    expires ${r.expires}${r.revoked ? `, revoked ${r.revoked.date} (${r.revoked.reason})` : ''}, ${existsSync(r.file) ? r.file : 'file missing'}` : ''}`)
      : [`no certificates${o.status ? ` with status ${o.status}` : ''}`],
  );
}

/** `cert info SERIAL`: the index line and the certificate file, verified under the CA. */
export function certInfo(serial: string, o: { dir?: string; caDir?: string }): void {
  if (!isHexSerial(serial)) throw new QpkiError('INPUT_INVALID', `"${serial}" is not a hex serial number.`);
  const d = describeCaDir(caDir(o));
  const want = canonicalSerial(serial);
  const e = d.issued.find((x) => x.serial === want);
  if (!e) throw new QpkiError('SERIAL_NOT_FOUND', `No certificate with serial ${want} was issued by this CA.`);
  const p = certFile(d.dir, want);
  if (!existsSync(p)) throw new QpkiError('CA_INVALID', `index.txt lists ${want}, but ${p} is missing (see qpki ca check).`);
  const desc = describeDocument(readInput(p), d.certPem);
  const status = e.status === 'R' ? `revoked ${e.revoked?.date.toISOString()} (${e.revoked?.reason ?? 'unspecified'})` : e.expires.getTime() < Date.now() ? 'expired' : 'valid';
  emit({ ...desc, der: undefined, status, file: p }, () => [`status: ${status}`, `file:   ${p}`, ...printDescribed(desc)]);
  if (desc.signatures.some((s) => s.valid === false)) process.exitCode = 1;
}

/** `crl info FILE` */
export function crlInfo(file: string): void {
  const d = describeDocument(readInput(file));
  if (d.kind !== 'crl') throw new QpkiError('INPUT_INVALID', `${file} is a ${d.kind}, not a CRL.`);
  emit({ ...d, der: undefined }, () => printDescribed(d).filter((l) => !/^ {2}verification:|not checked/.test(l)));
}

/** `crl verify FILE --ca CERT [--check-expiry]`: both signatures of a Catalyst CRL. */
export function crlVerify(file: string, o: { ca: string; checkExpiry?: boolean }): void {
  const d: Described = describeDocument(readInput(file), readInput(o.ca));
  if (d.kind !== 'crl') throw new QpkiError('INPUT_INVALID', `${file} is a ${d.kind}, not a CRL.`);
  const bad = d.signatures.filter((s) => s.valid !== true);
  const expired = !!o.checkExpiry && !!d.nextUpdate && new Date(d.nextUpdate).getTime() < Date.now();
  emit({ valid: !bad.length && !expired, signatures: d.signatures, nextUpdate: d.nextUpdate, expired }, () => [
    ...d.signatures.map((s) => `${s.which} signature (${s.algorithm}): ${s.valid ? 'VALID' : s.valid === null ? 'not checked' : 'INVALID'}${s.reason ? ` (${s.reason})` : ''}`),
    ...(o.checkExpiry ? [`next update ${d.nextUpdate ?? '-'}: ${expired ? 'EXPIRED' : 'current'}`] : []),
    !bad.length && !expired ? 'CRL verified' : 'CRL NOT verified',
  ]);
  if (bad.length || expired) process.exitCode = 1;
}

/** `crl list`: the CRL files of a CA directory (crl/), newest first. */
export function crlList(o: { dir?: string; caDir?: string }): void {
  const d = describeCaDir(caDir(o));
  const crlDir = join(d.dir, 'crl');
  const files = existsSync(crlDir) ? readdirSync(crlDir).filter((f) => /\.(crl|der|pem)$/.test(f)).map((f) => join(crlDir, f)) : [];
  const rows = files.map((f) => {
    try {
      const x = describeDocument(readInput(f), d.certPem);
      return { file: f, thisUpdate: x.thisUpdate, nextUpdate: x.nextUpdate, revoked: x.revoked?.length ?? 0, number: x.extensions.find((e) => e.name.startsWith('CRL number') || e.name === 'cRLNumber')?.value.join(' '), valid: x.signatures.every((s) => s.valid) };
    } catch (e) {
      return { file: f, problem: e instanceof Error ? e.message : String(e) };
    }
  }).sort((a, b) => String(b.thisUpdate ?? '').localeCompare(String(a.thisUpdate ?? '')) || statSync(b.file).mtimeMs - statSync(a.file).mtimeMs);
  emit(rows, () => (rows.length ? rows.map((r) => ('problem' in r ? `${r.file}: ${r.problem}` : `${r.file}: ${r.revoked} revoked, this update ${r.thisUpdate}, next ${r.nextUpdate ?? '-'}, signature ${r.valid ? 'valid' : 'INVALID'}`)) : ['no CRLs (qpki crl gen makes one)']));
}

/** `inspect FILE`: what a file is, described by the command that knows it. */
export function inspect(file: string): void {
  const abs = resolve(file);
  if (existsSync(abs) && statSync(abs).isDirectory()) {
    const d = describeCaDir(abs);
    emit({ kind: 'ca-directory', dir: d.dir, subject: d.subject, active: d.meta.active, versions: Object.keys(d.meta.versions), issued: d.issued.length }, () => [`CA directory ${d.dir}`, `  subject: ${d.subject}`, `  active version: ${d.meta.active} of ${Object.keys(d.meta.versions).join(', ')}`, `  issued: ${d.issued.length} certificate(s)`]);
    return;
  }
  const data = readInput(file);
  const text = Buffer.from(data).toString('latin1');
  const label = /-----BEGIN ([A-Z0-9 -]+?)-----/.exec(text)?.[1];
  if (label && /PRIVATE KEY/.test(label)) {
    const encrypted = /ENCRYPTED/.test(label) || /Proc-Type: 4,ENCRYPTED/.test(text);
    emit({ kind: 'private-key', label, encrypted }, () => [`private key (PEM "${label}")${encrypted ? ', encrypted' : ', NOT encrypted'}; qpki key convert changes its form`]);
    return;
  }
  if (label === 'PUBLIC KEY') {
    const { keyAlgorithmOfSpki } = require('../core/keys/verify') as typeof import('../core/keys/verify');
    const { pemOrDer } = require('../core/x509/pem') as typeof import('../core/x509/pem');
    const alg = keyAlgorithmOfSpki(pemOrDer(text, ['PUBLIC KEY']));
    emit({ kind: 'public-key', algorithm: alg }, () => [`public key: ${alg}`]);
    return;
  }
  try {
    const d = describeDocument(data);
    emit({ ...d, der: undefined }, () => printDescribed(d));
    return;
  } catch (e) {
    // Not a certificate, CSR or CRL: perhaps an OCSP response (DER).
    try {
      const { describeOcspResponse } = require('../core/x509/ocsp') as typeof import('../core/x509/ocsp');
      const r = describeOcspResponse(data);
      emit(r, () => [`OCSP response: ${r.status}`, ...r.responses.map((s) => `  serial ${s.serial}: ${s.certStatus}${s.revocationTime ? ` since ${s.revocationTime}` : ''}, this update ${s.thisUpdate}, next ${s.nextUpdate ?? '-'}`)]);
      return;
    } catch {
      throw e;
    }
  }
}

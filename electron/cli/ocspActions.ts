/** `qpki ocsp sign|verify`: RFC 6960 responses, pre-signed offline (core/x509/ocsp.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { describeCaDir } from '../core/ca/index';
import { writeFileAtomic } from '../core/ca/fsx';
import { canonicalSerial, isHexSerial } from '../core/ca/serials';
import { defaultSignatureAlgorithm } from '../core/keys/algorithms';
import { softwareSigner } from '../core/keys/software';
import type { Signer } from '../core/keys/signer';
import { Journal } from '../core/journal/journal';
import { buildOcspResponse, OID_KP_OCSP_SIGNING, verifyOcspResponse, type OcspStatus } from '../core/x509/ocsp';
import { describeDocument } from '../core/x509/describe';
import { pemOrDer } from '../core/x509/pem';
import type { RevocationReason } from '../core/x509/crl';
import { caAccess } from './access';
import { openCaRecorded, participants, recordInto, ceremonyGiven, closeInto } from './ceremony';
import { emit } from './output';
import { lazySecret } from './secrets';
import { openLoggedIn, resolveToken } from './token';
import type { CaOpts } from './options';
import { sha256Hex } from '../core/ca/authority';
import { groupHex } from '../core/journal/format';

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new QpkiError('INPUT_INVALID', `Cannot read ${path}.`);
  }
}

/** 30m, 1h, 7d (QPKI's --validity): at most a year; an offline response is re-signed before it lapses. */
function durationMs(s: string): number {
  const m = /^(\d+)([smhd])$/.exec(s.trim());
  if (!m) throw new QpkiError('INPUT_INVALID', `--validity "${s}" is not a duration such as 30m, 1h or 7d.`);
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (ms < 60_000 || ms > 366 * 86_400_000) throw new QpkiError('INPUT_INVALID', '--validity must be between 1 minute and 366 days.');
  return ms;
}

type SignOptions = CaOpts & { serial: string; status?: OcspStatus; revocationReason?: string; revocationTime?: string; validity: string; cert?: string; key?: string; responderKeyLabel?: string; nonce?: string; out: string };

/** The certificate's status from the CA's index; an operator's --status, --revocation-time or --revocation-reason may only say what the index cannot. */
async function responseStatus(o: SignOptions, d: ReturnType<typeof describeCaDir>, serial: string) {
  const line = d.issued.find((e) => e.serial === serial);
  // The status comes from the index; an operator's --status may only say what the index cannot.
  const status: OcspStatus = o.status ?? (line ? (line.status === 'R' ? 'revoked' : 'good') : 'unknown');
  if (status === 'good' && !line) throw new QpkiError('SERIAL_NOT_FOUND', `This CA never issued serial ${serial}: a "good" response for it would vouch for a certificate that does not exist. Use --status unknown.`);
  if (status === 'good' && line?.status === 'R') throw new QpkiError('INPUT_INVALID', `Serial ${serial} is revoked in the index; a "good" response for it is refused.`);
  let revocationTime = line?.revoked?.date;
  let reason: RevocationReason | undefined = line?.revoked?.reason;
  if (o.revocationTime) {
    const t = new Date(o.revocationTime);
    if (Number.isNaN(t.getTime())) throw new QpkiError('INPUT_INVALID', `--revocation-time "${o.revocationTime}" is not an RFC 3339 time.`);
    revocationTime = t;
  }
  if (o.revocationReason) {
    const { REVOCATION_REASON_NAMES } = await import('./certCommands');
    const hit = REVOCATION_REASON_NAMES.find((n) => n.toLowerCase() === o.revocationReason!.toLowerCase());
    if (!hit) throw new QpkiError('INPUT_INVALID', `Unknown revocation reason "${o.revocationReason}".`);
    reason = hit;
  }
  if (status === 'revoked' && !revocationTime) throw new QpkiError('INPUT_INVALID', `Serial ${serial} is not revoked in the index: give --revocation-time for a revoked response.`);
  return { line, status, revocationTime, reason };
}

/** Who signs the response: a delegated responder (its certificate from this CA, its key in a file or the token) or the CA key; `done` closes what was opened. */
async function openResponder(o: SignOptions, dir: string, issuerDer: Uint8Array): Promise<{ signer: Signer; signatureAlgorithm: ReturnType<typeof defaultSignatureAlgorithm>; responderDer?: Uint8Array; journal: Journal; done: () => Promise<void> }> {
  let signer: Signer;
  let signatureAlgorithm;
  let responderDer: Uint8Array | undefined;
  let journal: Journal;
  let done: () => Promise<void> = async () => {};
  if (o.cert) {
    // A delegated responder: its certificate must come from this CA and carry id-kp-OCSPSigning.
    responderDer = pemOrDer(Buffer.from(readInput(o.cert)).toString('latin1'), ['CERTIFICATE']);
    const rd = describeDocument(responderDer, issuerDer);
    if (!rd.signatures.every((s) => s.valid)) throw new QpkiError('CERT_INVALID', `${o.cert} is not a certificate issued by this CA.`);
    if (!rd.extensions.some((e) => e.value.some((v) => v.includes(OID_KP_OCSP_SIGNING) || /OCSP ?Signing/i.test(v)))) throw new QpkiError('CERT_INVALID', `${o.cert} lacks the extended key usage id-kp-OCSPSigning: it cannot sign OCSP responses for this CA.`);
    if (o.key) {
      const pass = lazySecret('responder key passphrase', '--passphrase', { env: o.caPassphraseEnv, file: o.caPassphraseFile, value: o.caPassphrase }, 'PASSPHRASE_REQUIRED');
      const { isEncryptedKeyFile } = await import('../core/keys/software');
      signer = softwareSigner(o.key, isEncryptedKeyFile(o.key) ? await pass() : undefined);
    } else if (o.responderKeyLabel) {
      const t = resolveToken(o)!;
      const s = await openLoggedIn(t, o.force);
      done = async () => s.close();
      signer = s.signer(s.findKey({ label: o.responderKeyLabel }), t.pin);
    } else throw new QpkiError('INPUT_INVALID', 'With --cert, give the responder key with --key FILE or --responder-key-label LABEL.');
    signatureAlgorithm = defaultSignatureAlgorithm(signer.keyAlgorithm);
    journal = Journal.open(dir, participants());
    recordInto(journal, dir, 'ocsp sign');
    const j = journal;
    const prev = done;
    done = async () => {
      await prev();
      if (ceremonyGiven()) closeInto(j, 'ocsp sign', dir);
    };
  } else {
    const ca = await openCaRecorded(dir, caAccess(o), 'ocsp sign');
    signer = ca.signer;
    signatureAlgorithm = ca.signatureAlgorithm;
    journal = ca.journal;
    done = () => ca.close();
  }
  return { signer, signatureAlgorithm, responderDer, journal, done };
}

/** `ocsp sign`: the status from the CA's index (unless --status), signed by the CA key or a delegated responder. */
export async function ocspSign(o: SignOptions): Promise<void> {
  if (!isHexSerial(o.serial)) throw new QpkiError('INPUT_INVALID', `"${o.serial}" is not a hex serial number.`);
  if (existsSync(o.out)) throw new QpkiError('OUTPUT_EXISTS', `${o.out} exists; it is never overwritten.`);
  if (o.nonce !== undefined && !/^([0-9a-fA-F]{2}){1,32}$/.test(o.nonce)) throw new QpkiError('INPUT_INVALID', '--nonce is 1 to 32 bytes of hex.');
  const validity = durationMs(o.validity);
  const dir = resolve(o.dir ?? o.caDir ?? './ca');
  const d = describeCaDir(dir);
  const serial = canonicalSerial(o.serial);
  const { line, status, revocationTime, reason } = await responseStatus(o, d, serial);
  // A CertID names the key that signed the certificate: after `ca activate`, what the archived
  // key issued must be answered for by that key (or its delegated responder), not the active one.
  const { certFile } = await import('../core/ca/serials');
  if (line && existsSync(certFile(dir, serial))) {
    const issued = describeDocument(readInput(certFile(dir, serial)), d.certPem);
    if (issued.signatures.some((s) => s.valid === false)) throw new QpkiError('INPUT_INVALID', `Serial ${serial} was not signed by the active key of this CA (an earlier version's key signed it, see qpki ca versions): its OCSP response must be signed by that key; the active key's would name another issuer key.`);
  }
  const thisUpdate = new Date();
  const nextUpdate = new Date(thisUpdate.getTime() + validity);
  const issuerDer = pemOrDer(d.certPem, ['CERTIFICATE']);

  const { signer, signatureAlgorithm, responderDer, journal, done } = await openResponder(o, dir, issuerDer);
  try {
    const der = await buildOcspResponse({ issuerDer, serial, status, revocationTime, reason, thisUpdate, nextUpdate, signer, signatureAlgorithm, responderDer, nonce: o.nonce ? new Uint8Array(Buffer.from(o.nonce, 'hex')) : undefined });
    const check = verifyOcspResponse(der, issuerDer);
    if (!check.valid) throw new QpkiError('KEY_CHECK_FAILED', `The signed OCSP response does not verify: ${check.reasons.join('; ')}.`);
    writeFileAtomic(o.out, der, { createOnly: true });
    const fp = sha256Hex(der);
    journal.append('ocsp.signed', { serial, status, ...(status === 'revoked' ? { revocationTime: revocationTime!.toISOString(), reason: reason ?? 'unspecified' } : {}), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), responder: responderDer ? { certificateSha256Fingerprint: sha256Hex(responderDer) } : 'CA key', responseSha256Fingerprint: fp, out: resolve(o.out) });
    emit({ serial, status, thisUpdate, nextUpdate, signedBy: check.signedBy, out: o.out, sha256: fp }, () => [`OCSP response for ${serial}: ${status}${status === 'revoked' ? ` since ${revocationTime!.toISOString()} (${reason ?? 'unspecified'})` : ''}`, `  valid:     ${thisUpdate.toISOString()} → ${nextUpdate.toISOString()}`, `  signed by: ${check.signedBy === 'ca' ? 'the CA key' : 'the delegated responder'}`, `  written:   ${o.out}`, `  SHA-256:   ${groupHex(fp)}`]);
  } finally {
    await done();
  }
}

/** `ocsp verify FILE --ca CERT [--cert CERT]` */
export function ocspVerify(file: string, o: { ca: string; cert?: string }): void {
  const der = readInput(file);
  const caDer = pemOrDer(Buffer.from(readInput(o.ca)).toString('latin1'), ['CERTIFICATE']);
  const r = verifyOcspResponse(der, caDer);
  if (o.cert) {
    const want = describeDocument(readInput(o.cert)).serial;
    if (!r.description.responses.some((x) => x.serial === want)) {
      r.valid = false;
      r.reasons.push(`it does not answer for serial ${want}`);
    }
  }
  if (r.description.responses.some((x) => x.nextUpdate && new Date(x.nextUpdate).getTime() < Date.now())) r.reasons.push('warning: its next update has passed');
  emit(r, () => [
    `OCSP response: ${r.description.status}, produced ${r.description.producedAt ?? '-'}`,
    ...r.description.responses.map((x) => `  serial ${x.serial}: ${x.certStatus.toUpperCase()}${x.revocationTime ? ` since ${x.revocationTime}${x.reason ? ` (${x.reason})` : ''}` : ''}, this update ${x.thisUpdate}, next ${x.nextUpdate ?? '-'}`),
    `  signature: ${r.signedBy === 'unknown' ? 'NOT verified' : `verified (${r.signedBy === 'ca' ? 'the CA key' : 'a delegated responder of this CA'})`}`,
    ...r.reasons.map((x) => `  ${x}`),
    r.valid ? 'OCSP response verified' : 'OCSP response NOT verified',
  ]);
  if (!r.valid) process.exitCode = 1;
}

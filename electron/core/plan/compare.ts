/**
 * `ceremony compare`: what differs between a rehearsal and the production run of a plan, other
 * than what must differ (keys, serials, signatures, times, and what is derived from them: key
 * identifiers). A changed extension, name, profile, algorithm, CRL entry or step is reported.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Name as X509Name } from '../x509/peculiar';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList, Extension, Name } from '@peculiar/asn1-x509';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { QpkiError } from '../errors';
import { pemOrDer } from '../x509/pem';
import { MANIFEST_FILE, type RunManifest, type RunOutput } from './run';

export interface RunDifference {
  /** Step id and output path where the difference is, or "run" for the runs themselves. */
  where: string;
  field: string;
  rehearsal: string;
  run: string;
}

/** Derived from the key itself: differs between any two runs. */
const KEY_DERIVED = new Set(['2.5.29.14', '2.5.29.35']);
const DAY_MS = 86_400_000;

function hex(b: ArrayBuffer | Uint8Array): string {
  return Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
}

/** The name as people read it (RFC 4514), with its DER so a change of encoding alone also shows. */
function nameHex(n: Name): string {
  const der = AsnConvert.serialize(n);
  return `${new X509Name(der).toString()} [DER ${hex(der).slice(0, 16)}…${createHash('sha256').update(Buffer.from(der)).digest('hex').slice(0, 16)}]`;
}

function readManifest(dir: string): RunManifest {
  let m: RunManifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as RunManifest;
  } catch (e) {
    throw new QpkiError('INPUT_INVALID', `${dir} is not a ceremony run directory (no readable ${MANIFEST_FILE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  if (m.format !== 'qpki-ceremony-run/1' || !Array.isArray(m.steps)) throw new QpkiError('INPUT_INVALID', `${join(dir, MANIFEST_FILE)} is not a ceremony run manifest.`);
  return m;
}

function extensionMap(exts: Extension[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of exts ?? []) m.set(e.extnID, KEY_DERIVED.has(e.extnID) ? `(key-derived, critical=${!!e.critical})` : `critical=${!!e.critical} ${hex(e.extnValue.buffer)}`);
  return m;
}

type Fields = Map<string, string>;

function certificateFields(der: Uint8Array): Fields {
  const c = AsnConvert.parse(der, Certificate);
  const t = c.tbsCertificate;
  const f: Fields = new Map();
  f.set('version', String(t.version));
  f.set('signature algorithm', `${c.signatureAlgorithm.algorithm} ${c.signatureAlgorithm.parameters ? hex(c.signatureAlgorithm.parameters) : ''}`.trim());
  f.set('issuer', nameHex(t.issuer));
  f.set('subject', nameHex(t.subject));
  const alg = t.subjectPublicKeyInfo.algorithm;
  f.set('public key algorithm', `${alg.algorithm} ${alg.parameters ? hex(alg.parameters) : ''}`.trim());
  f.set('validity (days)', String(Math.round((t.validity.notAfter.getTime().getTime() - t.validity.notBefore.getTime().getTime()) / DAY_MS)));
  for (const [oid, v] of extensionMap(t.extensions)) f.set(`extension ${oid}`, v);
  return f;
}

function crlFields(der: Uint8Array): Fields {
  const c = AsnConvert.parse(der, CertificateList);
  const t = c.tbsCertList;
  const f: Fields = new Map();
  f.set('signature algorithm', c.signatureAlgorithm.algorithm);
  f.set('issuer', nameHex(t.issuer));
  if (t.nextUpdate) f.set('next update (days after this update)', String(Math.round((t.nextUpdate.getTime().getTime() - t.thisUpdate.getTime().getTime()) / DAY_MS)));
  for (const [oid, v] of extensionMap(t.crlExtensions)) f.set(`CRL extension ${oid}`, v);
  const entries = (t.revokedCertificates ?? []).map((r) => [...extensionMap(r.crlEntryExtensions?.filter((e) => e.extnID !== '2.5.29.24'))].map(([o, v]) => `${o}:${v}`).join(';')).sort();
  f.set('revoked entries (their extensions)', `${entries.length}: ${entries.join(' | ')}`);
  return f;
}

function csrFields(der: Uint8Array): Fields {
  const c = AsnConvert.parse(der, CertificationRequest);
  const i = c.certificationRequestInfo;
  const f: Fields = new Map();
  f.set('subject', nameHex(i.subject));
  f.set('public key algorithm', i.subjectPKInfo.algorithm.algorithm);
  f.set('signature algorithm', c.signatureAlgorithm.algorithm);
  f.set('attributes', hex(AsnConvert.serialize(i.attributes)));
  return f;
}

function fieldsOf(dir: string, o: RunOutput): Fields {
  const data = readFileSync(join(dir, o.path));
  if (o.kind === 'certificate') return certificateFields(pemOrDer(data, ['CERTIFICATE']));
  if (o.kind === 'crl') return crlFields(pemOrDer(data, ['X509 CRL']));
  if (o.kind === 'csr') return csrFields(pemOrDer(data, ['CERTIFICATE REQUEST']));
  return new Map();
}

/** Every difference between two runs of a plan, other than keys, serials, signatures and times. */
export function compareRuns(rehearsalDir: string, runDir: string): { differences: RunDifference[]; compared: number } {
  const a = readManifest(rehearsalDir);
  const b = readManifest(runDir);
  const d: RunDifference[] = [];
  const add = (where: string, field: string, x: string | undefined, y: string | undefined) => {
    if (x !== y) d.push({ where, field, rehearsal: x ?? '(absent)', run: y ?? '(absent)' });
  };
  add('run', 'plan SHA-256', a.planSha256, b.planSha256);
  add('run', 'ceremony id', a.ceremonyId, b.ceremonyId);
  add('run', 'completed', String(a.completed), String(b.completed));
  if (!a.rehearsal) d.push({ where: 'run', field: 'rehearsal', rehearsal: `${rehearsalDir} is not marked as a rehearsal`, run: b.rehearsal ? 'rehearsal' : 'production' });
  let compared = 0;
  const n = Math.max(a.steps.length, b.steps.length);
  for (let i = 0; i < n; i++) {
    const x = a.steps[i];
    const y = b.steps[i];
    const where = `step ${i + 1} (${x?.id ?? y?.id})`;
    if (!x || !y || x.id !== y.id || x.type !== y.type) {
      add(where, 'step', x ? `${x.id} (${x.type})` : undefined, y ? `${y.id} (${y.type})` : undefined);
      continue;
    }
    add(where, 'outputs', x.outputs.map((o) => `${o.kind}:${o.path}`).join(', '), y.outputs.map((o) => `${o.kind}:${o.path}`).join(', '));
    for (const o of x.outputs) {
      const p = y.outputs.find((q) => q.path === o.path && q.kind === o.kind);
      if (!p || o.kind === 'ca-directory') continue;
      const fx = fieldsOf(rehearsalDir, o);
      const fy = fieldsOf(runDir, p);
      compared++;
      for (const k of new Set([...fx.keys(), ...fy.keys()])) add(`${where} ${o.path}`, k, fx.get(k), fy.get(k));
    }
  }
  return { differences: d, compared };
}

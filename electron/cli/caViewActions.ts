/**
 * `qpki ca` commands that only read a CA directory (`ca info`, `ca export`): kept apart from caActions.ts,
 * which signs, so that they load the directory readers (core/ca/view.ts) and not the signing
 * code, the profiles, the lints and the token library beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../core/errors';
import { writeFileAtomic } from '../core/ca/fsx';
import { describeKeyStorage } from '../core/ca/keyStorage';
import { caCertPath, versionKeys } from '../core/ca/meta';
import { describeCaDir, readPendingCa } from '../core/ca/view';
import { groupHex } from '../core/journal/format';
import { parsePemBlocks, pemOrDer, toPem } from '../core/x509/pem';
import { emit, writeErr, writeOut } from './output';

/** The CA directory a command works on: --dir, else QPKI's -d/--ca-dir, else `fallback`. */
export function caDirOf(o: { dir?: string; caDir?: string }, fallback?: string): string {
  const d = o.dir ?? o.caDir ?? fallback;
  if (!d) throw new QpkiError('INPUT_INVALID', 'Give the CA directory with --dir (or --ca-dir).');
  return d;
}

/** `ca info` */
export function caInfo(o: { dir?: string; caDir?: string }): void {
  const p = readPendingCa(caDirOf(o, './ca'));
  if (p) {
    emit({ dir: p.dir, meta: p.meta, status: 'pending', subject: p.subject, profile: p.profile, publicKeySha256: p.spkiSha256, csr: p.csrPath }, () => [
      `CA ${p.dir} (PENDING: no certificate yet)`,
      `  subject:   ${p.subject} (requested)`,
      `  profile:   ${p.profile}`,
      `  algorithm: ${p.algorithm}`,
      ...p.keys.map((k) => `  key (${k.id}): ${describeKeyStorage(p.dir, k.storage)}`),
      `  public key SHA-256: ${groupHex(p.spkiSha256)}`,
      `  CSR:       ${p.csrPath}`,
      `  next:      have the parent CA sign the CSR, then \`qpki ca import-cert --dir ${p.dir} --cert FILE --chain PARENT-CHAIN\``,
    ]);
    return;
  }
  const d = describeCaDir(caDirOf(o, './ca'));
  const v = d.meta.versions[d.meta.active];
  emit({ dir: d.dir, meta: d.meta, subject: d.subject, notAfter: d.notAfter, issued: d.issued.length, revoked: d.issued.filter((e) => e.status === 'R').length }, () => [
    `CA ${d.dir}`,
    `  subject:   ${d.subject}`,
    `  expires:   ${d.notAfter.toISOString()}`,
    `  profiles:  ${v.profiles.join(', ')}`,
    `  algorithm: ${v.algos.join(' + ')}`,
    ...versionKeys(d.meta, d.meta.active).map((k) => `  key (${k.id}): ${describeKeyStorage(d.dir, k.storage)}`),
    `  issued:    ${d.issued.length} certificate(s), ${d.issued.filter((e) => e.status === 'R').length} revoked`,
  ]);
}

/** `ca export`: -b ca|chain|root, -f pem|der, -v VERSION, --all (QPKI's flags). */
export function caExport(o: { dir?: string; caDir?: string; bundle: string; format: string; version?: string; all?: boolean; out?: string }): void {
  const dir = resolve(caDirOf(o, './ca'));
  const d = describeCaDir(dir);
  if (!['ca', 'chain', 'root'].includes(o.bundle)) throw new QpkiError('INPUT_INVALID', '--bundle is ca, chain or root.');
  if (!['pem', 'der'].includes(o.format)) throw new QpkiError('INPUT_INVALID', '--format is pem or der.');
  if (o.all && o.version) throw new QpkiError('INPUT_INVALID', 'Give --all or --version, not both.');
  let certs: Uint8Array[];
  if (o.all || o.version) {
    const ids = o.all ? Object.keys(d.meta.versions).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))) : [o.version!];
    for (const id of ids) if (!d.meta.versions[id]) throw new QpkiError('INPUT_INVALID', `${dir} has no version "${id}" (it has ${Object.keys(d.meta.versions).join(', ')}).`);
    certs = ids.map((id) => pemOrDer(readFileSync(caCertPath(dir, d.meta, id), 'utf8'), ['CERTIFICATE']));
  } else {
    const chain = existsSync(join(dir, 'chain.crt')) ? parsePemBlocks(readFileSync(join(dir, 'chain.crt'), 'utf8')).map((b) => b.der) : [];
    const own = pemOrDer(d.certPem, ['CERTIFICATE']);
    certs = o.bundle === 'ca' ? [own] : o.bundle === 'chain' ? (chain.length ? chain : [own]) : [chain.length ? chain[chain.length - 1] : own];
  }
  if (o.format === 'der' && certs.length !== 1) throw new QpkiError('INPUT_INVALID', `DER holds one certificate; this export has ${certs.length}: use --format pem.`);
  const data: string | Uint8Array = o.format === 'der' ? certs[0] : certs.map((c) => toPem(c, 'CERTIFICATE')).join('');
  if (o.out) {
    writeFileAtomic(o.out, data, { createOnly: true });
    writeErr(`written to ${o.out}\n`);
  } else writeOut(data);
}

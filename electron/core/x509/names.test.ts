/**
 * One name form for people: RFC 4514 order and escaping, on the inspector's and the review's
 * rows alike. The certificates and requests are made by OpenSSL, and OpenSSL's own RFC 2253 print
 * of each is the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDocument } from './describe';

const work = mkdtempSync(join(tmpdir(), 'qpki-names-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('subject and issuer rows are in RFC 4514 order, as OpenSSL prints them with -nameopt RFC2253', () => {
  // Values that need escaping: a comma, a plus, a leading '#', a trailing space; and an attribute with no short name.
  const subj = '/C=FR/O=Example\\, Inc./OU=R\\+D/CN=#1 Root /2.5.4.65=pseudo';
  const key = join(work, 'k.pem');
  const crt = join(work, 'c.pem');
  const csr = join(work, 'r.pem');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-subj', subj, '-days', '1']);
  openssl(['req', '-new', '-key', key, '-out', csr, '-subj', subj]);
  const reference = openssl(['x509', '-in', crt, '-noout', '-subject', '-nameopt', 'RFC2253']).replace(/^subject=/, '').trim();
  const cert = describeDocument(readFileSync(crt, 'utf8'));
  const req = describeDocument(readFileSync(csr, 'utf8'));
  // OpenSSL names 2.5.4.65 (the app gives its OID) and separates with ',' (the app with ', ', as
  // RFC 4514 allows): the same name otherwise, in the same order, escaped alike.
  assert.equal(reference, 'pseudonym=pseudo,CN=\\#1 Root\\ ,OU=R\\+D,O=Example\\, Inc.,C=FR');
  const ours = '2.5.4.65=pseudo, CN=\\#1 Root\\ , OU=R\\+D, O=Example\\, Inc., C=FR';
  assert.equal(cert.subject, ours);
  assert.equal(cert.issuer, ours);
  assert.equal(req.subject, ours);
});

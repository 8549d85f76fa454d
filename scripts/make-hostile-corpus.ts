/**
 * Writes a corpus of hostile inputs for the fault tests (test/faults/hostile.test.ts): malformed
 * certificates, CSRs and CRLs, broken PEM, malformed profiles and hostile variable values. Each
 * case is a file plus a line in manifest.json saying which entry point it attacks.
 *
 *   npx tsx scripts/make-hostile-corpus.ts <out-dir>
 *
 * Seeds are made fresh with the engine (a self-signed certificate, a CSR and a CRL under a new
 * software key), and the key is kept so some cases are re-signed: their structure is hostile but
 * their signature valid, so a decoder cannot hide behind a signature failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { defaultSignatureAlgorithm } from '../electron/core/keys/algorithms';
import { generateSoftwareKey, signerFromPkcs8 } from '../electron/core/keys/software';
import type { Signer } from '../electron/core/keys/signer';
import { signatureAlgorithmIdentifier } from '../electron/core/keys/verify';
import { buildExtensions, buildSubject, loadProfile, resolveVariables, subjectKeyIdentifier } from '../electron/core/profiles/index';
import { buildCertificate, newSerial } from '../electron/core/x509/certificate';
import { buildCrl } from '../electron/core/x509/crl';
import { buildCsr } from '../electron/core/x509/csr';
import { children, encodeLength, encodeTlv, slice, whole, type Tlv } from '../electron/core/x509/der';
import { toPem, type PemLabel } from '../electron/core/x509/pem';

/** Which real entry point a case goes through. */
export type Target = 'document' | 'csr' | 'profile' | 'vars';

export interface HostileCase {
  file: string;
  target: Target;
  category: string;
  description: string;
  /** For 'vars': extra `--var` arguments (values that argv can carry). */
  varArgs?: string[];
  /** For 'vars': the profile the values are given to. */
  profile?: string;
  /** 'error': must be refused with a stable code. 'any': may also be accepted, but must not crash. */
  expect: 'error' | 'any';
}

type Doc = 'certificate' | 'csr' | 'crl';
const LABEL: Record<Doc, PemLabel> = { certificate: 'CERTIFICATE', csr: 'CERTIFICATE REQUEST', crl: 'X509 CRL' };

interface Seeds {
  signer: Signer;
  docs: Record<Doc, Uint8Array>;
}

async function makeSeeds(): Promise<Seeds> {
  const { pkcs8 } = generateSoftwareKey('ec-p256');
  const signer = signerFromPkcs8(pkcs8, { type: 'software', path: 'corpus.key', encrypted: false });
  const sigAlg = defaultSignatureAlgorithm('ec-p256');
  const profile = loadProfile('ec/tls-server');
  const values = resolveVariables(profile, { cn: 'seed.example.com', organization: 'Corpus' });
  const subject = buildSubject(profile, values);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const certificate = await buildCertificate({
    serial: newSerial(), issuer: subject, subject, notBefore: now, notAfter: new Date(now.getTime() + 86_400_000), spki: signer.spki,
    extensions: buildExtensions(profile, values, { subjectSpki: signer.spki, issuerSpki: signer.spki }), signer, signatureAlgorithm: sigAlg,
  });
  const csr = await buildCsr({ subject, signer, signatureAlgorithm: sigAlg });
  const crl = await buildCrl({
    issuer: subject, issuerKeyId: subjectKeyIdentifier(signer.spki), thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000), crlNumber: 7n,
    revoked: [{ serial: Uint8Array.of(0x01, 0x02, 0x03), date: now, reason: 'keyCompromise' }], signer, signatureAlgorithm: sigAlg,
  });
  return { signer, docs: { certificate, csr, crl } };
}

/** Every TLV in the document, depth first, up to `max`. */
function walk(der: Uint8Array, max = 40): Tlv[] {
  const out: Tlv[] = [];
  const visit = (t: Tlv, depth: number) => {
    if (out.length >= max) return;
    out.push(t);
    if ((t.tag & 0x20) && depth < 6) {
      try {
        for (const c of children(der, t)) visit(c, depth + 1);
      } catch {
        /* a primitive-looking constructed value: stop here */
      }
    }
  };
  visit(whole(der), 0);
  return out;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** Replace the length octets of the TLV at `t` with `len` (raw length octets). */
function withLength(der: Uint8Array, t: Tlv, len: Uint8Array): Uint8Array {
  return cat(der.subarray(0, t.start + 1), len, der.subarray(t.contentStart));
}

/** Re-sign a TBS so only its content is hostile. */
async function resign(tbs: Uint8Array, signer: Signer): Promise<Uint8Array> {
  const alg = defaultSignatureAlgorithm(signer.keyAlgorithm);
  const sig = await signer.sign(alg, tbs);
  return encodeTlv(0x30, [tbs, signatureAlgorithmIdentifier(alg), encodeTlv(0x03, [Uint8Array.of(0), sig])]);
}

/** The TBS of a signed document with one child TLV (by index) replaced. */
function replaceChild(der: Uint8Array, index: number, replacement: Uint8Array): Uint8Array {
  const tbsT = children(der, whole(der))[0];
  const parts = children(der, tbsT).map((c) => slice(der, c));
  parts[index] = replacement;
  return encodeTlv(0x30, parts);
}

function nameWith(type: string, valueTlv: Uint8Array): Uint8Array {
  const oid = new Uint8Array(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: type })));
  // AlgorithmIdentifier is SEQUENCE { OID }: take the OID TLV out of it.
  const oidTlv = slice(oid, children(oid, whole(oid))[0]);
  return encodeTlv(0x30, [encodeTlv(0x31, [encodeTlv(0x30, [oidTlv, valueTlv])])]);
}

// Long as a list is: the corpus's cases, one after another, each a few lines.
// eslint-disable-next-line max-lines-per-function -- a table of hostile inputs, one entry each
export async function makeHostileCorpus(out: string): Promise<HostileCase[]> {
  const seeds = await makeSeeds();
  const cases: HostileCase[] = [];
  const dirs = new Set<string>();
  const add = (sub: string, name: string, data: Uint8Array | string, c: Omit<HostileCase, 'file'>) => {
    const dir = join(out, sub);
    if (!dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      dirs.add(dir);
    }
    const file = join(sub, `${String(cases.length).padStart(4, '0')}-${name}`);
    writeFileSync(join(out, file), data);
    cases.push({ file, ...c });
  };
  const docTarget = (d: Doc): Target => (d === 'csr' ? 'csr' : 'document');

  for (const d of ['certificate', 'csr', 'crl'] as Doc[]) {
    const der = seeds.docs[d];
    const t = docTarget(d);
    // Also through `cert show` for CSRs, so every document kind reaches the decoder.
    const targets: Target[] = d === 'csr' ? ['csr', 'document'] : ['document'];
    for (const target of targets) {
      // Truncated DER at many offsets.
      const offsets = new Set<number>([0, 1, 2, 3, 4, der.length - 1, der.length - 2]);
      for (let i = 1; i < 24; i++) offsets.add(Math.floor((der.length * i) / 24));
      for (const o of [...offsets].sort((a, b) => a - b)) add(`${d}-truncated`, `${target}-at-${o}.der`, der.subarray(0, o), { target, category: 'truncated DER', description: `${d} cut at byte ${o} of ${der.length}`, expect: 'error' });
    }
    // Wrong, huge and indefinite lengths on the first TLVs.
    walk(der, 14).forEach((tl, i) => {
      const real = tl.end - tl.contentStart;
      const muts: [string, Uint8Array][] = [
        ['plus-one', encodeLength(real + 1)],
        ['minus-one', encodeLength(Math.max(0, real - 1))],
        ['huge', Uint8Array.of(0x84, 0x7f, 0xff, 0xff, 0xff)],
        ['indefinite', Uint8Array.of(0x80)],
        ['five-octets', Uint8Array.of(0x85, 0x01, 0x00, 0x00, 0x00, 0x00)],
        ['non-minimal', Uint8Array.of(0x82, (real >> 8) & 0xff, real & 0xff)],
      ];
      for (const [m, len] of muts) {
        if (m === 'non-minimal' && real >= 256) continue;
        add(`${d}-lengths`, `tlv${i}-${m}.der`, withLength(der, tl, len), { target: t, category: 'wrong length', description: `${d}: TLV ${i} (tag 0x${tl.tag.toString(16)}) length ${m}`, expect: 'error' });
      }
    });
    // Trailing garbage and a flipped tag.
    add(`${d}-garbage`, 'trailing-zero.der', cat(der, Uint8Array.of(0)), { target: t, category: 'trailing garbage', description: `${d} + one zero byte`, expect: 'error' });
    add(`${d}-garbage`, 'trailing-junk.der', cat(der, Buffer.from('junk after the document')), { target: t, category: 'trailing garbage', description: `${d} + text`, expect: 'error' });
    add(`${d}-garbage`, 'doubled.der', cat(der, der), { target: t, category: 'trailing garbage', description: `${d} twice in a row`, expect: 'error' });
    add(`${d}-garbage`, 'top-tag-set.der', cat(Uint8Array.of(0x31), der.subarray(1)), { target: t, category: 'wrong tag', description: `${d} whose outer SEQUENCE is a SET`, expect: 'error' });
    add(`${d}-garbage`, 'multibyte-tag.der', cat(Uint8Array.of(0x3f, 0x81, 0x00), der.subarray(1)), { target: t, category: 'wrong tag', description: `${d} with a multi-byte outer tag`, expect: 'error' });
    // PEM with wrong labels or broken base64.
    const pem = toPem(der, LABEL[d]);
    const other: PemLabel = d === 'certificate' ? 'X509 CRL' : 'CERTIFICATE';
    const pems: [string, string][] = [
      ['wrong-label', toPem(der, other)],
      ['private-key-label', toPem(der, 'PRIVATE KEY')],
      ['mismatched-end', pem.replace(/-----END [A-Z0-9 ]+-----/, '-----END PUBLIC KEY-----')],
      ['no-end', pem.replace(/-----END [A-Z0-9 ]+-----\n?/, '')],
      ['bad-char', pem.replace(/\n([A-Za-z0-9+/])/, '\n!$1')],
      ['bad-padding', pem.replace(/\n-----END/, '=\n-----END')],
      ['cut-base64', pem.replace(/[A-Za-z0-9+/=]{3}\n-----END/, '\n-----END')],
      ['empty-body', `-----BEGIN ${LABEL[d]}-----\n-----END ${LABEL[d]}-----\n`],
      ['lowercase-label', pem.replace(/-----(BEGIN|END) ([A-Z0-9 ]+)-----/g, (_m, a, l) => `-----${a} ${String(l).toLowerCase()}-----`)],
      ['garbage-in-base64', pem.replace(/\n/, '\n\u0000\u00ff\n')],
      ['truncated-der-inside', toPem(der.subarray(0, Math.floor(der.length / 2)), LABEL[d])],
      ['nul-before', '\u0000\u0000' + pem],
      ['huge-line', `-----BEGIN ${LABEL[d]}-----\n${'A'.repeat(200_000)}\n-----END ${LABEL[d]}-----\n`],
    ];
    // Text before BEGIN is tolerated, as OpenSSL does; what matters is the block itself.
    for (const [n, text] of pems) add(`${d}-pem`, `${n}.pem`, text, { target: t, category: 'bad PEM', description: `${d}: ${n}`, expect: n === 'nul-before' ? 'any' : 'error' });
    add(`${d}-pem`, 'crlf.pem', pem.replace(/\n/g, '\r\n'), { target: t, category: 'bad PEM', description: `${d}: CRLF line ends (acceptable)`, expect: 'any' });
  }

  // Hostile content under a valid signature.
  const { signer } = seeds;
  const cert = seeds.docs.certificate;
  const badOids: [string, Uint8Array][] = [
    ['non-minimal-arc', Uint8Array.of(0x06, 0x04, 0x2a, 0x80, 0x80, 0x01)],
    ['empty-oid', Uint8Array.of(0x06, 0x00)],
    ['huge-arc', cat(Uint8Array.of(0x06, 0x81, 0x90), Uint8Array.from({ length: 0x90 }, (_, i) => (i === 0x8f ? 0x01 : 0xff)))],
    ['unterminated-arc', Uint8Array.of(0x06, 0x02, 0x2a, 0x86)],
    ['unknown-alg', Uint8Array.of(0x06, 0x03, 0x2a, 0x03, 0x04)],
  ];
  for (const [n, oid] of badOids) {
    // As the TBS signature algorithm (child 2 of TBSCertificate: [0] version, serial, signature).
    add('resigned-oids', `sigalg-${n}.der`, await resign(replaceChild(cert, 2, encodeTlv(0x30, [oid])), signer), { target: 'document', category: 'bad OID', description: `certificate whose TBS signature algorithm OID is ${n}`, expect: n === 'unknown-alg' ? 'any' : 'error' });
    // As the outer signature algorithm.
    const [tbsT, , sigT] = children(cert, whole(cert));
    add('resigned-oids', `outer-${n}.der`, encodeTlv(0x30, [slice(cert, tbsT), encodeTlv(0x30, [oid]), slice(cert, sigT)]), { target: 'document', category: 'bad OID', description: `certificate whose outer signature algorithm OID is ${n}`, expect: 'any' });
    // As an attribute type in the subject.
    add('resigned-oids', `subject-${n}.der`, await resign(replaceChild(cert, 5, encodeTlv(0x30, [encodeTlv(0x31, [encodeTlv(0x30, [oid, encodeTlv(0x0c, [Buffer.from('x')])])])])), signer), { target: 'document', category: 'bad OID', description: `certificate whose subject attribute OID is ${n}`, expect: n === 'unknown-alg' ? 'any' : 'error' });
  }
  const names: [string, Uint8Array, 'error' | 'any'][] = [
    ['utf8-invalid', nameWith('2.5.4.3', encodeTlv(0x0c, [Uint8Array.of(0xff, 0xfe, 0x41, 0xc3)])), 'error'],
    ['utf8-overlong', nameWith('2.5.4.3', encodeTlv(0x0c, [Uint8Array.of(0xc0, 0xaf)])), 'error'],
    ['utf8-surrogate', nameWith('2.5.4.3', encodeTlv(0x0c, [Uint8Array.of(0xed, 0xa0, 0x80)])), 'error'],
    ['bmp-odd-length', nameWith('2.5.4.3', encodeTlv(0x1e, [Uint8Array.of(0x00, 0x41, 0x00)])), 'error'],
    ['printable-bad-chars', nameWith('2.5.4.3', encodeTlv(0x13, [Buffer.from('a@b*c')])), 'any'],
    ['nul-in-cn', nameWith('2.5.4.3', encodeTlv(0x0c, [Buffer.from('good.example.com\u0000.evil.com')])), 'any'],
    ['control-chars', nameWith('2.5.4.3', encodeTlv(0x0c, [Buffer.from('\u001b[31mred\u001b[0m\r\nCN=forged')])), 'any'],
    ['empty-rdn-set', encodeTlv(0x30, [encodeTlv(0x31, [])]), 'any'],
    ['integer-as-value', nameWith('2.5.4.3', encodeTlv(0x02, [Uint8Array.of(0x01)])), 'any'],
    ['country-too-long', nameWith('2.5.4.6', encodeTlv(0x13, [Buffer.from('USA')])), 'any'],
    ['huge-cn', nameWith('2.5.4.3', encodeTlv(0x0c, [Buffer.from('x'.repeat(70_000))])), 'any'],
  ];
  for (const [n, name, expect] of names) {
    add('resigned-names', `subject-${n}.der`, await resign(replaceChild(cert, 5, name), signer), { target: 'document', category: 'hostile name', description: `certificate with subject ${n}`, expect });
    add('resigned-names', `issuer-${n}.der`, await resign(replaceChild(cert, 3, name), signer), { target: 'document', category: 'hostile name', description: `certificate with issuer ${n}`, expect });
  }
  // CSRs with hostile subjects, re-signed, through `cert issue`.
  const csr = seeds.docs.csr;
  for (const [n, name, expect] of names) {
    add('csr-names', `subject-${n}.der`, await resign(replaceChild(csr, 1, name), signer), { target: 'csr', category: 'hostile name', description: `CSR with subject ${n}`, expect });
  }
  {
    const [tbsT, algT, sigT] = children(csr, whole(csr));
    const sig = Buffer.from(slice(csr, sigT));
    sig[sig.length - 3] ^= 0x55;
    add('csr-signature', 'flipped-bit.der', encodeTlv(0x30, [slice(csr, tbsT), slice(csr, algT), sig]), { target: 'csr', category: 'bad signature', description: 'CSR whose signature has a flipped bit', expect: 'error' });
    add('csr-signature', 'empty-signature.der', encodeTlv(0x30, [slice(csr, tbsT), slice(csr, algT), Uint8Array.of(0x03, 0x01, 0x00)]), { target: 'csr', category: 'bad signature', description: 'CSR with an empty signature', expect: 'error' });
    const rsa = generateSoftwareKey('rsa-2048');
    const rsaProfile = loadProfile('rsa/tls-server');
    const rsaCsr = await buildCsr({ subject: buildSubject(rsaProfile, resolveVariables(rsaProfile, { cn: 'rsa.example.com' })), signer: signerFromPkcs8(rsa.pkcs8, { type: 'software', path: 'x', encrypted: false }), signatureAlgorithm: 'rsa-pkcs1-sha256' });
    add('csr-signature', 'rsa-for-ec-profile.der', rsaCsr, { target: 'csr', category: 'wrong key', description: 'RSA CSR given to an ECDSA profile', expect: 'error' });
  }

  // Deep nesting.
  const nest = (tag: number, depth: number, inner: Uint8Array): Uint8Array => {
    let b = inner;
    for (let i = 0; i < depth; i++) b = encodeTlv(tag, [b]);
    return b;
  };
  add('nesting', 'sequence-10000.der', nest(0x30, 10_000, Uint8Array.of(0x05, 0x00)), { target: 'document', category: 'deep nesting', description: '10,000 nested SEQUENCEs', expect: 'error' });
  add('nesting', 'sequence-100000.der', nest(0x30, 100_000, Uint8Array.of(0x05, 0x00)), { target: 'document', category: 'deep nesting', description: '100,000 nested SEQUENCEs', expect: 'error' });
  add('nesting', 'context-10000.der', nest(0xa0, 10_000, Uint8Array.of(0x05, 0x00)), { target: 'document', category: 'deep nesting', description: '10,000 nested [0] tags', expect: 'error' });
  add('nesting', 'csr-sequence-10000.der', nest(0x30, 10_000, Uint8Array.of(0x05, 0x00)), { target: 'csr', category: 'deep nesting', description: '10,000 nested SEQUENCEs as a CSR', expect: 'error' });
  {
    // A certificate shape whose extension value nests 10,000 deep, re-signed.
    const deepExt = encodeTlv(0xa3, [encodeTlv(0x30, [encodeTlv(0x30, [Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x11), encodeTlv(0x04, [nest(0x30, 10_000, Uint8Array.of(0x05, 0x00))])])])]);
    const tbsT = children(cert, whole(cert))[0];
    const parts = children(cert, tbsT).map((c) => slice(cert, c));
    parts[parts.length - 1] = deepExt;
    add('nesting', 'deep-extension.der', await resign(encodeTlv(0x30, parts), signer), { target: 'document', category: 'deep nesting', description: 'certificate whose SAN extension nests 10,000 SEQUENCEs', expect: 'any' });
  }
  // Not documents at all.
  add('junk', 'empty.der', new Uint8Array(0), { target: 'document', category: 'junk', description: 'empty file', expect: 'error' });
  add('junk', 'one-byte.der', Uint8Array.of(0x30), { target: 'document', category: 'junk', description: 'a single byte', expect: 'error' });
  add('junk', 'text.txt', 'hello, I am not a certificate\n', { target: 'document', category: 'junk', description: 'plain text', expect: 'error' });
  add('junk', 'zeros.der', new Uint8Array(1 << 20), { target: 'document', category: 'junk', description: '1 MiB of zeros', expect: 'error' });
  let x = 12345;
  for (let i = 0; i < 10; i++) {
    const b = new Uint8Array(64 + i * 97);
    for (let j = 0; j < b.length; j++) b[j] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    b[0] = 0x30;
    add('junk', `random-${i}.der`, b, { target: i % 2 ? 'csr' : 'document', category: 'junk', description: `random bytes (${b.length})`, expect: 'error' });
  }

  // Profiles.
  const good = `name: corpus/root\ndescription: "corpus"\nalgorithm: ec-p256\nvalidity: 365d\nvariables:\n  cn:\n    type: string\n    required: true\nsubject:\n  cn: "{{ cn }}"\nextensions:\n  basicConstraints:\n    critical: true\n    ca: true\n  keyUsage:\n    critical: true\n    values: [keyCertSign, cRLSign]\n`;
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill('*' + String.fromCharCode(96 + i)).join(',')}]`);
  const profiles: [string, string][] = [
    ['alias-bomb.yaml', bomb.join('\n') + '\n' + good],
    ['alias-bomb-in-variables.yaml', good.replace('variables:\n', `variables:\n  x: &x [${Array(50).fill('1').join(',')}]\n  y: &y [${Array(50).fill('*x').join(',')}]\n`)],
    ['algorithm-number.yaml', good.replace('algorithm: ec-p256', 'algorithm: 42')],
    ['algorithm-unknown.yaml', good.replace('algorithm: ec-p256', 'algorithm: ec-p255')],
    ['validity-forever.yaml', good.replace('validity: 365d', 'validity: forever')],
    ['validity-negative.yaml', good.replace('validity: 365d', 'validity: -5d')],
    ['validity-huge.yaml', good.replace('validity: 365d', 'validity: 99999999999999999999d')],
    ['variables-list.yaml', good.replace(/variables:[\s\S]*?subject:/, 'variables: [cn, o]\nsubject:')],
    ['variable-type-unknown.yaml', good.replace('type: string', 'type: haiku')],
    ['unknown-extension.yaml', good + '  teleportation:\n    critical: true\n    values: [now]\n'],
    ['unknown-key-usage.yaml', good.replace('[keyCertSign, cRLSign]', '[keyCertSign, launchMissiles]')],
    ['extensions-string.yaml', good.replace(/extensions:[\s\S]*$/, 'extensions: "all of them"\n')],
    ['basic-constraints-typo.yaml', good.replace('ca: true', 'ca: "yes please"')],
    ['duplicate-keys.yaml', good + 'algorithm: rsa-2048\n'],
    ['js-function-tag.yaml', good.replace('description: "corpus"', 'description: !!js/function "function(){ return process.exit(3) }"')],
    ['custom-tag.yaml', good.replace('description: "corpus"', 'description: !evil "x"')],
    ['deep-nesting.yaml', good + 'x: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n'],
    ['deep-maps.yaml', good + Array.from({ length: 3000 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n'],
    ['too-big.yaml', good + '# ' + 'x'.repeat(300 * 1024) + '\n'],
    ['empty.yaml', ''],
    ['only-null.yaml', '~\n'],
    ['scalar.yaml', 'just a string\n'],
    ['list.yaml', '- a\n- b\n'],
    ['binary.yaml', '\u0000\u0001\u0002\u00ff\ufffe'],
    ['bad-indentation.yaml', 'name: x\n  algorithm: ec-p256\n oops: [\n'],
    ['subject-unknown-variable.yaml', good.replace('cn: "{{ cn }}"', 'cn: "{{ nope }}"')],
    ['subject-template-injection.yaml', good.replace('cn: "{{ cn }}"', 'cn: "{{ constructor.constructor }}"')],
    ['proto-pollution.yaml', good + '__proto__:\n  isCa: true\n'],
    ['not-a-ca.yaml', good.replace(/basicConstraints:[\s\S]*?ca: true\n/, '')],
    ['utf8-bom-duplicate.yaml', '\ufeff' + good.replace('algorithm: ec-p256', 'algorithm: ec-p256\nalgorithm: ec-p384')],
  ];
  for (const [n, text] of profiles) add('profiles', n, text, { target: 'profile', category: 'bad profile', description: n, expect: 'error' });

  // Variable values (for ec/root-ca: cn is a string; country a 2-letter code; for ec/tls-server cn is a DNS name).
  const varFiles: [string, string, string, 'error' | 'any'][] = [
    ['root', 'nul-in-cn.yaml', 'cn: "Root\\0CA"\n', 'error'],
    ['root', 'newline-in-cn.yaml', 'cn: "Root\\nCN=forged"\n', 'error'],
    ['root', 'tab-in-cn.yaml', 'cn: "Root\\tCA"\n', 'error'],
    ['root', 'escape-in-cn.yaml', 'cn: "\\e[31mRoot"\n', 'error'],
    ['root', 'del-in-cn.yaml', 'cn: "Root\\x7fCA"\n', 'error'],
    ['root', 'bidi-override-cn.yaml', 'cn: "Root \\u202eAC"\n', 'any'],
    ['root', 'empty-cn.yaml', 'cn: ""\n', 'error'],
    ['root', 'spaces-cn.yaml', 'cn: "   "\n', 'error'],
    ['root', 'overlong-cn.yaml', `cn: "${'x'.repeat(10_000)}"\n`, 'error'],
    ['root', 'cn-65.yaml', `cn: "${'x'.repeat(65)}"\n`, 'error'],
    ['root', 'country-usa.yaml', 'cn: Root\ncountry: USA\n', 'error'],
    ['root', 'country-digits.yaml', 'cn: Root\ncountry: "12"\n', 'error'],
    ['root', 'country-lower.yaml', 'cn: Root\ncountry: fr\n', 'any'],
    ['root', 'country-empty.yaml', 'cn: Root\ncountry: ""\n', 'any'],
    ['root', 'cn-number.yaml', 'cn: 12345\n', 'any'],
    ['root', 'cn-list.yaml', 'cn: [a, b]\n', 'error'],
    ['root', 'cn-map.yaml', 'cn: {a: b}\n', 'error'],
    ['root', 'cn-null.yaml', 'cn: ~\n', 'error'],
    ['root', 'unknown-variable.yaml', 'cn: Root\nshoe_size: 44\n', 'error'],
    ['root', 'proto-variable.yaml', 'cn: Root\n__proto__: {cn: evil}\n', 'error'],
    ['root', 'dn-specials.yaml', 'cn: "a,b+c=d\\"e<f>g;h\\\\i#"\n', 'any'],
    ['root', 'var-file-alias-bomb.yaml', bomb.join('\n') + '\ncn: Root\n', 'error'],
    ['root', 'var-file-list.yaml', '- cn\n- Root\n', 'error'],
    ['root', 'var-file-binary.yaml', '\u0000\u00ff', 'error'],
    ['server', 'dns-underscore-space.yaml', 'cn: "bad host.example.com"\n', 'error'],
    ['server', 'dns-label-64.yaml', `cn: "${'a'.repeat(64)}.example.com"\n`, 'error'],
    ['server', 'dns-total-300.yaml', `cn: "${Array(60).fill('abcd').join('.')}.com"\n`, 'error'],
    ['server', 'dns-double-wildcard.yaml', 'cn: "*.*.example.com"\n', 'error'],
    ['server', 'dns-nul.yaml', 'cn: "good.example.com\\0.evil.com"\n', 'error'],
    ['server', 'dns-unicode.yaml', 'cn: "exämple.com"\n', 'any'],
    ['server', 'dns-empty.yaml', 'cn: ""\n', 'error'],
    ['server', 'dns-trailing-dot-dash.yaml', 'cn: "-bad-.example.com."\n', 'error'],
  ];
  for (const [p, n, text, expect] of varFiles) add('vars', n, text, { target: 'vars', category: 'bad variable', description: `${p === 'root' ? 'ec/root-ca' : 'ec/tls-server'}: ${n}`, profile: p === 'root' ? 'ec/root-ca' : 'ec/tls-server', expect });
  const varArgs: [string, string[], 'error' | 'any'][] = [
    ['no-equals', ['cn'], 'error'],
    ['empty-name', ['=Root'], 'error'],
    ['name-with-space', ['c n=Root'], 'error'],
    ['twice', ['cn=Root', 'cn=Other'], 'error'],
    ['escape-seq', ['cn=\u001b]0;pwned\u0007Root'], 'error'],
    ['newline', ['cn=Root\nCA'], 'error'],
    ['overlong', ['cn=' + 'y'.repeat(100_000)], 'error'],
    ['country-usa', ['cn=Root', 'country=USA'], 'error'],
    ['empty-cn', ['cn='], 'error'],
    ['unknown', ['cn=Root', 'nope=1'], 'error'],
  ];
  for (const [n, args, expect] of varArgs) add('vars', `arg-${n}.txt`, args.join('\n'), { target: 'vars', category: 'bad variable', description: `ec/root-ca: --var ${n}`, profile: 'ec/root-ca', varArgs: args, expect });

  writeFileSync(join(out, 'manifest.json'), JSON.stringify(cases, null, 1));
  return cases;
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: tsx scripts/make-hostile-corpus.ts <out-dir>\n');
    process.exit(2);
  }
  makeHostileCorpus(out).then((c) => {
    const per: Record<string, number> = {};
    for (const x of c) per[x.category] = (per[x.category] ?? 0) + 1;
    process.stdout.write(`${c.length} cases in ${out}\n${Object.entries(per).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  });
}

/**
 * What lets the gate lint a static signature value before signing and reuse those findings after
 * (lint/gate.ts, lintBeforeSigning and lintAfterSigning): none of our lints reads a document's
 * signature value, except that a self-issued certificate's self-signature is checked. Every
 * document of every built-in family, under both PKI kinds, is linted with its real signature and
 * with others of other lengths; and the reuse is refused wherever it would not hold.
 */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lintAfterSigning, lintBeforeSigning, lintDocument, placeholderSignature, type LintPolicy } from '../../electron/core/lint/gate';
import { certificateKindOf, lintCertificate, lintCrl, selfSignatureVerifies } from '../../electron/core/lint/index';
import type { CertificateKind } from '../../electron/core/lint/types';
import { KEY_ALGORITHMS } from '../../electron/core/keys/algorithms';
import { signatureAlgorithmFromIdentifier } from '../../electron/core/keys/verify';
import { loadProfile } from '../../electron/core/profiles/index';
import { children, encodeTlv, slice, whole } from '../../electron/core/x509/der';
import { parseCertificateModel } from '../../electron/core/x509/model';
import { assembleSignedDocument, type PreparedDocument } from '../../electron/core/x509/tbs';
import { builtinFamilies, issueFamily } from './chains';

const parts = (der: Uint8Array) => children(der, whole(der)).map((t) => slice(der, t));
const resigned = (der: Uint8Array, sig: Uint8Array) => assembleSignedDocument(parts(der)[0], parts(der)[1], sig);
const prepared = (der: Uint8Array, kind: 'certificate' | 'crl'): PreparedDocument => ({ kind, tbs: parts(der)[0], sigAlgDer: parts(der)[1], signatureAlgorithm: signatureAlgorithmFromIdentifier(parts(der)[1]) });

describe('our lints do not read the signature value', () => {
  test('every certificate (but a self-signed root) and CRL of every family: the same findings whatever the signature', async () => {
    let compared = 0;
    for (const f of builtinFamilies()) {
      const ch = await issueFamily(f);
      const others = [new Uint8Array(0), randomBytes(7), randomBytes(3309), placeholderSignature('ec-p384')];
      for (const pki of ['private', 'public-tls'] as const) {
        for (const c of [ch.issuing, ...ch.leaves]) {
          const kind: CertificateKind = certificateKindOf(parseCertificateModel(c.der));
          const ctx = { pki, kind, issuer: c === ch.issuing ? ch.root.der : ch.issuing.der };
          const real = lintCertificate(c.der, ctx);
          for (const sig of others) assert.deepEqual(lintCertificate(resigned(c.der, sig), ctx), real, `${c.profile} (${pki}) with a ${sig.length}-byte signature`);
          compared++;
        }
        for (const [crl, issuer] of [[ch.crl, ch.issuing.der], [ch.rootCrl, ch.root.der]] as const) {
          const real = lintCrl(crl, { pki, issuer });
          for (const sig of others) assert.deepEqual(lintCrl(resigned(crl, sig), { pki, issuer }), real, `${f.name} CRL (${pki}) with a ${sig.length}-byte signature`);
          compared++;
        }
      }
    }
    assert.ok(compared > 40, `only ${compared} documents compared`);
  });

  test('a self-signed root is the exception: without its own signature it is no longer self-signed', async () => {
    const ch = await issueFamily(builtinFamilies().find((f) => f.name === 'ec')!);
    // The one fact a lint reads from the signature value: whether a self-issued certificate is self-signed.
    assert.equal(selfSignatureVerifies(parseCertificateModel(ch.root.der)), true);
    assert.equal(selfSignatureVerifies(parseCertificateModel(resigned(ch.root.der, placeholderSignature('ec-p384')))), false);
    // So the gate lints a signed root again whole.
    const policy: LintPolicy = { pki: 'private', accepted: [], root: true };
    const before = await lintBeforeSigning(prepared(ch.root.der, 'certificate'), 'ec-p384', undefined, policy);
    assert.notEqual(lintAfterSigning(ch.root.der, 'certificate', policy, before), before);
  });
});

describe('the static signature value', () => {
  test('has the length of the real signature, and an ECDSA one is a DER SEQUENCE of two full-size INTEGERs', () => {
    const sizes: Record<string, number> = { 'rsa-2048': 256, 'rsa-3072': 384, 'rsa-4096': 512, ed25519: 64, 'ml-dsa-44': 2420, 'ml-dsa-65': 3309, 'ml-dsa-87': 4627 };
    for (const alg of KEY_ALGORITHMS) {
      const s = placeholderSignature(alg);
      if (!alg.startsWith('ec-')) {
        assert.equal(s.length, sizes[alg], alg);
        continue;
      }
      const n = { 'ec-p256': 32, 'ec-p384': 48, 'ec-p521': 66 }[alg as 'ec-p256'];
      const top = whole(s);
      assert.equal(top.tag, 0x30, alg);
      assert.equal(top.end, s.length, alg);
      const ints = children(s, top);
      assert.deepEqual(ints.map((t) => [t.tag, t.end - t.contentStart]), [[0x02, n], [0x02, n]], alg);
      assert.ok(s[ints[0].contentStart] < 0x80, `${alg}: a positive integer`);
    }
  });
});

describe('lintAfterSigning reuses the findings only where they are the same', () => {
  test('the same TBS and algorithm, not self-issued, the same policy: the report linted before', async () => {
    const ch = await issueFamily(builtinFamilies().find((f) => f.name === 'ec')!);
    const leaf = ch.leaves.find((l) => l.profile === 'ec/tls-server')!;
    const other = ch.leaves.find((l) => l.profile === 'ec/tls-client')!;
    const alg = loadProfile('ec/issuing-ca').algorithm;
    const policy: LintPolicy = { pki: 'private', accepted: [{ lint: 'br.x', reason: 'why' }], issuerDer: ch.issuing.der };
    const before = await lintBeforeSigning(prepared(leaf.der, 'certificate'), alg, undefined, policy);
    assert.deepEqual(before.findings, lintDocument(leaf.der, 'certificate', policy).findings, 'the static-value copy lints as the real one');
    // A policy rebuilt with the same contents, as the engine rebuilds it.
    assert.equal(lintAfterSigning(leaf.der, 'certificate', { ...policy, accepted: [...policy.accepted] }, before), before);

    // Anything else is linted again.
    const again = (der: Uint8Array, p: LintPolicy, b = before) => assert.notEqual(lintAfterSigning(der, 'certificate', p, b), b);
    again(other.der, policy);
    again(leaf.der, { ...policy, pki: 'public-tls' });
    again(leaf.der, { ...policy, accepted: [] });
    again(leaf.der, { ...policy, accepted: [{ lint: 'br.x', reason: 'another reason' }] });
    again(leaf.der, { ...policy, issuerDer: ch.root.der });
    again(leaf.der, { ...policy, root: true });
    again(leaf.der, { ...policy, external: true });
    // Another outer algorithm, or a signature BIT STRING with unused bits.
    const p = parts(leaf.der);
    const sigT = children(leaf.der, whole(leaf.der))[2];
    const sigValue = leaf.der.subarray(sigT.contentStart + 1, sigT.end);
    const otherAlg = Uint8Array.from(p[1]);
    otherAlg[otherAlg.length - 1] ^= 1;
    again(assembleSignedDocument(p[0], otherAlg, sigValue), policy);
    again(encodeTlv(0x30, [p[0], p[1], encodeTlv(0x03, [Uint8Array.of(1), sigValue])]), policy);
    assert.equal(lintAfterSigning(assembleSignedDocument(p[0], p[1], sigValue), 'certificate', policy, before), before, 'the same document reassembled is reused');
    // A report made with external linters asked for is never reused.
    const external = await lintBeforeSigning(prepared(leaf.der, 'certificate'), alg, undefined, { ...policy, external: true });
    again(leaf.der, { ...policy, external: true }, external);
    again(leaf.der, policy, external);
  });

  test('a CRL with the same TBS reuses the report; another CRL does not', async () => {
    const ch = await issueFamily(builtinFamilies().find((f) => f.name === 'ec')!);
    const policy: LintPolicy = { pki: 'private', accepted: [], issuerDer: ch.issuing.der };
    const before = await lintBeforeSigning(prepared(ch.crl, 'crl'), loadProfile('ec/issuing-ca').algorithm, undefined, policy);
    assert.deepEqual(before.findings, lintDocument(ch.crl, 'crl', policy).findings);
    assert.equal(lintAfterSigning(ch.crl, 'crl', policy, before), before);
    assert.notEqual(lintAfterSigning(ch.rootCrl, 'crl', policy, before), before);
  });
});

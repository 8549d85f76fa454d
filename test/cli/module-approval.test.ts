/**
 * A CA directory never chooses the code the command line loads: a PKCS#11 library named by
 * ca.meta.json (or the hsm.yaml it points to) is loaded only when it is the one given on the
 * command line, or sits where a vendor installs it. A hostile user of the CLI rewrites the
 * metadata; the library's constructor must never run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, SOFTHSM_LIB, tokenArgs, treeHash, type Lab } from './helpers';

describe('module approval on the command line', () => {
  let lab: Lab;
  let elsewhere: string;
  let evil: string;
  let marker: string;
  let meta: string;
  let original: string;

  before(() => {
    ensureCliBuilt();
    lab = makeLab();
    const outside = join(lab.store.dir, 'libs');
    mkdirSync(outside);
    // The real SoftHSM2, copied where no vendor installs it: the same code, an unapproved place.
    elsewhere = join(outside, 'libsofthsm2-copy.so');
    copyFileSync(SOFTHSM_LIB, elsewhere);
    marker = join(outside, 'evil-ran');
    evil = join(outside, 'libevil.so');
    writeFileSync(join(outside, 'evil.c'), `#include <stdio.h>\n__attribute__((constructor)) static void ran(void) { FILE *f = fopen("${marker}", "w"); if (f) { fputs("ran", f); fclose(f); } }\n`);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', evil, join(outside, 'evil.c')]);
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'root-key', '--var', 'cn=Approval Root', '--dir', 'ca'], PIN_ENV));
    meta = lab.path('ca', 'ca.meta.json');
    original = readFileSync(meta, 'utf8');
    assert.ok(original.includes(JSON.stringify(SOFTHSM_LIB)), 'the metadata names the vendor path');
  });
  after(() => lab?.cleanup());

  const pinOnly = ['--pkcs11-pin-env', 'QPKI_TEST_PIN'];

  test('the vendor-installed library the CA names is loaded without naming it (QPKI usage)', () => {
    writeFileSync(meta, original);
    ok(lab.run(['crl', 'gen', '--ca-dir', 'ca', ...pinOnly], PIN_ENV));
    assert.ok(existsSync(lab.path('ca', 'crl', 'ca.crl')));
  });

  test('a library elsewhere that the metadata names is refused before it is loaded; nothing is written', () => {
    for (const lib of [evil, elsewhere]) {
      writeFileSync(meta, original.split(JSON.stringify(SOFTHSM_LIB)).join(JSON.stringify(lib)));
      const before = treeHash(lab.path('ca'));
      const r = lab.run(['crl', 'gen', '--ca-dir', 'ca', ...pinOnly], PIN_ENV);
      assert.equal(r.code, 1, r.stderr);
      const e = errorLine(r);
      assert.equal(e.code, 'MODULE_NOT_APPROVED');
      assert.ok(e.message.includes(lib) && e.message.includes('--pkcs11-lib'), e.message);
      assert.equal(existsSync(marker), false, 'the library’s constructor never ran');
      assert.deepEqual(treeHash(lab.path('ca')), before, 'the CA directory is untouched');
      // The same for issuing: every command that opens the CA key.
      const issue = lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=x.example', '--var', 'dns_names=x.example', '--unencrypted-key', '-c', 'x', ...pinOnly], PIN_ENV);
      assert.equal(errorLine(issue).code, 'MODULE_NOT_APPROVED');
      assert.equal(existsSync(marker), false);
    }
  });

  test('named on the command line, the copy is the library loaded', () => {
    writeFileSync(meta, original.split(JSON.stringify(SOFTHSM_LIB)).join(JSON.stringify(elsewhere)));
    ok(lab.run(['crl', 'gen', '--ca-dir', 'ca', ...tokenArgs('CA Token', elsewhere)], PIN_ENV));
    writeFileSync(meta, original);
  });
});

/**
 * `qpki journal transcript --ceremony SEQ` on a CA journal that holds two ceremonies (the root
 * ceremony of `ca init`, a later CRL ceremony under other people): the page witnesses sign shows
 * that one ceremony's steps and people only, and an entry that opens no ceremony is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, tokenArgs, USER_PIN, type Lab } from './helpers';
import { readJournal } from '../../electron/core/journal/journal';

let lab: Lab;
const rootPeople = ['--operator', 'Rhea Rootop', '--witness', 'Wendell Firstwit'];
const crlPeople = ['--operator', 'Otto Crlop', '--witness', 'Vera Secondwit', '--witness', 'Quinn Secondwit'];

/** The entry numbers shown in the Steps table, in order. */
const stepSeqs = (html: string) => [...html.matchAll(/<tr class="[^"]*">\s*<td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));

describe('journal transcript --ceremony', () => {
  let openedSeqs: number[];
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    ok(lab.run([...rootPeople, '--purpose', 'Root key generation', 'ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'root-key', '--var', 'cn=Transcript Root', '--dir', 'root'], PIN_ENV));
    ok(lab.run([...crlPeople, '--purpose', 'Quarterly CRL', 'crl', 'gen', '--ca-dir', 'root', ...tokenArgs()], PIN_ENV));
    openedSeqs = readJournal(lab.path('root')).filter((e) => e.kind === 'ceremony.opened').map((e) => e.seq);
    assert.equal(openedSeqs.length, 2, 'two ceremonies in the CA journal');
  });
  after(() => lab?.cleanup());

  test('the second ceremony only: its entries from ceremony.opened to ceremony.closed, its people, none of the first', () => {
    const journal = readJournal(lab.path('root'));
    const second = journal.filter((e) => e.seq >= openedSeqs[1]);
    assert.deepEqual(second.map((e) => e.kind), ['ceremony.opened', 'preflight', 'module.loaded', 'token.chosen', 'login.succeeded', 'crl.generated', 'ceremony.closed']);

    const r = JSON.parse(ok(lab.run(['--json', 'journal', 'transcript', '--ca-dir', 'root', '--ceremony', String(openedSeqs[1]), '--out', 'crl-ceremony.html'])));
    assert.equal(r.firstSeq, openedSeqs[1]);
    assert.equal(r.lastSeq, journal[journal.length - 1].seq);
    assert.equal(r.entries, second.length);
    assert.equal(r.finalHash, journal[journal.length - 1].hash);

    const html = readFileSync(lab.path('crl-ceremony.html'), 'utf8');
    assert.deepEqual(stepSeqs(html), second.map((e) => e.seq), 'the Steps table lists exactly the second ceremony');
    assert.match(html, /<div class="kind">crl\.generated<\/div>/);
    for (const k of ['key.generated', 'certificate.signed']) assert.ok(!html.includes(`<div class="kind">${k}</div>`), `${k} is the first ceremony's`);
    assert.match(html, /Quarterly CRL/);
    assert.doesNotMatch(html, /Root key generation/);
    for (const who of ['Otto Crlop', 'Vera Secondwit', 'Quinn Secondwit']) assert.ok(html.includes(who), `${who} took part`);
    for (const who of ['Rhea Rootop', 'Wendell Firstwit']) assert.ok(!html.includes(who), `${who} was not at this ceremony`);
    assert.match(html, new RegExp(`entries ${openedSeqs[1]} to ${r.lastSeq} of ${journal.length}`));
    assert.ok(!html.includes(USER_PIN));
  });

  test('the first ceremony: ca init from its opening to its close, its people only', () => {
    const journal = readJournal(lab.path('root'));
    const first = journal.filter((e) => e.seq < openedSeqs[1]);
    assert.equal(first[first.length - 1].kind, 'ceremony.closed');
    ok(lab.run(['journal', 'transcript', '--ca-dir', 'root', '--ceremony', String(openedSeqs[0]), '--out', 'root-ceremony.html']));
    const html = readFileSync(lab.path('root-ceremony.html'), 'utf8');
    assert.deepEqual(stepSeqs(html), first.map((e) => e.seq));
    assert.ok(html.includes('<div class="kind">key.generated</div>'));
    assert.ok(!html.includes('<div class="kind">crl.generated</div>'));
    for (const who of ['Rhea Rootop', 'Wendell Firstwit']) assert.ok(html.includes(who));
    for (const who of ['Otto Crlop', 'Vera Secondwit', 'Quinn Secondwit']) assert.ok(!html.includes(who));
  });

  test('an entry that opens no ceremony, or a --ceremony that is not an entry number: one error line with its code, no file written', () => {
    const notOpening = openedSeqs[1] + 1;
    const r = lab.run(['journal', 'transcript', '--ca-dir', 'root', '--ceremony', String(notOpening), '--out', 'none.html']);
    assert.equal(r.code, 1);
    const e = errorLine(r);
    assert.equal(e.code, 'INPUT_INVALID');
    assert.match(e.message, new RegExp(`Entry ${notOpening} does not open a ceremony`));
    assert.match(e.message, new RegExp(`ceremonies open at entries: ${openedSeqs.join(', ')}`), 'the message names the ceremonies there are');
    assert.equal(existsSync(lab.path('none.html')), false);

    const past = lab.run(['journal', 'transcript', '--ca-dir', 'root', '--ceremony', '9999', '--out', 'none.html']);
    assert.equal(errorLine(past).code, 'INPUT_INVALID');
    assert.equal(existsSync(lab.path('none.html')), false);

    for (const bad of ['0', 'two', '-3', '1.5']) {
      const b = lab.run(['journal', 'transcript', '--ca-dir', 'root', `--ceremony=${bad}`, '--out', 'none.html']);
      const be = errorLine(b);
      assert.equal(be.code, 'INPUT_INVALID', bad);
      assert.match(be.message, /--ceremony takes the entry number/, bad);
    }
    assert.equal(existsSync(lab.path('none.html')), false);
  });
});

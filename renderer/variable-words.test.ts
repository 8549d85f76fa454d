import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateVariable, type VariableDef } from '../shared/rules';
import { variableHint, variableLabel, variableProblem } from './variable-words';

test('variable labels read as words with acronyms in capitals', () => {
  assert.equal(variableLabel('policy_oid'), 'Policy OID');
  assert.equal(variableLabel('cps_url'), 'CPS URL');
  assert.equal(variableLabel('crl_url'), 'CRL distribution point URL');
  assert.equal(variableLabel('some_ocsp_thing'), 'Some OCSP thing');
  assert.equal(variableLabel('cn'), 'Common name (CN)');
});

test('hints and problems carry no regular expression, rule keyword or JSON', () => {
  const country = { name: 'country', type: 'string', pattern: '^[A-Z]{2}$', description: 'Country (C): ISO 3166-1 alpha-2 code in capitals, optional' } as const;
  assert.doesNotMatch(variableHint(country), /\^|\$|\{2\}|Pattern/);
  assert.match(variableHint(country), /two capital letters, such as FR/);
  const cases: Array<[Record<string, unknown>, unknown, RegExp]> = [
    [country, 'fr', /^“fr” is not in the form this field takes: two capital letters, such as FR\.$/],
    [{ name: 'cn', type: 'string', required: true }, '', /^Required: type a value\.$/],
    [{ name: 'kind', type: 'string', enum: ['a', 'b'] }, 'c', /^Choose one of: a, b\.$/],
    [{ name: 'days', type: 'integer', min: 1, max: 3650 }, 0, /^At least 1 and at most 3650\.$/],
    [{ name: 'days', type: 'integer', min: 1, max: 3650 }, 4000, /^At most 3650 and at least 1\.$/],
  ];
  for (const [def, value, want] of cases) {
    let rule: string | undefined;
    let message = '';
    try {
      validateVariable(def as unknown as VariableDef, value);
      assert.fail(`${JSON.stringify(def)} accepted ${String(value)}`);
    } catch (e) {
      rule = (e as { details?: { rule?: string } }).details?.rule;
      message = (e as Error).message;
    }
    const words = variableProblem(def as never, rule, value, message);
    assert.match(words, want, `${message} → ${words}`);
    assert.doesNotMatch(words, /\^|\$"|\(required\)|\(enum\)|\["|variable "/);
  }
});

test('the validity is said in days and years, from the variable when the profile lets one set it', async () => {
  const { validityWords } = await import('./variable-words');
  assert.match(validityWords({ validityDays: 7300, validityVariable: null }, {}), /^Valid for 7300 days \(about 20 years\) from signing;/);
  assert.match(validityWords({ validityDays: 397, validityVariable: 'validity_days' }, { validity_days: '90' }), /^Valid for 90 days from signing, as Validity \(days\) says;/);
});

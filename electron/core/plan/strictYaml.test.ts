/**
 * The one schema check the ceremony plan and the environment file share: the first problem in
 * words, with its path as a reviewer reads it and the line it is on, under the document's own code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { QpkiError } from '../errors';
import { checkSchema, parseStrictYaml, pathWords } from './strictYaml';

const schema = z.strictObject({
  version: z.literal(1),
  steps: z.array(z.strictObject({ id: z.string(), days: z.number() })),
  kind: z.enum(['root', 'crl']).optional(),
});

/** The error checkSchema throws for `text`, as code, message and line. */
function refusal(text: string, code: 'PLAN_INVALID' | 'PLAN_ENV_INVALID' = 'PLAN_INVALID'): { code: string; message: string; line?: unknown } {
  try {
    checkSchema(parseStrictYaml(Buffer.from(text), 'Test document t.yaml', code), schema);
  } catch (e) {
    assert.ok(e instanceof QpkiError);
    return { code: e.code, message: e.message, line: e.details?.line };
  }
  assert.fail('accepted');
}

test('a valid document comes back as the schema\'s data', () => {
  const data = checkSchema(parseStrictYaml(Buffer.from('version: 1\nsteps:\n  - id: a\n    days: 3\n'), 'doc', 'PLAN_INVALID'), schema);
  assert.deepEqual(data, { version: 1, steps: [{ id: 'a', days: 3 }] });
});

test('an unknown key is placed on its own line, under the document\'s code', () => {
  const r = refusal('version: 1\nsteps:\n  - id: a\n    days: 3\n    dayz: 4\n', 'PLAN_ENV_INVALID');
  assert.equal(r.code, 'PLAN_ENV_INVALID');
  assert.equal(r.message, 'Test document t.yaml, line 5: steps[1]: unknown key "dayz"');
  assert.equal(r.line, 5);
});

test('a wrong type, a missing member and a value not allowed: in words, list items counted from 1', () => {
  assert.equal(refusal('version: 1\nsteps:\n  - id: a\n    days: 3\n  - id: b\n    days: "a week"\n').message, 'Test document t.yaml, line 6: steps[2].days: must be a number');
  // A missing member is on the line of the mapping that should hold it.
  assert.equal(refusal('version: 1\nsteps:\n  - id: a\n').message, 'Test document t.yaml, line 3: steps[1].days: must be a number (it is missing)');
  assert.equal(refusal('version: 1\nsteps: []\nkind: leaf\n').message, 'Test document t.yaml, line 3: kind: must be one of "root", "crl"');
  assert.equal(refusal('version: 2\nsteps: []\n').message, 'Test document t.yaml, line 1: version: must be one of 1');
  assert.match(refusal('- a list\n').message, /^Test document t\.yaml, line 1: \(the document\): must be a mapping$/);
});

test('pathWords', () => {
  assert.equal(pathWords([]), '(the document)');
  assert.equal(pathWords(['steps', 0, 'revoke', 2, 'reason']), 'steps[1].revoke[3].reason');
  assert.equal(pathWords(['tokens', 'ca', 'pkcs11', 'slot']), 'tokens.ca.pkcs11.slot');
});

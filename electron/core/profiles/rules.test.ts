import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseDurationSeconds, parseIp, validateVariable, type VariableDef } from './rules';

function def(partial: Partial<VariableDef> & Pick<VariableDef, 'type'>): VariableDef {
  return { name: 'v', required: false, ...partial };
}

/** A refusal names the variable, the rule and the value. */
function refuses(d: VariableDef, value: unknown, rule: string | RegExp, shown: string): void {
  assert.throws(
    () => validateVariable(d, value),
    (e: Error & { code?: string; details?: { rule?: string } }) => {
      assert.equal(e.code, 'VARIABLE_INVALID');
      assert.ok(e.message.includes(`variable "${d.name}"`), `names the variable: ${e.message}`);
      assert.ok(e.message.includes(JSON.stringify(shown)), `names the value ${shown}: ${e.message}`);
      assert.match(e.message, rule instanceof RegExp ? rule : new RegExp(rule), `names the rule: ${e.message}`);
      return true;
    },
  );
}

describe('types', () => {
  test('string keeps commas and spaces inside', () => {
    assert.equal(validateVariable(def({ type: 'string' }), 'ACME, Inc.'), 'ACME, Inc.');
    refuses(def({ name: 'o', type: 'string' }), ['a', 'b'], /not a single string value/, 'a,b');
    refuses(def({ name: 'o', type: 'string' }), 'bad\u0007bell', /control character/, 'bad\u0007bell');
  });

  test('integer', () => {
    assert.equal(validateVariable(def({ type: 'integer' }), '42'), 42);
    assert.equal(validateVariable(def({ type: 'integer' }), 7), 7);
    refuses(def({ name: 'days', type: 'integer' }), '4.2', /not an integer/, '4.2');
    refuses(def({ name: 'days', type: 'integer' }), '12abc', /not an integer/, '12abc');
  });

  test('boolean', () => {
    assert.equal(validateVariable(def({ type: 'boolean' }), 'true'), true);
    assert.equal(validateVariable(def({ type: 'boolean' }), 'no'), false);
    assert.equal(validateVariable(def({ type: 'boolean' }), false), false);
    refuses(def({ name: 'flag', type: 'boolean' }), 'maybe', /not a boolean/, 'maybe');
  });

  test('list splits on commas, trims, drops empty items', () => {
    assert.deepEqual(validateVariable(def({ type: 'list' }), 'a, b,,c '), ['a', 'b', 'c']);
    assert.deepEqual(validateVariable(def({ type: 'list' }), ['x', 'y']), ['x', 'y']);
    refuses(def({ name: 'tags', type: 'list' }), { a: 1 }, /is not a list/, '[object Object]');
  });

  test('ip_list: IPv4 and IPv6, canonical form', () => {
    assert.deepEqual(validateVariable(def({ type: 'ip_list' }), '10.0.0.1, 2001:DB8:0:0:0:0:0:1, ::ffff:192.0.2.1'), [
      '10.0.0.1',
      '2001:db8::1',
      '::ffff:c000:201',
    ]);
    refuses(def({ name: 'ips', type: 'ip_list' }), '10.0.0.256', /not an IPv4 or IPv6 address/, '10.0.0.256');
    refuses(def({ name: 'ips', type: 'ip_list' }), '010.0.0.1', /not an IPv4 or IPv6 address/, '010.0.0.1');
    refuses(def({ name: 'ips', type: 'ip_list' }), '1::2::3', /not an IPv4 or IPv6 address/, '1::2::3');
  });

  test('dns_name: lowercased, trailing dot stripped, label rules', () => {
    assert.equal(validateVariable(def({ type: 'dns_name' }), 'API.Example.COM.'), 'api.example.com');
    refuses(def({ name: 'cn', type: 'dns_name' }), 'exa_mple.com', /not a valid DNS name/, 'exa_mple.com');
    refuses(def({ name: 'cn', type: 'dns_name' }), 'example..com', /empty label/, 'example..com');
    refuses(def({ name: 'cn', type: 'dns_name' }), '-a.example.com', /hyphen/, '-a.example.com');
    refuses(def({ name: 'cn', type: 'dns_name' }), 'localhost', /allow_single_label/, 'localhost');
    assert.equal(validateVariable(def({ type: 'dns_name', constraints: { allow_single_label: true } }), 'localhost'), 'localhost');
  });

  test('dns_name wildcard policy', () => {
    refuses(def({ name: 'cn', type: 'dns_name' }), '*.example.com', /wildcard/, '*.example.com');
    const w = def({ name: 'cn', type: 'dns_name', constraints: { wildcard: { allowed: true, forbid_public_suffix: true } } });
    assert.equal(validateVariable(w, '*.example.com'), '*.example.com');
    refuses(w, 'api.*.example.com', /leftmost label/, 'api.*.example.com');
    refuses(w, '*.com', /fewer than two labels/, '*.com');
    refuses(w, '*.co.uk', /public suffix/, '*.co.uk');
  });

  test('dns_names: each item checked, duplicates dropped', () => {
    assert.deepEqual(validateVariable(def({ type: 'dns_names' }), 'a.example.com,A.example.com,b.example.com'), ['a.example.com', 'b.example.com']);
    refuses(def({ name: 'dns_names', type: 'dns_names' }), 'a.example.com,bad name.com', /not a valid DNS name/, 'bad name.com');
  });

  test('email: lowercased, RFC 5322 addr-spec', () => {
    assert.equal(validateVariable(def({ type: 'email' }), 'User+tag@Example.COM'), 'user+tag@example.com');
    refuses(def({ name: 'email', type: 'email' }), 'not-an-email', /not an e-mail address/, 'not-an-email');
    refuses(def({ name: 'email', type: 'email' }), 'a..b@example.com', /not an e-mail address/, 'a..b@example.com');
  });

  test('uri: needs a scheme and, for http, a host; scheme lowercased', () => {
    assert.equal(validateVariable(def({ type: 'uri' }), 'HTTP://crl.example.com/a.crl'), 'http://crl.example.com/a.crl');
    refuses(def({ name: 'crl_url', type: 'uri' }), 'crl.example.com/a.crl', /missing scheme/, 'crl.example.com/a.crl');
    refuses(def({ name: 'crl_url', type: 'uri' }), 'http://exa mple.com', /not a URI/, 'http://exa mple.com');
  });

  test('oid: dotted, first arc 0-2, second below 40 under 0 and 1', () => {
    assert.equal(validateVariable(def({ type: 'oid' }), '2.16.840.1.101.3.4.3.17'), '2.16.840.1.101.3.4.3.17');
    refuses(def({ name: 'policy_oid', type: 'oid' }), '3.2.3', /first arc/, '3.2.3');
    refuses(def({ name: 'policy_oid', type: 'oid' }), '0.40.1', /second arc/, '0.40.1');
    refuses(def({ name: 'policy_oid', type: 'oid' }), '1', /at least two arcs/, '1');
    refuses(def({ name: 'policy_oid', type: 'oid' }), '1.a.3', /dotted form/, '1.a.3');
  });

  test('duration: Go units plus d, w, y', () => {
    assert.equal(parseDurationSeconds('7300d'), 7300 * 86400);
    assert.equal(parseDurationSeconds('8760h'), 365 * 86400);
    assert.equal(parseDurationSeconds('1y'), 365 * 86400);
    assert.equal(parseDurationSeconds('2w'), 14 * 86400);
    assert.equal(parseDurationSeconds('30d12h'), 30.5 * 86400);
    assert.equal(parseDurationSeconds('1h30m'), 5400);
    assert.equal(parseDurationSeconds('abc'), null);
    assert.equal(validateVariable(def({ type: 'duration' }), '365d'), '365d');
    refuses(def({ name: 'validity', type: 'duration' }), '10 days', /not a duration/, '10 days');
  });
});

describe('rules', () => {
  test('required', () => {
    assert.throws(() => validateVariable(def({ name: 'cn', type: 'string', required: true }), '  '), {
      code: 'VARIABLE_INVALID',
      message: /variable "cn".*required/,
    });
    assert.equal(validateVariable(def({ type: 'string' }), undefined), undefined);
  });

  test('default fills an absent value and is itself checked', () => {
    assert.equal(validateVariable(def({ type: 'string', required: true, default: 'US' }), undefined), 'US');
    assert.deepEqual(validateVariable(def({ type: 'dns_names', default: [] }), undefined), []);
    refuses(def({ name: 'country', type: 'string', default: 'usa', pattern: '^[A-Z]{2}$' }), undefined, /pattern/, 'usa');
  });

  test('pattern', () => {
    refuses(def({ name: 'cn', type: 'string', pattern: '^[a-z]+$' }), 'x1', 'does not match pattern "\\^\\[a-z\\]\\+\\$"', 'x1');
    assert.throws(() => validateVariable(def({ name: 'cn', type: 'string', pattern: '^[a-z]+$' }), 'x1'), {
      message: 'variable "cn": value "x1" does not match pattern "^[a-z]+$"',
    });
  });

  test('enum (strings and integers)', () => {
    refuses(def({ name: 'env', type: 'string', enum: ['dev', 'prod'] }), 'test', /enum/, 'test');
    assert.equal(validateVariable(def({ type: 'integer', enum: ['30', '90'] }), '90'), 90);
    refuses(def({ name: 'days', type: 'integer', enum: ['30', '90'] }), '60', /enum/, '60');
  });

  test('min / max: length for strings', () => {
    refuses(def({ name: 'country', type: 'string', min: 2 }), 'F', /min length 2/, 'F');
    refuses(def({ name: 'country', type: 'string', max: 2 }), 'FRA', /max length 2/, 'FRA');
  });

  test('min / max: value for integers', () => {
    refuses(def({ name: 'days', type: 'integer', min: 1 }), '0', /min 1/, '0');
    refuses(def({ name: 'days', type: 'integer', max: 825 }), '1000', /max 825/, '1000');
  });

  test('min / max: item count for lists', () => {
    refuses(def({ name: 'ips', type: 'ip_list', max: 1 }), '10.0.0.1,10.0.0.2', /2 items, more than the max 1/, '10.0.0.1,10.0.0.2');
    refuses(def({ name: 'tags', type: 'list', min: 2 }), 'one', /1 items, fewer than the min 2/, 'one');
  });

  test('constraints: allowed_suffixes for DNS names match on a label boundary', () => {
    const d = def({ name: 'dns_names', type: 'dns_names', constraints: { allowed_suffixes: ['.example.com'] } });
    assert.deepEqual(validateVariable(d, 'api.example.com,example.com'), ['api.example.com', 'example.com']);
    refuses(d, 'fakeexample.com', /allowed_suffixes/, 'fakeexample.com');
    refuses(d, 'api.other.com', /allowed_suffixes/, 'api.other.com');
  });

  test('constraints: denied_prefixes', () => {
    const d = def({ name: 'dns_names', type: 'dns_names', constraints: { denied_prefixes: ['test-'] } });
    refuses(d, 'test-api.example.com', /denied_prefixes/, 'test-api.example.com');
    const e = def({ name: 'email', type: 'email', constraints: { denied_prefixes: ['admin'] } });
    refuses(e, 'admin@example.com', /denied_prefixes/, 'admin@example.com');
  });

  test('constraints: allowed_suffixes for e-mail domains', () => {
    const d = def({ name: 'email', type: 'email', constraints: { allowed_suffixes: ['@example.com'] } });
    assert.equal(validateVariable(d, 'a@example.com'), 'a@example.com');
    refuses(d, 'a@other.com', /allowed_suffixes/, 'a@other.com');
  });

  test('constraints: allowed_ranges for IPs', () => {
    const d = def({ name: 'ip_addresses', type: 'ip_list', constraints: { allowed_ranges: ['10.0.0.0/8', 'fd00::/8'] } });
    assert.deepEqual(validateVariable(d, '10.2.3.4,fd12::1'), ['10.2.3.4', 'fd12::1']);
    refuses(d, '10.0.0.1,8.8.8.8', /allowed_ranges/, '8.8.8.8');
  });

  test('constraints: allowed_schemes and allowed_hosts for URIs', () => {
    const d = def({ name: 'ocsp_url', type: 'uri', constraints: { allowed_schemes: ['http', 'https'], allowed_hosts: ['ocsp.example.com'] } });
    refuses(d, 'ftp://ocsp.example.com', /allowed_schemes/, 'ftp://ocsp.example.com');
    refuses(d, 'http://other.example.com', /allowed_hosts/, 'http://other.example.com');
  });

  test('constraints: OID arcs', () => {
    const d = def({ name: 'policy_oid', type: 'oid', constraints: { allowed_suffixes: ['1.3.6.1.4.1.99999'] } });
    assert.equal(validateVariable(d, '1.3.6.1.4.1.99999.1'), '1.3.6.1.4.1.99999.1');
    refuses(d, '1.3.6.1.4.1.999990', /allowed arcs/, '1.3.6.1.4.1.999990');
  });

  test('constraints: min_duration / max_duration', () => {
    const d = def({ name: 'validity', type: 'duration', constraints: { min_duration: '1d', max_duration: '825d' } });
    refuses(d, '12h', /min_duration/, '12h');
    refuses(d, '3y', /max_duration "825d"/, '3y');
  });
});

test('IP text round-trips to RFC 5952 form', () => {
  for (const [i, o] of [
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['::', '::'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['192.0.2.1', '192.0.2.1'],
  ]) assert.equal(formatIp(parseIp(i)!), o);
  assert.equal(parseIp('1:2:3:4:5:6:7:8:9'), null);
});

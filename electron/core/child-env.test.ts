import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { childEnv, INHERITED_VARIABLES } from './child-env';

const CANARY = 'CANARY-PIN-20261203';

test('only the listed variables are inherited, then what the caller sets', () => {
  const from = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/home/op', QPKI_PIN: CANARY, SOFTHSM2_CONF: '/x.conf', PIN: CANARY, SSH_AUTH_SOCK: '/tmp/agent', LD_PRELOAD: '/evil.so', NODE_OPTIONS: '--require /evil.js' };
  assert.deepEqual(childEnv({}, from), { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' });
  assert.deepEqual(childEnv({ HOME: '/tmp/private' }, from), { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/tmp/private' });
  for (const name of INHERITED_VARIABLES) assert.doesNotMatch(name, /PIN|PASS|SECRET|KEY|TOKEN|SOFTHSM|QPKI/);
});

test('a child started with it sees no canary from this process', () => {
  const saved = process.env.QPKI_PIN;
  process.env.QPKI_PIN = CANARY;
  try {
    const seen = execFileSync('env', [], { env: childEnv({ HOME: '/nonexistent' }), encoding: 'utf8' });
    assert.equal(seen.includes(CANARY), false);
    assert.match(seen, /^HOME=\/nonexistent$/m);
  } finally {
    if (saved === undefined) delete process.env.QPKI_PIN;
    else process.env.QPKI_PIN = saved;
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { preflight } from './preflight';

test('preflight reports interfaces, clock and free disk, with one warning per interface up', () => {
  const r = preflight(join(tmpdir(), 'qpki-not-created-yet', 'ca'));
  assert.ok(Array.isArray(r.networkInterfacesUp));
  for (const i of r.networkInterfacesUp) {
    assert.equal(typeof i.name, 'string');
    assert.notEqual(i.name, 'lo');
    assert.ok(i.addresses.every((a) => typeof a === 'string' && !a.startsWith('127.') && a !== '::1/128'));
  }
  // Every interface that os.networkInterfaces() lists with a non-internal address is reported.
  const external = Object.entries(networkInterfaces()).filter(([, as]) => (as ?? []).some((a) => !a.internal)).map(([n]) => n);
  for (const n of external) assert.ok(r.networkInterfacesUp.some((i) => i.name === n), `${n} missing`);
  const netWarnings = r.warnings.filter((w) => w.startsWith('Network interface '));
  assert.equal(netWarnings.length, r.networkInterfacesUp.length);
  for (const i of r.networkInterfacesUp) assert.ok(netWarnings.some((w) => w.includes(` ${i.name} is up`) && w.includes('air-gapped')));
  console.log(`interfaces up here: ${r.networkInterfacesUp.map((i) => `${i.name} [${i.addresses.join(' ')}]`).join(', ') || 'none'}`);

  assert.match(r.clock.iso, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.ok(Math.abs(r.clock.epochMs - Date.now()) < 5000);
  assert.equal(Date.parse(r.clock.iso), r.clock.epochMs);
  assert.ok(r.clock.tz.length > 0);

  assert.ok(Number.isSafeInteger(r.freeDiskBytes) && r.freeDiskBytes > 0);
  assert.equal(r.warnings.some((w) => w.startsWith('Only ')), r.freeDiskBytes < 100 * 1024 * 1024);
});

/**
 * Preloaded (NODE_OPTIONS=--require) into the two processes the one-code-path test compares, the
 * command line and the app's handler table, so that both see the same inputs: the clock reads
 * QPKI_TEST_FIXED_TIME (advancing a millisecond per real second, so waits still end and both runs
 * fall in the same second), and the random bytes certificate serials are drawn from are a fixed
 * sequence. Test code only: nothing in the product reads these variables.
 */
'use strict';
const crypto = require('node:crypto');

const fixed = Date.parse(process.env.QPKI_TEST_FIXED_TIME || '');
if (Number.isNaN(fixed)) throw new Error('QPKI_TEST_FIXED_TIME must be an ISO time');
const RealDate = Date;
const realStart = RealDate.now();
const nowMs = () => fixed + Math.floor((RealDate.now() - realStart) / 1000);
class FixedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(nowMs());
    else super(...args);
  }
  static now() {
    return nowMs();
  }
}
globalThis.Date = FixedDate;

// Serials come from a pool filled with randomFillSync: a counter makes each draw the same in both runs.
let next = 1;
crypto.randomFillSync = (buf) => {
  const view = buf instanceof Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < view.length; i++) view[i] = (next * 37 + i * 11) & 0xff;
  next += 1;
  return buf;
};

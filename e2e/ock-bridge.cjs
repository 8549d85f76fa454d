/**
 * The app's handler table (the bundle the e2e bridge uses) run inside the opencryptoki
 * namespace: one JSON request a line on stdin ({id, channel, input}), one answer a line on
 * stdout ({id, result}). The Playwright worker cannot enter the namespace, so it forwards the
 * page's requests here. Closing stdin ends the table, then the namespace stops pkcsslotd.
 * `{id, control}` lines read main's confirmations and set the answer to the next ones.
 */
'use strict';
const { resolve } = require('node:path');
const { createInterface } = require('node:readline');
const { makeHarness } = require(resolve(__dirname, '..', 'dist', 'e2e', 'harness.cjs'));

const h = makeHarness({ softhsmPath: null, devTokenDir: null });
const lines = createInterface({ input: process.stdin });
let open = 0;
let closing = false;
function finish() {
  try { h.state.endCeremony(); } catch { /* ending is best effort */ }
  try { h.state.module && h.state.module.finalize(); } catch { /* idem */ }
  process.exit(0);
}
lines.on('line', (line) => {
  const { id, channel, input, control } = JSON.parse(line);
  // The test's side of main's dialogs: what main asked, and what the operator answers next.
  if (control === 'confirmations') return void process.stdout.write(JSON.stringify({ id, result: h.confirmations }) + '\n');
  if (control === 'answer') {
    h.answers.confirm = input.confirm === true;
    return void process.stdout.write(JSON.stringify({ id, result: true }) + '\n');
  }
  open += 1;
  h.invoke(channel, input)
    .then((result) => result, (e) => ({ ok: false, error: { code: 'INTERNAL', message: String(e && e.message) } }))
    .then((result) => {
      process.stdout.write(JSON.stringify({ id, result }) + '\n');
      open -= 1;
      if (closing && open === 0) finish();
    });
});
lines.on('close', () => {
  closing = true;
  if (open === 0) finish();
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');

// Runs Electronegativity (programmatically: its command line is broken by the commander it finds
// hoisted) over the directories given on the command line and prints one JSON line of results.
// Its locale loader asks a web server for translations at every run; this process has no
// network to give it, so `got` is answered with a refusal before the scanner loads.
'use strict';
const path = require('node:path');

const scannerDir = path.dirname(require.resolve('@doyensec/electronegativity'));
const gotPath = require.resolve('got', { paths: [path.join(scannerDir, 'locales')] });
require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: () => Promise.reject(new Error('no network in this test')) };
const run = require('@doyensec/electronegativity');

async function main() {
  const [electronVersion, ...inputs] = process.argv.slice(2);
  // The scanner prints progress and a translation warning with console.log; stdout carries the JSON only.
  const log = console.log;
  console.log = () => {};
  const out = [];
  try {
    for (const input of inputs) {
      const r = await run({
        input,
        electronVersionOverride: electronVersion,
        isRelative: true,
        // It downloads Electron's release list to say whether a newer patch exists: needs the network (see accepted.json).
        excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
      });
      out.push({
        input,
        checks: r.atomicChecks + r.globalChecks,
        errors: r.errors.map((e) => ({ file: path.relative(input, e.file), message: e.message, tolerable: e.tolerable })),
        issues: r.issues.map((i) => ({ id: i.id, file: i.file, line: i.location.line, column: i.location.column, severity: i.severity.name, confidence: i.confidence.name, manualReview: !!i.manualReview, description: i.description })),
      });
    }
  } finally {
    console.log = log;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`electronegativity failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

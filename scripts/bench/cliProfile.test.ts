/**
 * The bench reads CPU profiles of the minified bundle through a source map of the same bundle
 * (cliProfile.ts): the map must point at the code the bundle really holds at each column, also
 * after build-cli's asciiOnly has lengthened a line, or the bench would name the wrong functions.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { build } from 'esbuild';
import { TraceMap, eachMapping, originalPositionFor } from '@jridgewell/trace-mapping';
import { ensureCliBuilt, ROOT } from '../../test/cli-build';
import { bundleSourceMap, commandPart, WAITING, type Frame } from './cliProfile';

interface Shift { line: number; column: number; added: number }
const buildScript = () =>
  import(pathToFileURL(join(ROOT, 'scripts', 'build-cli.mjs')).href) as Promise<{
    asciiOnly: (code: string, shifts?: Shift[]) => string;
    shiftSourceMap: (map: string, shifts: Shift[]) => string;
  }>;

test('after asciiOnly escapes characters, the shifted map still finds each function, return and regular expression where the line now holds it', async () => {
  const { asciiOnly, shiftSourceMap } = await buildScript();
  // Minified onto one line: two regular expressions with non-ASCII characters (which esbuild
  // copies as written), each before a function that the map must still find.
  const source = [
    'export const a = /[éü]+/.test(process.argv[2] ?? "");',
    'export function first(x) { return x + 1; }',
    'export const b = /ø/.exec(String(a));',
    // Escapes a few columns apart: each mapping moves by the escapes before it only.
    'export const r = [/é/, /ü/, /ø/].map((x) => x.source);',
    'export function second(y) { return first(y) * 2; }',
  ].join('\n');
  const out = await build({ stdin: { contents: source, sourcefile: 'input.js', loader: 'js' }, write: false, minify: true, format: 'cjs', sourcemap: 'external', outfile: 'out.js' });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const mapText = out.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
  const shifts: Shift[] = [];
  const ascii = asciiOnly(js, shifts);
  assert.ok(shifts.length >= 3, `esbuild left the non-ASCII characters for asciiOnly to escape (${shifts.length} escaped)`);
  assert.equal(new Set(shifts.map((s) => s.line)).size, 1, 'all on one line, so the second function sits after several escapes');
  const shifted = new TraceMap(shiftSourceMap(mapText, shifts));
  const unshifted = new TraceMap(mapText);
  const lines = ascii.split('\n');
  for (const name of ['first', 'second']) {
    const srcLine = source.split('\n').findIndex((l) => l.includes(`function ${name}(`)) + 1;
    // The `return` of each function, as the output holds it now.
    const at = (m: TraceMap) => {
      for (let line = 0; line < lines.length; line++) {
        for (let col = 0; col < lines[line].length; col++) {
          const o = originalPositionFor(m, { line: line + 1, column: col, bias: 1 });
          if (o.line === srcLine && source.split('\n')[srcLine - 1].slice(o.column).startsWith('return')) return lines[line].slice(col, col + 6);
        }
      }
      return undefined;
    };
    assert.equal(at(shifted), 'return', `the shifted map finds ${name}'s return in the ASCII bundle`);
    assert.notEqual(at(unshifted), 'return', `the map as esbuild wrote it would point elsewhere for ${name} (so this test tells the two apart)`);
  }
  // Every mapping that starts a regular expression or a `return` in the source points at one in the output.
  const checked = { regex: 0, return: 0 };
  eachMapping(shifted, (m) => {
    if (m.originalLine === null || m.originalColumn === null) return;
    const orig = source.split('\n')[m.originalLine - 1].slice(m.originalColumn);
    const gen = lines[m.generatedLine - 1].slice(m.generatedColumn);
    if (orig.startsWith('/') && !orig.startsWith('//')) {
      checked.regex++;
      assert.match(gen, /^\/(\\u[0-9a-f]{4}|\[)/, `the regular expression at source ${m.originalLine}:${m.originalColumn} is at output column ${m.generatedColumn}`);
    } else if (orig.startsWith('return')) {
      checked.return++;
      assert.ok(gen.startsWith('return'), `the return at source ${m.originalLine}:${m.originalColumn}`);
    }
  });
  assert.ok(checked.regex >= 5 && checked.return >= 2, `mappings checked: ${JSON.stringify(checked)}`);
});

test('the bench names the minified bundle\'s functions by their source names and files', async () => {
  await ensureCliBuilt();
  const map = await bundleSourceMap();
  assert.ok('where' in map, `a map of dist/cli.cjs as built: ${'missing' in map ? map.missing : ''}`);
  const bundle = readFileSync(join(ROOT, 'dist', 'cli.cjs'), 'latin1');
  const lines = bundle.split('\n');
  // keepNames writes each function's source name beside its minified one: o(xy,"parseAndVerifyCsr").
  for (const [name, file] of [['parseAndVerifyCsr', 'electron/core/x509/csr.ts'], ['canonicalJson', 'electron/core/journal/canonical.ts']] as const) {
    const named = new RegExp(`[;{,]\\w+\\((\\w+),"${name}"\\)`).exec(bundle);
    assert.ok(named, `${name} is in the bundle under a minified name that keepNames records`);
    const decl = `function ${named[1]}(`;
    assert.equal(bundle.split(decl).length, 2, `one declaration of ${name} (minified ${named[1]}) in the bundle`);
    const line = lines.findIndex((l) => l.includes(decl));
    // V8 places a function's frame at its name; counted from 0, as CPU profiles count.
    const place = map.where({ functionName: named[1], url: join(ROOT, 'dist', 'cli.cjs'), lineNumber: line, columnNumber: lines[line].indexOf(decl) + 'function '.length });
    assert.equal(place?.name, name);
    assert.equal(place?.source, file);
    assert.equal(place?.moduleTop, false);
  }
});

test('samples of an idle main thread and of V8 itself are not counted as our code', () => {
  const root: Frame = { functionName: '(root)', url: '', lineNumber: -1 };
  const ours: Frame = { functionName: 'we', url: join(ROOT, 'dist', 'cli.cjs'), lineNumber: 0, columnNumber: 10 };
  const ourCode = commandPart([root, ours]);
  assert.match(ourCode, /^our code/);
  // As V8 records them: the pseudo-frame alone under the root.
  assert.equal(commandPart([root, { functionName: '(idle)', url: '', lineNumber: -1 }]), WAITING);
  assert.match(commandPart([root, { functionName: '(program)', url: '', lineNumber: -1 }]), /^V8 and Node/);
  assert.equal(commandPart([root, { functionName: '(garbage collector)', url: '', lineNumber: -1 }]), 'GC');
});

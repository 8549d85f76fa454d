// The layering DESIGN.md states, checked on every `npm test`:
// - only the app glue (electron/app/) imports `electron`;
// - electron/core/ is plain Node: never the ceremony layer, the app glue, the renderer or tests;
// - electron/ceremony/ (the ceremony's rules, plain Node) imports core/, shared/ and itself, never
//   the app glue or the command line; the command line never imports the app glue;
// - shared/ (the IPC contract) imports only itself and core's pure profile rules;
// - renderer/ imports only shared/ and itself (and packages), never `electron`;
// - nothing outside the tests imports test code (test/, e2e/, *.test.*);
// - main's code leaves no promise floating (a rejected one would vanish unreported).
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));
const rel = (p) => relative(ROOT, p).split(sep).join('/');
// The benchmark scripts drive the same test tokens and harness as the tests: they are test code too.
const isTestFile = (f) => /(^|\/)(test|e2e)\//.test(f) || /^scripts\/bench/.test(f) || /\.test\.tsx?$/.test(f) || /\.child\.ts$/.test(f);

// Zones by folder need the importing file's place and the imported file's: a check of the
// specifier string alone cannot tell `../x` from `../../core/x`. ESLint's own
// no-restricted-imports matches strings only, so this small rule resolves relative imports.
const layering = {
  meta: { type: 'problem', schema: [], messages: { refused: '{{file}} may not import {{target}}: {{why}}' } },
  create(context) {
    const file = rel(context.filename);
    const check = (node, source) => {
      const spec = source.value;
      if (typeof spec !== 'string') return;
      const target = spec.startsWith('.') ? rel(resolve(dirname(context.filename), spec)) : spec;
      const why = verdict(file, target, spec.startsWith('.'));
      if (why) context.report({ node, messageId: 'refused', data: { file, target, why } });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source),
      ExportAllDeclaration: (n) => check(n, n.source),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source),
    };
  },
};

/** Why `file` may not import `target` (a repository path for a relative import, else a package), or undefined. */
export function verdict(file, target, relativeImport) {
  if (isTestFile(file)) return undefined;
  if (relativeImport && isTestFile(target)) return 'test code is for the tests';
  const electronPackage = !relativeImport && (target === 'electron' || target.startsWith('electron/'));
  if (file.startsWith('electron/core/')) {
    if (electronPackage) return 'the engine is plain Node, without Electron';
    if (relativeImport && !target.startsWith('electron/core/') && !target.startsWith('shared/') && !target.startsWith('resources/')) return 'the engine imports only itself and shared/';
  }
  if (file.startsWith('electron/ceremony/')) {
    if (electronPackage) return 'the ceremony layer is plain Node, without Electron';
    if (relativeImport && !/^(electron\/(core|ceremony)|shared|resources)\//.test(target)) return 'the ceremony layer imports only core/, shared/ and itself';
  }
  if (file.startsWith('electron/cli/')) {
    if (electronPackage) return 'the command line runs without Electron';
    if (relativeImport && target.startsWith('electron/app/')) return 'the command line does not import the app glue';
  }
  // The one door: the profile variable rules are pure (no Node), so the form checks a value as main will.
  if (file.startsWith('shared/') && relativeImport && !target.startsWith('shared/') && target !== 'electron/core/profiles/rules') return 'shared/ imports only itself and the pure profile rules';
  if (file.startsWith('renderer/')) {
    if (electronPackage) return 'the renderer is untrusted UI without Electron or Node access';
    if (relativeImport && !target.startsWith('renderer/') && !target.startsWith('shared/')) return 'the renderer imports only shared/ and itself';
  }
  if (electronPackage && !file.startsWith('electron/app/')) return 'only the app glue (electron/app/) imports Electron';
  return undefined;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', '.tmp/**', 'test-results/**', 'playwright-report/**', '**/*.cjs', '**/*.mjs', '**/*.js'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser },
    // A disable comment that no longer disables anything is refused: it would excuse a future problem unseen.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { qpki: { rules: { layering } }, '@typescript-eslint': tseslint.plugin },
    rules: { 'qpki/layering': 'error' },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/**/*.test.ts', 'electron/**/*.child.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: ROOT } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    // Product code reads in functions of at most 80 lines (blank lines and comments aside); a
    // longer one is refused unless it says why it is long, in its disable comment.
    files: ['electron/**/*.ts', 'renderer/**/*.ts', 'renderer/**/*.tsx', 'shared/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.child.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
);

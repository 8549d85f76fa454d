/**
 * YAML as a reviewed ceremony document may use it: plain mappings, lists and scalars. Aliases
 * (and with them alias bombs), tags, merge keys and duplicate keys are refused, and every refusal
 * names the line, so a reviewer finds in the printed plan exactly what the tool objected to.
 */
import { LineCounter, parseDocument, visit, isScalar, isMap, isSeq, type Document, type Node } from 'yaml';
import type * as z from 'zod';
import { QpkiError, type ErrorCode } from '../errors';

/** A plan is a page or two of text; anything larger is a mistake or an attack. */
export const MAX_PLAN_BYTES = 256 * 1024;

export interface StrictYaml {
  value: unknown;
  /** The 1-based line of the node at `path` (or of its nearest parent that has one). */
  lineAt(path: (string | number)[]): number | undefined;
  /** Refuses the document with its error code: `<what>, line N: msg`, N the line of the node at `at`. */
  fail(msg: string, at: (string | number)[]): never;
}

export function parseStrictYaml(bytes: Buffer, what: string, code: ErrorCode): StrictYaml {
  if (bytes.length > MAX_PLAN_BYTES) throw new QpkiError(code, `${what} is larger than ${MAX_PLAN_BYTES / 1024} KiB.`);
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(bytes) !== 0) throw new QpkiError(code, `${what} is not UTF-8 text.`);
  const lc = new LineCounter();
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lc.linePos(offset).line);
  const fail = (msg: string, offset?: number): never => {
    const line = lineOf(offset);
    throw new QpkiError(code, `${what}${line ? `, line ${line}` : ''}: ${msg}`, line ? { line } : undefined);
  };
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, merge: false, prettyErrors: false, logLevel: 'silent', schema: 'core' });
  } catch (e) {
    return fail(`not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  for (const e of doc.errors) fail(`not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '')}`, e.pos[0]);
  visit(doc, {
    Alias(_k, n) {
      fail('YAML aliases (*name) are refused in a ceremony document: write each value out', n.range?.[0]);
    },
    Node(_k, n) {
      if (n.tag) fail(`YAML tags (${n.tag}) are refused in a ceremony document: use plain values`, n.range?.[0]);
      if ((isMap(n) || isSeq(n) || isScalar(n)) && n.anchor) fail(`YAML anchors (&${n.anchor}) are refused in a ceremony document`, n.range?.[0]);
    },
    Pair(_k, p) {
      if (isScalar(p.key) && p.key.value === '<<') fail('YAML merge keys (<<) are refused in a ceremony document', p.key.range?.[0]);
      if (p.key !== null && !isScalar(p.key)) fail('a key must be a plain word', (p.key as Node).range?.[0]);
    },
  });
  const value = doc.toJS({ maxAliasCount: 0 });
  const lineAt = (path: (string | number)[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return lineOf(node.range[0]);
      // A missing member: the line of the mapping that should hold it.
    }
    return undefined;
  };
  return {
    value,
    lineAt,
    fail(msg, at) {
      const line = lineAt(at);
      throw new QpkiError(code, `${what}${line ? `, line ${line}` : ''}: ${msg}`, line ? { line } : undefined);
    },
  };
}

/**
 * A path inside the document as a reviewer finds it in the printed file: `steps[3].key`, list
 * items counted from 1 as a person counts them; `(the document)` for the top level.
 */
export function pathWords(at: (string | number)[]): string {
  return at.length ? at.map((p) => (typeof p === 'number' ? `[${p + 1}]` : `.${p}`)).join('').replace(/^\./, '') : '(the document)';
}

/** A schema issue in words: which keys are unknown, what type or value was expected. */
export function issueWords(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys': return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type': return `must be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}${issue.input === undefined ? ' (it is missing)' : ''}`;
    case 'invalid_value': return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default: return issue.message;
  }
}

/**
 * The document checked against its schema; the first problem refused (`yaml.fail`) with its
 * path and line. An unknown key is placed on its own line, not on the mapping that holds it,
 * so the reviewer is sent to the typo itself. Shared by the plan and the environment file, so
 * both say a problem in the same words.
 */
export function checkSchema<T>(yaml: StrictYaml, schema: z.ZodType<T>): T {
  // reportInput: zod 4 leaves `issue.input` out unless asked, and without it a value of the
  // wrong type would be reported as missing. Only words are built from it, never the value.
  const parsed = schema.safeParse(yaml.value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue.path as (string | number)[];
  return yaml.fail(`${pathWords(at)}: ${issueWords(issue)}`, issue.code === 'unrecognized_keys' ? [...at, issue.keys[0]] : at);
}

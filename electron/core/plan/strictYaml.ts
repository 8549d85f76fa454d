/**
 * YAML as a reviewed ceremony document may use it: plain mappings, lists and scalars. Aliases
 * (and with them alias bombs), tags, merge keys and duplicate keys are refused, and every refusal
 * names the line, so a reviewer finds in the printed plan exactly what the tool objected to.
 */
import { LineCounter, parseDocument, visit, isScalar, isMap, isSeq, type Document, type Node } from 'yaml';
import { QpkiError, type ErrorCode } from '../errors';

/** A plan is a page or two of text; anything larger is a mistake or an attack. */
export const MAX_PLAN_BYTES = 256 * 1024;

export interface StrictYaml {
  value: unknown;
  /** The 1-based line of the node at `path` (or of its nearest parent that has one). */
  lineAt(path: (string | number)[]): number | undefined;
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
  return {
    value,
    lineAt(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
        if (node && typeof node === 'object' && 'range' in node && node.range) return lineOf(node.range[0]);
        // A missing member: the line of the mapping that should hold it.
      }
      return undefined;
    },
  };
}

/**
 * Human-readable forms of journal entries, shared by `qpki journal show` (text) and the
 * printable transcript (HTML), so both describe a step with the same words.
 */
import type { JournalEntry, JournalKind } from './chain';
import { ZERO_HASH } from './chain';

const DESCRIPTIONS: Record<JournalKind, string> = {
  'ceremony.opened': 'Ceremony opened',
  preflight: 'Preflight checks',
  'module.loaded': 'PKCS#11 module loaded',
  'token.chosen': 'Token chosen',
  'token.initialized': 'Token initialized',
  'token.init.failed': 'Token initialization refused or failed',
  'login.succeeded': 'Login succeeded',
  'login.failed': 'Login failed',
  'key.generated': 'Key generated',
  'key.selected': 'Existing key selected',
  'key.storage.chosen': 'CA key storage chosen',
  'certificate.signed': 'Certificate signed',
  'csr.created': 'CSR created for an external parent',
  'csr.accepted': 'CSR accepted',
  'csr.refused': 'CSR refused',
  'crl.generated': 'CRL generated',
  'certificate.revoked': 'Certificate revoked',
  'issuance.started': 'Issuance started',
  'signing.prepared': 'Prepared for signing (reviewed)',
  'signing.failed': 'Signing failed',
  confirmation: 'Confirmation asked',
  'certificate.observed': 'Certificate issued by another tool, recorded',
  'ca.rotated': 'New CA key version made',
  'ca.activated': 'CA key version activated',
  'ocsp.signed': 'OCSP response signed',
  'plan.loaded': 'Ceremony plan loaded',
  'plan.step.started': 'Plan step started',
  'plan.step.completed': 'Plan step completed',
  'ceremony.deviation': 'Deviation from the plan',
  'witness.acknowledged': 'Witness acknowledgement',
  'ceremony.closed': 'Ceremony closed',
  error: 'Error',
};

export function describeKind(kind: JournalKind): string {
  return DESCRIPTIONS[kind] ?? kind;
}

/** `ab12cd34…` → `ab12 cd34 …`: groups of 2 bytes are easy to read aloud and compare on paper. */
export function groupHex(hex: string, bytesPerGroup = 2): string {
  const clean = hex.toLowerCase();
  const size = bytesPerGroup * 2;
  const groups: string[] = [];
  for (let i = 0; i < clean.length; i += size) groups.push(clean.slice(i, i + size));
  return groups.join(' ');
}

/** `groupHex` split into lines of `groupsPerLine` groups, so long fingerprints line up on paper. */
export function groupHexLines(hex: string, groupsPerLine = 8): string[] {
  const groups = groupHex(hex).split(' ');
  const out: string[] = [];
  for (let i = 0; i < groups.length; i += groupsPerLine) out.push(groups.slice(i, i + groupsPerLine).join(' '));
  return out;
}

/** Nested facts as `[dotted.path, text]` rows; arrays of plain values are joined with ", ". */
export function flattenFacts(facts: Record<string, unknown>, prefix = ''): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, value] of Object.entries(facts)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) {
      if (value.length === 0) rows.push([path, 'none']);
      else if (value.every((v) => v === null || typeof v !== 'object')) rows.push([path, value.map(String).join(', ')]);
      else value.forEach((v, i) => rows.push(...flattenValue(`${path}[${i}]`, v)));
    } else {
      rows.push(...flattenValue(path, value));
    }
  }
  return rows;
}

function flattenValue(path: string, value: unknown): [string, string][] {
  if (value !== null && typeof value === 'object') return flattenFacts(value as Record<string, unknown>, path);
  // The signed certificate kept for recovery: its fingerprint is on the record beside it, and
  // a kilobyte of base64 helps no one reading the journal or the printed transcript.
  if (path.endsWith('certificateBase64') && typeof value === 'string') {
    return [[path, `${Math.floor((value.replace(/=+$/, '').length * 3) / 4)} bytes of DER (kept so that qpki ca check --repair can restore the file)`]];
  }
  return [[path, String(value)]];
}

/** A fact is a fingerprint when its own key ends with `fingerprint` or `sha256` (any case). */
export function isFingerprintKey(path: string): boolean {
  const last = path.split('.').pop()!.replace(/\[\d+\]$/, '');
  return /(fingerprint|sha256)$/i.test(last);
}

/** The hex of a hash written with colons, spaces or capitals, or undefined when it is not hex. */
export function normalizeHex(value: string): string | undefined {
  const clean = value.replace(/[\s:]/g, '').toLowerCase();
  return /^[0-9a-f]+$/.test(clean) && clean.length % 2 === 0 ? clean : undefined;
}

/**
 * Words for the facts a witness reads, by dotted path (array positions as `[]`). A fact not in
 * this table is still shown, under its own name: the table only ever adds words.
 */
const FACT_WORDS: Record<string, string> = {
  purpose: 'Purpose',
  appVersion: 'Application version',
  appFiles: 'Application files fingerprinted',
  appSha256: 'Application SHA-256',
  'clock.iso': 'Clock (UTC)',
  'clock.epochMs': 'Clock (UTC)',
  'clock.tz': 'Time zone of this machine',
  freeDiskBytes: 'Free disk space',
  warnings: 'Warnings',
  path: 'File',
  librarySha256: 'Library SHA-256',
  label: 'Label',
  serial: 'Serial number',
  model: 'Model',
  manufacturer: 'Manufacturer',
  planSha256: 'Plan SHA-256',
  ceremonyId: 'Ceremony id',
  location: 'Location',
  steps: 'Steps in the plan',
  witness: 'Witness',
  note: 'Note',
  referenceTime: 'Reference time (UTC)',
  reason: 'Reason',
  entriesBefore: 'Journal entries before this one',
  journalIntact: 'Journal intact',
  journalHashBefore: 'Journal hash before this entry',
  observedAt: 'Happened at (UTC)',
  differsFromPlan: 'Differs from the plan',
  token: 'Token',
  keyLabel: 'Key label',
  keyId: 'Key id (CKA_ID)',
  publicKeySha256Fingerprint: 'Public key SHA-256',
  existingKey: 'Existing key used',
  outcome: 'Outcome',
  what: 'Acknowledged',
  status: 'Status',
  slotId: 'Slot id',
  // Which of a plan's tokens an entry is about (the ca token, or the backup token).
  role: 'Token role in the plan',
  tokenRole: 'Token role in the plan',
  tokenSerial: 'Token serial number',
  tokenLabel: 'Token label',
};

/** A plan step's `type` in words (plan.ts's step types), for the step line of its entries. */
const STEP_TYPE_WORDS: Record<string, string> = {
  'token-init': 'token initialization',
  key: 'key generation',
  root: 'root CA',
  subordinate: 'subordinate CA',
  cross: 'cross-certificate',
  csr: 'certificate request',
  crl: 'CRL',
};

/** What a plan step made (run.ts `RunOutput.kind`) in words. */
const OUTPUT_KIND_WORDS: Record<string, string> = {
  certificate: 'certificate',
  crl: 'CRL',
  csr: 'certificate request',
  'ca-directory': 'CA directory',
};

interface MadeOutput { kind: string; path: string; sha256?: string }

const isMadeOutput = (v: unknown): v is MadeOutput => !!v && typeof v === 'object' && typeof (v as MadeOutput).kind === 'string' && typeof (v as MadeOutput).path === 'string'
  && ((v as MadeOutput).sha256 === undefined || typeof (v as MadeOutput).sha256 === 'string');

/**
 * A plan step's entries carry `step`, `of`, `id`, `type` (and `what` when it starts): four raw
 * rows a witness would have to put together. One line says it the way the operator's screen
 * said it: `Step 3 of 6 (root-ca): self-signed root CA …`, or `Step 3 of 6 (root-ca, root CA)`
 * where the entry has no `what`. Undefined when the facts are not a step's.
 */
function stepLine(facts: Record<string, unknown>): { words: string; text: string; used: string[] } | undefined {
  const { step, of, id, type, what, stepsCompleted } = facts;
  // The close of a plan's ceremony: `stepsCompleted` and `of` say one thing together.
  if (step === undefined && typeof stepsCompleted === 'number' && typeof of === 'number') return { words: 'Steps completed', text: `${stepsCompleted} of ${of}`, used: ['stepsCompleted', 'of'] };
  if (typeof step !== 'number' || typeof of !== 'number') return undefined;
  const used = ['step', 'of'];
  const named: string[] = [];
  if (typeof id === 'string') {
    named.push(id);
    used.push('id');
  }
  // `what` is the step's words only beside its `type`: a witness's acknowledgement of a step
  // has `what: 'step'` (what was acknowledged) and is left to say so itself.
  const words = typeof type === 'string' && typeof what === 'string' ? what : undefined;
  if (typeof type === 'string') {
    used.push('type');
    if (words === undefined) named.push(STEP_TYPE_WORDS[type] ?? type);
  }
  let text = `Step ${step} of ${of}${named.length ? ` (${named.join(', ')})` : ''}`;
  if (words !== undefined) {
    text += `: ${words}`;
    used.push('what');
  }
  return { words: 'Plan step', text, used };
}

/**
 * A completed plan step's `made` (the files it wrote, relative to the output directory) as one
 * line, `CA directory root-ca/, certificate root-ca/ca.crt`, and each file's SHA-256 on a row of
 * its own named after the file, kept under its fact path so it is still shown as a fingerprint.
 */
function madeRows(made: MadeOutput[]): [string, string, string][] {
  if (!made.length) return [['Made', 'no file (what this step makes stays in the token)', 'made']];
  const named = (o: MadeOutput) => (o.kind === 'ca-directory' && !o.path.endsWith('/') ? `${o.path}/` : o.path);
  const rows: [string, string, string][] = [['Made', made.map((o) => `${OUTPUT_KIND_WORDS[o.kind] ?? o.kind} ${named(o)}`).join(', '), 'made']];
  made.forEach((o, i) => {
    if (o.sha256 === undefined) return;
    const hex = normalizeHex(o.sha256);
    rows.push([`SHA-256 of ${named(o)}`, hex ? groupHex(hex) : o.sha256, `made[${i}].sha256`]);
  });
  return rows;
}

/**
 * Facts as `[words, text, path]` rows for people: known paths get words (FACT_WORDS), times
 * read as UTC, byte counts in GB, interfaces as `eth0 (10.0.0.2)`, hashes in groups of 4, a plan
 * step as one `Step n of N (id): what` line, the files it made as one line.
 */
export function readableFacts(facts: Record<string, unknown>): [string, string, string][] {
  const rows: [string, string, string][] = [];
  const rest: Record<string, unknown> = {};
  const step = stepLine(facts);
  if (step) rows.push([step.words, step.text, step.used[0]]);
  for (const [key, value] of Object.entries(facts)) {
    if (step?.used.includes(key)) continue;
    if (key === 'made' && Array.isArray(value) && value.every(isMadeOutput)) {
      rows.push(...madeRows(value));
    } else if (key === 'networkInterfacesUp' && Array.isArray(value) && value.every((v) => v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string')) {
      const text = value.map((v) => {
        const { name, addresses } = v as { name: string; addresses?: unknown };
        return Array.isArray(addresses) && addresses.length ? `${name} (${addresses.map(String).join(', ')})` : name;
      }).join(', ');
      rows.push(['Network interfaces up', text || 'none', key]);
    } else if (key === 'participants' && Array.isArray(value) && value.every((v) => v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string')) {
      // A plan's list of people, one line: "Alice Martin (operator), Bruno Keller (witness)".
      rows.push(['Participants', value.map((v) => `${(v as { name: string }).name}${(v as { role?: unknown }).role ? ` (${String((v as { role: unknown }).role).replace(/-/g, ' ')})` : ''}`).join(', '), key]);
    } else {
      rest[key] = value;
    }
  }
  for (const [path, text] of flattenFacts(rest)) {
    const general = path.replace(/\[\d+\]/g, '[]');
    const words = FACT_WORDS[general];
    let shown = text;
    if (general === 'clock.epochMs' && Number.isFinite(Number(text))) shown = readableTime(new Date(Number(text)).toISOString());
    else if (/(^|\.)(iso|observedAt|referenceTime)$/.test(general) && !Number.isNaN(Date.parse(text))) shown = readableTime(text);
    else if (general === 'freeDiskBytes' && Number.isFinite(Number(text))) shown = `${(Number(text) / 1e9).toFixed(1)} GB`;
    else if (isFingerprintKey(path) && normalizeHex(text)) shown = groupHex(normalizeHex(text)!);
    rows.push([words ?? path, shown, path]);
  }
  // clock.iso and clock.epochMs say the same thing: one "Clock (UTC)" row is enough.
  const clock = rows.filter((r) => r[0] === 'Clock (UTC)');
  return clock.length > 1 ? rows.filter((r) => r !== clock.find((c) => c[2] === 'clock.epochMs')) : rows;
}

/** `2025-03-01T09:30:00.123Z` → `2025-03-01 09:30:00.123 UTC`. */
export function readableTime(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}

/**
 * Makes recorded text safe to print on a terminal: control characters (newlines, ANSI escapes)
 * and bidirectional overrides are shown as \u escapes, so a hostile subject name cannot fake
 * extra journal lines or recolour the output.
 */
export function safeText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Text for `qpki journal show`: one block per entry, its facts in words, then the last hash to compare with paper. */
export function formatJournal(entries: JournalEntry[]): string {
  const out: string[] = [];
  out.push(`Ceremony journal: ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`, '');
  for (const e of entries) {
    out.push(`#${e.seq}  ${readableTime(e.time)}  ${describeKind(e.kind)} (${e.kind})`);
    const who = e.witnesses.length ? `   witnesses: ${safeText(e.witnesses.join(', '))}` : '   witnesses: none';
    out.push(`    operator: ${safeText(e.operator)}${who}`);
    // The same words as the transcript, each row still naming the recorded fact it comes from.
    for (const [words, text, path] of readableFacts(e.facts)) {
      out.push(`    ${safeText(words)}: ${safeText(text)}${words === path ? '' : `   [${safeText(path)}]`}`);
    }
    out.push(`    hash: ${groupHex(e.hash)}`, '');
  }
  const last = entries.length ? entries[entries.length - 1].hash : ZERO_HASH;
  out.push(`Last hash: ${groupHex(last)}`);
  return out.join('\n') + '\n';
}

/**
 * Verifiers that share no code with qpki, for its post-quantum output:
 * - python `cryptography` plus a DER reader of its own (independent.py),
 * - liboqs (WebAssembly) over a pre-TBS derived here with asn1js,
 * - Bouncy Castle >= 1.80 (Java) with its own PreTBSCertificate/PreTBSCertList code,
 * - openssl and GnuTLS certtool for the classical side of Catalyst chains.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';

const HERE = __dirname;

export const ML_DSA_OIDS = { '2.16.840.1.101.3.4.3.17': 'ml-dsa-44', '2.16.840.1.101.3.4.3.18': 'ml-dsa-65', '2.16.840.1.101.3.4.3.19': 'ml-dsa-87' } as const;
export type MlDsaName = (typeof ML_DSA_OIDS)[keyof typeof ML_DSA_OIDS];

/** The DER AlgorithmIdentifier of an ML-DSA OID with parameters absent (RFC 9881 §2): 30 0b 06 09 60 86 48 01 65 03 04 03 1x. */
export function mlDsaAlgId(name: MlDsaName): string {
  const arc = { 'ml-dsa-44': '11', 'ml-dsa-65': '12', 'ml-dsa-87': '13' }[name];
  return `300b06096086480165030403${arc}`;
}

export function readDer(path: string): Uint8Array {
  const raw = readFileSync(path);
  const text = raw.toString('latin1');
  if (!text.includes('-----BEGIN')) return new Uint8Array(raw);
  const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]+?)-----END/.exec(text)!;
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

// ---------- python cryptography ----------

export interface PyAlt {
  alg_oid: string;
  alg_params_absent: boolean;
  pre_tbs: string;
  signature: string;
  issuer_alt_spki: string | null;
  valid: boolean | null;
}
export interface PyResult {
  doc: string;
  kind: 'certificate' | 'crl';
  signature_oid: string;
  outer_alg: string;
  inner_alg: string;
  spki_alg: string | null;
  primary: boolean;
  primary_how: string;
  catalyst_critical: Record<string, boolean>;
  key_usage?: string[];
  alt_spki_alg?: string | null;
  alt: PyAlt | null;
}

export function havePythonMlDsa(): boolean {
  return spawnSync('python3', ['-c', 'from cryptography.hazmat.primitives.asymmetric import mldsa'], { encoding: 'utf8' }).status === 0;
}

export function pythonCheck(pairs: { issuer: string; doc: string }[]): PyResult[] {
  const r = spawnSync('python3', [join(HERE, 'independent.py')], { input: JSON.stringify({ pairs }), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`independent.py failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as PyResult[];
}

/** Run a python snippet; the JSON it prints is returned. */
export function pythonJson<T>(code: string, input: unknown = {}): T {
  const r = spawnSync('python3', ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// ---------- asn1js + liboqs ----------

export interface SignedParts {
  kind: 'certificate' | 'crl';
  /** The TBS exactly as it sits in the document (the bytes the primary signature covers). */
  tbs: Uint8Array;
  signatureOid: string;
  signature: Uint8Array;
  /** Extensions by OID: raw extnValue contents. */
  extensions: Map<string, Uint8Array>;
  /** Certificates: the raw subject public key BIT STRING contents and its algorithm OID. */
  spki?: { oid: string; publicKey: Uint8Array; der: Uint8Array };
}

function raw(b: asn1js.AsnType): Uint8Array {
  return new Uint8Array(b.valueBeforeDecodeView);
}

/** Split a DER certificate or CRL with asn1js (not with qpki's DER code). */
export function parseSigned(der: Uint8Array, kind: 'certificate' | 'crl'): SignedParts {
  const top = asn1js.fromBER(der);
  if (top.offset === -1) throw new Error(top.result.error);
  const [tbsB, algB, sigB] = (top.result as asn1js.Sequence).valueBlock.value;
  const fields = (tbsB as asn1js.Sequence).valueBlock.value;
  const first = fields[0];
  const isCert = first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0;
  const extTag = kind === 'certificate' ? 3 : 0;
  const extensions = new Map<string, Uint8Array>();
  for (const f of fields) {
    if (f.idBlock.tagClass !== 3 || f.idBlock.tagNumber !== extTag || !(f as asn1js.Constructed).valueBlock.value) continue;
    const seq = (f as asn1js.Constructed).valueBlock.value[0] as asn1js.Sequence;
    if (!(seq instanceof asn1js.Sequence)) continue;
    for (const e of seq.valueBlock.value) {
      const parts = (e as asn1js.Sequence).valueBlock.value;
      const oid = (parts[0] as asn1js.ObjectIdentifier).valueBlock.toString();
      const value = parts[parts.length - 1] as asn1js.OctetString;
      extensions.set(oid, new Uint8Array(value.valueBlock.valueHexView));
    }
  }
  let spki: SignedParts['spki'];
  if (kind === 'certificate') {
    const s = fields[isCert ? 6 : 5] as asn1js.Sequence;
    const alg = (s.valueBlock.value[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier;
    spki = { oid: alg.valueBlock.toString(), publicKey: new Uint8Array((s.valueBlock.value[1] as asn1js.BitString).valueBlock.valueHexView), der: raw(s) };
  }
  return {
    kind,
    tbs: raw(tbsB),
    signatureOid: ((algB as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString(),
    signature: new Uint8Array((sigB as asn1js.BitString).valueBlock.valueHexView),
    extensions,
    spki,
  };
}

/**
 * The Catalyst pre-TBS (ITU-T X.509 (10/2019) §9.8), re-derived with asn1js: the TBS fields
 * without `signature` and with the altSignatureValue extension removed, re-encoded.
 */
export function asn1jsPreTbs(tbs: Uint8Array, kind: 'certificate' | 'crl'): Uint8Array {
  const parsed = asn1js.fromBER(tbs);
  if (parsed.offset === -1) throw new Error(parsed.result.error);
  const fields = (parsed.result as asn1js.Sequence).valueBlock.value;
  const first = fields[0];
  const hasVersion = kind === 'certificate' ? first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0 : first instanceof asn1js.Integer;
  const sigIndex = kind === 'certificate' ? (hasVersion ? 2 : 1) : hasVersion ? 1 : 0;
  const extTag = kind === 'certificate' ? 3 : 0;
  const out: asn1js.AsnType[] = [];
  fields.forEach((f, i) => {
    if (i === sigIndex) return;
    if (i > sigIndex && f.idBlock.tagClass === 3 && f.idBlock.tagNumber === extTag) {
      const exts = (f as asn1js.Constructed).valueBlock.value[0] as asn1js.Sequence;
      const kept = exts.valueBlock.value.filter((e) => ((e as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString() !== '2.5.29.74');
      out.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: extTag }, value: [new asn1js.Sequence({ value: kept })] }));
    } else out.push(f);
  });
  return new Uint8Array(new asn1js.Sequence({ value: out }).toBER(false));
}

/** The raw public key inside an SPKI-shaped SEQUENCE (subjectAltPublicKeyInfo or SubjectPublicKeyInfo). */
export function spkiParts(der: Uint8Array): { oid: string; publicKey: Uint8Array; hasParams: boolean } {
  const s = asn1js.fromBER(der).result as asn1js.Sequence;
  const alg = (s.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
  return {
    oid: (alg[0] as asn1js.ObjectIdentifier).valueBlock.toString(),
    publicKey: new Uint8Array((s.valueBlock.value[1] as asn1js.BitString).valueBlock.valueHexView),
    hasParams: alg.length > 1,
  };
}

/** The AlgorithmIdentifier in an altSignatureAlgorithm extension. */
export function algIdParts(der: Uint8Array): { oid: string; hasParams: boolean } {
  const a = (asn1js.fromBER(der).result as asn1js.Sequence).valueBlock.value;
  return { oid: (a[0] as asn1js.ObjectIdentifier).valueBlock.toString(), hasParams: a.length > 1 };
}

/** The signature bits inside an altSignatureValue extension (BIT STRING). */
export function bitStringContents(der: Uint8Array): Uint8Array {
  const b = asn1js.fromBER(der).result as asn1js.BitString;
  if (!(b instanceof asn1js.BitString) || b.valueBlock.unusedBits !== 0) throw new Error('not a whole-byte BIT STRING');
  return new Uint8Array(b.valueBlock.valueHexView);
}

type OqsSig = { verify(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean; destroy(): void };

/** liboqs ML-DSA verification (WebAssembly build of the Open Quantum Safe C library). */
export async function liboqsVerify(alg: MlDsaName, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const oqs = (await import('@oqs/liboqs-js')) as unknown as Record<string, () => Promise<OqsSig>>;
  const make = { 'ml-dsa-44': oqs.createMLDSA44, 'ml-dsa-65': oqs.createMLDSA65, 'ml-dsa-87': oqs.createMLDSA87 }[alg];
  const lib = await make();
  try {
    return lib.verify(message, signature, publicKey);
  } finally {
    lib.destroy();
  }
}

// ---------- Bouncy Castle ----------

/**
 * Bouncy Castle >= 1.80 jars: $QPKI_BC_DIR, else a cache that test/pq/bc/fetch-bc.sh fills from
 * Debian trixie (Debian 12 ships 1.72, which predates the final ML-DSA OIDs).
 * Returns the classpath, or why it is not available.
 */
export function bouncyCastle(): { classpath: string } | { missing: string } {
  if (spawnSync('java', ['-version'], { encoding: 'utf8' }).status !== 0) return { missing: 'no java on PATH' };
  const dir = process.env.QPKI_BC_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'qpki-test', 'bouncycastle-1.80');
  const jars = ['bcprov', 'bcpkix', 'bcutil'].map((j) => join(dir, `${j}.jar`));
  if (!jars.every((j) => existsSync(j))) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('bash', [join(HERE, 'bc', 'fetch-bc.sh'), dir], { encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0 || !jars.every((j) => existsSync(j))) return { missing: `could not fetch Bouncy Castle 1.80 from Debian trixie (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})` };
  }
  return { classpath: jars.join(':') };
}

export interface BcLine {
  file: string;
  primary: string;
  alternative: string;
}

export function bcVerify(classpath: string, issuer: string, docs: string[]): { version: string; results: BcLine[] } {
  const r = spawnSync('java', ['-cp', classpath, join(HERE, 'bc', 'CatalystVerify.java'), issuer, ...docs], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`Bouncy Castle check failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const version = /^bouncycastle (\S+)/.exec(lines[0])![1];
  const results = lines.slice(1).map((l) => {
    const m = /^(.*) primary=(\S+) alternative=(\S+)$/.exec(l)!;
    return { file: m[1], primary: m[2], alternative: m[3] };
  });
  return { version, results };
}

/** "1.80.0" >= "1.80" */
export function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

// ---------- the token, through a PKCS#11 client of its own ----------

export type P11Attr = number | boolean | { length: number } | { refused: string };
export interface P11Attrs {
  private: Record<string, P11Attr>;
  public: Record<string, P11Attr>;
}
export type P11Op = { op: 'attrs' } | { op: 'sign'; data: Uint8Array; params: null | { hedge: 0 | 1 | 2; context: Uint8Array } };
export type P11Result = P11Attrs | { signature: string } | { refused: string };

/**
 * Talk to the token through p11direct.py (Python ctypes on the module): attributes as the token
 * reports them, and CKM_ML_DSA signatures with parameters pkcs11js cannot pass.
 */
export function p11direct(req: { lib: string; token: string; pin: string; label: string; env: NodeJS.ProcessEnv }, ops: P11Op[]): P11Result[] {
  const wire = ops.map((o) => (o.op === 'sign' ? { op: 'sign', data: Buffer.from(o.data).toString('hex'), params: o.params && { hedge: o.params.hedge, context: Buffer.from(o.params.context).toString('hex') } } : o));
  const r = spawnSync('python3', [join(HERE, 'p11direct.py')], { input: JSON.stringify({ lib: req.lib, token: req.token, pin: req.pin, label: req.label, ops: wire }), env: req.env, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`p11direct.py failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as P11Result[];
}

/** python `cryptography` verifies an ML-DSA signature under a raw public key, with a context or without. */
export function pythonMlDsaVerify(alg: MlDsaName, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context?: Uint8Array): boolean {
  return pythonJson<{ valid: boolean }>(
    `
import json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
r = json.load(sys.stdin)
key = getattr(mldsa, r['cls']).from_public_bytes(bytes.fromhex(r['pub']))
try:
    key.verify(bytes.fromhex(r['sig']), bytes.fromhex(r['msg']), bytes.fromhex(r['ctx']) if r['ctx'] is not None else None)
    print(json.dumps({'valid': True}))
except InvalidSignature:
    print(json.dumps({'valid': False}))
`,
    {
      cls: { 'ml-dsa-44': 'MLDSA44PublicKey', 'ml-dsa-65': 'MLDSA65PublicKey', 'ml-dsa-87': 'MLDSA87PublicKey' }[alg],
      pub: Buffer.from(publicKey).toString('hex'),
      msg: Buffer.from(message).toString('hex'),
      sig: Buffer.from(signature).toString('hex'),
      ctx: context ? Buffer.from(context).toString('hex') : null,
    },
  ).valid;
}

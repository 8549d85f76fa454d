/**
 * ML-DSA-65 throughput of the implementation we ship (noble, pure TypeScript) against liboqs
 * (C compiled to WebAssembly), so the cost of staying dependency-light is a measured number.
 * Run through `npm run bench`; a fixed workload keeps runs comparable.
 */
import { mlDsaKeygen, mlDsaSign, mlDsaVerify } from './mldsa';

export interface Rates {
  keygenPerSec: number;
  signPerSec: number;
  verifyPerSec: number;
}

const KEYGENS = 50;
const SIGNS = 200;
const VERIFIES = 200;
/** The message every ML-DSA-65 figure signs (the token's too), so the rates compare. */
export const BENCH_MESSAGE = new TextEncoder().encode('a TBSCertificate-sized message '.repeat(40));
const MESSAGE = BENCH_MESSAGE;

function rate(count: number, run: () => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return Math.round((count * 1000) / (performance.now() - start));
}

function measure(keygen: () => { publicKey: Uint8Array; secretKey: Uint8Array }, sign: (sk: Uint8Array) => Uint8Array, verify: (sig: Uint8Array, pk: Uint8Array) => boolean): Rates {
  const keygenPerSec = rate(KEYGENS, keygen);
  const { publicKey, secretKey } = keygen();
  const signPerSec = rate(SIGNS, () => sign(secretKey));
  const sig = sign(secretKey);
  const verifyPerSec = rate(VERIFIES, () => {
    if (!verify(sig, publicKey)) throw new Error('benchmark signature did not verify');
  });
  return { keygenPerSec, signPerSec, verifyPerSec };
}

export async function benchMlDsa65(): Promise<{ noble: Rates; liboqs: Rates }> {
  const noble = measure(
    () => mlDsaKeygen('ml-dsa-65'),
    (sk) => mlDsaSign('ml-dsa-65', sk, MESSAGE),
    (sig, pk) => mlDsaVerify('ml-dsa-65', pk, MESSAGE, sig),
  );
  // liboqs is a development dependency used only to compare and cross-check; load it lazily.
  const { createMLDSA65 } = await import('@oqs/liboqs-js');
  const lib = await createMLDSA65();
  try {
    const liboqs = measure(
      () => lib.generateKeyPair(),
      (sk) => lib.sign(MESSAGE, sk),
      (sig, pk) => lib.verify(MESSAGE, sig, pk),
    );
    return { noble, liboqs };
  } finally {
    lib.destroy();
  }
}

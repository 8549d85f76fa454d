/**
 * Section 3: ML-DSA-65 throughput, noble (shipped) against liboqs-js (reference), and the same
 * operations in a PKCS#11 3.2 token (SoftHSM2 with ML-DSA) in the same run.
 */
import { benchMlDsa65, type Rates } from '../../electron/core/keys/mldsa.bench';
import { benchTokenMlDsa65 } from './mldsa-token';
import { say, type Report } from './report';

const SECTION = '3 ML-DSA-65';

export async function benchMlDsa(report: Report): Promise<void> {
  const { noble, liboqs } = await benchMlDsa65();
  const rows: [string, keyof Rates][] = [['keygen', 'keygenPerSec'], ['sign', 'signPerSec'], ['verify', 'verifyPerSec']];
  for (const [op, k] of rows) {
    report.add({ section: SECTION, name: `${op}: noble`, value: noble[k], unit: '/s' });
    report.add({ section: SECTION, name: `${op}: liboqs-js`, value: liboqs[k], unit: '/s' });
    report.add({ section: SECTION, name: `${op}: noble / liboqs-js`, value: Math.round((noble[k] / liboqs[k]) * 100) / 100, unit: '×' });
    say(`  ${op.padEnd(6)} noble ${noble[k]}/s, liboqs-js ${liboqs[k]}/s`);
  }
  const token = await benchTokenMlDsa65();
  if ('missing' in token) {
    // One line, and the figures say n/a rather than vanishing from the table.
    say(`  token: not measured (${token.missing})`);
    for (const name of ['keygen: token C_GenerateKeyPair', 'keygen: token qpki generateKey (read back + test signature)', 'sign: token CKM_ML_DSA via qpki']) report.add({ section: SECTION, name, value: null, unit: '/s', note: token.missing });
  } else {
    report.add({ section: SECTION, name: 'keygen: token C_GenerateKeyPair', value: token.rawKeygenPerSec, unit: '/s' });
    report.add({ section: SECTION, name: 'keygen: token qpki generateKey (read back + test signature)', value: token.generateKeyPerSec, unit: '/s' });
    report.add({ section: SECTION, name: 'sign: token CKM_ML_DSA via qpki', value: token.signPerSec, unit: '/s' });
    report.add({ section: SECTION, name: 'sign: token / noble', value: Math.round((token.signPerSec / noble.signPerSec) * 100) / 100, unit: '×' });
    say(`  token (${token.library}): C_GenerateKeyPair ${token.rawKeygenPerSec}/s, generateKey ${token.generateKeyPerSec}/s, sign ${token.signPerSec}/s`);
  }
  report.detail('mldsa65', { noble, liboqs, token });
}

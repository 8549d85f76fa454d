/** Section 3: ML-DSA-65 throughput, noble (shipped) against liboqs-js (reference). */
import { benchMlDsa65, type Rates } from '../../electron/core/keys/mldsa.bench';
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
  report.detail('mldsa65', { noble, liboqs });
}

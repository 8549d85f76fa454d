/**
 * Issues certificates from one CA directory in a loop until it is killed: the victim of the crash
 * test (crash.test.ts). Prints `ready` once the CA is open, then `issued <serial>` after each
 * issuance returns. The CA key is a software file or a token key (PIN from QPKI_LOOP_PIN).
 * A second argument N keeps N callers issuing at once, so the CA writes them in shared batches.
 */
import { openCa } from '../../electron/core/ca/authority';
import { generateSoftwareKey } from '../../electron/core/keys/software';
import { loadProfile } from '../../electron/core/profiles/index';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const ca = await openCa(dir, { pin: () => process.env.QPKI_LOOP_PIN ?? '' });
  const profile = loadProfile('ec/tls-server');
  const { spki } = generateSoftwareKey('ec-p256');
  const callers = Number(process.argv[3] ?? 1);
  process.stdout.write('ready\n');
  let i = 0;
  const caller = async () => {
    for (;;) {
      const r = await ca.issue({ profile, vars: { cn: `host-${process.pid}-${i++}.example.com` }, spki, source: 'crash test' });
      process.stdout.write(`issued ${r.serial}\n`);
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
}

main().catch((e) => {
  process.stderr.write(`error [${e?.code ?? 'INTERNAL'}]: ${e?.message ?? e}\n`);
  process.exit(1);
});

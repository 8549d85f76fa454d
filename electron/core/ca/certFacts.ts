/**
 * The facts of a CA certificate the signing side needs (its names, validity, key, serial and the
 * parsed TBS whose subject becomes every issued certificate's issuer), through the ASN.1 schema
 * libraries. Apart from view.ts so that reading a CA (`ca info`) does not load them.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { nameString } from '../x509/names';
import { canonicalSerial } from './serials';

type CertFacts = ReturnType<typeof parseCertFacts>;
/**
 * Facts of a certificate already read, by its bytes' object: opening a CA reads its certificate
 * once and parsed it three times (the key check, the directory, the serials in use), a few
 * milliseconds each on a command's cold code. Keyed by the array itself, never by equal bytes
 * elsewhere, and nothing here changes a certificate's bytes after reading them.
 */
const certFactsRead = new WeakMap<Uint8Array, CertFacts>();

export function certFacts(der: Uint8Array): CertFacts {
  let f = certFactsRead.get(der);
  if (!f) certFactsRead.set(der, (f = parseCertFacts(der)));
  return f;
}

function parseCertFacts(der: Uint8Array) {
  const c = AsnConvert.parse(der, Certificate);
  const t = c.tbsCertificate;
  return {
    subject: nameString(t.subject),
    issuer: nameString(t.issuer),
    notBefore: t.validity.notBefore.getTime(),
    notAfter: t.validity.notAfter.getTime(),
    spki: new Uint8Array(AsnConvert.serialize(t.subjectPublicKeyInfo)),
    serial: canonicalSerial(Buffer.from(t.serialNumber).toString('hex')),
    tbs: t,
  };
}

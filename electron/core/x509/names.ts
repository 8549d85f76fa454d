/**
 * A distinguished name in the one form the app and the command line show people: RFC 4514 order
 * (most specific first, as `openssl -nameopt rfc2253` and Go's pkix.Name print it), short names
 * for the usual attributes, the dotted OID for any other, values escaped as RFC 4514 says.
 */
import type { Name } from '@peculiar/asn1-x509';

export const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'E', '2.5.4.97': 'organizationIdentifier',
};

export function nameString(n: Name): string {
  // Spread first: Name and its RDNs are array subclasses, whose map would build more of them.
  return dnString([...n].map((rdn) => [...rdn].map((atv) => ({ type: atv.type, text: atv.value.toString() }))));
}

/** The shown form of a name already read as RDNs (encoded order) of attribute OIDs and their text, whichever parser read it. */
export function dnString(rdns: readonly (readonly { type: string; text: string }[])[]): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${SHORT[a.type] ?? a.type}=${escapeDn(a.text)}`).join('+'))
    .join(', ');
}

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

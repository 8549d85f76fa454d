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
  return [...n]
    .reverse()
    .map((rdn) => rdn.map((atv) => `${SHORT[atv.type] ?? atv.type}=${escapeDn(atv.value.toString())}`).join('+'))
    .join(', ');
}

export function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

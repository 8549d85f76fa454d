// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata
// polyfill loaded first. Import @peculiar/x509 through this module only.
import 'reflect-metadata';
export * from '@peculiar/x509';

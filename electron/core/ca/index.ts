export { initCa, openCa, describeCaDir, caKeyStorages, prepareSubject, CertificateAuthority, sha256Hex, type NewCaKey, type CaKeyAccess, type IssuedCertificate, type InitCaResult } from './authority';
export { readMeta, qpkiAlgorithmId, META_FILE, type CaMeta } from './meta';
export { readIndex, type IndexEntry } from './indexFile';
export { writeFileAtomic } from './fsx';

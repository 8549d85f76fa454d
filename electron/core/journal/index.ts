/** The ceremony record: journal, fingerprints, preflight checks and the printable transcript. */
export {
  Journal, verifyJournal, readJournal, repairJournalTail, formatJournal, toFacts, journalPath,
  JOURNAL_FILE, JOURNAL_KINDS, ZERO_HASH, type JournalEntry, type JournalKind, type JournalVerification,
} from './journal';
export { appFingerprint, fileSha256 } from './fingerprint';
export { preflight, MIN_FREE_DISK_BYTES, type PreflightReport } from './preflight';
export { renderTranscriptHtml, transcriptPdf, chromiumAvailable, selectCeremony, ceremoniesOf, eventTime, type TranscriptMeta, type CeremonyRange } from './transcript';
export { describeKind, groupHex, safeText } from './format';

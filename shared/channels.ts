/**
 * The names of the functions the renderer may call, one per IPC channel. Kept free of zod so the
 * preload bundle stays tiny; shared/contract.ts maps each name to its schemas, and its type
 * check fails if this list and the contract drift apart.
 */
export const CHANNELS = [
  'appInfo',
  'knownModules',
  'chooseModuleFile',
  'loadModule',
  'listSlots',
  'tokenMechanisms',
  'initToken',
  'prepareDevToken',
  'openCeremony',
  'closeCeremony',
  'exportTranscript',
  'openToken',
  'login',
  'reconnectToken',
  'endSession',
  'endAltSession',
  'closeToken',
  'listKeys',
  'keyAlgorithms',
  'generateKey',
  'selectKey',
  'useSoftwareKeystore',
  'listProfiles',
  'getProfile',
  'validateVariables',
  'previewCa',
  'openCa',
  'readCsr',
  'prepareIssue',
  'preparePlanCross',
  'preparePlanCsr',
  'listIssued',
  'revokeCertificate',
  'prepareCrl',
  'sign',
  'withdrawRequest',
  'describeDocument',
  'verifyDocument',
  'exportCertificate',
  'chooseDirectory',
  'readJournal',
  'openPlan',
  'startPlan',
  'planState',
  'acknowledgeStep',
  'confirmPreflight',
  'recordDeviation',
] as const;

export type Channel = (typeof CHANNELS)[number];

/** The IPC channel string for a function name: one namespace, nothing generic. */
export function ipcChannel(name: Channel): string {
  return `qpki:${name}`;
}

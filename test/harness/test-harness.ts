/**
 * Builds the app's handler table on a private SoftHSM2 store, for unit tests and the e2e bridge:
 * the same table ipc.ts registers, with dialogs answered by the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppState } from '../../electron/ceremony/state';
import { createHandlers, type Handlers } from '../../electron/app/handlers';
import { transcriptPdf } from '../../electron/core/journal/transcript';
import { buildApi } from '../../electron/app/preload-api';
import { CHANNELS, type Channel } from '../../shared/channels';
import type { Confirmation } from '../../electron/ceremony/confirmation';

export interface Harness {
  state: AppState;
  handlers: Handlers;
  /**
   * What the next dialog answers: directory and save dialogs, the library file dialog, and main's
   * confirmations (`confirm`: a fixed answer, or a function of the question).
   */
  answers: { directory: string | null; savePath: string | null; moduleFile: string | null; planFile: string | null; confirm: boolean | ((c: Confirmation) => boolean) };
  /** Every confirmation main asked for, in order, as the operator would have read it. */
  confirmations: Confirmation[];
  /** The renderer's API object over the table (the preload builder, with the handler table as transport). */
  api(): Record<Channel, (input?: unknown) => Promise<unknown>>;
  /** Invoke by IPC channel name, as the preload would. */
  invoke(channel: string, input: unknown): Promise<unknown>;
}

export function makeHarness(opts: { softhsmPath: string | null; devTokenDir: string | null; dataDir?: string; appRoot?: string }): Harness {
  let dataDir = opts.dataDir;
  if (!dataDir) {
    // A data directory of its own goes when the process does (a caller's stays the caller's).
    const own = mkdtempSync(join(tmpdir(), 'qpki-data-'));
    process.on('exit', () => rmSync(own, { recursive: true, force: true }));
    dataDir = own;
  }
  const state = new AppState({
    version: '0.0.0-test',
    production: true,
    softhsmPath: opts.softhsmPath,
    devTokenDir: opts.devTokenDir,
    dataDir,
    ...(opts.appRoot ? { appRoot: opts.appRoot } : {}),
  });
  const answers: Harness['answers'] = { directory: null, savePath: null, moduleFile: null, planFile: null, confirm: true };
  const confirmations: Confirmation[] = [];
  const handlers = createHandlers(state, {
    chooseDirectory: async () => answers.directory,
    chooseSavePath: async () => answers.savePath,
    // The same page the app prints with printToPDF, printed by headless Chromium.
    printPdf: (html, dest) => transcriptPdf(html, dest),
    chooseModuleFile: async () => answers.moduleFile,
    choosePlanFile: async () => answers.planFile,
    confirm: async (c) => {
      confirmations.push(c);
      return typeof answers.confirm === 'function' ? answers.confirm(c) : answers.confirm;
    },
  });
  const invoke = async (channel: string, input: unknown) => {
    const name = channel.replace(/^qpki:/, '') as Channel;
    if (!(CHANNELS as readonly string[]).includes(name)) return { ok: false, error: { code: 'SENDER_REFUSED', message: 'unknown channel' } };
    return handlers[name](input);
  };
  return { state, handlers, answers, confirmations, invoke, api: () => buildApi(invoke) };
}

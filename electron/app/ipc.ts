/**
 * Registers one ipcMain handler per contract channel. Each checks that the caller is the app's
 * own main frame, then hands the raw input to the handler table, which validates it, calls core
 * and validates the answer. The handler table is the one the e2e bridge drives.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { CHANNELS, ipcChannel } from '../../shared/channels';
import type { Handlers } from './handlers';
import { isTrustedSender } from './window-config';

export function registerIpc(handlers: Handlers, appBaseUrl: string): () => void {
  for (const name of CHANNELS) {
    ipcMain.handle(ipcChannel(name), async (event: IpcMainInvokeEvent, input: unknown) => {
      if (!isTrustedSender(event.senderFrame, event.sender.mainFrame, appBaseUrl)) {
        return { ok: false, error: { code: 'SENDER_REFUSED', message: 'This request did not come from the app window and was refused.' } };
      }
      return handlers[name](input);
    });
  }
  return () => {
    for (const name of CHANNELS) ipcMain.removeHandler(ipcChannel(name));
  };
}

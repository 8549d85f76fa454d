/**
 * Builds the object the preload exposes as `window.qpki`: exactly one named function per contract
 * channel, each sending its single JSON argument on its own channel. No generic invoke escapes.
 * Pure (no electron import) so tests check the very builder the preload uses.
 */
import { CHANNELS, ipcChannel, type Channel } from '../../shared/channels';

export type Invoke = (ipcChannelName: string, input: unknown) => Promise<unknown>;

export function buildApi(invoke: Invoke, channels: readonly Channel[] = CHANNELS): Record<Channel, (input?: unknown) => Promise<unknown>> {
  const api = Object.create(null) as Record<Channel, (input?: unknown) => Promise<unknown>>;
  for (const name of channels) {
    const channel = ipcChannel(name);
    // One argument only: extra arguments (or functions, or ports) never reach main.
    api[name] = (input?: unknown) => invoke(channel, input === undefined ? {} : input);
  }
  return Object.freeze(api);
}

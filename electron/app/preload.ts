/** Sandboxed preload: exposes the contract's named functions, nothing else. */
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from './preload-api';

contextBridge.exposeInMainWorld(
  'qpki',
  buildApi((channel, input) => ipcRenderer.invoke(channel, input)),
);

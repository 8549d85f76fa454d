/**
 * Renderer build: relative asset paths so the app loads from app://qpki (Electron) or any static
 * server (e2e); the CSP meta tag comes from the same string main.ts sends as a header.
 */
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { CSP } from './electron/app/window-config';

const here = fileURLToPath(new URL('.', import.meta.url));

function cspMeta(): Plugin {
  return {
    name: 'qpki-csp-meta',
    transformIndexHtml: {
      order: 'pre',
      handler: (html) => html.replace('%QPKI_CSP%', CSP),
    },
  };
}

export default defineConfig({
  root: `${here}renderer`,
  base: './',
  plugins: [react(), cspMeta()],
  build: {
    outDir: `${here}dist/renderer`,
    emptyOutDir: true,
    target: 'chrome120',
    modulePreload: { polyfill: false },
    sourcemap: false,
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: { host: '127.0.0.1' },
});

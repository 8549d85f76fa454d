/**
 * dist/renderer on 127.0.0.1 for the UI tests, answered by the same function as the app's
 * app://qpki handler (electron/app/app-protocol.ts): the same files, types, refusals and CSP header
 * reach Chromium here as in the app. Only the transport (HTTP instead of a custom scheme) differs.
 */
import { createServer, type Server } from 'node:http';
import { serveRendererPath } from '../electron/app/app-protocol';

export async function serveDir(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const r = serveRendererPath(new URL(req.url ?? '/', 'http://127.0.0.1').pathname, dir, req.method);
    res.writeHead(r.status, r.headers).end(r.body ?? undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/index.html`, close: () => new Promise((r) => server.close(() => r())) };
}

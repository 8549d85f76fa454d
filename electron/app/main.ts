/**
 * The main process: one hardened window, no network, no navigation, no permissions, and the
 * token session closed whenever the ceremony ends. Everything else lives in core/ and handlers.ts.
 */
import { app, BrowserWindow, Menu, protocol, session, dialog } from 'electron';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppState } from '../ceremony/state';
import { createHandlers } from './handlers';
import { registerIpc } from './ipc';
import { finalizeAllModules } from '../core/pkcs11/module';
import { QpkiError } from '../core/errors';
import { findSoftHsm } from './handlers';
import { CSP_HEADER, isAllowedRequest, windowOptions } from './window-config';
import { APP_INDEX_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, serveAppRequest } from './app-protocol';
import { confirmationText } from '../ceremony/confirmation';
import { disableCoreDumps } from '../core/coredump';
import { makeDirs } from '../core/dirs';

// First of all: no core of this process holds a PIN (what it covers: core/coredump.ts).
disableCoreDumps();

const production = app.isPackaged;
const rendererDir = join(__dirname, '..', 'renderer');
const appBaseUrl = APP_INDEX_URL;

// Before `ready`, or Chromium does not treat app:// as a standard, secure origin.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

/**
 * The development token store lives in the app's data folder. SoftHSM2 reads SOFTHSM2_CONF once,
 * at C_Initialize, so it is set before any module loads — unless the operator set their own.
 */
function prepareDevTokenStore(): string {
  const dir = join(app.getPath('userData'), 'softhsm-dev');
  const tokens = join(dir, 'tokens');
  // Token files hold the development keys: private whatever the umask.
  makeDirs(tokens);
  const conf = join(dir, 'softhsm2.conf');
  if (!existsSync(conf)) {
    // 0600: whoever can write it chooses where the token files are.
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  }
  if (!process.env.SOFTHSM2_CONF) process.env.SOFTHSM2_CONF = conf;
  return dir;
}

/**
 * The transcript printed by Chromium inside Electron: a hidden window on its own session (no
 * preload, no script, no network) shows the self-contained page, printToPDF makes the A4 PDF.
 */
async function printTranscript(html: string, dest: string): Promise<void> {
  const ses = session.fromPartition('qpki-transcript');
  const pageUrl = `data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`;
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: details.url !== pageUrl }));
  const win = new BrowserWindow({
    show: false,
    webPreferences: { session: ses, sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false, webSecurity: true, spellcheck: false, disableBlinkFeatures: 'Auxclick' },
  });
  try {
    await win.loadURL(pageUrl);
    const pdf = await win.webContents.printToPDF({ pageSize: 'A4', printBackground: true, preferCSSPageSize: true });
    try {
      writeFileSync(dest, pdf, { flag: 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new QpkiError('OUTPUT_EXISTS', `${dest} already exists; choose another name.`);
      throw new QpkiError('IO_ERROR', `Cannot write ${dest}${code ? ` (${code})` : ''}.`);
    }
  } finally {
    win.destroy();
  }
}

app.enableSandbox();
app.commandLine.appendSwitch('disable-background-networking');
app.commandLine.appendSwitch('disable-component-update');

const state = new AppState({
  version: app.getVersion(),
  production,
  softhsmPath: findSoftHsm(),
  devTokenDir: null,
  dataDir: app.getPath('documents'),
  // The files that make this app (app.asar when packaged): their SHA-256 opens every ceremony record.
  appRoot: app.getAppPath(),
});

function harden(): void {
  const ses = session.defaultSession;
  // The renderer's files, and nothing else: app-protocol.ts decides what a URL may name.
  ses.protocol.handle(APP_SCHEME, (request) => {
    const r = serveAppRequest(request.url, rendererDir, request.method);
    return new Response(r.body && new Uint8Array(r.body), { status: r.status, headers: r.headers });
  });
  ses.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, appBaseUrl, production) });
  });
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP_HEADER] } });
  });
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.on('will-download', (event) => event.preventDefault());
  ses.setSpellCheckerEnabled(false);
}

/**
 * Electron's other processes (zygote, GPU, utility, renderers) do not inherit the filter from
 * this one — the first ones started before this file ran — so each gets it by pid.
 */
function disableChildCoreDumps(): void {
  for (const m of app.getAppMetrics()) if (m.pid !== process.pid) disableCoreDumps(m.pid);
}

app.on('web-contents-created', (_event, contents) => {
  // Before its page can hold a PIN; and again for a renderer (or GPU process) started anew after a crash.
  contents.on('dom-ready', () => {
    disableCoreDumps(contents.getOSProcessId());
    disableChildCoreDumps();
  });
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(windowOptions({ preloadPath: join(__dirname, 'preload.cjs'), production }));
  if (production) win.removeMenu();
  win.once('ready-to-show', () => win.show());
  // Closing the window ends the ceremony: log out, close the session, forget the key choice.
  win.on('closed', () => state.endCeremony());
  void win.loadURL(appBaseUrl);
  return win;
}

app.whenReady().then(() => {
  disableChildCoreDumps();
  if (production) Menu.setApplicationMenu(null);
  state.options.devTokenDir = prepareDevTokenStore();
  harden();
  const handlers = createHandlers(state, {
    async chooseDirectory(purpose) {
      const win = BrowserWindow.getFocusedWindow();
      const opts = {
        title: purpose === 'open-ca' ? 'Open a CA directory' : purpose === 'plan-output' ? 'Choose the ceremony’s output folder (the plan’s out paths are written under it)' : 'Choose where to create the CA directory',
        properties: ['openDirectory', 'createDirectory'] as Array<'openDirectory' | 'createDirectory'>,
      };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    async chooseSavePath(suggested, what) {
      const win = BrowserWindow.getFocusedWindow();
      const opts = what === 'transcript'
        ? { title: 'Save the ceremony transcript (PDF)', defaultPath: suggested, filters: [{ name: 'PDF', extensions: ['pdf'] }] }
        : { title: 'Export certificate', defaultPath: suggested };
      const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    printPdf: printTranscript,
    async chooseModuleFile() {
      const win = BrowserWindow.getFocusedWindow();
      const opts = { title: 'Choose the PKCS#11 library of the HSM', properties: ['openFile'] as Array<'openFile'>, filters: [{ name: 'PKCS#11 library', extensions: ['so', 'dylib', 'dll'] }] };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    async choosePlanFile() {
      const win = BrowserWindow.getFocusedWindow();
      const opts = { title: 'Open a ceremony plan', properties: ['openFile'] as Array<'openFile'>, filters: [{ name: 'Ceremony plan (YAML)', extensions: ['yaml', 'yml'] }] };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    async confirm(c) {
      // A native dialog, drawn by main: the renderer can neither answer it nor change its words.
      const win = BrowserWindow.getFocusedWindow();
      const opts = {
        type: 'warning' as const, title: 'QPKI Ceremony', message: c.title, detail: confirmationText(c),
        buttons: ['Cancel', c.action], defaultId: 0, cancelId: 0, noLink: true,
      };
      const r = win ? await dialog.showMessageBox(win, opts) : await dialog.showMessageBox(opts);
      return r.response === 1;
    },
  });
  registerIpc(handlers, appBaseUrl);
  createWindow();
}).catch((e: unknown) => {
  // Start-up failed before a window could say so: say it on stderr and quit, never hang windowless.
  console.error(`qpki ceremony could not start: ${e instanceof Error ? e.message : String(e)}`);
  app.exit(1);
});

app.on('window-all-closed', () => {
  state.endCeremony();
  app.quit();
});

app.on('will-quit', () => {
  state.endCeremony();
  finalizeAllModules();
});


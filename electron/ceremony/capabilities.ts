/**
 * Capabilities, not strings: the libraries and directories main chose itself (a well-known path,
 * or the answer of its own dialog) get an id; the renderer names them only by that id. A path
 * typed or forged in the renderer is never loaded and never written into.
 */
import { randomBytes } from 'node:crypto';
import { QpkiError } from '../core/errors';

export type DirPurpose = 'open-ca' | 'new-ca' | 'plan-output';

export class Capabilities {
  private readonly dirs = new Map<string, { path: string; purpose: DirPurpose }>();
  private readonly modules = new Map<string, { path: string; vendor: string }>();

  /** An id for a directory the operator chose in main's dialog, for one purpose. */
  addDirectory(path: string, purpose: DirPurpose): string {
    const id = `dir-${randomBytes(12).toString('hex')}`;
    this.dirs.set(id, { path, purpose });
    return id;
  }

  directory(id: string, purpose: DirPurpose): string {
    const d = this.dirs.get(id);
    if (!d || d.purpose !== purpose) {
      const words = { 'new-ca': 'Choose the folder for the new CA with “Choose…”: only a folder picked in the app’s own dialog is written into.', 'open-ca': 'Choose the CA directory with “Choose…”: only a folder picked in the app’s own dialog is opened.', 'plan-output': 'Choose the ceremony’s output folder in the app’s own dialog: only a folder picked there is written into.' };
      throw new QpkiError('INPUT_INVALID', words[purpose]);
    }
    return d.path;
  }

  /** The same library always gets the same id, so a list read twice names it once. */
  addModule(path: string, vendor: string): string {
    for (const [id, m] of this.modules) if (m.path === path) return id;
    const id = `module-${randomBytes(12).toString('hex')}`;
    this.modules.set(id, { path, vendor });
    return id;
  }

  module(id: string): { path: string; vendor: string } {
    const m = this.modules.get(id);
    if (!m) throw new QpkiError('INPUT_INVALID', 'Choose the PKCS#11 library from the list or with “Browse…”: only a library main offered is loaded.');
    return m;
  }

  /** Directory choices end with the ceremony; the library list stays (it is this computer's). */
  forgetDirectories(): void {
    this.dirs.clear();
  }
}

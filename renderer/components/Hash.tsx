/**
 * A hash as the app, the transcript (PDF) and the command line all write it: lower-case hex in
 * groups of 4, read aloud and compared group by group. Copy puts the unbroken value on the
 * clipboard (what sha256sum prints), so nobody retypes 64 characters.
 */
import { useId, useState } from 'react';

/** `AB:CD:12…` or `abcd12…` → `abcd 12…`: whatever main sent, shown in the one format. */
export function hashGroups(value: string): string {
  return (plainHex(value).match(/.{1,4}/g) ?? []).join(' ');
}

function plainHex(value: string): string {
  return value.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
}

export function Hash({ value, testId, big }: { value: string; testId?: string; big?: boolean }) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  const hex = plainHex(value);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(hex);
      setCopied(true);
    } catch {
      // No clipboard (a page without the permission): the value is selected for Ctrl+C instead.
      const el = document.querySelector(`[data-hash="${hex}"]`);
      if (el) window.getSelection()?.selectAllChildren(el);
    }
  };
  return (
    <span className="hash">
      <span className={big ? 'mono hash-value final-hash' : 'mono hash-value'} id={id} data-testid={testId} data-hash={hex}>{hashGroups(hex)}</span>{' '}
      <button type="button" className="secondary copy" onClick={() => void copy()} aria-describedby={id} data-testid={testId ? `${testId}-copy` : undefined}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}

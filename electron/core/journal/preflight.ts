/**
 * Checks made before a ceremony and recorded as its `preflight` entry: no network, a plausible
 * clock (it dates every certificate), and room on the disk that holds the CA directory.
 */
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';

export interface PreflightReport {
  networkInterfacesUp: { name: string; addresses: string[] }[];
  clock: { iso: string; tz: string; epochMs: number };
  freeDiskBytes: number;
  warnings: string[];
}

export const MIN_FREE_DISK_BYTES = 100 * 1024 * 1024;
/** A clock before this is surely wrong (a flat RTC battery resets to 1970 or 2000). */
const EARLIEST_PLAUSIBLE_MS = Date.UTC(2025, 0, 1);

export function preflight(caDir: string): PreflightReport {
  const warnings: string[] = [];

  const networkInterfacesUp = interfacesUp();
  for (const i of networkInterfacesUp) {
    const where = i.addresses.length ? ` (${i.addresses.join(', ')})` : '';
    warnings.push(`Network interface ${i.name} is up${where}; an air-gapped laptop should have none.`);
  }

  const now = Date.now();
  const clock = { iso: new Date(now).toISOString(), tz: Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'unknown', epochMs: now };
  if (now < EARLIEST_PLAUSIBLE_MS) {
    warnings.push(`The clock reads ${clock.iso}, which cannot be right; set it from a trusted watch before signing anything.`);
  }

  const place = nearestExisting(resolve(caDir));
  const fs = statfsSync(place);
  const freeDiskBytes = Number(fs.bavail) * Number(fs.bsize);
  if (freeDiskBytes < MIN_FREE_DISK_BYTES) {
    warnings.push(`Only ${(freeDiskBytes / 1024 / 1024).toFixed(1)} MB free where the CA directory lives (${place}); make room (at least 100 MB) before the ceremony.`);
  }

  return { networkInterfacesUp, clock, freeDiskBytes, warnings };
}

/**
 * Every non-loopback interface with an address, plus (on Linux) any link that is up without
 * one: a Wi-Fi link that is associated but has no address yet is still a way in.
 */
function interfacesUp(): { name: string; addresses: string[] }[] {
  const byName = new Map<string, string[]>();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const external = (addrs ?? []).filter((a) => !a.internal);
    if (external.length) byName.set(name, external.map((a) => a.cidr ?? a.address));
  }
  for (const name of linuxLinksUp()) if (!byName.has(name)) byName.set(name, []);
  return [...byName].map(([name, addresses]) => ({ name, addresses })).sort((a, b) => a.name.localeCompare(b.name));
}

function linuxLinksUp(): string[] {
  const base = '/sys/class/net';
  if (process.platform !== 'linux' || !existsSync(base)) return [];
  const up: string[] = [];
  for (const name of readdirSync(base)) {
    if (name === 'lo') continue;
    try {
      if (readFileSync(`${base}/${name}/operstate`, 'utf8').trim() === 'up') up.push(name);
    } catch {
      /* the link vanished while we looked */
    }
  }
  return up;
}

function nearestExisting(p: string): string {
  let cur = p;
  while (!existsSync(cur)) {
    const parent = dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  return cur;
}

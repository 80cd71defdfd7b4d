/**
 * User and group names to ids, from /etc/passwd and /etc/group (what getpwnam and getgrnam read
 * on a host without NSS modules): for the user an fwknop command message runs as. Read at load;
 * a name that is not there is a config error, never a fallback to root.
 *
 * Contract: lookupUser returns the uid and primary gid, lookupGroup the gid; null when the name is
 * absent or the file cannot be read. Lines are `name:x:uid:gid:...` / `name:x:gid:...`.
 */

import { readFileSync } from 'node:fs';

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

function field(line: string, name: string, at: number): number | null {
  const f = line.split(':');
  if (f[0] !== name || f.length <= at) return null;
  const text = f[at] as string;
  return /^\d{1,10}$/.test(text) ? Number(text) : null;
}

export function lookupUser(name: string, file = '/etc/passwd'): { uid: number; gid: number } | null {
  for (const line of lines(file)) {
    const uid = field(line, name, 2);
    const gid = field(line, name, 3);
    if (uid !== null && gid !== null) return { uid, gid };
  }
  return null;
}

export function lookupGroup(name: string, file = '/etc/group'): number | null {
  for (const line of lines(file)) {
    const gid = field(line, name, 2);
    if (gid !== null) return gid;
  }
  return null;
}

/** The name of group `gid`, for logs and the audit trail; the number when it has none. */
export function groupName(gid: number, file = '/etc/group'): string {
  for (const line of lines(file)) {
    const f = line.split(':');
    if (f.length > 2 && f[2] === String(gid) && f[0]) return f[0];
  }
  return String(gid);
}

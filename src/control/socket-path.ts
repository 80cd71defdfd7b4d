/**
 * Where a knockgated's control socket lives: RUN_DIR/<table>.<netns inode>.sock, beside the lock of
 * the same table (stores/table-lock.ts), so that exactly the daemon holding the table's lock
 * answers there. The network namespace is part of the name as it is for the lock: `knockgate
 * status` run in a namespace (`ip netns exec NS knockgate status`) reaches that namespace's daemon.
 */

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR } from '../stores/table-lock.js';

export function controlSocketPath(table: string, dir: string = RUN_DIR): string {
  return join(dir, `${table}.${statSync('/proc/self/ns/net').ino}.sock`);
}

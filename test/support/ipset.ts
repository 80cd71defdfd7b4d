/** What an ipset holds in a testbed's server namespace, read through ipset(8) itself. */

import type { Testbed } from './netns.js';

/** The entries of one of knockgate's ipsets: element (`ADDR,tcp:22`) → seconds left. */
export function ipsetEntries(tb: Testbed, set: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of tb.run(tb.server.ns, ['ipset', 'list', '-output', 'save', set]).split('\n')) {
    const m = /^add \S+ (\S+) timeout (\d+)/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

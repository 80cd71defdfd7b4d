/**
 * What `knockgated --print-ruleset` shows with `firewall: iptables`: the three inputs the gate's
 * install() hands to the kernel (iptables-ruleset.ts), in order, as if no earlier daemon had left
 * a jump behind. Pure.
 *
 * Contract: each section is the exact text given to its program (`ipset -exist restore`, then
 * `iptables-restore --noflush` for IPv4 and `ip6tables-restore --noflush` for IPv6), headed by `#`
 * remarks, which all three programs skip; the `-A` lines are the ones `iptables -S CHAIN` lists
 * once they are installed (test/integration/iptables-check.test.ts compares them). The sets are
 * shown empty: their entries are the grants, added with a timeout each at run time.
 */

import type { GateLayout } from '../ports/gate.js';
import { ipsetCreateText, iptablesNames, NO_JUMPS, restoreText } from './iptables-ruleset.js';

export function iptablesRulesetText(table: string, layout: GateLayout): string {
  const names = iptablesNames(table);
  return [
    `# 1. ipset -exist restore: the grant sets (an entry per granted source, protocol and port, each with a timeout)`,
    ipsetCreateText(names).trimEnd(),
    `# 2. iptables-restore --noflush (IPv4): chains ${names.input}, ${names.forward} (filter), ${names.mangle} (mangle) and ${names.raw} (raw), each jumped from position 1`,
    restoreText(names, 4, layout, NO_JUMPS).trimEnd(),
    '# 3. ip6tables-restore --noflush (IPv6): the same chains, matching the IPv6 sets',
    restoreText(names, 6, layout, NO_JUMPS).trimEnd(),
    '',
  ].join('\n');
}

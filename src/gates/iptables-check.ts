/**
 * `knockgated --check` with `firewall: iptables`: what can be checked without changing the
 * firewall, in this process's network namespace (the daemon's):
 *   - the programs are there (iptables-runner.ts requirePrograms: exit 69 naming the package);
 *   - a grant set that exists already has the type and family the gate would create (else the
 *     start would fail at `ipset create`), and no chain of knockgate's names belongs to someone else;
 *   - each family's restore text is parsed by `iptables-restore --test --noflush`, which also
 *     looks up every set a rule names. The sets may not exist yet, so the text checked names
 *     temporary empty sets of the same types (kgck<pid>_..., created for the check and destroyed
 *     right after; no rule ever refers to them). iptables-restore has no kernel-side dry run: the
 *     kernel itself is not asked, so this is less than the nftables gate's check.
 * Outcomes: resolved; KG_FIREWALL_UNAVAILABLE (69) when a program is missing or does not answer;
 * KG_RULESET_REFUSED (78) when the rules, a set or a chain would be refused.
 */

import { KnockgateError } from '../core/errors.js';
import type { GateLayout } from '../ports/gate.js';
import {
  chainOwnership,
  grantSets,
  ipsetCreateText,
  iptablesNames,
  NO_JUMPS,
  restoreText,
  type IptablesNames,
} from './iptables-ruleset.js';
import { complaint, requirePrograms, SpawnIptables, WAIT_ARGS, type IptablesExecutor } from './iptables-runner.js';

export async function checkIptables(
  table: string,
  layout: GateLayout,
  exec: IptablesExecutor = new SpawnIptables(),
): Promise<string> {
  requirePrograms();
  const names = iptablesNames(table);
  for (const set of grantSets(names)) {
    const r = await exec.run('ipset', ['list', '-t', set.name]);
    if (r.code !== 0) continue; // absent: the start creates it
    const type = /^Type: (\S+)$/m.exec(r.stdout)?.[1];
    const family = /^Header: family (\S+)/m.exec(r.stdout)?.[1];
    const want = { type: `hash:${set.kind},port`, family: set.family === 4 ? 'inet' : 'inet6' };
    if (type !== want.type || family !== want.family)
      throw new KnockgateError(
        'KG_RULESET_REFUSED',
        `ipset ${set.name} exists as ${type ?? '?'} family ${family ?? '?'}, not ${want.type} family ${want.family}: the start would fail; destroy it or set nft_table to another name`,
      );
  }
  const temp = checkNames(names);
  try {
    const created = await exec.run('ipset', ['-exist', 'restore'], ipsetCreateText(temp));
    if (created.code !== 0)
      throw new KnockgateError('KG_FIREWALL_UNAVAILABLE', `ipset did not answer the check: ${complaint(created)}`);
    for (const family of [4, 6] as const) {
      const program = family === 4 ? 'iptables' : 'ip6tables';
      for (const [t, chain] of [
        ['filter', names.input],
        ['filter', names.forward],
        ['mangle', names.mangle],
        ['raw', names.raw],
      ] as const) {
        const r = await exec.run(program, [...WAIT_ARGS, '-t', t, '-S', chain]);
        if (chainOwnership(r.code === 0 ? r.stdout : '', chain) === 'foreign')
          throw new KnockgateError(
            'KG_RULESET_REFUSED',
            `${program} already has a chain ${chain} (table ${t}) that knockgate did not make; rename it or set nft_table to another name`,
          );
      }
      const restore = `${program}-restore` as const;
      const r = await exec.run(
        restore,
        ['--test', '--noflush', ...WAIT_ARGS],
        restoreText(temp, family, layout, NO_JUMPS),
      );
      if (r.code !== 0)
        throw new KnockgateError(
          'KG_RULESET_REFUSED',
          `${restore} refused the chains for table ${table}, nothing was installed: ${complaint(r)}`,
        );
    }
  } finally {
    await exec.run(
      'ipset',
      ['-exist', 'restore'],
      grantSets(temp)
        .map((s) => `destroy ${s.name}\n`)
        .join(''),
    );
  }
  return 'iptables-restore --test';
}

/** The real chain names, with temporary sets of the same types in place of the grant sets. */
function checkNames(names: IptablesNames): IptablesNames {
  const p = `kgck${process.pid}`;
  return { ...names, sets: { 4: { ip: `${p}_g4`, net: `${p}_n4` }, 6: { ip: `${p}_g6`, net: `${p}_n6` } } };
}

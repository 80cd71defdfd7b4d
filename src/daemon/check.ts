/**
 * What `knockgated --check`, `--print-ruleset` and the lockout guard do, past the config and the
 * files it names (compose.ts readConfiguredFiles, which the caller has run):
 *   - checkFirewall(): with `firewall: nftables`, the table this config renders (installBatch,
 *     with no grants) is handed to nftables to check, not to commit (gates/nft-check.ts), in this
 *     process's network namespace, which is the daemon's. Throws KG_FIREWALL_UNAVAILABLE (69)
 *     when nftables does not answer, KG_RULESET_REFUSED (78) with nft's reason when it refuses;
 *   - with `firewall: iptables`, the chains and sets (gates/iptables-check.ts: the restore text is
 *     parsed by iptables-restore --test, which has no kernel-side dry run);
 *   - printedRuleset(): that table as nft text (gates/nftables-ruleset-text.ts), or the iptables
 *     gate's restore inputs (gates/iptables-ruleset-text.ts);
 *   - guardLockout(): the established sessions that the table would shut out of their next
 *     connection (core/lockout.ts), logged as warnings; with `strict`, KG_LOCKOUT_RISK (78).
 * None of them changes the kernel, takes the table's lock or writes a file.
 */

import type { Config } from '../config/config.js';
import { KnockgateError } from '../core/errors.js';
import { describeRisk, lockoutRisks, type Risk } from '../core/lockout.js';
import { IptablesGate } from '../gates/iptables.js';
import { checkIptables } from '../gates/iptables-check.js';
import { iptablesNames } from '../gates/iptables-ruleset.js';
import { iptablesRulesetText } from '../gates/iptables-ruleset-text.js';
import { checkNftBatch } from '../gates/nft-check.js';
import { createNftExecutor } from '../gates/nft-runner.js';
import { grantsFromListing, installBatch } from '../gates/nftables-ruleset.js';
import { rulesetText } from '../gates/nftables-ruleset-text.js';
import type { ActiveGrant, GateLayout } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { ConfiguredFiles } from './compose.js';
import { establishedSessions } from './established-sessions.js';
import { gateLayout } from './layout.js';
import { acceptedSteps } from '../core/totp-sequence.js';

/**
 * The layout the daemon would install at start: fixed sequences, each one-time door's current one,
 * and each time-based door's sequences accepted at `nowUnixMs`.
 */
export function startLayout(config: Config, files: ConfiguredFiles, nowUnixMs = Date.now()): GateLayout {
  return gateLayout(config, (door, i) => {
    const secret = files.totpSecrets.get(i);
    if (door.totp !== null && secret !== undefined) return acceptedSteps(secret, door.totp.parameters, nowUnixMs);
    return door.sequence ?? files.oneTimeSequences.get(i)?.current()?.steps ?? null;
  });
}

/** One line for --check's output: what was checked, and how. */
export async function checkFirewall(config: Config, files: ConfiguredFiles): Promise<string> {
  if (config.firewall === 'none') return 'firewall: none: no table to check';
  if (config.firewall === 'iptables') {
    const via = await checkIptables(config.nftTable, startLayout(config, files));
    const n = iptablesNames(config.nftTable);
    return `iptables: chains ${n.input}, ${n.forward}, ${n.mangle}, ${n.raw} checked (${via}, parsed with every set looked up; the kernel has no dry run for them), not installed`;
  }
  const what = `table inet ${config.nftTable} as ${config.file} renders it (nft_table: ${config.nftTable}; a table of that name that knockgate does not own cannot be shared)`;
  const via = await checkNftBatch(installBatch(config.nftTable, startLayout(config, files), []), what);
  return `nftables: table inet ${config.nftTable} checked by the kernel (${via}, dry run), not installed`;
}

export function printedRuleset(config: Config, files: ConfiguredFiles): string {
  if (config.firewall === 'iptables')
    return `# What knockgated installs for ${config.file} (firewall: iptables).\n${iptablesRulesetText(config.nftTable, startLayout(config, files))}`;
  const head = [
    `# The table knockgated installs for ${config.file} (firewall: ${config.firewall}).`,
    '# Static: the chains, and the sets protected, hidden, untracked and forwarded, fixed by the configuration.',
    '# Dynamic: the elements of grants4 and grants6 are the grants: knockgated adds one per',
    '# source, protocol and port when a knock is accepted, each with a kernel timeout (empty here);',
    '# the maps nat4_* and nat6_* say where a port-forwarded grant goes, with the same key and timeout.',
  ];
  if (config.doors.some((d) => d.totp !== null))
    head.push(
      '# Time-based sequence doors: their hidden ports are those of the periods accepted now; they change as each period turns.',
    );
  if (config.firewall === 'none') head.push('# firewall: none: knockgated installs nothing; shown for comparison.');
  return `${head.join('\n')}\n${rulesetText(config.nftTable, startLayout(config, files))}`;
}

/** The grants the kernel holds in the table now; none when there is no table or it cannot be read. */
export async function liveGrants(config: Config): Promise<readonly ActiveGrant[]> {
  if (config.firewall === 'none') return [];
  if (config.firewall === 'iptables') return new IptablesGate(config.nftTable, () => 0).list().catch(() => []); // as below: start reports it
  const nft = createNftExecutor();
  try {
    const listing = await nft.listTable('inet', config.nftTable);
    return listing === undefined ? [] : grantsFromListing(JSON.parse(listing));
  } catch {
    return []; // the daemon's own install reports a firewall that does not answer
  } finally {
    nft.close();
  }
}

/**
 * Warns of each risk (the log's `lockout-risk` lines, or `warn` text); throws KG_LOCKOUT_RISK under `strict`.
 * `grants` lists the grants the kernel holds: a running daemon's own gate (a reload); by default
 * the table is listed through a worker of its own (start, --check).
 */
export async function guardLockout(
  config: Config,
  options: {
    readonly strict: boolean;
    readonly log?: Logger;
    readonly warn?: (line: string) => void;
    readonly grants?: () => Promise<readonly ActiveGrant[]>;
  },
): Promise<readonly Risk[]> {
  if (config.firewall === 'none') return []; // `none` drops nothing
  let sessions: ReturnType<typeof establishedSessions>;
  try {
    sessions = establishedSessions();
  } catch (err) {
    // Cannot tell: say so; --strict refuses what it cannot rule out.
    const detail = `the lockout guard cannot read this namespace's TCP sessions: ${(err as Error).message}`;
    options.log?.warn({ event: 'lockout-risk', error: (err as Error).message }, detail);
    options.warn?.(`warning: ${detail}`);
    if (options.strict) throw new KnockgateError('KG_LOCKOUT_RISK', `--strict: refusing to start: ${detail}`);
    return [];
  }
  const risks = lockoutRisks(config, sessions, await (options.grants ?? (() => liveGrants(config)))());
  for (const r of risks) {
    const fields = { event: 'lockout-risk', port: `${r.endpoint.port}/${r.endpoint.proto}`, source: r.remoteAddress };
    options.log?.warn(fields, describeRisk(r));
    options.warn?.(`warning: ${describeRisk(r)}`);
  }
  if (options.strict && risks.length > 0) {
    const first = risks[0] as Risk;
    throw new KnockgateError(
      'KG_LOCKOUT_RISK',
      `--strict: refusing to start: ${risks.length} established session${risks.length === 1 ? '' : 's'} would be shut out of the next connection (first: from ${first.remoteAddress} to port ${first.endpoint.port}/${first.endpoint.proto}); nothing was changed`,
    );
  }
  return risks;
}

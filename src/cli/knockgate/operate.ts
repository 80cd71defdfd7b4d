/**
 * The operator's commands, answered by a running knockgated over its control socket
 * (control/protocol.ts): `status`, `grants`, `revoke`, `extend`, `open`, `reload`. Each prints a short
 * human form, or with --json the daemon's answer as it came.
 *
 * Which daemon: --socket PATH; else --table NAME (or --config FILE, whose nft_table is read) in
 * this network namespace; else the one knockgated whose socket is in /run/knockgate for this
 * namespace (several: the operator must choose). Exit statuses: 0 done; 1 nothing matched
 * (KG_NO_MATCH, as grep); 64 bad arguments; 69 no daemon answers; 77 not root; others as the
 * daemon's error says.
 */

import { readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { askDaemon } from '../../control/client.js';
import type { ControlOp, ControlResults, GrantView, SelectorInput } from '../../control/protocol.js';
import { controlSocketPath } from '../../control/socket-path.js';
import { formatDurationMs } from '../../core/duration.js';
import { KnockgateError } from '../../core/errors.js';
import { MAX_OPERATOR_TEXT_CHARS } from '../../core/limits.js';
import { RUN_DIR } from '../../stores/table-lock.js';
import { parsePortList, parseSeconds } from './option-parsers.js';

interface Target {
  socket?: string;
  table?: string;
  config?: string;
  json?: boolean;
}

interface SelectFlags extends Target {
  address?: string;
  door?: string;
  client?: string;
  all?: boolean;
}

function withTarget(cmd: Command): Command {
  return cmd
    .option('--table <name>', "the daemon's nft_table (default: the one daemon running in this network namespace)")
    .option('-c, --config <file>', "the daemon's configuration (its nft_table names the daemon)")
    .option('--socket <path>', 'the control socket itself')
    .option('--json', 'print the answer as JSON');
}

function withSelector(cmd: Command): Command {
  return withTarget(
    cmd
      .argument('[id]', 'a grant id, or its first 8 or more characters (from knockgate grants)')
      .option('--address <address[/prefix]>', 'grants for this address, or inside this prefix')
      .option('--door <name>', "this door's grants")
      .option('--client <name>', "this client's grants")
      .option('--all', 'every grant'),
  );
}

export function addOperateCommands(program: Command): void {
  withTarget(
    program.command('status').description('what a running knockgated is doing: doors, sensors, grants, counters'),
  ).action(async (o: Target) => print(o, await ask(o, { op: 'status' }), formatStatus));
  withTarget(
    program.command('grants').description('who holds access now: address, ports, door, client, until when'),
  ).action(async (o: Target) => print(o, await ask(o, { op: 'grants' }), formatGrants));
  withSelector(program.command('revoke').description('close grants now (their stop commands run)')).action(
    async (id: string | undefined, o: SelectFlags) =>
      print(o, await ask(o, { op: 'revoke', select: selector(id, o) }), (r) => lines(r.revoked, 'revoked')),
  );
  withSelector(
    program
      .command('extend')
      .description('make grants run until a time from now (never shorter than they run already)')
      .requiredOption('--for <duration>', 'time left from now, such as 30m or 2h', parseSeconds),
  ).action(async (id: string | undefined, o: SelectFlags & { for: number }) =>
    print(o, await ask(o, { op: 'extend', select: selector(id, o), duration_s: o.for }), (r) =>
      [lines(r.extended, 'extended'), lines(r.unchanged, 'already runs longer:')].filter(Boolean).join('\n'),
    ),
  );
  withTarget(
    program
      .command('open')
      .description('grant access as an operator, recorded with a reason (no knock needed)')
      .argument('<door>', 'the door whose ports open')
      .argument('<address>', 'ADDRESS or ADDRESS/PREFIX')
      .requiredOption('--reason <text>', 'why (recorded in the log)')
      .option('--ports <list>', "ports of the door to open, such as 22/tcp (default: all the door's)", parsePortList)
      .option('--for <duration>', "how long (default: the door's duration)", parseSeconds),
  ).action(
    async (
      door: string,
      address: string,
      o: Target & { reason: string; ports?: { proto: string; port: number }[]; for?: number },
    ) => {
      const ports = o.ports?.map((e) => `${e.port}/${e.proto}`);
      const r = await ask(o, { op: 'open', door, source: address, reason: o.reason, ports, duration_s: o.for });
      print(o, r, (x) => lines([x.grant], x.verdict));
    },
  );
  withTarget(
    program
      .command('reload')
      .description(
        'make knockgated read its configuration again: applied whole, or refused with the reason (exit 78) and the old one kept',
      ),
  ).action(async (o: Target) => print(o, await ask(o, { op: 'reload' }), formatReload));
}

function formatReload(r: ControlResults['reload']): string {
  const out = [`reloaded ${r.config}`];
  const list = (what: string, names: readonly string[]) => {
    if (names.length > 0) out.push(`  ${what}: ${names.join(', ')}`);
  };
  list('doors added', r.doors_added);
  list('doors removed', r.doors_removed);
  list('doors changed', r.doors_changed);
  for (const [door, names] of Object.entries(r.clients_added)) list(`clients added to ${door}`, names);
  for (const [door, names] of Object.entries(r.clients_removed)) list(`clients removed from ${door}`, names);
  if (r.server_key_changed) out.push('  server key changed');
  if (out.length === 1) out.push('  no door changed');
  out.push(`  grants kept: ${r.grants_kept}; knock sequences started over: ${r.sequences_reset}`);
  return out.join('\n');
}

function selector(id: string | undefined, o: SelectFlags): SelectorInput {
  return { id, source: o.address, door: o.door, client: o.client, all: o.all === true ? true : undefined };
}

async function ask<O extends ControlOp>(
  o: Target,
  request: { readonly op: O } & Readonly<Record<string, unknown>>,
): Promise<ControlResults[O]> {
  return askDaemon(await socketOf(o), { ...request, operator: operatorName() });
}

/**
 * Who asks, for the daemon's log and audit trail: the sudo user if there is one (the socket is
 * root's), else the login name, else `uid:N` (a uid without a passwd entry has no name).
 */
function operatorName(): string {
  let name = process.env.SUDO_USER;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = `uid:${process.getuid?.() ?? '?'}`;
    }
  }
  return name.replace(/\p{Cc}/gu, '?').slice(0, MAX_OPERATOR_TEXT_CHARS) || 'unknown';
}

async function socketOf(o: Target): Promise<string> {
  const named = [o.socket, o.table, o.config].filter((v) => v !== undefined).length;
  if (named > 1) throw new KnockgateError('KG_USAGE', 'give one of --socket, --table and --config');
  if (o.socket !== undefined) return o.socket;
  if (o.table !== undefined) return controlSocketPath(o.table);
  if (o.config !== undefined) return controlSocketPath(loadConfig(o.config).nftTable);
  const netns = statSync('/proc/self/ns/net').ino;
  let found: string[];
  try {
    found = readdirSync(RUN_DIR).filter((f) => f.endsWith(`.${netns}.sock`));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new KnockgateError(
        'KG_CONTROL_DENIED',
        `${RUN_DIR}: permission denied; the control socket is root's only (use sudo)`,
      );
    found = [];
  }
  // A daemon killed with SIGKILL leaves its socket, and namespace inodes are reused: keep the live ones.
  const live = await Promise.all(found.map((f) => answers(`${RUN_DIR}/${f}`)));
  found = found.filter((_, i) => live[i]);
  if (found.length === 1) return `${RUN_DIR}/${found[0]}`;
  if (found.length === 0)
    throw new KnockgateError(
      'KG_CONTROL_UNAVAILABLE',
      `no knockgated runs in this network namespace (no control socket in ${RUN_DIR})`,
    );
  const tables = found.map((f) => f.slice(0, -`.${netns}.sock`.length));
  throw new KnockgateError(
    'KG_USAGE',
    `several knockgated run here (tables ${tables.join(', ')}); choose one with --table`,
  );
}

/** Whether something accepts connections at `path` (a dead daemon's socket refuses them). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function print<T>(o: Target, result: T, human: (r: T) => string): void {
  process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${human(result)}\n`);
}

function lines(grants: readonly GrantView[], verb: string): string {
  return grants
    .map(
      (g) =>
        `${verb} ${g.id.slice(0, 8)} ${g.source} door ${g.door}${g.ports.length ? ` ${g.ports.join(',')}` : ''}${g.remaining_s > 0 ? ` until ${g.until}` : ''}`,
    )
    .join('\n');
}

function formatGrants(grants: readonly GrantView[]): string {
  if (grants.length === 0) return 'no grants';
  const rows = grants.map((g) => [
    g.id.slice(0, 8),
    g.door,
    g.source,
    g.ports.join(',') || '-',
    g.client ?? '-',
    g.since,
    g.until,
    formatDurationMs(g.remaining_s * 1000),
  ]);
  return table(['ID', 'DOOR', 'SOURCE', 'PORTS', 'CLIENT', 'SINCE', 'UNTIL', 'LEFT'], rows);
}

function formatStatus(s: ControlResults['status']): string {
  const out = [
    `knockgated ${s.version}, pid ${s.pid}, up ${formatDurationMs(s.uptime_s * 1000)}, table ${s.table} (${s.config})`,
    `firewall: ${s.firewall.kind}${s.firewall.transport ? ` via ${s.firewall.transport}` : ''}${s.firewall.enforcing ? '' : ' (changes no firewall)'}`,
    `interfaces: ${s.interfaces.join(', ')}; sensors: ${s.sensors.join(', ') || 'none'}`,
    'doors:',
    table(
      ['  NAME', 'KIND', 'LISTENS', 'OPENS', 'FOR', 'GRANTS'],
      s.doors.map((d) => [
        `  ${d.name}`,
        d.kind,
        d.listen ? `${d.listen.port}/udp (${d.listen.capture})` : '-',
        d.opens.join(',') || '-',
        formatDurationMs(d.duration_s * 1000),
        String(d.grants),
      ]),
    ),
    `grants: ${s.grants_active} active; pending stop commands: ${s.pending_stop_commands}`,
  ];
  if (s.replay) out.push(`replay store: ${s.replay.entries} of ${s.replay.capacity} entries`);
  const counters = Object.entries(s.counters).map(([k, v]) => `${k}=${v}`);
  out.push(`counters: ${counters.join(' ') || 'none yet'}`);
  return out.join('\n');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

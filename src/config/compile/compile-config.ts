/**
 * compile(): turns the schema-checked raw configuration into the frozen Config the daemon runs on.
 * The schema (schema.ts) has already checked every value's shape; this applies the rules that
 * span fields and doors, in file order: the global settings, the rules across doors
 * (door-registry.ts), then each door by its kind (knock-door.ts, spa-door.ts, fwknop-door.ts).
 *
 * Contract: every failure is a ConfigError with the file, line and key (exit code 78); paths in the
 * file (log, PID, journal, pending commands, audit trail, one-time files, access.conf) become absolute against
 * the configuration file's directory; nothing is read but an access.conf a door names.
 */

import type { Door } from '../../core/door.js';
import { MAX_IPTABLES_TABLE_NAME_CHARS } from '../../core/limits.js';
import type { Config } from '../config.js';
import type { LocatedYaml } from '../located-yaml.js';
import { AUDIT_LOG_NONE, type RawConfig, type RawDoor } from '../schema.js';
import { compileContext, failAt, type CompileContext } from './context.js';
import { compileDoorCommon, doorPath } from './door-common.js';
import { registerDoors } from './door-registry.js';
import { compileForward } from './forward.js';
import { compileFwknopDoor } from './fwknop-door.js';
import { compileKnockDoor } from './knock-door.js';
import { compilePreviousServerKey } from './previous-server-key.js';
import { compileSensor } from './sensor.js';
import { compileSpaDoor } from './spa-door.js';

export function compileConfig(src: LocatedYaml, raw: RawConfig, secretsProtected: boolean): Config {
  if (raw.interfaces.includes('any') && raw.interfaces.length > 1)
    failAt(src, ['interfaces'], '"any" already covers every interface; list it alone');
  if (raw.firewall === 'iptables' && raw.nft_table.length > MAX_IPTABLES_TABLE_NAME_CHARS)
    failAt(
      src,
      ['nft_table'],
      `with firewall: iptables the name goes into chain and ipset names (kg_${raw.nft_table}_fwd): at most ${MAX_IPTABLES_TABLE_NAME_CHARS} characters`,
    );
  raw.late_interfaces.forEach((name, i) => {
    if (!raw.interfaces.includes(name))
      failAt(src, ['late_interfaces', i], `${JSON.stringify(name)} is not in interfaces: list it there too`);
  });
  const ctx = compileContext(src, raw, secretsProtected, registerDoors(src, raw));
  const doors = raw.doors.map((d, i) => compileDoor(ctx, d, i));
  const sensor = compileSensor(ctx, doors);
  if (raw.metrics && !isLoopback(raw.metrics.address))
    ctx.warnings.push(
      `metrics.address ${raw.metrics.address} is not a loopback address: anyone who reaches it sees door names and counts (keep it behind the firewall)`,
    );
  return Object.freeze({
    file: src.file,
    interfaces: Object.freeze([...raw.interfaces]),
    lateInterfaces: Object.freeze([...raw.late_interfaces]),
    interfacesLine: src.lineOf(['interfaces']) ?? null,
    sensor,
    exemptInterfaces: Object.freeze([...raw.exempt_interfaces]),
    firewall: raw.firewall,
    nftTable: raw.nft_table,
    maxTrackedSequences: raw.max_tracked_sequences,
    logLevel: raw.log_level,
    logFile: raw.log_file ? ctx.resolvePath(raw.log_file) : null,
    syslog: raw.syslog,
    pidFile: raw.pid_file ? ctx.resolvePath(raw.pid_file) : null,
    pendingCommands: ctx.resolvePath(raw.pending_commands),
    audit:
      raw.audit_log === AUDIT_LOG_NONE
        ? null
        : Object.freeze({
            file: ctx.resolvePath(raw.audit_log),
            maxBytes: raw.audit_log_max_bytes,
            keep: raw.audit_log_keep,
          }),
    spa: raw.spa
      ? Object.freeze({
          serverKeyFile: raw.spa.server_key !== undefined ? ctx.resolvePath(raw.spa.server_key) : null,
          ...compilePreviousServerKey(ctx),
          freshnessMs: raw.spa.freshness,
          replayJournal: ctx.resolvePath(raw.spa.replay_journal),
          maxReplayEntries: raw.spa.max_replay_entries,
          maxReplayEntriesPerClient: raw.spa.max_replay_entries_per_client,
        })
      : null,
    metrics: raw.metrics ? Object.freeze({ address: raw.metrics.address, port: raw.metrics.port }) : null,
    doors: Object.freeze(doors),
    warnings: Object.freeze(ctx.warnings),
  });
}

/** One door: the rules every kind shares, its kind's compiler, then where its ports are guarded. */
function compileDoor(ctx: CompileContext, d: RawDoor, i: number): Door {
  const door = compileDoorOfKind(ctx, d, i);
  const forward = compileForward(ctx, d, i);
  return forward === null ? door : Object.freeze({ ...door, forward });
}

function compileDoorOfKind(ctx: CompileContext, d: RawDoor, i: number): Door {
  const common = compileDoorCommon(ctx, d, i);
  if (d.spa && d.fwknop)
    ctx.fail(doorPath(i, 'fwknop'), 'a door is either native SPA ("spa") or fwknop-compatible ("fwknop"), not both');
  if (!d.fwknop) {
    for (const key of ['access_conf', 'stanzas'] as const)
      if (d[key] !== undefined) ctx.fail(doorPath(i, key), 'only for fwknop doors');
  }
  if (d.fwknop) return compileFwknopDoor(ctx, d, d.fwknop, i, common);
  if (d.spa) return compileSpaDoor(ctx, d, d.spa, i, common);
  return compileKnockDoor(ctx, d, i, common);
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

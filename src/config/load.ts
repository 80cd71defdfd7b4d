/**
 * Reads, validates and compiles knockgate.yaml. Every failure is a ConfigError that names the file,
 * the line and the key (exit code 78); nothing is half-applied because nothing is applied here.
 */

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../core/errors.js';
import { endpointKey, formatEndpoint } from '../core/endpoint.js';
import type { Door, SpaClient } from '../core/door.js';
import { ed25519PublicFromRaw } from '../core/spa/keys.js';
import { parseTcpFlags, type TcpFlagCondition } from '../core/tcp-flags.js';
import { formatIPAddress, parseIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import { MAX_CONFIG_FILE_BYTES } from '../core/limits.js';
import type { Config } from './config.js';
import { formatKeyPath, parseLocatedYaml, type LocatedYaml } from './located-yaml.js';
import { configSchema, DEFAULT_TCP_FLAGS, type RawConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/knockgate/knockgate.yaml';

export function loadConfig(path: string): Config {
  const file = resolve(path);
  let text: string;
  let secretsProtected = false;
  try {
    const st = statSync(file);
    secretsProtected = (st.mode & 0o044) === 0;
    if (!st.isFile()) throw new ConfigError(file, undefined, undefined, 'not a regular file');
    if (st.size > MAX_CONFIG_FILE_BYTES) throw new ConfigError(file, undefined, undefined, `larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(file, undefined, undefined, `cannot read: ${(err as Error).message}`);
  }
  return parseConfigText(file, text, secretsProtected);
}

/** Validates and compiles configuration text; `file` is used for messages and relative paths. */
/**
 * Validates and compiles configuration text; `file` is used for messages and relative paths.
 * `secretsProtected`: the file is readable by its owner only, so it may hold secret keys.
 */
export function parseConfigText(file: string, text: string, secretsProtected = true): Config {
  const src = parseLocatedYaml(file, text);
  const parsed = configSchema.safeParse(src.value ?? {});
  if (!parsed.success) throw firstInFile(parsed.error.issues.map((issue) => issueToError(src, issue)));
  return compile(src, parsed.data, secretsProtected);
}

/** Reports the error that comes first in the file, so the user fixes errors top to bottom. */
function firstInFile(errors: readonly ConfigError[]): ConfigError {
  return errors.reduce((best, e) => ((e.line ?? Infinity) < (best.line ?? Infinity) ? e : best));
}

function issueToError(src: LocatedYaml, issue: ZodIssue): ConfigError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] as string;
    return new ConfigError(src.file, src.lineOfKey(issue.path, key), formatKeyPath([...issue.path, key]), 'unknown key');
  }
  const key = formatKeyPath(issue.path) || undefined;
  let message = issue.message;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') message = 'is required';
  else if (issue.code === 'invalid_type') message = `expected ${issue.expected}, got ${issue.received}`;
  else if (issue.code === 'invalid_enum_value') message = `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(issue.received)}`;
  return new ConfigError(src.file, src.lineOf(issue.path), key, message);
}

function compile(src: LocatedYaml, raw: RawConfig, secretsProtected: boolean): Config {
  const fail = (path: (string | number)[], message: string): never => {
    throw new ConfigError(src.file, src.lineOf(path), formatKeyPath(path), message);
  };
  if (raw.interfaces.includes('any') && raw.interfaces.length > 1) fail(['interfaces'], '"any" already covers every interface; list it alone');

  const names = new Set<string>();
  const openKeys = new Map<number, string>();
  const spaPorts = new Map<number, string>();
  raw.doors.forEach((d, i) => {
    if (names.has(d.name)) fail(['doors', i, 'name'], `door name ${JSON.stringify(d.name)} is used twice`);
    names.add(d.name);
    for (const e of d.open) openKeys.set(endpointKey(e.proto, e.port), d.name);
    if (d.spa) {
      const other = spaPorts.get(d.spa.port);
      if (other !== undefined) fail(['doors', i, 'spa', 'port'], `door ${JSON.stringify(other)} already receives SPA on ${d.spa.port}/udp`);
      spaPorts.set(d.spa.port, d.name);
    }
  });
  raw.doors.forEach((d, i) => {
    const owner = d.spa ? openKeys.get(endpointKey('udp', d.spa.port)) : undefined;
    if (d.spa && owner !== undefined) fail(['doors', i, 'spa', 'port'], `${d.spa.port}/udp is a port that door ${JSON.stringify(owner)} opens`);
  });
  const clientIds = new Map<string, string>();

  const doors: Door[] = raw.doors.map((d, i): Door => {
    const at = (...key: (string | number)[]): (string | number)[] => ['doors', i, ...key];
    if (raw.firewall === 'nftables' && d.open.length === 0) fail(at('open'), 'with firewall: nftables a door must open at least one port');
    const hasShell = d.start_shell !== undefined || d.start_shell_6 !== undefined || d.stop_shell !== undefined || d.stop_shell_6 !== undefined;
    if (hasShell && (d.start_command !== undefined || d.stop_command !== undefined)) {
      fail(at(d.start_command !== undefined ? 'start_command' : 'stop_command'), 'give argv commands (start_command/stop_command) or shell commands (start_shell/stop_shell), not both');
    }
    if (raw.firewall === 'none' && d.start_command === undefined && !hasShell) fail(at('start_command'), 'with firewall: none a door must have a start_command, or it does nothing');
    let target: string | null = null;
    if (d.target !== undefined) {
      const parsed = parseIPAddress(d.target);
      if (parsed === null) fail(at('target'), `expected an IP address, got ${JSON.stringify(d.target)}`);
      target = formatIPAddress(parsed as IPAddressBytes);
    }
    const shell = hasShell
      ? Object.freeze({
          start4: d.start_shell ?? '',
          start6: d.start_shell_6 ?? d.start_shell ?? '',
          stop4: d.stop_shell ?? '',
          stop6: d.stop_shell_6 ?? d.stop_shell ?? '',
        })
      : null;
    if (raw.firewall === 'none' && d.open.length > 0) fail(at('open'), 'with firewall: none nothing can be opened; remove "open" or choose firewall: nftables');
    const seen = new Set<number>();
    d.open.forEach((e, s) => {
      const k = endpointKey(e.proto, e.port);
      if (seen.has(k)) fail(at('open', s), `${formatEndpoint(e)} is listed twice`);
      seen.add(k);
    });
    const common = {
      name: d.name,
      open: Object.freeze(d.open.map((e) => Object.freeze(e))),
      durationS: d.duration / 1000,
      startCommand: d.start_command ? Object.freeze([...d.start_command]) : null,
      stopCommand: d.stop_command ? Object.freeze([...d.stop_command]) : null,
      commandTimeoutMs: d.command_timeout,
      shell,
      target,
    };
    if (d.spa) {
      for (const key of ['sequence', 'one_time_sequences', 'sequence_timeout', 'tcp_flags', 'hide_knock_ports'] as const) {
        if (d[key] !== undefined) fail(at(key), 'only for knock-sequence doors; this is an SPA door');
      }
      if (raw.spa === undefined) fail(at('spa'), 'SPA doors need the top-level "spa:" section (server_key, ...)');
      if (!d.clients || d.clients.length === 0) fail(at('clients'), 'an SPA door needs at least one client (knockgate add-client prints one)');
      const doorMaxS = (d.max_duration ?? d.duration) / 1000;
      if (doorMaxS < common.durationS) fail(at('max_duration'), 'must not be shorter than duration');
      const clients: SpaClient[] = (d.clients ?? []).map((c, j) => {
        const cat = (...key: (string | number)[]): (string | number)[] => at('clients', j, ...key);
        const idHex = Buffer.from(c.id).toString('hex');
        const dup = clientIds.get(idHex);
        if (dup !== undefined) fail(cat('id'), `client id already used by ${dup}`);
        clientIds.set(idHex, `${d.name}/${c.name}`);
        if ((c.psk === undefined) === (c.public_key === undefined)) fail(cat(), 'give exactly one of "psk" and "public_key"');
        if (c.psk !== undefined && !secretsProtected) {
          fail(cat('psk'), `this file holds a secret key but is readable by group or others; chmod 600 ${src.file}`);
        }
        const allow = c.allow ?? d.open;
        allow.forEach((e, s) => {
          if (!seen.has(endpointKey(e.proto, e.port))) fail(cat('allow', s), `${formatEndpoint(e)} is not among the door's "open" ports`);
        });
        const maxDurationS = (c.max_duration ?? d.max_duration ?? d.duration) / 1000;
        if (maxDurationS > doorMaxS) fail(cat('max_duration'), `must not exceed the door's max_duration of ${doorMaxS}s`);
        return Object.freeze({
          name: c.name,
          id: c.id,
          idHex,
          mode: c.psk !== undefined ? ('psk' as const) : ('ed25519' as const),
          ...(c.psk !== undefined ? { psk: c.psk } : { publicKey: ed25519PublicFromRaw(c.public_key as Uint8Array) }),
          allow: Object.freeze([...allow]),
          maxDurationS,
          otherAddress: c.other_address,
          minPrefix: Object.freeze({ 4: c.widest_prefix.ipv4, 6: c.widest_prefix.ipv6 }),
        });
      });
      return Object.freeze({
        ...common,
        spa: Object.freeze({ port: d.spa.port, capture: d.spa.capture, clients: Object.freeze(clients) }),
        sequence: null,
        oneTimeSequencesFile: null,
        sequenceTimeoutMs: 0,
        tcpFlags: parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition,
        hideKnockPorts: false,
      });
    }
    for (const key of ['clients', 'max_duration'] as const) {
      if (d[key] !== undefined) fail(at(key), 'only for SPA doors; this is a knock-sequence door');
    }
    if ((d.sequence === undefined) === (d.one_time_sequences === undefined)) {
      fail(['doors', i], 'give exactly one of "sequence", "one_time_sequences" and "spa"');
    }
    d.sequence?.forEach((step, s) => {
      const owner = openKeys.get(endpointKey(step.proto, step.port));
      if (owner !== undefined) {
        fail(at('sequence', s), `${formatEndpoint(step)} is a port that door ${JSON.stringify(owner)} opens; a knock port must not be a protected port`);
      }
      const spaOwner = step.proto === 'udp' ? spaPorts.get(step.port) : undefined;
      if (spaOwner !== undefined) fail(at('sequence', s), `${formatEndpoint(step)} is the SPA port of door ${JSON.stringify(spaOwner)}`);
    });
    return Object.freeze({
      ...common,
      spa: null,
      sequence: d.sequence ? Object.freeze(d.sequence.map((e) => Object.freeze(e))) : null,
      oneTimeSequencesFile: d.one_time_sequences ? resolve(dirname(src.file), d.one_time_sequences) : null,
      sequenceTimeoutMs: d.sequence_timeout ?? 10_000,
      tcpFlags: Object.freeze(d.tcp_flags ?? (parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition)),
      hideKnockPorts: d.hide_knock_ports ?? true,
    });
  });

  return Object.freeze({
    file: src.file,
    interfaces: Object.freeze([...raw.interfaces]),
    firewall: raw.firewall,
    nftTable: raw.nft_table,
    maxTrackedSequences: raw.max_tracked_sequences,
    logLevel: raw.log_level,
    logFile: raw.log_file ? resolve(dirname(src.file), raw.log_file) : null,
    syslog: raw.syslog,
    pidFile: raw.pid_file ? resolve(dirname(src.file), raw.pid_file) : null,
    spa: raw.spa
      ? Object.freeze({
          serverKeyFile: resolve(dirname(src.file), raw.spa.server_key),
          freshnessMs: raw.spa.freshness,
          replayJournal: resolve(dirname(src.file), raw.spa.replay_journal),
          maxReplayEntries: raw.spa.max_replay_entries,
        })
      : null,
    doors: Object.freeze(doors),
  });
}

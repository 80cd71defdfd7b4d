/**
 * Reads, validates and compiles knockgate.yaml. Every failure is a ConfigError that names the file,
 * the line and the key (exit code 78); nothing is half-applied because nothing is applied here.
 */

import { dirname, resolve } from 'node:path';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../core/errors.js';
import { endpointKey, formatEndpoint } from '../core/endpoint.js';
import type { Door, FwknopStanza, SpaClient } from '../core/door.js';
import { ed25519PublicFromRaw } from '../core/spa/keys.js';
import { ed25519PublicKeyProblem } from '../core/spa/ed25519-point.js';
import { parseTcpFlags, type TcpFlagCondition } from '../core/tcp-flags.js';
import { formatIPAddress, parseIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import { DEFAULT_SEQUENCE_TIMEOUT_MS, MAX_CONFIG_FILE_BYTES } from '../core/limits.js';
import type { Config } from './config.js';
import { formatKeyPath, parseLocatedYaml, type LocatedYaml } from './located-yaml.js';
import { configSchema, DEFAULT_TCP_FLAGS, fwknopStanzaSchema, type RawConfig, type RawFwknopStanza } from './schema.js';
import { importAccessConf } from './fwknop-access-conf.js';
import { readTrustedFile } from './trusted-file.js';
import { parseCidrList } from '../core/cidr.js';
import { fwknopKeysProblem } from '../core/spa/fwknop-wire.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const DEFAULT_CONFIG_FILE = '/etc/knockgate/knockgate.yaml';

export function loadConfig(path: string): Config {
  const file = resolve(path);
  const { data, stat } = readTrustedFile(file, { maxBytes: MAX_CONFIG_FILE_BYTES });
  return parseConfigText(file, data.toString('utf8'), (stat.mode & 0o044) === 0);
}

/**
 * Reads a configuration file (ours, knockd.conf) with the size limit, after the checks of
 * trusted-file.ts (owner, not writable by others, nor its directories); ConfigError otherwise.
 */
export function readConfigFile(file: string): string {
  return readTrustedFile(file, { maxBytes: MAX_CONFIG_FILE_BYTES }).data.toString('utf8');
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
    const listen = d.spa ? { key: 'spa', port: d.spa.port } : d.fwknop ? { key: 'fwknop', port: d.fwknop.port } : null;
    if (listen) {
      const other = spaPorts.get(listen.port);
      if (other !== undefined) fail(['doors', i, listen.key, 'port'], `door ${JSON.stringify(other)} already receives SPA on ${listen.port}/udp`);
      spaPorts.set(listen.port, d.name);
    }
  });
  raw.doors.forEach((d, i) => {
    const listen = d.spa ? { key: 'spa', port: d.spa.port } : d.fwknop ? { key: 'fwknop', port: d.fwknop.port } : null;
    const owner = listen ? openKeys.get(endpointKey('udp', listen.port)) : undefined;
    if (listen && owner !== undefined) fail(['doors', i, listen.key, 'port'], `${listen.port}/udp is a port that door ${JSON.stringify(owner)} opens`);
  });
  const clientIds = new Map<string, string>();
  const spaDoorIds = new Map<string, string>();
  /** Things that load but do not carry over exactly (from imported access.conf files). */
  const warnings: string[] = [];
  const decodeBase64 = (text: string, path: (string | number)[]): Uint8Array => {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())) return fail(path, 'not base64 text');
    return new Uint8Array(Buffer.from(text.trim(), 'base64'));
  };

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
    if (d.spa && d.fwknop) fail(at('fwknop'), 'a door is either native SPA ("spa") or fwknop-compatible ("fwknop"), not both');
    if (!d.fwknop) {
      for (const key of ['access_conf', 'stanzas'] as const) if (d[key] !== undefined) fail(at(key), 'only for fwknop doors');
    }
    if (d.fwknop) {
      for (const key of ['sequence', 'one_time_sequences', 'sequence_timeout', 'tcp_flags', 'hide_knock_ports', 'clients'] as const) {
        if (d[key] !== undefined) fail(at(key), 'not for fwknop doors');
      }
      const doorMaxS = (d.max_duration ?? d.duration) / 1000;
      if (doorMaxS < common.durationS) fail(at('max_duration'), 'must not be shorter than duration');
      const stanzas: FwknopStanza[] = [];
      const compileStanza = (st: RawFwknopStanza, origin: string, path: (string | number)[], fromYaml: boolean): FwknopStanza => {
        const sat = (...key: (string | number)[]): (string | number)[] => [...path, ...key];
        const sources = parseCidrList(st.source);
        if ('error' in sources) return fail(sat('source'), sources.error);
        const destinations = parseCidrList(st.destination);
        if ('error' in destinations) return fail(sat('destination'), destinations.error);
        if ((st.key === undefined) === (st.key_base64 === undefined)) return fail(sat(), 'give exactly one of "key" and "key_base64" (GnuPG stanzas are not supported)');
        if (st.hmac_key !== undefined && st.hmac_key_base64 !== undefined) return fail(sat('hmac_key'), 'give at most one of "hmac_key" and "hmac_key_base64"');
        if (fromYaml && !secretsProtected) return fail(sat(st.key !== undefined ? 'key' : 'key_base64'), `this file holds secret keys but is readable by group or others; chmod 600 ${src.file}`);
        const key = st.key !== undefined ? new Uint8Array(Buffer.from(st.key, 'utf8')) : decodeBase64(st.key_base64 as string, sat('key_base64'));
        const hmacKey = st.hmac_key !== undefined ? new Uint8Array(Buffer.from(st.hmac_key, 'utf8')) : st.hmac_key_base64 !== undefined ? decodeBase64(st.hmac_key_base64, sat('hmac_key_base64')) : null;
        for (const [k, ports] of [['open_ports', st.open_ports], ['restrict_ports', st.restrict_ports]] as const) {
          (ports ?? []).forEach((e, s) => {
            if (k === 'open_ports' && !protectedHere.has(endpointKey(e.proto, e.port)) && raw.firewall !== 'none') {
              fail(sat(k, s), `${formatEndpoint(e)} is not among the door's "open" ports`);
            }
          });
        }
        const hmacType = st.hmac_digest_type.replace('_', '-') as FwknopStanza['hmacType'];
        const problem = fwknopKeysProblem({ key, hmacKey, hmacType, encryptionMode: st.encryption_mode });
        if (problem !== null) return fail(sat(st.key !== undefined ? 'key' : 'key_base64'), problem);
        return Object.freeze({
          origin,
          sources,
          destinations,
          openPorts: st.open_ports ? Object.freeze([...st.open_ports]) : null,
          restrictPorts: Object.freeze([...(st.restrict_ports ?? [])]),
          key,
          hmacKey,
          hmacType,
          encryptionMode: st.encryption_mode,
          accessTimeoutS: (st.fw_access_timeout ?? d.duration) / 1000,
          maxTimeoutS: st.max_fw_timeout !== undefined ? st.max_fw_timeout / 1000 : null,
          requireUsername: st.require_username ?? null,
          requireSourceAddress: st.require_source_address,
          expiresAtS: st.access_expire_epoch ?? null,
        });
      };
      const protectedHere = new Set(d.open.map((e) => endpointKey(e.proto, e.port)));
      if (d.access_conf !== undefined) {
        const accessFile = resolve(dirname(src.file), d.access_conf);
        const imported = importAccessConf(accessFile);
        for (const w of imported.warnings) warnings.push(`${w.file}:${w.line}: ${w.message}`);
        const list = parseYaml(imported.stanzasYaml) as unknown;
        const parsedStanzas = z.array(fwknopStanzaSchema).safeParse(list ?? []);
        if (!parsedStanzas.success) fail(at('access_conf'), `${accessFile}: ${parsedStanzas.error.issues[0]?.message ?? 'invalid'}`);
        (parsedStanzas.data ?? []).forEach((st, n) => stanzas.push(compileStanza(st, `${accessFile} stanza ${n + 1}`, at('access_conf'), false)));
      }
      (d.stanzas ?? []).forEach((st, n) => stanzas.push(compileStanza(st, `${src.file}:${src.lineOf(at('stanzas', n)) ?? '?'}`, at('stanzas', n), true)));
      if (stanzas.length === 0) fail(at('stanzas'), 'a fwknop door needs "stanzas" or "access_conf"');
      return Object.freeze({
        ...common,
        spa: null,
        fwknop: Object.freeze({ port: d.fwknop.port, capture: d.fwknop.capture, stanzas: Object.freeze(stanzas), maxDurationS: doorMaxS }),
        sequence: null,
        oneTimeSequencesFile: null,
        sequenceTimeoutMs: 0,
        tcpFlags: parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition,
        hideKnockPorts: false,
      });
    }
    if (d.spa) {
      for (const key of ['sequence', 'one_time_sequences', 'sequence_timeout', 'tcp_flags', 'hide_knock_ports'] as const) {
        if (d[key] !== undefined) fail(at(key), 'only for knock-sequence doors; this is an SPA door');
      }
      if (raw.spa?.server_key === undefined) fail(at('spa'), 'native SPA doors need the top-level "spa:" section with server_key (knockgate keygen makes one)');
      if (!d.clients || d.clients.length === 0) fail(at('clients'), 'an SPA door needs at least one client (knockgate add-client prints one)');
      // Doors under one server key must differ in door id, or each would accept the other's packets.
      const doorId = d.spa.door_id ?? d.name;
      const sameId = spaDoorIds.get(doorId);
      if (sameId !== undefined) fail(at('spa', 'door_id'), `door id ${JSON.stringify(doorId)} is already door ${JSON.stringify(sameId)}'s: SPA doors sharing the server key need distinct door ids`);
      spaDoorIds.set(doorId, d.name);
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
        if (c.public_key !== undefined) {
          const problem = ed25519PublicKeyProblem(c.public_key);
          if (problem !== null) {
            fail(cat('public_key'), problem === 'small-order'
              ? 'is a small-order Ed25519 point: signatures by it prove nothing (anyone can make one); use the key `knockgate add-client` prints'
              : `is not a canonically encoded Ed25519 public key (${problem}); use the key \`knockgate add-client\` prints`);
          }
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
          requireAddress: c.require_address,
          minPrefix: Object.freeze({ 4: c.widest_prefix.ipv4, 6: c.widest_prefix.ipv6 }),
        });
      });
      return Object.freeze({
        ...common,
        fwknop: null,
        spa: Object.freeze({ port: d.spa.port, capture: d.spa.capture, doorId, clients: Object.freeze(clients) }),
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
      fwknop: null,
      sequence: d.sequence ? Object.freeze(d.sequence.map((e) => Object.freeze(e))) : null,
      oneTimeSequencesFile: d.one_time_sequences ? resolve(dirname(src.file), d.one_time_sequences) : null,
      sequenceTimeoutMs: d.sequence_timeout ?? DEFAULT_SEQUENCE_TIMEOUT_MS,
      tcpFlags: Object.freeze(d.tcp_flags ?? (parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition)),
      hideKnockPorts: d.hide_knock_ports ?? true,
    });
  });

  return Object.freeze({
    file: src.file,
    interfaces: Object.freeze([...raw.interfaces]),
    interfacesLine: src.lineOf(['interfaces']) ?? null,
    exemptInterfaces: Object.freeze([...raw.exempt_interfaces]),
    firewall: raw.firewall,
    nftTable: raw.nft_table,
    maxTrackedSequences: raw.max_tracked_sequences,
    logLevel: raw.log_level,
    logFile: raw.log_file ? resolve(dirname(src.file), raw.log_file) : null,
    syslog: raw.syslog,
    pidFile: raw.pid_file ? resolve(dirname(src.file), raw.pid_file) : null,
    pendingCommands: resolve(dirname(src.file), raw.pending_commands),
    spa: raw.spa
      ? Object.freeze({
          serverKeyFile: raw.spa.server_key !== undefined ? resolve(dirname(src.file), raw.spa.server_key) : null,
          freshnessMs: raw.spa.freshness,
          replayJournal: resolve(dirname(src.file), raw.spa.replay_journal),
          maxReplayEntries: raw.spa.max_replay_entries,
          maxReplayEntriesPerClient: raw.spa.max_replay_entries_per_client,
        })
      : null,
    doors: Object.freeze(doors),
    warnings: Object.freeze(warnings),
  });
}

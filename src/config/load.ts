/**
 * Reads, validates and compiles knockgate.yaml. Every failure is a ConfigError that names the file,
 * the line and the key (exit code 78); nothing is half-applied because nothing is applied here.
 */

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../core/errors.js';
import { endpointKey, formatEndpoint } from '../core/endpoint.js';
import type { Door } from '../core/door.js';
import { MAX_CONFIG_FILE_BYTES } from '../core/limits.js';
import type { Config } from './config.js';
import { formatKeyPath, parseLocatedYaml, type LocatedYaml } from './located-yaml.js';
import { configSchema, type RawConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/knockgate/knockgate.yaml';

export function loadConfig(path: string): Config {
  const file = resolve(path);
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new ConfigError(file, undefined, undefined, 'not a regular file');
    if (st.size > MAX_CONFIG_FILE_BYTES) throw new ConfigError(file, undefined, undefined, `larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(file, undefined, undefined, `cannot read: ${(err as Error).message}`);
  }
  return parseConfigText(file, text);
}

/** Validates and compiles configuration text; `file` is used for messages and relative paths. */
export function parseConfigText(file: string, text: string): Config {
  const src = parseLocatedYaml(file, text);
  const parsed = configSchema.safeParse(src.value ?? {});
  if (!parsed.success) throw firstInFile(parsed.error.issues.map((issue) => issueToError(src, issue)));
  return compile(src, parsed.data);
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

function compile(src: LocatedYaml, raw: RawConfig): Config {
  const fail = (path: (string | number)[], message: string): never => {
    throw new ConfigError(src.file, src.lineOf(path), formatKeyPath(path), message);
  };
  if (raw.interfaces.includes('any') && raw.interfaces.length > 1) fail(['interfaces'], '"any" already covers every interface; list it alone');

  const names = new Set<string>();
  const openKeys = new Map<number, string>();
  raw.doors.forEach((d, i) => {
    if (names.has(d.name)) fail(['doors', i, 'name'], `door name ${JSON.stringify(d.name)} is used twice`);
    names.add(d.name);
    for (const e of d.open) openKeys.set(endpointKey(e.proto, e.port), d.name);
  });

  const doors: Door[] = raw.doors.map((d, i) => {
    const at = (key: string): (string | number)[] => ['doors', i, key];
    if ((d.sequence === undefined) === (d.one_time_sequences === undefined)) {
      fail(['doors', i], 'give exactly one of "sequence" and "one_time_sequences"');
    }
    if (raw.firewall === 'nftables' && d.open.length === 0) fail(at('open'), 'with firewall: nftables a door must open at least one port');
    if (raw.firewall === 'none' && d.start_command === undefined) fail(at('start_command'), 'with firewall: none a door must have a start_command, or it does nothing');
    if (raw.firewall === 'none' && d.open.length > 0) fail(at('open'), 'with firewall: none nothing can be opened; remove "open" or choose firewall: nftables');
    d.sequence?.forEach((step, s) => {
      const owner = openKeys.get(endpointKey(step.proto, step.port));
      if (owner !== undefined) {
        fail(['doors', i, 'sequence', s], `${formatEndpoint(step)} is a port that door ${JSON.stringify(owner)} opens; a knock port must not be a protected port`);
      }
    });
    const seen = new Set<number>();
    d.open.forEach((e, s) => {
      const k = endpointKey(e.proto, e.port);
      if (seen.has(k)) fail(['doors', i, 'open', s], `${formatEndpoint(e)} is listed twice`);
      seen.add(k);
    });
    return Object.freeze({
      name: d.name,
      spa: null,
      sequence: d.sequence ? Object.freeze(d.sequence.map((e) => Object.freeze(e))) : null,
      oneTimeSequencesFile: d.one_time_sequences ? resolve(dirname(src.file), d.one_time_sequences) : null,
      sequenceTimeoutMs: d.sequence_timeout,
      tcpFlags: Object.freeze(d.tcp_flags),
      open: Object.freeze(d.open.map((e) => Object.freeze(e))),
      durationS: d.duration / 1000,
      startCommand: d.start_command ? Object.freeze([...d.start_command]) : null,
      stopCommand: d.stop_command ? Object.freeze([...d.stop_command]) : null,
      commandTimeoutMs: d.command_timeout,
      hideKnockPorts: d.hide_knock_ports,
    });
  });

  return Object.freeze({
    file: src.file,
    interfaces: Object.freeze([...raw.interfaces]),
    firewall: raw.firewall,
    nftTable: raw.nft_table,
    maxTrackedSequences: raw.max_tracked_sequences,
    logLevel: raw.log_level,
    doors: Object.freeze(doors),
  });
}

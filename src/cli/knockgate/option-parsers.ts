/**
 * The value parsers of knockgate's options: each returns the parsed value or throws commander's
 * InvalidArgumentError, whose message commander prints after the option's name (exit 64).
 */

import { InvalidArgumentError } from 'commander';
import { KnockgateError } from '../../core/errors.js';
import { parseAddressPrefix, type AddressPrefix } from '../../core/address-prefix.js';
import { parseDurationMs } from '../../core/duration.js';
import { parseEndpoint, type Endpoint } from '../../core/endpoint.js';
import { MAX_GRANT_DURATION_S, MAX_KNOCK_DELAY_MS, MAX_SPA_PORTS } from '../../core/limits.js';

/** Whole milliseconds, 0 to MAX_KNOCK_DELAY_MS. */
export function parseDelay(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_KNOCK_DELAY_MS)
    throw new InvalidArgumentError(`expected whole milliseconds from 0 to ${MAX_KNOCK_DELAY_MS}`);
  return n;
}

/** 22/tcp,443/tcp: 1 to MAX_SPA_PORTS endpoints. */
export function parsePortList(value: string): Endpoint[] {
  const list = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (list.length === 0 || list.length > MAX_SPA_PORTS)
    throw new InvalidArgumentError(`expected 1 to ${MAX_SPA_PORTS} ports like 22/tcp,443/tcp`);
  return list.map((p) => {
    const e = parseEndpoint(p);
    if ('error' in e) throw new InvalidArgumentError(e.error);
    return e;
  });
}

/** A duration such as 30s or 10m, in whole seconds from 1s to MAX_GRANT_DURATION_S. */
export function parseSeconds(value: string): number {
  const ms = parseDurationMs(value);
  if (typeof ms !== 'number') throw new InvalidArgumentError(ms.error);
  if (ms % 1000 !== 0 || ms < 1000 || ms > MAX_GRANT_DURATION_S * 1000)
    throw new InvalidArgumentError(`expected whole seconds from 1s to ${MAX_GRANT_DURATION_S / 3600}h`);
  return ms / 1000;
}

/** ADDRESS or ADDRESS/PREFIX. */
export function parseAllowIp(value: string): AddressPrefix {
  const parsed = parseAddressPrefix(value);
  if ('error' in parsed) throw new InvalidArgumentError(parsed.error);
  return parsed;
}

/** A prefix length, 1 to 128. */
export function parsePrefix(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 128)
    throw new InvalidArgumentError('expected a prefix length such as 24 or 64');
  return n;
}

/** A port number, as parseEndpoint reads one (a protocol suffix is accepted and dropped). */
export function parsePortNumber(value: string): number {
  const e = parseEndpoint(value);
  if ('error' in e) throw new InvalidArgumentError(e.error);
  return e.port;
}

/** --attempts: 1 to 10. */
export function parseAttempts(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10)
    throw new InvalidArgumentError('expected 1 to 10');
  return Number(value);
}

/** A file descriptor number the caller opened for us (`--passphrase-fd 3`, with `3<file` in the shell). */
export function parseFd(value: string): number {
  const n = Number(value);
  if (!/^\d{1,4}$/.test(value) || n > 1023)
    throw new InvalidArgumentError('expected a file descriptor number, 0 to 1023');
  return n;
}

/** An option's name as typed, from its commander key: serverPublicKey -> server-public-key. */
export function dashed(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A client's name as credentials and server entries hold it; a usage error otherwise. */
export function checkClientName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(name))
    throw new KnockgateError('KG_USAGE', `client name ${JSON.stringify(name)}: use 1-32 letters, digits, _ . -`);
  return name;
}

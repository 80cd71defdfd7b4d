/**
 * A transport endpoint on this host: a protocol and a port, written `22`, `22/tcp` or `7000/udp`.
 * Used for knock steps and for the ports a door opens. TCP is the default, as in knockd.
 */

export type Protocol = 'tcp' | 'udp';

export interface Endpoint {
  readonly proto: Protocol;
  readonly port: number;
}

/** IANA protocol numbers, as they appear in the IP header and in nft's `meta l4proto`. */
export const PROTOCOL_NUMBER: Readonly<Record<Protocol, number>> = { tcp: 6, udp: 17 };

/** A single number that identifies an endpoint, for Map keys and table lookups. */
export function endpointKey(proto: Protocol, port: number): number {
  return (proto === 'udp' ? 65_536 : 0) + port;
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.port}/${e.proto}`;
}

/** `/` is ours; `:` is knockd's (`8000:udp`), accepted so its sequences can be pasted unchanged. */
const ENDPOINT_TEXT = /^(\d{1,5})(?:[/:](tcp|udp))?$/i;

/**
 * Parses `22`, `22/tcp`, `7000/UDP`, `8000:udp` or the number 22. Returns an error message instead of
 * throwing, so that the config loader can attach file, line and key.
 */
export function parseEndpoint(value: unknown): Endpoint | { error: string } {
  let port: number;
  let proto: Protocol = 'tcp';
  if (typeof value === 'number') {
    port = value;
  } else if (typeof value === 'string') {
    const m = ENDPOINT_TEXT.exec(value.trim());
    if (!m) return { error: `expected a port like 22, "22/tcp" or "7000/udp", got ${JSON.stringify(value)}` };
    port = Number(m[1]);
    if (m[2]) proto = m[2].toLowerCase() as Protocol;
  } else {
    return { error: `expected a port like 22, "22/tcp" or "7000/udp", got ${JSON.stringify(value)}` };
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    return { error: `port must be a whole number from 1 to 65535, got ${JSON.stringify(value)}` };
  }
  return { proto, port };
}

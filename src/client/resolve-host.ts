/**
 * The server to knock, as an address: a literal as given (checked against -4/-6), else one DNS
 * lookup of the family asked for, if any. Throws KG_USAGE on a literal of the other family and
 * KG_RESOLVE_FAILED when the name does not resolve.
 */

import { isIP } from 'node:net';
import { KnockgateError } from '../core/errors.js';

export interface ResolvedHost {
  readonly address: string;
  readonly family: 4 | 6;
}

export async function resolveHost(host: string, want: 4 | 6 | undefined): Promise<ResolvedHost> {
  const literal = isIP(host);
  if (literal !== 0) {
    if (want !== undefined && literal !== want)
      throw new KnockgateError('KG_USAGE', `${host} is an IPv${literal} address but -${want} was given`);
    return { address: host, family: literal as 4 | 6 };
  }
  // Loaded only for a name: a knock to an address literal (ssh's %h often is one) skips its cost.
  const { lookup } = await import('node:dns/promises');
  try {
    const r = await lookup(host, want === undefined ? {} : { family: want });
    return { address: r.address, family: r.family as 4 | 6 };
  } catch (err) {
    throw new KnockgateError('KG_RESOLVE_FAILED', `cannot resolve ${JSON.stringify(host)}: ${(err as Error).message}`);
  }
}

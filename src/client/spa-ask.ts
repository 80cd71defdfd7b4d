/**
 * What an SPA knock asks for, from the command line's flags and the client's credential. The
 * address the request is bound to, first that applies: --allow-ip, --resolve-url, the profile's
 * allow_ip, the profile's resolve_url; else none (family 0: the packet's source, which whoever
 * delivers the datagram first gets; see README "Binding"). Throws KG_USAGE on a credential's bad
 * allow_ip, and whatever resolveOwnAddress throws (then nothing is sent).
 */

import { parseAddressPrefix, type AddressPrefix } from '../core/address-prefix.js';
import type { Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import type { ClientCredential } from '../stores/key-files.js';
import { resolveOwnAddress } from './address-resolver.js';
import type { SpaAsk } from './spa-sender.js';

/** The flags that shape the request; absent: the credential's, then the door's. */
export interface SpaAskFlags {
  readonly ports?: Endpoint[];
  readonly duration?: number;
  readonly allowIp?: AddressPrefix;
  readonly resolveUrl?: string;
  readonly prefix?: number;
}

export async function spaAsk(cred: ClientCredential, o: SpaAskFlags, family: 4 | 6): Promise<SpaAsk> {
  let bound: AddressPrefix | null = o.allowIp ?? null;
  const url = o.allowIp ? undefined : (o.resolveUrl ?? (cred.allowIp === undefined ? cred.resolveUrl : undefined));
  if (bound === null && o.resolveUrl === undefined && cred.allowIp !== undefined) {
    const parsed = parseAddressPrefix(cred.allowIp);
    if ('error' in parsed) throw new KnockgateError('KG_USAGE', `the credential's allow_ip: ${parsed.error}`);
    bound = parsed;
  }
  if (bound === null && url !== undefined) {
    const address = await resolveOwnAddress(url, { family });
    bound = { address, prefix: o.prefix ?? (address.family === 4 ? 32 : 128) };
  }
  return {
    ports: o.ports ?? cred.ports ?? [],
    durationS: o.duration ?? 0,
    address: bound?.address ?? null,
    prefix: bound?.prefix ?? o.prefix ?? 0,
  };
}

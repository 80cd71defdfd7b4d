/**
 * The options `knock` and `connect` share: which credential, what to ask for, which family.
 */

import type { Command } from 'commander';
import { checkResolverUrl } from '../../client/address-resolver.js';
import type { SpaAskFlags } from '../../client/spa-ask.js';
import { KnockgateError } from '../../core/errors.js';
import { parseAllowIp, parseFd, parsePortList, parsePortNumber, parsePrefix, parseSeconds } from './option-parsers.js';

export interface SpaFlags extends SpaAskFlags {
  credential?: string;
  passphraseFd?: number;
  profile?: string;
  spaPort?: number;
  ipv4?: boolean;
  ipv6?: boolean;
  verbose?: boolean;
}

export function spaOptions(cmd: Command): Command {
  return cmd
    .option('-c, --credential <file>', 'client credential file (from knockgate add-client)')
    .option(
      '--passphrase-fd <n>',
      'a protected credential: read its passphrase from this file descriptor (first line), not the terminal',
      parseFd,
    )
    .option(
      '-p, --profile <name>',
      'use ~/.config/knockgate/profiles/NAME.yaml (default: the one named after HOST, if any)',
    )
    .option(
      '--ports <list>',
      'SPA: ports to ask for, e.g. 22/tcp,443/tcp (default: all the server allows this client)',
      parsePortList,
    )
    .option('--duration <time>', "SPA: how long, e.g. 30s or 10m (default: the door's)", parseSeconds)
    .option(
      '--allow-ip <address[/prefix]>',
      "SPA: ask for this address or prefix instead of the packet's source (the server must allow it)",
      parseAllowIp,
    )
    .option(
      '--resolve-url <url>',
      'SPA: bind the request to the address this URL returns (an HTTP(S) GET whose body is your address, as fwknop -R); on any failure nothing is sent',
      (v) => checkResolverUrl(v).href,
    )
    .option(
      '--prefix <length>',
      "SPA: ask for the source address's /LENGTH (carrier-grade NAT; the server must allow it)",
      parsePrefix,
    )
    .option('--spa-port <port>', "SPA: UDP port (default: the credential's)", parsePortNumber)
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .option('-v, --verbose', 'say what is sent');
}

/** -4, -6 or neither (either family); both is a usage error. */
export function familyOf(o: SpaFlags): 4 | 6 | undefined {
  if (o.ipv4 && o.ipv6) throw new KnockgateError('KG_USAGE', 'give -4 or -6, not both');
  return o.ipv4 ? 4 : o.ipv6 ? 6 : undefined;
}

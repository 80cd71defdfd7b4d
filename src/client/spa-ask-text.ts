/**
 * `knock -v`'s account of an SPA request, so a user can see what the server is asked for before
 * wondering why it did not open: who asks (client name and door), towards which server key
 * (its fingerprint), which ports, for how long, and for which address. Lines without a trailing
 * newline; nothing secret (the client id and the server key's digest identify, they do not prove).
 */

import { formatAddressPrefix } from '../core/address-prefix.js';
import { formatEndpoint } from '../core/endpoint.js';
import { keyFingerprint } from '../core/spa/key-fingerprint.js';
import { describeSshKey } from './ssh-agent.js';
import type { ClientCredential } from '../stores/key-files.js';
import type { SpaAsk } from './spa-sender.js';

export function spaAskLines(cred: ClientCredential, ask: SpaAsk, to: { address: string; port: number }): string[] {
  const prefix = ask.prefix === 0 ? (ask.address?.family === 6 ? 128 : 32) : ask.prefix;
  return [
    `SPA to ${to.address} port ${to.port}/udp`,
    `  client:     ${cred.name} (door ${cred.doorId}, client id ${Buffer.from(cred.clientId).toString('hex')})`,
    `  server key: ${keyFingerprint(cred.serverPublicKey)}`,
    ...(cred.sshKey ? [`  signed by:  ssh-agent, key ${describeSshKey(cred.sshKey)}`] : []),
    `  ports:      ${ask.ports.length > 0 ? ask.ports.map(formatEndpoint).join(', ') : "the door's, as far as this client is allowed"}`,
    `  duration:   ${ask.durationS > 0 ? `${ask.durationS} s` : "the door's default"}`,
    ask.address !== null
      ? `  address:    ${formatAddressPrefix(ask.address, prefix)}`
      : ask.prefix > 0
        ? `  address:    the packet's source, widened to /${ask.prefix}`
        : "  address:    the packet's source (not bound: whoever delivers the datagram first is let in; --allow-ip or the profile's allow_ip binds it)",
  ];
}

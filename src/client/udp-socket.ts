/**
 * The client's UDP sockets (SPA datagrams, UDP knock steps, finding the local address towards a
 * server): node:dgram sockets whose address lookup answers an IP literal at once, without loading
 * node:dns. The client always has a literal by then (resolve-host.ts resolved the name), and the
 * socket's own bind to 0.0.0.0 or :: goes through the lookup too: loading node:dns for that costs
 * about 0.7 ms of a knock's start-up, which ssh's ProxyCommand pays on every connection. Anything
 * that is not a literal is still looked up with dns.lookup, as node:dgram would.
 *
 * Contract: `sendOneDatagram` resolves once the kernel has taken the datagram, or rejects with
 * sendFailure's KG_SEND_FAILED naming `what` (the raw error when sendFailure has no words for it);
 * the socket is closed either way.
 */

import { createSocket, type Socket } from 'node:dgram';
import type { LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { sendFailure } from './send-error.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

function literalLookup(address: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(address);
  if (family !== 0) {
    callback(null, address, family);
    return;
  }
  void import('node:dns').then((dns) => dns.lookup(address, options as LookupOneOptions, callback));
}

export function udpSocket(family: 4 | 6): Socket {
  return createSocket({ type: family === 4 ? 'udp4' : 'udp6', lookup: literalLookup });
}

/** One datagram to `host` (an IP literal) port `port`; `what` names it in a failure ("HOST port P/udp"). */
export async function sendOneDatagram(
  host: string,
  family: 4 | 6,
  port: number,
  bytes: Uint8Array,
  what: string,
): Promise<void> {
  const socket = udpSocket(family);
  try {
    await new Promise<void>((resolve, reject) =>
      socket.send(bytes, port, host, (err) => (err ? reject(sendFailure(err, what) ?? err) : resolve())),
    );
  } finally {
    socket.close();
  }
}

/**
 * Sends a classic knock sequence, as knock(1) does: for a TCP step one SYN (a non-blocking
 * connect(2), abandoned at once, before the kernel would retransmit; an abandoned SYN_SENT socket
 * sends nothing more, no RST), for a UDP step one datagram. `delayMs` separates steps.
 */

import { Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoint } from '../core/endpoint.js';

export interface KnockOptions {
  readonly host: string; // an IP address (resolve names first)
  readonly family: 4 | 6;
  readonly steps: readonly Endpoint[];
  readonly delayMs: number;
  readonly onStep?: (step: Endpoint, index: number) => void;
}

/** Sends one SYN to host:port and abandons the attempt once the kernel has sent it. */
async function synOnce(host: string, port: number): Promise<void> {
  const socket = new Socket();
  socket.on('error', () => undefined); // refused/unreachable: the SYN went out, which is all we need
  socket.connect({ host, port });
  // net.connect issues connect(2) on the next tick for a literal address; connect(2) on a
  // non-blocking socket has put the SYN on the wire before it returns.
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setImmediate(r));
  socket.destroy();
}

async function datagramOnce(host: string, family: 4 | 6, port: number): Promise<void> {
  const socket = createSocket(family === 4 ? 'udp4' : 'udp6');
  try {
    await new Promise<void>((resolve, reject) =>
      socket.send(Buffer.alloc(1), port, host, (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    socket.close();
  }
}

export async function sendKnock(o: KnockOptions): Promise<void> {
  for (let i = 0; i < o.steps.length; i++) {
    const step = o.steps[i] as Endpoint;
    if (i > 0 && o.delayMs > 0) await sleep(o.delayMs);
    if (step.proto === 'tcp') await synOnce(o.host, step.port);
    else await datagramOnce(o.host, o.family, step.port);
    o.onStep?.(step, i);
  }
}

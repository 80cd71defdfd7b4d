/**
 * Sends a classic knock sequence, as knock(1) does: for a TCP step one SYN (a non-blocking
 * connect(2), abandoned at once, before the kernel would retransmit; an abandoned SYN_SENT socket
 * sends nothing more, no RST), for a UDP step one datagram. `delayMs` separates steps.
 */

import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { sendFailure } from './send-error.js';
import { sendOneDatagram } from './udp-socket.js';

export interface KnockOptions {
  readonly host: string; // an IP address (resolve names first)
  readonly family: 4 | 6;
  readonly steps: readonly Endpoint[];
  readonly delayMs: number;
  readonly onStep?: (step: Endpoint, index: number) => void;
}

/**
 * Sends one SYN to host:port and abandons the attempt once the kernel has sent it. Throws
 * KG_SEND_FAILED when connect(2) itself failed (no route, a local firewall): then no SYN left.
 */
async function synOnce(host: string, port: number): Promise<void> {
  const socket = new Socket();
  let failed: unknown;
  // Refused or reset: the SYN went out and was answered, which is all a knock needs.
  socket.on('error', (err) => {
    failed = err;
  });
  socket.connect({ host, port });
  // net.connect issues connect(2) on the next tick for a literal address; connect(2) on a
  // non-blocking socket has put the SYN on the wire before it returns, and an immediate failure
  // (ENETUNREACH, EACCES) is delivered on the loop's next turn, before the second setImmediate.
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setImmediate(r));
  socket.destroy();
  const notSent = sendFailure(failed, `${host} port ${port}/tcp`);
  if (notSent) throw notSent;
}

function datagramOnce(host: string, family: 4 | 6, port: number): Promise<void> {
  return sendOneDatagram(host, family, port, Buffer.alloc(1), `${host} port ${formatEndpoint({ proto: 'udp', port })}`);
}

/** Throws KG_SEND_FAILED, naming the step, when a step could not be sent; the rest is not sent. */
export async function sendKnock(o: KnockOptions): Promise<void> {
  for (let i = 0; i < o.steps.length; i++) {
    const step = o.steps[i] as Endpoint;
    if (i > 0 && o.delayMs > 0) await sleep(o.delayMs);
    try {
      if (step.proto === 'tcp') await synOnce(o.host, step.port);
      else await datagramOnce(o.host, o.family, step.port);
    } catch (err) {
      if (!(err instanceof KnockgateError)) throw err;
      throw new KnockgateError(
        err.code,
        `step ${i + 1} of ${o.steps.length}: ${err.message}; the sequence was not sent`,
      );
    }
    o.onStep?.(step, i);
  }
}

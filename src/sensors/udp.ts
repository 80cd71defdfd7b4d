/**
 * SPA datagrams from a UDP socket. The socket never sends anything: to a scanner the port looks
 * like any port that does not answer. One dual-stack socket (`::`, IPv4 peers arrive as
 * ::ffff:a.b.c.d) where the host has IPv6, else an IPv4 socket. The receive buffer is enlarged so
 * that a burst is queued in the kernel rather than dropped.
 */

import { createSocket, type Socket } from 'node:dgram';
import { KnockgateError } from '../core/errors.js';
import { CAPTURE_BUFFER_BYTES } from '../core/limits.js';

export type DatagramHandler = (payload: Buffer, sourceAddress: string) => void;

export interface DatagramSource {
  readonly name: string;
  close(): void;
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export async function openUdpSource(port: number, onDatagram: DatagramHandler): Promise<DatagramSource> {
  let socket = createSocket({ type: 'udp6', ipv6Only: false });
  try {
    await bind(socket, port, '::');
  } catch {
    socket.close();
    socket = createSocket({ type: 'udp4' });
    try {
      await bind(socket, port, '0.0.0.0');
    } catch (err) {
      socket.close();
      throw new KnockgateError('KG_CAPTURE_FAILED', `cannot listen for SPA on ${port}/udp: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    socket.setRecvBufferSize(CAPTURE_BUFFER_BYTES);
  } catch {
    // The kernel caps it at net.core.rmem_max; a smaller buffer still works.
  }
  socket.on('message', (msg, rinfo) => onDatagram(msg, rinfo.address));
  socket.on('error', () => undefined); // receive errors on UDP are per-datagram and harmless here
  return {
    name: `udp:${port}`,
    close: () => socket.close(),
  };
}

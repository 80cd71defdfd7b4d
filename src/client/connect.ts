/**
 * `knockgate connect HOST PORT`, for ssh's ProxyCommand: knock, wait until the port answers
 * (knocking again, a bounded number of times, if a datagram or the first SYN was lost), then relay
 * stdin to the connection and the connection to stdout until either side closes.
 */

import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KnockgateError } from '../core/errors.js';
import type { ClientCredential } from '../stores/key-files.js';
import { resolveHost } from './resolve-host.js';
import { spaAsk, type SpaAskFlags } from './spa-ask.js';
import { buildSpaDatagram, sendDatagram } from './spa-sender.js';

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly knock: () => Promise<void>;
  /** Knocks at most this many times. */
  readonly attempts: number;
  /** How long each knock's connection attempt may take (covers one SYN retransmission). */
  readonly waitMs: number;
  readonly say: (line: string) => void;
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      if (ok) resolve(socket);
      else {
        socket.destroy();
        resolve(null);
      }
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect({ host, port });
  });
}

export async function connectThrough(o: ConnectOptions): Promise<Socket> {
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    await o.knock();
    o.say(`knocked (${attempt}/${o.attempts}); connecting to ${o.host} port ${o.port}`);
    await sleep(20); // let the server's firewall change land before our first SYN
    const socket = await tryConnect(o.host, o.port, o.waitMs);
    if (socket) return socket;
  }
  throw new KnockgateError('KG_CONNECT_FAILED', `${o.host} port ${o.port} did not answer after ${o.attempts} knocks`);
}

/** Relays stdin/stdout over the socket; resolves when the connection ends. */
export function relay(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.setNoDelay(true);
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    process.stdin.on('end', () => socket.end());
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

/**
 * The whole of `connect` before the relay: resolve HOST, build the request once, then knock with
 * a fresh datagram (new nonce, new time) each attempt until `port` answers.
 */
export async function connectWithSpa(o: {
  cred: ClientCredential;
  host: string;
  family: 4 | 6 | undefined;
  flags: SpaAskFlags & { spaPort?: number };
  port: number;
  attempts: number;
  waitMs: number;
  say: (line: string) => void;
}): Promise<Socket> {
  const { cred } = o;
  const target = await resolveHost(o.host, o.family);
  const ask = await spaAsk(cred, o.flags, target.family);
  const spaPort = o.flags.spaPort ?? cred.port;
  return connectThrough({
    host: target.address,
    port: o.port,
    attempts: o.attempts,
    waitMs: o.waitMs,
    knock: () => sendDatagram(target.address, target.family, spaPort, buildSpaDatagram(cred, ask, Date.now())),
    say: o.say,
  });
}

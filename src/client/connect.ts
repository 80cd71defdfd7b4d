/**
 * `knockgate connect HOST PORT`, for ssh's ProxyCommand: knock, wait until the port answers
 * (knocking again, a bounded number of times, if a datagram or the first SYN was lost), then relay
 * stdin to the connection and the connection to stdout until either side closes.
 */

import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KnockgateError } from '../core/errors.js';
import type { ClientCredential } from '../stores/key-files.js';
import { type ConnectOutcome, giveUpMessage } from './give-up-hints.js';
import { sendFailure } from './send-error.js';
import { resolveHost } from './resolve-host.js';
import { spaAsk, type SpaAskFlags } from './spa-ask.js';
import { makeSpaDatagram, sendDatagram } from './spa-sender.js';

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

/**
 * One connection attempt: the socket when it connects, else how it ended ('reset': something
 * answered with RST; 'timeout': no answer, or an ICMP error from the far side). Throws
 * KG_SEND_FAILED when the SYN could not leave this host (no route, a local firewall).
 */
export function tryConnect(host: string, port: number, timeoutMs: number): Promise<Socket | ConnectOutcome> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const done = (result: Socket | ConnectOutcome | Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      if (result === socket) resolve(socket);
      else {
        socket.destroy();
        if (result instanceof Error) reject(result);
        else resolve(result as ConnectOutcome);
      }
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done(socket));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const notSent = sendFailure(err, `${host} port ${port}/tcp`);
      // EHOSTUNREACH can also be a router's ICMP answer to a SYN that did leave: count it as no answer.
      if (notSent && err.code !== 'EHOSTUNREACH') done(notSent);
      else done(err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? 'reset' : 'timeout');
    });
    socket.connect({ host, port });
  });
}

export async function connectThrough(o: ConnectOptions): Promise<Socket> {
  let outcome: ConnectOutcome = 'timeout';
  let attempts = 0;
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    attempts = attempt;
    await o.knock();
    o.say(`knocked (${attempt}/${o.attempts}); connecting to ${o.host} port ${o.port}`);
    await sleep(20); // let the server's firewall change land before our first SYN
    const result = await tryConnect(o.host, o.port, o.waitMs);
    if (result instanceof Socket) return result;
    outcome = result;
    o.say(result === 'reset' ? 'refused (reset)' : `no answer in ${o.waitMs} ms`);
    // A reset is an answer: the firewall let the SYN through, so knocking again cannot help.
    if (result === 'reset') break;
  }
  throw new KnockgateError(
    'KG_CONNECT_FAILED',
    giveUpMessage({ host: o.host, port: o.port, attempts, waitMs: o.waitMs, outcome }),
  );
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
    knock: async () =>
      sendDatagram(target.address, target.family, spaPort, await makeSpaDatagram(cred, ask, Date.now())),
    say: o.say,
  });
}

/**
 * Builds and sends one native SPA datagram from a client credential (docs/protocol.md). This is
 * where the client's randomness and clock come in: the ephemeral key, the top bit, the nonce and
 * the timestamp; the sealing itself is the core's pure prepareSeal/sealSpa. A credential whose key
 * is in ssh-agent (`ssh_key:`) gets its proof from the agent (client/ssh-agent.ts), so
 * makeSpaDatagram is asynchronous; buildSpaDatagram is the synchronous path for key files.
 */

import { randomBytes, randomInt } from 'node:crypto';
import type { Endpoint } from '../core/endpoint.js';
import type { IPAddressBytes } from '../core/ip-address.js';
import { SPA_NONCE_BYTES } from '../core/limits.js';
import { ed25519PrivateFromSeed } from '../core/spa/keys.js';
import { prepareSeal, sealSpa } from '../core/spa/native-wire.js';
import type { SpaRequest } from '../core/spa/native-request.js';
import type { ClientCredential } from '../stores/key-files.js';
import { agentSign, type AgentOptions } from './ssh-agent.js';
import { sendOneDatagram } from './udp-socket.js';

export interface SpaAsk {
  /** Ports to ask for; empty: the server's defaults for this client. */
  readonly ports: readonly Endpoint[];
  /** Seconds; 0: the door's default. */
  readonly durationS: number;
  /** Address (and prefix) to grant instead of the packet's source, if any. */
  readonly address: IPAddressBytes | null;
  /** Prefix length; 0: one address. */
  readonly prefix: number;
}

function requestOf(ask: SpaAsk, nowUnixMs: number): SpaRequest {
  return {
    timestampMs: nowUnixMs,
    nonce: randomBytes(SPA_NONCE_BYTES),
    durationS: ask.durationS,
    address: ask.address,
    prefix: ask.prefix,
    ports: ask.ports,
  };
}

/** What sealing needs besides the secret: the credential's names, a fresh request and fresh randomness. */
function sealInputOf(cred: ClientCredential, ask: SpaAsk, nowUnixMs: number) {
  return {
    serverPublicKey: cred.serverPublicKey,
    doorId: cred.doorId,
    clientId: cred.clientId,
    request: requestOf(ask, nowUnixMs),
    ephemeralPrivate: randomBytes(32),
    topBit: randomInt(2) as 0 | 1,
  };
}

/** A datagram from a credential that holds its secret (psk or private_key). */
export function buildSpaDatagram(cred: ClientCredential, ask: SpaAsk, nowUnixMs: number): Uint8Array {
  if (cred.psk === undefined && cred.privateKey === undefined)
    throw new Error('this credential signs with ssh-agent: use makeSpaDatagram');
  const secret = cred.psk
    ? { mode: 'psk' as const, psk: cred.psk }
    : { mode: 'ed25519' as const, privateKey: ed25519PrivateFromSeed(cred.privateKey as Uint8Array) };
  return sealSpa({ ...sealInputOf(cred, ask, nowUnixMs), secret });
}

/** A datagram from any credential: an `ssh_key:` one asks ssh-agent for the proof (agentSign's errors). */
export async function makeSpaDatagram(
  cred: ClientCredential,
  ask: SpaAsk,
  nowUnixMs: number,
  agent: AgentOptions = {},
): Promise<Uint8Array> {
  if (cred.sshKey === undefined) return buildSpaDatagram(cred, ask, nowUnixMs);
  const prepared = prepareSeal({ ...sealInputOf(cred, ask, nowUnixMs), mode: 'ssh-ed25519' });
  return prepared.finish(await agentSign(cred.sshKey, prepared.proofMessage, agent));
}

export function sendDatagram(host: string, family: 4 | 6, port: number, datagram: Uint8Array): Promise<void> {
  return sendOneDatagram(host, family, port, datagram, `${host} port ${port}/udp`);
}

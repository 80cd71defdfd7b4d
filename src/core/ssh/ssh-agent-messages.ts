/**
 * The few ssh-agent messages a knockgate client speaks (draft-miller-ssh-agent): list the keys
 * (SSH_AGENTC_REQUEST_IDENTITIES 11 → SSH_AGENT_IDENTITIES_ANSWER 12) and sign with one
 * (SSH_AGENTC_SIGN_REQUEST 13 → SSH_AGENT_SIGN_RESPONSE 14); any request may be answered with
 * SSH_AGENT_FAILURE 5. Every message is uint32 length || byte type || contents.
 *
 * Contract: pure. The encoders take what they send; the decoders take the bytes an agent sent
 * (which may be anything: a forwarded agent is another host's) and never throw: a frame longer
 * than the caller's limit, a message of an unexpected type or a malformed one is a named problem.
 * A signature is returned only when it is an ssh-ed25519 signature blob with 64 bytes; whether it
 * verifies is the caller's check.
 */

import { SshReader, sshString, sshUint32 } from './ssh-wire.js';
import { SSH_ED25519 } from './ssh-public-key.js';

export const SSH_AGENT_FAILURE = 5;
export const SSH_AGENTC_REQUEST_IDENTITIES = 11;
export const SSH_AGENT_IDENTITIES_ANSWER = 12;
export const SSH_AGENTC_SIGN_REQUEST = 13;
export const SSH_AGENT_SIGN_RESPONSE = 14;
const ED25519_SIGNATURE_BYTES = 64;

export interface AgentMessage {
  readonly type: number;
  readonly contents: Uint8Array;
}

/** One key the agent holds. */
export interface AgentIdentity {
  readonly blob: Uint8Array;
  readonly comment: string;
}

export type AgentFrame =
  | { readonly kind: 'more' }
  | ({ readonly kind: 'message'; readonly bytes: number } & AgentMessage)
  | { readonly kind: 'invalid'; readonly problem: string };

function frame(type: number, contents: Uint8Array): Buffer {
  return Buffer.concat([sshUint32(1 + contents.length), Buffer.from([type]), contents]);
}

export function requestIdentitiesMessage(): Buffer {
  return frame(SSH_AGENTC_REQUEST_IDENTITIES, new Uint8Array(0));
}

/** A sign request for `data` with the key `blob`; flags 0 (they only choose RSA hashes). */
export function signRequestMessage(blob: Uint8Array, data: Uint8Array): Buffer {
  return frame(SSH_AGENTC_SIGN_REQUEST, Buffer.concat([sshString(blob), sshString(data), sshUint32(0)]));
}

/**
 * The first message in `received` (the bytes read so far): `more` until it is whole; `invalid`
 * for an empty frame or one whose announced length is above `maxBytes`, before waiting for it.
 */
export function agentFrameOf(received: Uint8Array, maxBytes: number): AgentFrame {
  if (received.length < 4) return { kind: 'more' };
  const length = Buffer.from(received.buffer, received.byteOffset, 4).readUInt32BE(0);
  if (length === 0) return { kind: 'invalid', problem: 'sent an empty message' };
  if (length > maxBytes) return { kind: 'invalid', problem: `announced a ${length}-byte answer (limit ${maxBytes})` };
  if (received.length < 4 + length) return { kind: 'more' };
  return {
    kind: 'message',
    bytes: 4 + length,
    type: received[4] as number,
    contents: received.subarray(5, 4 + length),
  };
}

function unexpected(m: AgentMessage, wanted: string): { readonly problem: string } {
  return { problem: `answered message type ${m.type} where ${wanted} was due` };
}

/** An identities answer: the keys, `failure`, or a problem. */
export function parseIdentitiesAnswer(
  m: AgentMessage,
): { readonly identities: readonly AgentIdentity[] } | { readonly failure: true } | { readonly problem: string } {
  if (m.type === SSH_AGENT_FAILURE) return { failure: true };
  if (m.type !== SSH_AGENT_IDENTITIES_ANSWER) return unexpected(m, 'an identities answer');
  const r = new SshReader(m.contents);
  const count = r.u32();
  // Each key takes at least 8 bytes (two empty strings): a count above that is a lie, refused
  // before any loop runs on it.
  if (count === null || count > r.remaining / 8) return { problem: 'sent a malformed identities answer' };
  const identities: AgentIdentity[] = [];
  for (let i = 0; i < count; i++) {
    const blob = r.string();
    const comment = r.string();
    if (blob === null || comment === null) return { problem: 'sent a malformed identities answer' };
    identities.push({ blob: Uint8Array.from(blob), comment: Buffer.from(comment).toString('utf8') });
  }
  if (!r.atEnd) return { problem: 'sent trailing bytes after its identities answer' };
  return { identities };
}

/** A sign response: the 64-byte Ed25519 signature, `failure` (the agent refused), or a problem. */
export function parseSignResponse(
  m: AgentMessage,
): { readonly signature: Uint8Array } | { readonly failure: true } | { readonly problem: string } {
  if (m.type === SSH_AGENT_FAILURE) return { failure: true };
  if (m.type !== SSH_AGENT_SIGN_RESPONSE) return unexpected(m, 'a sign response');
  const outer = new SshReader(m.contents);
  const blob = outer.string();
  if (blob === null || !outer.atEnd) return { problem: 'sent a malformed sign response' };
  const r = new SshReader(blob);
  const type = r.string();
  const signature = r.string();
  if (type === null || signature === null || !r.atEnd) return { problem: 'sent a malformed signature blob' };
  const typeText = Buffer.from(type).toString('latin1');
  if (typeText !== SSH_ED25519)
    return { problem: `signed with ${JSON.stringify(typeText.slice(0, 64))}, not ${SSH_ED25519}` };
  if (signature.length !== ED25519_SIGNATURE_BYTES)
    return { problem: `sent a ${signature.length}-byte Ed25519 signature (64 expected)` };
  return { signature: Uint8Array.from(signature) };
}

/**
 * Time-based knock sequences: a door's sequence for one period, derived from a shared secret and
 * the period's counter, in the manner of RFC 6238 (TOTP) over RFC 4226 (HOTP), with HMAC-SHA-256
 * and ports in place of digits. docs/protocol.md ("Time-based knock sequences") is the
 * specification, with test vectors; this file must agree with it byte for byte:
 *
 *   C       = floor(unix_ms / period_ms)                        (the period's counter)
 *   M_j     = "knockgate-totp-v1" 0x00 door 0x00 C (8 bytes, big-endian) j (1 byte)
 *   B_j     = HMAC-SHA-256(secret, M_j), j = 0, 1, ...           (8 big-endian 32-bit words each)
 *   space   = tcp: lo..hi; udp: lo..hi; mixed: lo..hi as tcp, then lo..hi as udp (S endpoints)
 *   a word w below 2^32 - (2^32 mod S) picks space[w mod S] (others are skipped: no bias); an
 *   endpoint already picked is skipped; the first `steps` picks are the sequence.
 *
 * The door's name is in the message, so two doors that share a secret knock differently. The
 * server accepts the sequences of the counters within TOTP_SKEW_PERIODS of its own (acceptedCounters).
 *
 * Pure: time is an argument (unix milliseconds); the HMAC is node:crypto's, no I/O.
 */

import { createHmac } from 'node:crypto';
import type { Endpoint, Protocol } from './endpoint.js';
import { MAX_TOTP_BLOCKS, TOTP_SKEW_PERIODS } from './limits.js';

export type TotpProtocol = Protocol | 'mixed';

/** What, besides the secret, fixes a door's sequences. */
export interface TotpParameters {
  /** The door's name: part of every HMAC message. */
  readonly door: string;
  readonly steps: number;
  readonly periodMs: number;
  /** The inclusive port range the steps are drawn from. */
  readonly low: number;
  readonly high: number;
  readonly protocol: TotpProtocol;
}

const LABEL = Buffer.from('knockgate-totp-v1', 'ascii');
const TWO_32 = 2 ** 32;

/** The counter of the period that holds `unixMs`. */
export function totpCounter(unixMs: number, periodMs: number): number {
  return Math.floor(unixMs / periodMs);
}

/** The unix millisecond at which the period after `unixMs`'s begins. */
export function nextPeriodStartMs(unixMs: number, periodMs: number): number {
  return (totpCounter(unixMs, periodMs) + 1) * periodMs;
}

/** The counters whose sequences are accepted at `unixMs`: the current one and TOTP_SKEW_PERIODS on either side, oldest first. */
export function acceptedCounters(unixMs: number, periodMs: number): number[] {
  const c = totpCounter(unixMs, periodMs);
  const out: number[] = [];
  for (let k = -TOTP_SKEW_PERIODS; k <= TOTP_SKEW_PERIODS; k++) out.push(c + k);
  return out;
}

/** The last unix millisecond (exclusive) at which counter `c`'s sequence is still accepted. */
export function acceptedUntilMs(counter: number, periodMs: number): number {
  return (counter + TOTP_SKEW_PERIODS + 1) * periodMs;
}

/** How many endpoints the door's range holds (the space its steps are drawn from). */
export function totpSpaceSize(p: Pick<TotpParameters, 'low' | 'high' | 'protocol'>): number {
  const ports = p.high - p.low + 1;
  return p.protocol === 'mixed' ? 2 * ports : ports;
}

/** The HMAC message of block `j` for counter `c` (exported for the test vectors). */
export function totpMessage(door: string, counter: number, block: number): Buffer {
  const name = Buffer.from(door, 'utf8');
  const m = Buffer.alloc(LABEL.length + 1 + name.length + 1 + 8 + 1);
  let o = LABEL.copy(m, 0);
  m[o++] = 0;
  o += name.copy(m, o);
  m[o++] = 0;
  m.writeBigUInt64BE(BigInt(counter), o);
  m[o + 8] = block;
  return m;
}

/**
 * The sequence of counter `counter`: `steps` distinct endpoints of the door's range. Throws
 * RangeError on parameters the config compiler refuses (a range smaller than `steps`, a negative
 * counter), never on a secret.
 */
export function totpSequence(secret: Uint8Array, p: TotpParameters, counter: number): Endpoint[] {
  const size = totpSpaceSize(p);
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('the counter must be a non-negative integer');
  if (!(p.low >= 1 && p.high <= 65_535 && p.low <= p.high)) throw new RangeError('not a port range');
  if (!(p.steps >= 1 && p.steps <= size)) throw new RangeError('the range holds fewer ports than steps');
  const limit = TWO_32 - (TWO_32 % size);
  const picked = new Set<number>();
  const out: Endpoint[] = [];
  for (let j = 0; j < MAX_TOTP_BLOCKS; j++) {
    const block = createHmac('sha256', secret)
      .update(totpMessage(p.door, counter, j))
      .digest();
    for (let w = 0; w < 32; w += 4) {
      const word = block.readUInt32BE(w);
      if (word >= limit) continue;
      const index = word % size;
      if (picked.has(index)) continue;
      picked.add(index);
      out.push(endpointAt(p, index));
      if (out.length === p.steps) return out;
    }
  }
  throw new RangeError('the derivation ran out of blocks'); // 2048 draws; not reachable for steps <= size
}

/** Every endpoint of the sequences accepted at `unixMs`, each once (what the layout hides and captures). */
export function acceptedSteps(secret: Uint8Array, p: TotpParameters, unixMs: number): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const c of acceptedCounters(unixMs, p.periodMs))
    for (const e of totpSequence(secret, p, c)) seen.set(`${e.proto}/${e.port}`, e);
  return [...seen.values()];
}

function endpointAt(p: Pick<TotpParameters, 'low' | 'high' | 'protocol'>, index: number): Endpoint {
  const ports = p.high - p.low + 1;
  const proto: Protocol = p.protocol === 'mixed' ? (index < ports ? 'tcp' : 'udp') : p.protocol;
  return { proto, port: p.low + (index % ports) };
}

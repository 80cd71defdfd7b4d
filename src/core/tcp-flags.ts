/**
 * TCP flag conditions, in knockd's notation: `syn,!ack` means SYN set and ACK clear, other flags
 * ignored. Compiled to a (mask, value) pair: a packet matches when (flags & mask) === value.
 */

export const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
  ece: 0x40,
  cwr: 0x80,
};

export interface TcpFlagCondition {
  readonly mask: number;
  readonly value: number;
  /** The canonical text, for logs and round trips. */
  readonly text: string;
}

/** A connection attempt, as a connect(2) sends it and as knock(1) makes it: SYN without ACK. */
export const DEFAULT_TCP_FLAGS = 'syn,!ack';

/** `any`: every TCP packet counts (knockd's behaviour when TCPFlags is not set). */
export const ANY_TCP_FLAGS = 'any';

export function parseTcpFlags(text: string): TcpFlagCondition | { error: string } {
  if (text.trim().toLowerCase() === ANY_TCP_FLAGS) return { mask: 0, value: 0, text: ANY_TCP_FLAGS };
  let mask = 0;
  let value = 0;
  const parts = text
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return { error: `expected flags like "syn,!ack", got ${JSON.stringify(text)}` };
  for (const part of parts) {
    const negated = part.startsWith('!');
    const name = negated ? part.slice(1) : part;
    const bit = TCP_FLAG_BITS[name];
    if (bit === undefined) {
      return { error: `unknown TCP flag ${JSON.stringify(name)}; known: ${Object.keys(TCP_FLAG_BITS).join(', ')}` };
    }
    if (mask & bit) return { error: `TCP flag ${JSON.stringify(name)} is named twice` };
    mask |= bit;
    if (!negated) value |= bit;
  }
  return { mask, value, text: parts.join(',') };
}

export function tcpFlagsMatch(flags: number, cond: TcpFlagCondition): boolean {
  return (flags & cond.mask) === cond.value;
}

/**
 * knockd.conf values with a syntax of their own (knockd.c: parse_port_sequence, and the TCPFlags
 * branch of parseconfig):
 *   - Sequence is `port[:tcp|udp],...`, split at every `,` (an empty item is port 0); ports are read
 *     with atoi (leading digits, the rest ignored), above 65535 is an error; the protocol is trimmed
 *     and case-insensitive, TCP by default, anything else an error; at most 32 ports;
 *   - TCPFlags is a `,`-separated list of fin/syn/rst/psh/ack/urg, each optionally prefixed by `!`,
 *     case-insensitive, with no spaces and no `|` (the man page's `fin|syn|...` lists the choices).
 *
 * Contract: what knockd rejects is a ConfigError at the line and key (through `fail`); a port knockd
 * reads as 0 or as a negative number is one too (knockgate cannot express it); what knockd reads
 * differently from how it is written is imported as knockd reads it, with a warning.
 */

import type { Endpoint, Protocol } from '../../core/endpoint.js';
import { asciiUpper, cAtoi, cTrim } from './c-text.js';

/** knockd.c SEQ_MAX. */
export const KNOCKD_SEQ_MAX = 32;
export const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'] as const;
export type TcpFlag = (typeof TCP_FLAGS)[number];

/** Throws a ConfigError at a knockd.conf line and key. */
export type KnockdFail = (line: number, key: string, detail: string) => never;
/** Records a warning for a knockd.conf line (0: the file as a whole). */
export type KnockdWarn = (line: number, message: string) => void;

const q = JSON.stringify;

/** parse_port_sequence: `port[:tcp|udp]` items separated by `,`. */
export function parseSequence(
  value: string,
  line: number,
  key: string,
  fail: KnockdFail,
  warn: KnockdWarn,
): Endpoint[] {
  const items = value.split(',');
  if (items.length > KNOCKD_SEQ_MAX)
    fail(line, key, `too many ports: knockd allows at most ${KNOCKD_SEQ_MAX}, got ${items.length}`);
  return items.map((item) => {
    const parts = item.split(':');
    const portText = parts[0] as string;
    const port = cAtoi(portText);
    if (port.value > 65_535) fail(line, key, `port ${q(cTrim(portText))} is invalid: above 65535`);
    if (port.value < 1) {
      const read = port.value === 0 ? 'port 0' : `port ${port.value & 0xffff}`;
      fail(
        line,
        key,
        `${q(cTrim(item))} is not a port from 1 to 65535 (knockd would read it as ${read}); knockgate cannot express that`,
      );
    }
    if (!port.exact)
      warn(
        line,
        `${key}: knockd reads ${q(cTrim(portText))} as port ${port.value} and ignores the rest; imported as ${port.value}`,
      );
    let proto: Protocol = 'tcp';
    if (parts.length > 1) {
      const protoText = asciiUpper(cTrim(parts[1] as string));
      if (protoText === 'UDP') proto = 'udp';
      else if (protoText !== 'TCP')
        fail(line, key, `unknown protocol ${q(parts[1])} in ${q(cTrim(item))}: use tcp or udp`);
      if (parts.length > 2)
        warn(
          line,
          `${key}: knockd ignores ${q(`:${parts.slice(2).join(':')}`)} after the protocol in ${q(cTrim(item))}`,
        );
    }
    return { port: port.value, proto };
  });
}

/** TCPFlags: exact tokens split at `,`; lines accumulate, and the last word on a flag wins. */
export function parseTcpFlagsInto(
  flags: Map<TcpFlag, boolean>,
  value: string,
  line: number,
  key: string,
  fail: KnockdFail,
): void {
  for (const token of value.split(',')) {
    const upper = asciiUpper(token);
    const negated = upper.startsWith('!');
    const name = (negated ? upper.slice(1) : upper) as TcpFlag;
    if (!(TCP_FLAGS as readonly string[]).includes(name)) {
      const hint =
        /[|\s]/.test(token) || token === '' ? '; knockd wants comma-separated flags with no spaces, e.g. syn,!ack' : '';
      fail(
        line,
        key,
        `unrecognized flag ${q(token)}: knockd knows fin, syn, rst, psh, ack and urg, optionally prefixed by "!"${hint}`,
      );
    }
    flags.set(name, !negated);
  }
}

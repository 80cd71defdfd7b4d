/**
 * One record read from /dev/kmsg (Documentation/ABI/testing/dev-kmsg): a header, `;`, the message,
 * a newline, then optional continuation lines of the record's dictionary (each starting with a
 * space). The header is `PRIORITY,SEQUENCE,MICROSECONDS,FLAGS[,...]`, decimal; PRIORITY holds the
 * syslog facility in its upper bits, 0 (kern) for what the kernel itself printed, anything else
 * for what a process wrote into /dev/kmsg.
 *
 * Contract: parseKmsgRecord() returns a value for every string and never throws; the message is
 * the text between the first `;` and the first newline. Sequence numbers let the reader count
 * what the ring lost (kmsgLost): the kernel numbers every record, and a reader that fell behind
 * gets EPIPE and then the oldest record still held.
 */

export interface KmsgRecord {
  readonly facility: number;
  readonly seq: number;
  readonly message: string;
}

const HEADER = /^(\d{1,4}),(\d{1,20}),\d{1,20},[^;,]*(?:,[^;]*)?$/;

export function parseKmsgRecord(text: string): KmsgRecord | null {
  const semi = text.indexOf(';');
  if (semi < 0 || semi > 64) return null;
  const m = HEADER.exec(text.slice(0, semi));
  if (m === null) return null;
  const seq = Number(m[2]);
  if (!Number.isSafeInteger(seq)) return null;
  const nl = text.indexOf('\n', semi);
  return {
    facility: Number(m[1]) >> 3,
    seq,
    message: text.slice(semi + 1, nl < 0 ? text.length : nl),
  };
}

/** Records between two read in a row that the reader never saw (0 when none, or out of order). */
export function kmsgLost(previousSeq: number | null, seq: number): number {
  if (previousSeq === null || seq <= previousSeq) return 0;
  return seq - previousSeq - 1;
}

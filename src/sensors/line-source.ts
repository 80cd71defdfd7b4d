/**
 * What the kernel-log sensor (kernel-log.ts) reads lines from: /dev/kmsg (kmsg.ts), the journal
 * (journal.ts) or a followed file (log-file.ts). A source calls `sink` once per log line, in order,
 * never after close(); `kernel` is false for a line the source can tell the kernel did not write.
 * A fault after the source started (a read error, journalctl gone) goes to `fault`: the source
 * keeps trying where it can, and the daemon logs it; it never throws out of a timer or an event.
 */

export type LineSink = (line: string, kernel: boolean) => void;

export type FaultHandler = (message: string) => void;

export interface LineSource {
  readonly name: string;
  /** Records the source knows were lost before it read them (0 when it cannot tell). */
  lost(): number;
  close(): void;
}

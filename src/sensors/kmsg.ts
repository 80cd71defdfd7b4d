/**
 * /dev/kmsg as a source of kernel log lines (sensor kernel-log, `source: kmsg`). Each read(2)
 * returns one record (core/kmsg-record.ts); the records already in the ring when it opens are
 * skipped (they were logged before knockgated ran). Node cannot poll a character device, so the
 * descriptor is non-blocking and read on a timer, KMSG_POLL_MS apart, at most
 * KMSG_RECORDS_PER_POLL records a tick.
 *
 * Loss: the kernel overwrites the oldest records when the ring is full; a reader that fell behind
 * gets EPIPE once and then the oldest record still held. Every record has a sequence number, so
 * the records lost are counted exactly from the gap (kmsgLost), EPIPE or not.
 *
 * Contract: `sink(message, kernel)` per record, `kernel` false for records a process wrote into
 * /dev/kmsg (facility other than kern: only root can, but it is not the firewall talking). Opening
 * needs CAP_SYSLOG where kernel.dmesg_restrict=1: KG_CAPTURE_FAILED says so.
 */

import { closeSync, constants, openSync, readSync } from 'node:fs';
import { KnockgateError } from '../core/errors.js';
import { kmsgLost, parseKmsgRecord } from '../core/kmsg-record.js';
import { KMSG_POLL_MS, KMSG_RECORD_BYTES, KMSG_RECORDS_PER_POLL } from '../core/limits.js';
import type { FaultHandler, LineSink, LineSource } from './line-source.js';

export function openKmsg(sink: LineSink, fault: FaultHandler, path = '/dev/kmsg'): LineSource {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EPERM' || code === 'EACCES'
        ? ' (reading it needs CAP_SYSLOG where kernel.dmesg_restrict=1; or use source: journal)'
        : code === 'ENOENT'
          ? ' (the shipped systemd unit hides it with PrivateDevices=yes and ProtectKernelLogs=yes: see "Sensors" in the README for the drop-in)'
          : '';
    throw new KnockgateError('KG_CAPTURE_FAILED', `cannot read ${path}: ${(err as Error).message}${hint}`, {
      cause: err,
    });
  }
  const buf = Buffer.alloc(KMSG_RECORD_BYTES);
  let lastSeq: number | null = null;
  let lost = 0;
  let closed = false;

  /** Reads up to `max` records; false once the ring is empty for now. */
  const read = (max: number, deliver: boolean): boolean => {
    for (let i = 0; i < max; i++) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // overwritten while we lagged: the sequence gap counts them
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
        throw err;
      }
      if (n === 0) return false;
      const rec = parseKmsgRecord(buf.toString('utf8', 0, n));
      if (rec === null) continue;
      if (deliver) lost += kmsgLost(lastSeq, rec.seq);
      lastSeq = rec.seq;
      if (deliver) sink(rec.message, rec.facility === 0);
    }
    return true;
  };
  // Skip what the ring held before: loops until EAGAIN (the ring is finite).
  while (read(KMSG_RECORDS_PER_POLL, false));
  let faulted = false;
  const timer = setInterval(() => {
    if (closed) return;
    try {
      read(KMSG_RECORDS_PER_POLL, true);
      faulted = false;
    } catch (err) {
      if (!faulted) fault(`reading ${path} failed: ${(err as Error).message}`); // once per run of failures
      faulted = true;
    }
  }, KMSG_POLL_MS);
  return {
    name: `kernel-log:${path}`,
    lost: () => lost,
    close: () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      closeSync(fd);
    },
  };
}

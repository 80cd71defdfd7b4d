/**
 * A log file followed like `tail -F` (sensor kernel-log, `source: { file: PATH }`, e.g. rsyslog's
 * /var/log/kern.log): read from its end at open, then every KERNEL_LOG_FILE_POLL_MS, at most
 * KERNEL_LOG_FILE_READ_BYTES a tick.
 *
 * Rotation, both kinds logrotate does:
 *   - rename and a new file (`create`): when PATH names another inode, the rest of the old file is
 *     read to its end, then the new file from its start; while PATH is missing (between the rename
 *     and the create) the old file is still followed;
 *   - truncation in place (`copytruncate`): when the file is shorter than what was read, reading
 *     starts again at 0 (lines written between the copy and the truncation are lost; logrotate's
 *     own caveat).
 * A line longer than MAX_KERNEL_LOG_LINE_BYTES is cut there (the parser drops it as too long if it
 * carries the prefix). Every line is reported as the kernel's: the file cannot say who wrote it.
 */

import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { KnockgateError } from '../core/errors.js';
import { KERNEL_LOG_FILE_POLL_MS, KERNEL_LOG_FILE_READ_BYTES, MAX_KERNEL_LOG_LINE_BYTES } from '../core/limits.js';
import type { FaultHandler, LineSink, LineSource } from './line-source.js';

interface Followed {
  fd: number;
  ino: number;
  dev: number;
  pos: number;
}

export function followLogFile(path: string, sink: LineSink, fault: FaultHandler): LineSource {
  let current: Followed;
  try {
    current = openAt(path, 'end');
  } catch (err) {
    throw new KnockgateError('KG_CAPTURE_FAILED', `cannot follow ${path}: ${(err as Error).message}`, { cause: err });
  }
  const buf = Buffer.alloc(KERNEL_LOG_FILE_READ_BYTES);
  let decoder = new StringDecoder('utf8');
  let partial = '';
  let closed = false;
  let faulted = false;

  const deliver = (text: string): void => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = (partial + text.slice(start, nl)).slice(0, MAX_KERNEL_LOG_LINE_BYTES + 1);
      partial = '';
      start = nl + 1;
      if (!closed) sink(line.endsWith('\r') ? line.slice(0, -1) : line, true);
    }
    partial = (partial + text.slice(start)).slice(0, MAX_KERNEL_LOG_LINE_BYTES + 1);
  };

  /** Reads what is new in the followed file; the number of bytes read. */
  const readNew = (): number => {
    const size = fstatSync(current.fd).size;
    if (size < current.pos) {
      current.pos = 0; // truncated in place
      partial = '';
      decoder = new StringDecoder('utf8');
    }
    const n = readSync(current.fd, buf, 0, Math.min(buf.length, size - current.pos), current.pos);
    current.pos += n;
    if (n > 0) deliver(decoder.write(buf.subarray(0, n)));
    return n;
  };

  const tick = (): void => {
    readNew();
    let named: { ino: number; dev: number } | null = null;
    try {
      named = statSync(path);
    } catch {
      return; // renamed away, the new file not made yet: keep following the old one
    }
    if (named.ino === current.ino && named.dev === current.dev) return;
    // Rotated: the old file's last lines first (bounded: it no longer grows), then the new file.
    for (let i = 0; i < 64 && readNew() > 0; i++);
    if (partial !== '') deliver('\n');
    closeSync(current.fd);
    current = openAt(path, 'start');
    decoder = new StringDecoder('utf8');
    readNew();
  };

  const timer = setInterval(() => {
    if (closed) return;
    try {
      tick();
      faulted = false;
    } catch (err) {
      if (!faulted) fault(`following ${path} failed: ${(err as Error).message}`);
      faulted = true;
    }
  }, KERNEL_LOG_FILE_POLL_MS);
  return {
    name: `kernel-log:${path}`,
    lost: () => 0,
    close: () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      closeSync(current.fd);
    },
  };
}

function openAt(path: string, at: 'start' | 'end'): Followed {
  const fd = openSync(path, 'r');
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new Error('not a regular file');
  }
  return { fd, ino: st.ino, dev: st.dev, pos: at === 'end' ? st.size : 0 };
}

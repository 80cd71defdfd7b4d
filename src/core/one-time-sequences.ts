/**
 * The one-time sequence file, as knockd reads it: one sequence per line, steps separated by commas
 * or spaces (`7000,8000/udp,9000`). A line that starts with `#` is a comment or a used sequence:
 * knockd marks a line used by overwriting its first character with `#`, and so do we, which keeps
 * the file's size, the other lines' offsets and compatibility with knockd's own files.
 *
 * Offsets are UTF-8 byte offsets, so a file that is not UTF-8 (parseOneTimeSequenceBytes) and a
 * sequence line that starts with a non-ASCII character are refused: the mark would not land on the
 * line's first byte, or would leave half a character.
 *
 * Pure parsing only; reading and marking the file is the store's job.
 */

import { parseEndpoint, type Endpoint } from './endpoint.js';
import { MAX_ONE_TIME_SEQUENCE_LINES, MAX_SEQUENCE_STEPS } from './limits.js';

export interface OneTimeSequence {
  /** 1-based line number in the file. */
  readonly line: number;
  /** Byte offset of the line's first character, where the used-mark goes. */
  readonly offset: number;
  readonly steps: readonly Endpoint[];
}

export type OneTimeParse =
  | { readonly ok: true; readonly unused: readonly OneTimeSequence[] }
  | { readonly ok: false; readonly line: number; readonly error: string };

const UTF8 = new TextEncoder();

export function parseOneTimeSequences(text: string): OneTimeParse {
  const unused: OneTimeSequence[] = [];
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    // The empty string after a final newline is not a line.
    if (i >= MAX_ONE_TIME_SEQUENCE_LINES && !(i === lines.length - 1 && raw === '')) {
      return {
        ok: false,
        line: i + 1,
        error: `a one-time sequence file has at most ${MAX_ONE_TIME_SEQUENCE_LINES} lines`,
      };
    }
    const lineOffset = offset;
    offset += UTF8.encode(raw).length + 1;
    const content = raw.replace(/\r$/, '');
    if (content.trim() === '' || content.startsWith('#')) continue;
    // The used-mark overwrites the line's first byte: that byte must be a whole character.
    if (content.charCodeAt(0) > 0x7f)
      return {
        ok: false,
        line: i + 1,
        error: 'a sequence line must start with an ASCII character (the used-mark "#" overwrites its first byte)',
      };
    const parts = content.trim().split(/[\s,]+/);
    if (parts.length > MAX_SEQUENCE_STEPS) {
      return {
        ok: false,
        line: i + 1,
        error: `a sequence has at most ${MAX_SEQUENCE_STEPS} steps, this one has ${parts.length}`,
      };
    }
    const steps: Endpoint[] = [];
    for (const part of parts) {
      const e = parseEndpoint(part);
      if ('error' in e) return { ok: false, line: i + 1, error: e.error };
      steps.push(e);
    }
    unused.push({ line: i + 1, offset: lineOffset, steps });
  }
  return { ok: true, unused };
}

// ignoreBOM: keep a byte-order mark in the text (by default it is dropped, and offsets would be 3 bytes off).
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The file's bytes, as the store reads them: refused, with the line, unless they are UTF-8 (a
 * decoder would replace each bad byte with U+FFFD, three bytes, and every later offset would be
 * wrong); then parseOneTimeSequences.
 */
export function parseOneTimeSequenceBytes(bytes: Uint8Array): OneTimeParse {
  try {
    return parseOneTimeSequences(STRICT_UTF8.decode(bytes));
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        STRICT_UTF8.decode(bytes.subarray(start, i));
      } catch {
        break;
      }
      line++;
      start = i + 1;
    }
    return { ok: false, line, error: 'not UTF-8 text: the used-marks would land on the wrong bytes' };
  }
}

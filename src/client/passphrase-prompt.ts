/**
 * Asking for a passphrase on the terminal, without echo. The terminal is /dev/tty, not stdin:
 * under ssh's ProxyCommand stdin and stdout carry the connection, and the user is still at the
 * controlling terminal (ssh, sudo and gpg ask there too). The line is read in raw mode (libuv
 * clears ECHO, ICANON and ISIG), so this file does the line editing: Enter ends the line,
 * Backspace removes a character, Ctrl-U clears the line, Ctrl-C or Ctrl-D on an empty line
 * cancels. The terminal's mode is restored on every way out: here when the line ends, and by
 * Node (libuv's uv_tty_reset_mode) when the process exits or dies of SIGINT or SIGTERM meanwhile.
 */

import { openSync, writeSync } from 'node:fs';
import { isatty, ReadStream } from 'node:tty';
import { KnockgateError } from '../core/errors.js';
import { MAX_PASSPHRASE_BYTES } from '../core/limits.js';

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x08;
const CTRL_U = 0x15;
const DELETE = 0x7f;

/** The controlling terminal, opened for reading and writing; an error saying what to do instead. */
function openTerminal(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (err) {
    throw new KnockgateError(
      'KG_PASSPHRASE_UNAVAILABLE',
      `no terminal to ask for the passphrase on (${(err as NodeJS.ErrnoException).code ?? 'error'}); give it with --passphrase-fd N`,
    );
  }
  if (!isatty(fd))
    throw new KnockgateError(
      'KG_PASSPHRASE_UNAVAILABLE',
      `${path} is not a terminal; give the passphrase with --passphrase-fd N`,
    );
  return fd;
}

/**
 * Line editing of raw bytes: the bytes so far after `chunk`, and whether the line ended ('done')
 * or was cancelled. Exported for the unit test; the prompt below feeds it the terminal's bytes.
 */
export function editLine(line: number[], chunk: Uint8Array): 'done' | 'cancel' | 'more' {
  for (const byte of chunk) {
    if (byte === 0x0d || byte === 0x0a) return 'done';
    if (byte === CTRL_C || (byte === CTRL_D && line.length === 0)) return 'cancel';
    if (byte === DELETE || byte === BACKSPACE) {
      // One character: its UTF-8 continuation bytes (10xxxxxx), then its first byte.
      while (line.length > 0 && ((line[line.length - 1] as number) & 0xc0) === 0x80) line.pop();
      line.pop();
    } else if (byte === CTRL_U) line.length = 0;
    else if (byte >= 0x20) line.push(byte); // other control bytes (escape sequences' ESC included) are dropped
  }
  return 'more';
}

/** Prompts on the terminal (`path`, /dev/tty unless a test says) and resolves to the line typed. */
export async function promptPassphrase(prompt: string, path = '/dev/tty'): Promise<string> {
  const fd = openTerminal(path);
  const input = new ReadStream(fd);
  const line: number[] = [];
  try {
    input.setRawMode(true);
    writeSync(fd, prompt);
    const outcome = await new Promise<'done' | 'cancel' | 'long'>((resolve) => {
      input.on('data', (chunk: Buffer) => {
        const r = editLine(line, chunk);
        if (line.length > MAX_PASSPHRASE_BYTES) resolve('long');
        else if (r !== 'more') resolve(r);
      });
      input.on('end', () => resolve('cancel'));
      input.on('error', () => resolve('cancel'));
    });
    if (outcome === 'cancel') throw new KnockgateError('KG_PASSPHRASE_UNAVAILABLE', 'no passphrase given (cancelled)');
    if (outcome === 'long')
      throw new KnockgateError(
        'KG_PASSPHRASE_UNAVAILABLE',
        `the passphrase is longer than ${MAX_PASSPHRASE_BYTES} bytes`,
      );
    return decodePassphrase(Buffer.from(line));
  } finally {
    input.setRawMode(false);
    writeSync(fd, '\n');
    line.fill(0);
    input.destroy();
  }
}

/** UTF-8, strictly: a passphrase typed in another encoding would derive another key, silently. */
export function decodePassphrase(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new KnockgateError('KG_PASSPHRASE_UNAVAILABLE', 'the passphrase is not UTF-8 text');
  }
}

/**
 * Where a passphrase comes from: the terminal (client/passphrase-prompt.ts, without echo; twice
 * when a new one is set), or the first line of a file descriptor the caller opened for us
 * (`--passphrase-fd N`, as gpg's). Never argv or the environment, where other users and logs can
 * read it. The descriptor is read one byte at a time up to the newline, so that two passphrases
 * (the current one, then a new one) can come one line each from the same descriptor.
 */

import { readSync } from 'node:fs';
import { KnockgateError } from '../core/errors.js';
import { MAX_PASSPHRASE_BYTES, MIN_NEW_PASSPHRASE_CHARS } from '../core/limits.js';
import { decodePassphrase, promptPassphrase } from './passphrase-prompt.js';

const sleep = new Int32Array(new SharedArrayBuffer(4));

/** One line of descriptor `fd` (the newline, and a \r before it, removed). */
export function readPassphraseLine(fd: number): string {
  const line: number[] = [];
  const byte = Buffer.alloc(1);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, byte, 0, 1, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A non-blocking pipe with nothing in it yet: wait a little, the writer is coming.
      if (code === 'EAGAIN') {
        Atomics.wait(sleep, 0, 0, 5);
        continue;
      }
      throw new KnockgateError(
        'KG_PASSPHRASE_UNAVAILABLE',
        `--passphrase-fd ${fd}: cannot read it (${code ?? 'error'})`,
      );
    }
    if (n === 0) {
      if (line.length === 0)
        throw new KnockgateError('KG_PASSPHRASE_UNAVAILABLE', `--passphrase-fd ${fd}: end of file before a passphrase`);
      break;
    }
    if (byte[0] === 0x0a) break;
    line.push(byte[0] as number);
    if (line.length > MAX_PASSPHRASE_BYTES)
      throw new KnockgateError(
        'KG_PASSPHRASE_UNAVAILABLE',
        `--passphrase-fd ${fd}: longer than ${MAX_PASSPHRASE_BYTES} bytes`,
      );
  }
  if (line[line.length - 1] === 0x0d) line.pop();
  const text = decodePassphrase(Buffer.from(line));
  line.fill(0);
  return text;
}

/** The passphrase that opens `file`: from `fd` if given, else asked on the terminal. */
export async function passphraseFor(file: string, fd: number | undefined): Promise<string> {
  return fd !== undefined ? readPassphraseLine(fd) : promptPassphrase(`passphrase for ${file}: `);
}

/**
 * A new passphrase for `file`: from `fd` (one line), or typed twice on the terminal. Refused when
 * shorter than MIN_NEW_PASSPHRASE_CHARS, or when the two typed differ (nothing is written then).
 */
export async function newPassphraseFor(file: string, fd: number | undefined): Promise<string> {
  let passphrase: string;
  if (fd !== undefined) passphrase = readPassphraseLine(fd);
  else {
    passphrase = await promptPassphrase(`new passphrase for ${file}: `);
    checkNew(passphrase);
    if ((await promptPassphrase('the same again: ')) !== passphrase)
      throw new KnockgateError('KG_PASSPHRASE_UNAVAILABLE', 'the two passphrases typed differ; nothing was written');
  }
  checkNew(passphrase);
  return passphrase;
}

function checkNew(passphrase: string): void {
  if ([...passphrase.normalize('NFC')].length < MIN_NEW_PASSPHRASE_CHARS)
    throw new KnockgateError(
      'KG_USAGE',
      `a new passphrase needs at least ${MIN_NEW_PASSPHRASE_CHARS} characters (a stolen file can be tried offline)`,
    );
}

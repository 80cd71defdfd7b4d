/**
 * `gpg` run by the client to make an fwknop GnuPG packet's OpenPGP message: the encoded plaintext
 * on stdin, encrypted to the server's key and, with a signer, signed, as fwknop's client does
 * through gpgme. Argv only (no shell); the signer's passphrase, when one is configured, goes on
 * fd 3 (never argv, the environment or a log); keys are never fetched from the network; the run is
 * bounded in time (CLIENT_GPG_TIMEOUT_MS) and output (MAX_CLIENT_GPG_OUTPUT_BYTES).
 *
 * Contract: resolves with the binary message; any failure is KG_GPG_FAILED with gpg's own first
 * line of complaint, and nothing is sent.
 */

import { spawn } from 'node:child_process';
import { KnockgateError } from '../core/errors.js';
import { CLIENT_GPG_TIMEOUT_MS, MAX_CLIENT_GPG_OUTPUT_BYTES } from '../core/limits.js';

export interface GpgSending {
  /** GPG_RECIPIENT: the server's key (id or fingerprint). */
  readonly recipient: string;
  /** GPG_SIGNER: the client's signing key; null sends unsigned (fwknopd refuses it by default). */
  readonly signer: string | null;
  /** GPG_HOMEDIR; null: gpg's default (~/.gnupg). */
  readonly homeDir: string | null;
  /** GPG_EXE. */
  readonly exe: string;
  /** GPG_SIGNING_PW; null: none (an unprotected key, or gpg-agent has it). */
  readonly signingPassphrase: string | null;
}

export function gpgEncrypt(plaintext: string, g: GpgSending): Promise<Buffer> {
  const args = [
    '--batch',
    '--no-tty',
    '--quiet',
    ...(g.homeDir !== null ? ['--homedir', g.homeDir] : []),
    '--trust-model',
    'always',
    '--no-auto-key-retrieve',
    '--encrypt',
    '--recipient',
    g.recipient,
    ...(g.signer !== null ? ['--sign', '--local-user', g.signer] : []),
    ...(g.signingPassphrase !== null ? ['--pinentry-mode', 'loopback', '--passphrase-fd', '3'] : []),
    '--output',
    '-',
  ];
  return new Promise((resolve, reject) => {
    const fail = (why: string): void =>
      reject(new KnockgateError('KG_GPG_FAILED', `gpg (${g.exe}) could not make the packet: ${why}; nothing was sent`));
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(g.exe, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    } catch (err) {
      fail((err as Error).message);
      return;
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`no answer within ${CLIENT_GPG_TIMEOUT_MS / 1000} s`);
    }, CLIENT_GPG_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    child.stdout?.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > MAX_CLIENT_GPG_OUTPUT_BYTES) {
        child.kill('SIGKILL');
        return;
      }
      out.push(d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString('utf8');
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (outBytes > MAX_CLIENT_GPG_OUTPUT_BYTES)
        return fail(`it wrote more than ${MAX_CLIENT_GPG_OUTPUT_BYTES} bytes`);
      if (code !== 0) return fail(err.trim().split('\n')[0] || `exit status ${String(code)}`);
      resolve(Buffer.concat(out));
    });
    const pw = child.stdio[3] as NodeJS.WritableStream | null;
    if (g.signingPassphrase !== null) pw?.end(`${g.signingPassphrase}\n`);
    else pw?.end();
    child.stdin?.end(plaintext, 'latin1');
  });
}

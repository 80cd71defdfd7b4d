/**
 * The GpgDecrypter port on the system's gpg (ports/gpg-decrypter.ts), loaded only when a stanza
 * has GnuPG settings (daemon/datagram-doors.ts imports it dynamically).
 *
 * Why gpg and not openpgp.js: fwknopd itself uses GnuPG (through gpgme), so a stanza's
 * GPG_HOME_DIR is a GnuPG home that already holds the server key, its passphrase protection and
 * the clients' public keys; running the same gpg against it reads exactly what fwknopd reads
 * (keyring formats, agent-protected secret keys, expiry and revocation), with no second
 * implementation of OpenPGP in the daemon and nothing for those who use no GnuPG stanza to load.
 * The price is a process per packet (~0.3 s with a passphrase-protected RSA-2048 key, measured by
 * test/integration/fwknop-gpg.test.ts; ~11 ms unprotected), which the GnuPG budget admits
 * (core/spa/fwknop-gpg-rung.ts). openpgp.js (npm, Node 20) would save the process but not the
 * key's passphrase derivation, would need the keys exported out of the GnuPG home, and would put
 * a second OpenPGP implementation, with its own reading of keys and signatures, in the daemon.
 *
 * How it is run: argv only (no shell), `--batch --no-tty` with the stanza's own --homedir;
 * the passphrase is written to a pipe given as `--passphrase-fd 3` (with `--pinentry-mode
 * loopback`), never put in argv, the environment or a log; `--status-fd 4` gives the machine-readable
 * outcome (core/spa/gpg-status.ts), the message goes in on stdin and the plaintext comes out on
 * stdout; keys are never fetched (`--no-auto-key-retrieve`), trust is not consulted (the stanza's
 * signer lists are the policy), and the run is killed after GPG_TIMEOUT_MS or once its output passes
 * MAX_GPG_PLAINTEXT_BYTES / MAX_GPG_STATUS_BYTES.
 * Contract: decrypt() never rejects; a run that cannot be trusted to have finished is `failed`.
 */

import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { GPG_TIMEOUT_MS, MAX_GPG_PLAINTEXT_BYTES, MAX_GPG_STATUS_BYTES } from '../core/limits.js';
import type { FwknopGpgSettings, GpgDecryptResult } from '../core/spa/fwknop-gpg.js';
import { parseGpgStatus } from '../core/spa/gpg-status.js';
import type { GpgDecrypter } from '../ports/gpg-decrypter.js';

/** The argv of one decryption (no secret in it). */
export function gpgDecryptArgs(s: FwknopGpgSettings): string[] {
  const args = ['--batch', '--no-tty', '--quiet', '--homedir', s.homeDir, '--status-fd', '4'];
  args.push('--no-auto-key-retrieve', '--trust-model', 'always', '--max-output', String(MAX_GPG_PLAINTEXT_BYTES));
  if (s.decryptPassphrase !== null) args.push('--pinentry-mode', 'loopback', '--passphrase-fd', '3');
  if (s.decryptId !== null) args.push('--try-secret-key', s.decryptId);
  args.push('--decrypt');
  return args;
}

export class SystemGpgDecrypter implements GpgDecrypter {
  constructor(private readonly timeoutMs = GPG_TIMEOUT_MS) {}

  decrypt(settings: FwknopGpgSettings, message: Uint8Array): Promise<GpgDecryptResult> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: GpgDecryptResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (r.kind === 'failed' && child.exitCode === null) child.kill('SIGKILL');
        resolve(r);
      };
      const child = spawn(settings.exe, gpgDecryptArgs(settings), {
        stdio: ['pipe', 'pipe', 'ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      });
      const timer = setTimeout(
        () => finish({ kind: 'failed', detail: `gpg timed out after ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
      const plain: Buffer[] = [];
      const status: Buffer[] = [];
      let plainBytes = 0;
      let statusBytes = 0;
      const [stdin, stdout, , pwPipe, statusPipe] = child.stdio as unknown as [
        Writable,
        Readable,
        null,
        Writable,
        Readable,
      ];
      stdout.on('data', (b: Buffer) => {
        plainBytes += b.length;
        if (plainBytes > MAX_GPG_PLAINTEXT_BYTES) finish({ kind: 'failed', detail: 'gpg wrote too much plaintext' });
        else plain.push(b);
      });
      statusPipe.on('data', (b: Buffer) => {
        statusBytes += b.length;
        if (statusBytes > MAX_GPG_STATUS_BYTES) finish({ kind: 'failed', detail: 'gpg wrote too much status' });
        else status.push(b);
      });
      for (const s of [stdin, stdout, pwPipe, statusPipe]) s.on('error', () => {}); // an early exit closes them
      child.on('error', (e) => finish({ kind: 'failed', detail: `cannot run ${settings.exe}: ${e.message}` }));
      child.on('close', (code) => {
        const text = Buffer.concat(status).toString('latin1');
        const st = parseGpgStatus(text);
        if (st.decrypted)
          finish({ kind: 'decrypted', plaintext: new Uint8Array(Buffer.concat(plain)), signature: st.signature });
        else
          finish({
            kind: 'not-decrypted',
            detail: `gpg could not decrypt (exit status ${code ?? 'signal'}${whyNot(text)})`,
          });
      });
      if (settings.decryptPassphrase !== null) pwPipe.end(Buffer.from(settings.decryptPassphrase));
      else pwPipe.end();
      stdin.end(Buffer.from(message));
    });
  }
}

/** gpg's failure keywords (NO_SECKEY, BAD_PASSPHRASE, NODATA, ...), for the log: status lines hold no secret. */
const FAILURE_KEYWORDS = new Set([
  'NO_SECKEY',
  'BAD_PASSPHRASE',
  'MISSING_PASSPHRASE',
  'NODATA',
  'DECRYPTION_FAILED',
  'ERROR',
  'FAILURE',
  'UNEXPECTED',
]);
function whyNot(status: string): string {
  const seen = new Set<string>();
  for (const line of status.split('\n')) {
    const [tag, keyword, a, b] = line.split(' ');
    if (tag === '[GNUPG:]' && keyword !== undefined && FAILURE_KEYWORDS.has(keyword))
      seen.add(keyword === 'ERROR' || keyword === 'FAILURE' ? `${keyword} ${a ?? ''} ${b ?? ''}`.trim() : keyword);
  }
  return seen.size === 0 ? '' : `: ${[...seen].slice(0, 4).join(', ')}`;
}

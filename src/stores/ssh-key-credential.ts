/**
 * The `ssh_key:` line of a client credential (knockgate-client-v1): the OpenSSH public key of an
 * ssh-ed25519 key held by ssh-agent, in place of a psk or a private key. It is no secret: the
 * credential names the key the client asks the agent to sign with, and the agent keeps the private
 * half. Read and written here, apart from key-files.ts, which calls sshKeyOf and sshKeyLines;
 * readSshPublicKeyFile reads the .pub file `add-client --ssh-key` is given.
 */

import { readFileSync } from 'node:fs';
import { ConfigError, KnockgateError } from '../core/errors.js';
import { ed25519PublicKeyProblem } from '../core/spa/ed25519-point.js';
import { parseSshPublicKeyLine, sshPublicKeyLine, type SshEd25519PublicKey } from '../core/ssh/ssh-public-key.js';

export const SSH_KEY_FIELD = 'ssh_key';

/** The credential's agent key, if it names one; a ConfigError naming the file otherwise. */
export function sshKeyOf(file: string, doc: Record<string, unknown>): { sshKey?: SshEd25519PublicKey } {
  const v = doc[SSH_KEY_FIELD];
  if (v === undefined) return {};
  if (typeof v !== 'string')
    throw new ConfigError(file, undefined, SSH_KEY_FIELD, 'must be an OpenSSH public key line');
  const key = parseSshPublicKeyLine(v);
  if ('error' in key) throw new ConfigError(file, undefined, SSH_KEY_FIELD, `the value ${key.error}`);
  return { sshKey: key };
}

/** The credential's `ssh_key:` line, when it has an agent key. */
export function sshKeyLines(c: { readonly sshKey?: SshEd25519PublicKey }): string[] {
  return c.sshKey ? [`${SSH_KEY_FIELD}: ${JSON.stringify(sshPublicKeyLine(c.sshKey.raw, c.sshKey.comment))}`] : [];
}

/** Bytes of a .pub file read: far above any ssh-ed25519 line (about 100 bytes and a comment). */
const MAX_PUBLIC_KEY_FILE_BYTES = 16 * 1024;

/**
 * The ssh-ed25519 key in an OpenSSH public key file (`add-client --ssh-key FILE`): one plain
 * KG_SSH_KEY_UNREADABLE or KG_SSH_KEY_INVALID line for a missing file or anything else in it.
 */
export function readSshPublicKeyFile(file: string): SshEd25519PublicKey {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new KnockgateError(
      'KG_SSH_KEY_UNREADABLE',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (data.length > MAX_PUBLIC_KEY_FILE_BYTES)
    throw new KnockgateError('KG_SSH_KEY_INVALID', `${file} is too large for an OpenSSH public key file`);
  const key = parseSshPublicKeyLine(data.toString('utf8'));
  if ('error' in key) throw new KnockgateError('KG_SSH_KEY_INVALID', `${file} ${key.error}`);
  const problem = ed25519PublicKeyProblem(key.raw);
  if (problem !== null)
    throw new KnockgateError(
      'KG_SSH_KEY_INVALID',
      `${file} holds an Ed25519 key that cannot sign for anyone (${problem})`,
    );
  return key;
}

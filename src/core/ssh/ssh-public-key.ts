/**
 * OpenSSH public keys of type ssh-ed25519: the one-line text form (`ssh-ed25519 AAAA... comment`,
 * what ~/.ssh/id_ed25519.pub and `ssh-add -L` hold) and the key blob inside it, which is also
 * what ssh-agent names a key by (RFC 8709 §4: string "ssh-ed25519" || string key, 32 bytes).
 *
 * Contract: parseSshPublicKeyLine never throws; it accepts only ssh-ed25519 and says what else it
 * saw (another key type, a private key, a certificate), so the user is told which file to give.
 */

import { createHash } from 'node:crypto';
import { SshReader, sshString } from './ssh-wire.js';

export const SSH_ED25519 = 'ssh-ed25519';
const RAW_BYTES = 32;
/** Longer than any ssh-ed25519 line with a sensible comment; bounds what is parsed. */
const MAX_LINE_CHARS = 4_096;

export interface SshEd25519PublicKey {
  /** The 32-byte Ed25519 public key. */
  readonly raw: Uint8Array;
  /** The key blob: string "ssh-ed25519" || string raw. */
  readonly blob: Uint8Array;
  readonly comment: string;
}

/** The key blob of a raw Ed25519 public key. */
export function sshEd25519Blob(raw: Uint8Array): Buffer {
  return Buffer.concat([sshString(SSH_ED25519), sshString(raw)]);
}

/** The key's fingerprint as `ssh-add -l` and `ssh-keygen -l` print it: SHA256:base64(SHA-256(blob)), unpadded. */
export function sshKeyFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The raw key inside an ssh-ed25519 key blob, or null when the blob is anything else. */
export function rawOfSshEd25519Blob(blob: Uint8Array): Uint8Array | null {
  const r = new SshReader(blob);
  const type = r.string();
  const raw = r.string();
  if (type === null || raw === null || !r.atEnd) return null;
  if (Buffer.from(type).toString('latin1') !== SSH_ED25519 || raw.length !== RAW_BYTES) return null;
  return raw;
}

/** A comment as one line of printable text: control characters dropped, runs of spaces made one. */
function cleanComment(comment: string): string {
  return [...comment]
    .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)
    .join('')
    .split(/\s+/)
    .filter((w) => w !== '')
    .join(' ');
}

/** The one-line text form, as in a .pub file (the comment, if any, with control characters dropped). */
export function sshPublicKeyLine(raw: Uint8Array, comment = ''): string {
  const clean = cleanComment(comment);
  return `${SSH_ED25519} ${sshEd25519Blob(raw).toString('base64')}${clean ? ` ${clean}` : ''}`;
}

/** The ssh-ed25519 key on the first non-empty, non-comment line of `text`, or what is wrong with it. */
export function parseSshPublicKeyLine(text: string): SshEd25519PublicKey | { readonly error: string } {
  if (text.length > MAX_LINE_CHARS * 4) return { error: 'is too long for an OpenSSH public key file' };
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
    return { error: 'is a private key; give the public key (the .pub file, or a line of `ssh-add -L`)' };
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  if (line === undefined) return { error: 'holds no OpenSSH public key line' };
  if (line.length > MAX_LINE_CHARS) return { error: 'has a line too long for an OpenSSH public key' };
  const [type = '', base64 = '', ...rest] = line.split(/\s+/);
  if (type !== SSH_ED25519) {
    if (/^(ssh-|ecdsa-|sk-|rsa-)[A-Za-z0-9@._-]{1,60}$/.test(type))
      return {
        error: `is a ${type} key; only ssh-ed25519 keys can knock (make one with \`ssh-keygen -t ed25519\`)`,
      };
    return { error: 'is not an OpenSSH public key line ("ssh-ed25519 AAAA... comment")' };
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return { error: 'has a key that is not base64 text' };
  const blob = new Uint8Array(Buffer.from(base64, 'base64'));
  const raw = rawOfSshEd25519Blob(blob);
  if (raw === null) return { error: 'has an ssh-ed25519 line whose key blob is not an Ed25519 key' };
  return { raw, blob, comment: cleanComment(rest.join(' ')) };
}

/**
 * A server key's fingerprint, for people comparing two keys by eye: "SHA256:" and the unpadded
 * base64 of SHA-256 over the raw 32-byte X25519 public key, the form ssh-keygen -l uses. The
 * client prints it (`knock -v`, add-client), the server at start (`door-ready`) and keygen: when
 * they differ, the credential was made for another server key. A public key's digest: not a secret.
 */

import { createHash } from 'node:crypto';
import { RAW_KEY_BYTES } from './keys.js';

export function keyFingerprint(rawPublicKey: Uint8Array): string {
  if (rawPublicKey.length !== RAW_KEY_BYTES) throw new Error(`expected a ${RAW_KEY_BYTES}-byte public key`);
  return `SHA256:${createHash('sha256').update(rawPublicKey).digest('base64').replace(/=+$/, '')}`;
}

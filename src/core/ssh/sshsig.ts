/**
 * The data an SSH signature covers when it is made for a purpose (OpenSSH PROTOCOL.sshsig, the
 * blob `ssh-keygen -Y sign` signs):
 *
 *   byte[6] "SSHSIG" || string namespace || string reserved ("") || string hash_algorithm || string H(message)
 *
 * The namespace is the point: a signature over knockgate's wrapper, namespace `knockgate-spa@v1`,
 * verifies nowhere a different namespace (or a raw message) is expected, and no signature made
 * for something else (a git commit, `-n file`, an ssh login) verifies as a knock.
 *
 * Contract: pure and deterministic; the hash is SHA-512 (the algorithm ssh-keygen uses by default).
 */

import { createHash } from 'node:crypto';
import { sshString } from './ssh-wire.js';

/** The namespace of knockgate's SPA proofs (docs/protocol.md, mode ssh-ed25519). */
export const SPA_SSHSIG_NAMESPACE = 'knockgate-spa@v1';
export const SSHSIG_HASH = 'sha512';
const MAGIC = Buffer.from('SSHSIG', 'ascii');

/** The bytes a key signs to sign `message` under `namespace`. */
export function sshsigSignedData(namespace: string, message: Uint8Array): Buffer {
  return Buffer.concat([
    MAGIC,
    sshString(namespace),
    sshString(''),
    sshString(SSHSIG_HASH),
    sshString(createHash(SSHSIG_HASH).update(message).digest()),
  ]);
}

/**
 * The armored signature `ssh-keygen -Y sign` writes (OpenSSH PROTOCOL.sshsig), read and written
 * for tests that cross-check knockgate's ssh-ed25519 mode with the real ssh-keygen:
 *
 *   -----BEGIN SSH SIGNATURE----- base64( "SSHSIG" || uint32 1 || string publickey ||
 *   string namespace || string reserved || string hash_algorithm || string signature ) -----END...
 *
 * where signature is string "ssh-ed25519" || string sig64 for an Ed25519 key. Test code, written
 * from the document; throws on anything else.
 */

import { SshReader, sshString, sshUint32 } from '../../src/core/ssh/ssh-wire.js';

export interface SshsigArmor {
  readonly publicKeyBlob: Uint8Array;
  readonly namespace: string;
  readonly hashAlgorithm: string;
  /** The raw 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
}

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const text = (b: Uint8Array | null): string => Buffer.from(b ?? new Uint8Array()).toString('latin1');

export function parseSshsigArmor(armor: string): SshsigArmor {
  const start = armor.indexOf(BEGIN);
  const end = armor.indexOf(END);
  if (start < 0 || end < start) throw new Error('not an SSH SIGNATURE armor');
  const blob = Buffer.from(armor.slice(start + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  if (blob.subarray(0, 6).toString('latin1') !== 'SSHSIG') throw new Error('no SSHSIG magic');
  const r = new SshReader(blob.subarray(6));
  const version = r.u32();
  const publicKeyBlob = r.string();
  const namespace = text(r.string());
  r.string(); // reserved
  const hashAlgorithm = text(r.string());
  const sigBlob = r.string();
  if (version !== 1 || publicKeyBlob === null || sigBlob === null || !r.atEnd) throw new Error('malformed SSHSIG blob');
  const s = new SshReader(sigBlob);
  const type = text(s.string());
  const signature = s.string();
  if (type !== 'ssh-ed25519' || signature === null || signature.length !== 64 || !s.atEnd)
    throw new Error(`not an Ed25519 signature: ${type}`);
  return {
    publicKeyBlob: Uint8Array.from(publicKeyBlob),
    namespace,
    hashAlgorithm,
    signature: Uint8Array.from(signature),
  };
}

/** The armor ssh-keygen -Y check-novalidate reads, around a raw Ed25519 signature. */
export function sshsigArmor(a: SshsigArmor): string {
  const blob = Buffer.concat([
    Buffer.from('SSHSIG', 'latin1'),
    sshUint32(1),
    sshString(a.publicKeyBlob),
    sshString(a.namespace),
    sshString(''),
    sshString(a.hashAlgorithm),
    sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(a.signature)])),
  ]).toString('base64');
  return `${BEGIN}\n${blob.replace(/.{1,70}/g, '$&\n')}${END}\n`;
}

/**
 * fwknop's GnuPG mode (docs/fwknop-format.md, "GnuPG mode"), the parts that need no process:
 *   - on the wire the packet is the base64 of an OpenPGP message (public-key encrypted to the
 *     server's key, normally signed by the client's), 400 characters or more (MIN_GNUPG_MSG_SIZE),
 *     with its first two characters "hQ" (B64_GPG_PREFIX: the old-format tag 0x85 of a public-key
 *     encrypted session key packet) stripped by the client, and the HMAC, when there is one,
 *     appended and computed over the message with that prefix restored (as "U2FsdGVkX1" is for
 *     Rijndael);
 *   - the plaintext gpg gives back is the same encoded SPA message as Rijndael's (random digits,
 *     user, timestamp, ..., inner digest: core/spa/fwknop-message.ts);
 *   - fwknopd's signature rules for a stanza: GPG_REQUIRE_SIG (default Y) refuses an unsigned
 *     packet; a signature that does not verify is refused unless GPG_IGNORE_SIG_VERIFY_ERROR; the
 *     signer must be one of GPG_REMOTE_ID (key ids) and one of GPG_FINGERPRINT_ID (fingerprints)
 *     when they are given; with GPG_REQUIRE_SIG N the signature is not looked at.
 * knockgate's reading of a key id: a short (8), long (16) or full (40 hex digit) id matches the
 * signing key or its primary key, each being the tail of the key's fingerprint; a fingerprint must
 * be the whole fingerprint of one of them. More than one signature is refused (fail closed).
 * Never throws on packet bytes. Pure.
 */

import { HmacKey } from '../hmac.js';
import { MAX_FWKNOP_GPG_PACKET_BYTES, MIN_FWKNOP_GPG_PACKET_BYTES } from '../limits.js';
import type { FwknopRejectReason, FwknopWireRejectReason } from '../reasons.js';
import { B64_CHARS, type FwknopHmacType } from './fwknop-text.js';

/** B64_GPG_PREFIX (lib/fko.h), stripped by the client, restored by the server. */
export const FWKNOP_GPG_PREFIX = 'hQ';
const GPG_PREFIX_BYTES = Buffer.from(FWKNOP_GPG_PREFIX, 'latin1');

/** How GPG_REMOTE_ID entries (optionally with 0x) and GPG_FINGERPRINT_ID entries are written. */
export const GPG_KEY_ID = /^(0x)?([0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$/;
export const GPG_FINGERPRINT = /^[0-9A-Fa-f]{40}$/;

/** A stanza's GnuPG settings (access.conf GPG_*, or a YAML stanza's `gpg`). */
export interface FwknopGpgSettings {
  /** GPG_EXE: an absolute path. */
  readonly exe: string;
  /** GPG_HOME_DIR: the keyring gpg is run with (--homedir). */
  readonly homeDir: string;
  /** GPG_DECRYPT_ID: the server key to decrypt with (--try-secret-key); null: any secret key of the home. */
  readonly decryptId: string | null;
  /** GPG_DECRYPT_PW; null with GPG_ALLOW_NO_PW (a key without passphrase, or an agent that has it). */
  readonly decryptPassphrase: Uint8Array | null;
  /** GPG_REQUIRE_SIG. */
  readonly requireSignature: boolean;
  /** GPG_IGNORE_SIG_VERIFY_ERROR. */
  readonly ignoreVerifyError: boolean;
  /** GPG_REMOTE_ID, upper-case hex of 8, 16 or 40 digits; empty: any signer. */
  readonly remoteIds: readonly string[];
  /** GPG_FINGERPRINT_ID, upper-case hex of 40 digits; empty: any signer. */
  readonly fingerprints: readonly string[];
}

/** What gpg said of a signature (core/spa/gpg-status.ts reads it from --status-fd). */
export interface GpgSignature {
  /** good: GOODSIG; bad: BADSIG, expired or revoked key, or more than one signature; error: ERRSIG (e.g. its key is unknown). */
  readonly status: 'good' | 'bad' | 'error';
  /** Upper-case hex: the fingerprints of the signing key and its primary key when known, else the long key id. */
  readonly keyIds: readonly string[];
}

/** One gpg run (ports/gpg-decrypter.ts). */
export type GpgDecryptResult =
  | { readonly kind: 'decrypted'; readonly plaintext: Uint8Array; readonly signature: GpgSignature | null }
  /** gpg ran and did not decrypt: not for this key, wrong passphrase, not an OpenPGP message. */
  | { readonly kind: 'not-decrypted'; readonly detail: string }
  /** gpg could not be run, timed out, or wrote more than the limits: nothing is known. */
  | { readonly kind: 'failed'; readonly detail: string };

export function isFwknopGpgLength(n: number): boolean {
  return n >= MIN_FWKNOP_GPG_PACKET_BYTES && n <= MAX_FWKNOP_GPG_PACKET_BYTES;
}

/** The checks before any key for a GnuPG-sized packet: prefix not stripped, base64 alphabet. */
export function fwknopGpgFrameProblem(packet: Uint8Array): FwknopWireRejectReason | null {
  if (!isFwknopGpgLength(packet.length)) return 'fwknop-length';
  if (packet[0] === 0x68 && packet[1] === 0x51) return 'fwknop-prefix'; // "hQ": the client always strips it
  for (const c of packet) if (!isB64(c)) return 'fwknop-malformed';
  return null;
}

function isB64(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** A stanza's prepared HMAC key for GnuPG packets. */
export interface GpgHmac {
  readonly type: FwknopHmacType;
  readonly key: HmacKey;
}

export function gpgHmacOf(type: FwknopHmacType, key: Uint8Array): GpgHmac {
  return { type, key: new HmacKey(type, key) };
}

/** Where the OpenPGP message ends and the HMAC (if any) begins. */
export function gpgEncryptedChars(packet: Uint8Array, hmac: GpgHmac | null): number {
  return hmac === null ? packet.length : packet.length - B64_CHARS[hmac.type];
}

/** Whether the packet's appended HMAC is that of "hQ" + the message, compared in constant time. */
export function gpgHmacHolds(packet: Uint8Array, hmac: GpgHmac): boolean {
  const chars = gpgEncryptedChars(packet, hmac);
  if (chars < MIN_FWKNOP_GPG_PACKET_BYTES - B64_CHARS[hmac.type]) return false;
  const expected = hmac.key.mac(GPG_PREFIX_BYTES, packet.subarray(0, chars)).toString('base64');
  const tagChars = packet.length - chars;
  if (expected.length < tagChars) return false;
  let diff = 0;
  for (let i = 0; i < tagChars; i++) diff |= expected.charCodeAt(i) ^ (packet[chars + i] as number);
  return diff === 0;
}

/** The OpenPGP message (binary) that gpg decrypts: "hQ" + the packet's first `chars` characters, base64-decoded. */
export function gpgMessageBytes(packet: Uint8Array, chars: number): Uint8Array {
  const text = FWKNOP_GPG_PREFIX + Buffer.from(packet.buffer, packet.byteOffset, chars).toString('latin1');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** fwknopd's signature rules for a decrypted packet; null: accepted. */
export function gpgSignatureRefusal(s: FwknopGpgSettings, sig: GpgSignature | null): FwknopRejectReason | null {
  if (!s.requireSignature) return null;
  if (sig === null) return 'fwknop-gpg-unsigned';
  if (sig.status !== 'good' && !s.ignoreVerifyError) return 'fwknop-gpg-bad-signature';
  if (s.remoteIds.length > 0 && !s.remoteIds.some((id) => sig.keyIds.some((k) => k.endsWith(id))))
    return 'fwknop-gpg-signer';
  if (s.fingerprints.length > 0 && !s.fingerprints.some((f) => sig.keyIds.includes(f))) return 'fwknop-gpg-signer';
  return null;
}

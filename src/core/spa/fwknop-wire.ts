/**
 * fwknop's SPA packet (Rijndael mode, as the fwknop 2.6 client and fwknopd build and check it), per
 * docs/fwknop-format.md: opening (server side), sealing (client side) and the replay digest.
 *
 * Contract: openFwknop never throws, whatever the bytes or keys; every packet ends in `ok` or exactly
 * one FwknopRejectReason, the first failing check. Cheap checks come first (length, prefix, base64
 * alphabet), then the HMAC (constant-time) when an HMAC key is configured, and only then AES.
 * Freshness, replay and policy need a clock, a store and configuration, so they are the caller's.
 * sealFwknop throws on invalid local input, and on a packet fwknopd would refuse. Pure: node:crypto
 * computes, but the salt, the random digits and the time are arguments.
 */

import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { HmacKey } from '../hmac.js';
import type { Endpoint } from '../endpoint.js';
import { formatIPAddress, parseIPAddress } from '../ip-address.js';
import {
  FWKNOP_LEGACY_KEY_BYTES, MAX_FWKNOP_CLIENT_TIMEOUT_S, MAX_FWKNOP_HMAC_KEY_BYTES, MAX_FWKNOP_KEY_BYTES, MAX_FWKNOP_MESSAGE_CHARS,
  MAX_FWKNOP_NAT_HOST_CHARS, MAX_FWKNOP_PACKET_BYTES, MAX_FWKNOP_TIMESTAMP_CHARS, MAX_FWKNOP_USERNAME_CHARS, MAX_FWKNOP_VERSION_CHARS,
  MIN_FWKNOP_PACKET_BYTES,
} from '../limits.js';
import type { FwknopRejectReason } from '../reasons.js';

export type { FwknopRejectReason } from '../reasons.js';
export type FwknopHmacType = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';
export type FwknopDigestType = FwknopHmacType;
export const FWKNOP_HMAC_TYPES: readonly FwknopHmacType[] = ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512'];
export const FWKNOP_DIGEST_TYPES: readonly FwknopDigestType[] = FWKNOP_HMAC_TYPES;

export interface FwknopKeys {
  /** KEY (the passphrase's bytes) or the decoded KEY_BASE64; 1..32 bytes (legacy: any length, cut or padded to 16). */
  readonly key: Uint8Array;
  readonly encryptionMode: 'cbc' | 'legacy';
  /** HMAC_KEY's bytes or the decoded HMAC_KEY_BASE64, 1..136 bytes; null = no HMAC on the wire. */
  readonly hmacKey: Uint8Array | null;
  readonly hmacType: FwknopHmacType;
}

export interface FwknopMessage {
  readonly random: string; // 16 decimal digits
  readonly username: string;
  readonly timestamp: number; // seconds
  readonly version: string; // "3.0.0" from 2.5 on
  readonly messageType: number; // 0..6, see FWKNOP_MESSAGE_TYPE
  readonly message: string; // decoded: "10.0.0.1,tcp/22" (types 1..6) or "10.0.0.1,<command>" (type 0)
  readonly natAccess: string | null; // decoded "host,port", types 2, 4, 5, 6
  readonly serverAuth: string | null;
  readonly clientTimeout: number | null; // seconds, types 3, 4, 6
  readonly digestType: FwknopDigestType;
}

/** What sealFwknop needs besides the keys and the randomness. */
export interface FwknopSealInput {
  readonly username: string;
  readonly timestamp: number; // whole seconds, 0..2^31-1
  readonly version?: string; // default FWKNOP_PROTOCOL_VERSION
  readonly messageType: number;
  readonly message: string;
  readonly natAccess?: string | null;
  readonly serverAuth?: string | null;
  readonly clientTimeout?: number | null; // required (1..65536) for types 3, 4, 6; absent otherwise
  readonly digestType?: FwknopDigestType; // default sha256
}

export interface FwknopRandom {
  readonly salt: Uint8Array; // 8 random bytes
  readonly randomDigits: string; // 16 random decimal digits
}

export type FwknopOpenResult = { readonly ok: true; readonly message: FwknopMessage } | { readonly ok: false; readonly reason: FwknopRejectReason };

/** lib/fko.h, fko_message_type_t. */
export const FWKNOP_MESSAGE_TYPE = {
  command: 0,
  access: 1,
  natAccess: 2,
  clientTimeoutAccess: 3,
  clientTimeoutNatAccess: 4,
  localNatAccess: 5,
  clientTimeoutLocalNatAccess: 6,
} as const;
/** FKO_PROTOCOL_VERSION, lib/fko.h. */
export const FWKNOP_PROTOCOL_VERSION = '3.0.0';

/** B64_RIJNDAEL_SALT (lib/fko.h): base64 of "Salted__", stripped by the client, restored by the server. */
const SALT_PREFIX = 'U2FsdGVkX1';
const SALT_PREFIX_BYTES = Buffer.from(SALT_PREFIX, 'latin1');
const SALTED_MAGIC = Buffer.from('Salted__', 'latin1');
const SALT_BYTES = 8;
const AES_BLOCK_BYTES = 16;
const AES_KEY_BYTES = 32;
const RANDOM_DIGITS = 16; // FKO_RAND_VAL_SIZE
const MIN_FIELD_SEPARATORS = 6; // MIN_SPA_FIELDS
const MAX_TIMESTAMP = 2 ** 31 - 1; // fwknopd reads it into an int
const MAX_MESSAGE_TYPE_CHARS = 2; // MAX_SPA_MESSAGE_TYPE_SIZE
const MIN_ENCODED_CHARS = 36; // MIN_SPA_ENCODED_MSG_SIZE
const NODE_HASH: Readonly<Record<FwknopHmacType, string>> = {
  md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', 'sha3-256': 'sha3-256', 'sha3-512': 'sha3-512',
};
/** Unpadded base64 length of each digest (*_B64_LEN in lib/md5.h, lib/sha1.h, lib/sha2.h, lib/sha3.h). */
const B64_CHARS: Readonly<Record<FwknopHmacType, number>> = {
  md5: 22, sha1: 27, sha256: 43, sha384: 64, sha512: 86, 'sha3-256': 43, 'sha3-512': 86,
};
/** Inner digest types by base64 length, tried in this order (is_valid_digest_len, verify_digest in lib/fko_decode.c). */
const DIGESTS_BY_LENGTH = new Map<number, readonly FwknopDigestType[]>([
  [22, ['md5']], [27, ['sha1']], [43, ['sha256', 'sha3-256']], [64, ['sha384']], [86, ['sha512', 'sha3-512']],
]);
/** Characters validate_username (lib/fko_user.c) refuses besides non-printables: " / \ [ ] : ; | = , + * ? < > */
const USERNAME_FORBIDDEN = new Set('"/\\[]:;|=,+*?<>');
const NAT_HOST_FORBIDDEN = /[ /?"'\\]/;
const B64_TEXT = /^[A-Za-z0-9+/]*$/;
const IPV4_TEXT = /^[0-9.]{7,15}$/;
const PROTO_PORT = /^(tcp|udp)\/(\d{1,5})$/;

// ---------------------------------------------------------------------------------------------
// Small helpers

function reject(reason: FwknopRejectReason): { readonly ok: false; readonly reason: FwknopRejectReason } {
  return { ok: false, reason };
}
/** Base64 without '=' padding, as b64_encode + strip_b64_eq (lib/base64.c) write it. */
function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}
/** The bytes of unpadded base64 text, or null unless `text` is exactly what b64() writes for them. */
function fromB64(text: string): Buffer | null {
  if (!B64_TEXT.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return b64(bytes) === text ? bytes : null;
}
function digestB64(type: FwknopDigestType, data: string): string {
  return b64(createHash(NODE_HASH[type]).update(data, 'latin1').digest());
}
function equalText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}
function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
function isDigits(s: string, min: number, max: number): boolean {
  if (s.length < min || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
/** The key fwknop hands to the KDF: legacy mode right-pads with ASCII '0' to 16 bytes or cuts to 16 (lib/cipher_funcs.c, server/access.c, client/fwknop.c). */
function kdfPassword(key: Uint8Array, mode: FwknopKeys['encryptionMode']): Buffer {
  if (mode === 'cbc') return Buffer.from(key);
  const out = Buffer.alloc(FWKNOP_LEGACY_KEY_BYTES, '0');
  out.set(key.subarray(0, FWKNOP_LEGACY_KEY_BYTES));
  return out;
}

/** A description of what is wrong with the keys, or null. openFwknop refuses everything with bad keys. */
export function fwknopKeysProblem(keys: FwknopKeys): string | null {
  if (!(keys.key instanceof Uint8Array) || keys.key.length < 1) return 'the encryption key is empty';
  if (keys.encryptionMode !== 'cbc' && keys.encryptionMode !== 'legacy') return 'encryption mode must be cbc or legacy';
  if (keys.encryptionMode === 'cbc' && keys.key.length > MAX_FWKNOP_KEY_BYTES) return `the encryption key must be at most ${MAX_FWKNOP_KEY_BYTES} bytes`;
  if (!FWKNOP_HMAC_TYPES.includes(keys.hmacType)) return `unknown HMAC type ${String(keys.hmacType)}`;
  if (keys.hmacKey !== null) {
    if (!(keys.hmacKey instanceof Uint8Array) || keys.hmacKey.length < 1) return 'the HMAC key is empty';
    if (keys.hmacKey.length > MAX_FWKNOP_HMAC_KEY_BYTES) return `the HMAC key must be at most ${MAX_FWKNOP_HMAC_KEY_BYTES} bytes`;
  }
  return null;
}

/**
 * AES-256 key and IV from the key and the 8-byte salt: OpenSSL's EVP_BytesToKey with MD5 and one
 * iteration, D1 = MD5(pw || salt), Di = MD5(Di-1 || pw || salt), key = D1 || D2, iv = D3
 * (rij_salt_and_iv, lib/cipher_funcs.c). `pw` is the key, '0'-padded or cut to 16 bytes in legacy mode.
 */
export function deriveFwknopAesKey(key: Uint8Array, salt: Uint8Array, mode: FwknopKeys['encryptionMode']): { key: Buffer; iv: Buffer } {
  const pw = kdfPassword(key, mode);
  const blocks: Buffer[] = [];
  let prev: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 3; i++) {
    prev = createHash('md5').update(prev).update(pw).update(salt).digest();
    blocks.push(prev);
  }
  const kiv = Buffer.concat(blocks);
  return { key: kiv.subarray(0, AES_KEY_BYTES), iv: kiv.subarray(AES_KEY_BYTES, AES_KEY_BYTES + AES_BLOCK_BYTES) };
}

/** HMAC over the encrypted part with "U2FsdGVkX1" restored, base64 unpadded (fko_set_spa_hmac, lib/fko_hmac.c). */
/** The HMAC key of a stanza's keys, prepared once: the check every fwknop-shaped datagram pays for. */
const hmacKeys = new WeakMap<FwknopKeys, HmacKey>();
function hmacKeyOf(keys: FwknopKeys): HmacKey {
  let h = hmacKeys.get(keys);
  if (h === undefined) hmacKeys.set(keys, (h = new HmacKey(keys.hmacType, keys.hmacKey as Uint8Array)));
  return h;
}

/**
 * Whether packet[at..at+chars) is the first `chars` characters of `expectedB64` (base64 with its
 * padding, which the tag on the wire lacks), compared in constant time for a given length.
 */
function equalB64Tag(expectedB64: string, packet: Uint8Array, at: number, chars: number): boolean {
  if (expectedB64.length < chars) return false;
  let diff = 0;
  for (let i = 0; i < chars; i++) diff |= expectedB64.charCodeAt(i) ^ (packet[at + i] as number);
  return diff === 0;
}

/** The replay digest fwknopd stores: SHA-256 of the packet as received (HMAC included, no prefix), base64 unpadded. */
export function fwknopReplayDigest(packet: Uint8Array): string {
  return b64(createHash('sha256').update(packet).digest());
}

/** The same digest in hex, as the replay store keys it (half the cost of converting the base64). */
export function fwknopReplayDigestHex(packet: Uint8Array): string {
  return createHash('sha256').update(packet).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Access messages

function isFwknopIPv4(text: string): boolean {
  if (!IPV4_TEXT.test(text)) return false;
  const a = parseIPAddress(text); // strict: no leading zeros, where inet_aton would read octal
  return a !== null && a.family === 4;
}

function parsePort(digits: string): number | null {
  if (!isDigits(digits, 1, 5)) return null;
  const port = Number(digits);
  return port >= 1 && port <= 65_535 ? port : null;
}

/**
 * "IP,proto/port[,proto/port...]" (validate_access_msg, lib/fko_message.c): an IPv4 address (fwknop
 * 2.6 has no IPv6 here), then tcp or udp ports 1..65535. Null if malformed.
 */
export function parseFwknopAccess(message: string): { address: string; ports: Endpoint[] } | null {
  if (typeof message !== 'string' || message.length >= MAX_FWKNOP_MESSAGE_CHARS) return null;
  const parts = message.split(',');
  const ip = parts[0] as string;
  if (parts.length < 2 || !isFwknopIPv4(ip)) return null;
  const ports: Endpoint[] = [];
  for (const spec of parts.slice(1)) {
    const m = PROTO_PORT.exec(spec);
    const port = m ? parsePort(m[2] as string) : null;
    if (!m || port === null) return null;
    ports.push({ proto: m[1] as Endpoint['proto'], port });
  }
  const address = parseIPAddress(ip);
  return address === null ? null : { address: formatIPAddress(address), ports };
}

/** "IP,<command>" (validate_cmd_msg): an IPv4 address, a comma, at least one character. */
function isCommandMessage(message: string): boolean {
  const comma = message.indexOf(',');
  return comma > 0 && comma < message.length - 1 && isFwknopIPv4(message.slice(0, comma));
}

/** "host,port" (validate_nat_access_msg): exactly one comma, a host of 1..70 plain characters, a port. */
function isNatAccess(nat: string): boolean {
  if (nat.length >= MAX_FWKNOP_MESSAGE_CHARS) return false;
  const parts = nat.split(',');
  if (parts.length !== 2) return false;
  const host = parts[0] as string;
  if (host.length < 1 || host.length > MAX_FWKNOP_NAT_HOST_CHARS || NAT_HOST_FORBIDDEN.test(host)) return false;
  return parsePort(parts[1] as string) !== null;
}

function isUsername(name: string): boolean {
  if (name.length < 1) return false;
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e || USERNAME_FORBIDDEN.has(ch)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Plaintext

/** A base64 field decoded to text (latin1, lossless), or null if empty, too long, not canonical base64, or holding a NUL. */
function decodeField(text: string | undefined, maxChars: number): string | null {
  if (text === undefined || text.length < 1 || text.length > maxChars) return null;
  const bytes = fromB64(text);
  if (bytes === null || bytes.includes(0)) return null;
  return bytes.toString('latin1');
}

/** How many optional fields follow the message, by type: NAT access, server auth, client timeout (parse_msg_type). */
function hasNat(type: number): boolean {
  return type === 2 || type === 4 || type === 5 || type === 6;
}
function hasTimeout(type: number): boolean {
  return type === 3 || type === 4 || type === 6;
}

/**
 * The decrypted plaintext, parsed as fko_decode_spa_data (lib/fko_decode.c) does, but exactly: every
 * field canonical, nothing empty, nothing left over. Checks the inner digest (the last field).
 */
export function parseFwknopPlaintext(plaintext: string): FwknopOpenResult {
  if (typeof plaintext !== 'string' || !isPrintableAscii(plaintext)) return reject('fwknop-malformed');
  const lastColon = plaintext.lastIndexOf(':');
  const encoded = plaintext.slice(0, Math.max(lastColon, 0));
  const digest = plaintext.slice(lastColon + 1);
  const fields = encoded.split(':');
  if (lastColon < 0 || fields.length < MIN_FIELD_SEPARATORS) return reject('fwknop-malformed');
  const candidates = DIGESTS_BY_LENGTH.get(digest.length);
  if (candidates === undefined || fromB64(digest) === null) return reject('fwknop-malformed');
  let digestType: FwknopDigestType | null = null;
  for (const type of candidates) {
    if (equalText(digestB64(type, encoded), digest)) {
      digestType = type;
      break;
    }
  }
  if (digestType === null) return reject('fwknop-digest');

  const [random, userB64, ts, version, typeText, messageB64, ...rest] = fields as [string, string, string, string, string, string, ...string[]];
  if (!isDigits(random, RANDOM_DIGITS, RANDOM_DIGITS)) return reject('fwknop-malformed');
  const username = decodeField(userB64, MAX_FWKNOP_USERNAME_CHARS);
  if (username === null || !isUsername(username)) return reject('fwknop-malformed');
  if (!isDigits(ts, 1, MAX_FWKNOP_TIMESTAMP_CHARS) || Number(ts) > MAX_TIMESTAMP) return reject('fwknop-malformed');
  if (version.length < 1 || version.length > MAX_FWKNOP_VERSION_CHARS) return reject('fwknop-malformed');
  if (!isDigits(typeText, 1, MAX_MESSAGE_TYPE_CHARS)) return reject('fwknop-malformed');
  const messageType = Number(typeText);
  if (messageType > FWKNOP_MESSAGE_TYPE.clientTimeoutLocalNatAccess) return reject('fwknop-malformed');
  const message = decodeField(messageB64, MAX_FWKNOP_MESSAGE_CHARS);
  if (message === null) return reject('fwknop-malformed');
  if (messageType === FWKNOP_MESSAGE_TYPE.command ? !isCommandMessage(message) : parseFwknopAccess(message) === null) {
    return reject('fwknop-malformed');
  }

  // Optional fields, in the encoder's order: [nat] [server auth] [timeout]; only server auth is optional.
  const required = (hasNat(messageType) ? 1 : 0) + (hasTimeout(messageType) ? 1 : 0);
  if (rest.length < required || rest.length > required + 1) return reject('fwknop-malformed');
  let i = 0;
  let natAccess: string | null = null;
  if (hasNat(messageType)) {
    natAccess = decodeField(rest[i++], MAX_FWKNOP_MESSAGE_CHARS);
    if (natAccess === null || !isNatAccess(natAccess)) return reject('fwknop-malformed');
  }
  let serverAuth: string | null = null;
  if (rest.length > required) {
    serverAuth = decodeField(rest[i++], MAX_FWKNOP_MESSAGE_CHARS);
    if (serverAuth === null) return reject('fwknop-malformed');
  }
  let clientTimeout: number | null = null;
  if (hasTimeout(messageType)) {
    const t = rest[i++] as string;
    if (!isDigits(t, 1, 5) || Number(t) > MAX_FWKNOP_CLIENT_TIMEOUT_S) return reject('fwknop-malformed');
    clientTimeout = Number(t);
  }
  return {
    ok: true,
    message: { random, username, timestamp: Number(ts), version, messageType, message, natAccess, serverAuth, clientTimeout, digestType },
  };
}

/**
 * The plaintext the client encrypts: fko_encode_spa_data (lib/fko_encode.c), then ":" and the digest
 * (_rijndael_encrypt, lib/fko_encryption.c). Throws unless parseFwknopPlaintext accepts the result.
 */
export function encodeFwknopPlaintext(m: FwknopSealInput, randomDigits: string): string {
  if (typeof randomDigits !== 'string' || !isDigits(randomDigits, RANDOM_DIGITS, RANDOM_DIGITS)) throw new Error('randomDigits must be 16 decimal digits');
  if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0 || m.timestamp > MAX_TIMESTAMP) throw new Error('timestamp must be whole seconds in 0..2^31-1');
  if (!Number.isInteger(m.messageType) || m.messageType < 0 || m.messageType > 6) throw new Error('messageType must be 0..6');
  const version = m.version ?? FWKNOP_PROTOCOL_VERSION;
  if (version.length < 1 || version.length > MAX_FWKNOP_VERSION_CHARS || version.includes(':') || !isPrintableAscii(version)) {
    throw new Error('version must be 1..8 printable characters without ":"');
  }
  const digestType = m.digestType ?? 'sha256';
  if (!FWKNOP_DIGEST_TYPES.includes(digestType)) throw new Error(`unknown digest type ${String(digestType)}`);
  const nat = m.natAccess ?? null;
  if (hasNat(m.messageType) !== (nat !== null)) throw new Error('natAccess is required for message types 2, 4, 5, 6 and not allowed otherwise');
  const timeout = m.clientTimeout ?? null;
  if (hasTimeout(m.messageType) !== (timeout !== null)) throw new Error('clientTimeout is required for message types 3, 4, 6 and not allowed otherwise');
  if (timeout !== null && (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_FWKNOP_CLIENT_TIMEOUT_S)) {
    throw new Error(`clientTimeout must be 1..${MAX_FWKNOP_CLIENT_TIMEOUT_S}`);
  }
  const text = (s: string): string => b64(Buffer.from(s, 'latin1'));
  const parts = [randomDigits, text(m.username), String(m.timestamp), version, String(m.messageType), text(m.message)];
  if (nat !== null) parts.push(text(nat));
  const serverAuth = m.serverAuth ?? null;
  if (serverAuth !== null) parts.push(text(serverAuth));
  if (timeout !== null) parts.push(String(timeout));
  const encoded = parts.join(':');
  const plaintext = `${encoded}:${digestB64(digestType, encoded)}`;
  const check = parseFwknopPlaintext(plaintext);
  if (!check.ok) throw new Error(`fwknop fields do not parse back (username, message, NAT access or server auth invalid or too long): ${check.reason}`);
  const back = check.message;
  if (back.username !== m.username || back.message !== m.message || back.natAccess !== nat || back.serverAuth !== serverAuth) {
    throw new Error('username, message, NAT access and server auth must be Latin-1 text without NUL');
  }
  return plaintext;
}

// ---------------------------------------------------------------------------------------------
// Packets

/** AES-256-CBC with PKCS#7 padding over "Salted__" || salt || ciphertext (rij_encrypt, lib/cipher_funcs.c). */
function encrypt(plaintext: string, keys: FwknopKeys, salt: Uint8Array): Buffer {
  const { key, iv } = deriveFwknopAesKey(keys.key, salt, keys.encryptionMode);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([SALTED_MAGIC, salt, cipher.update(plaintext, 'latin1'), cipher.final()]);
}

/**
 * Decrypts `encryptedWithPrefix` (base64, "U2FsdGVkX1" restored) into the plaintext text, or null:
 * not canonical base64, not a salt header plus whole blocks, bad padding, or a first field that is
 * not 16 digits and ':' (how _rijndael_decrypt in lib/fko_encryption.c tells a wrong key).
 */
function decrypt(encryptedWithPrefix: string, keys: FwknopKeys): string | null {
  const raw = fromB64(encryptedWithPrefix);
  if (raw === null || raw.length < 2 * AES_BLOCK_BYTES || raw.length % AES_BLOCK_BYTES !== 0) return null;
  if (!raw.subarray(0, SALTED_MAGIC.length).equals(SALTED_MAGIC)) return null;
  const salt = raw.subarray(SALTED_MAGIC.length, AES_BLOCK_BYTES);
  let padded: Buffer;
  try {
    const { key, iv } = deriveFwknopAesKey(keys.key, salt, keys.encryptionMode);
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    decipher.setAutoPadding(false);
    padded = Buffer.concat([decipher.update(raw.subarray(AES_BLOCK_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
  const pad = padded[padded.length - 1] as number;
  if (pad < 1 || pad > AES_BLOCK_BYTES) return null;
  for (let i = padded.length - pad; i < padded.length; i++) if (padded[i] !== pad) return null;
  const plain = padded.subarray(0, padded.length - pad);
  if (plain.length <= RANDOM_DIGITS || plain[RANDOM_DIGITS] !== 0x3a) return null;
  for (let i = 0; i < RANDOM_DIGITS; i++) {
    const c = plain[i] as number;
    if (c < 0x30 || c > 0x39) return null;
  }
  return plain.toString('latin1');
}

function startsWithText(b: Uint8Array, prefix: string): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix.charCodeAt(i)) return false;
  return true;
}
/** 1 for the 64 characters of the base64 alphabet (no padding), 0 for every other byte. */
const B64_ALPHABET = (() => {
  const t = new Uint8Array(256);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') t[c.charCodeAt(0)] = 1;
  return t;
})();
function isB64Alphabet(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (B64_ALPHABET[b[i] as number] === 0) return false;
  return true;
}

/** The checks before any key: length, prefix, alphabet. Null when the packet may be tried against keys. */
export function fwknopFrameProblem(packet: Uint8Array): FwknopRejectReason | null {
  const n = packet instanceof Uint8Array ? packet.length : -1;
  if (n < MIN_FWKNOP_PACKET_BYTES || n > MAX_FWKNOP_PACKET_BYTES) return 'fwknop-length';
  if (startsWithText(packet, SALT_PREFIX)) return 'fwknop-prefix';
  if (!isB64Alphabet(packet)) return 'fwknop-malformed';
  return null;
}

/**
 * Whether the packet's HMAC holds for keys.hmacKey (true when keys have no HMAC key: there is
 * nothing to check before AES). The frame checks are the caller's (fwknopFrameProblem). One HMAC,
 * constant-time compare; never throws. Lets a caller with many stanzas sharing an HMAC key compute
 * it once.
 */
export function fwknopHmacHolds(packet: Uint8Array, keys: FwknopKeys): boolean {
  if (keys.hmacKey === null) return true;
  try {
    if (fwknopKeysProblem(keys) !== null) return false;
    const encryptedChars = packet.length - B64_CHARS[keys.hmacType];
    return encryptedChars >= MIN_ENCODED_CHARS && hmacTagHolds(packet, keys, encryptedChars);
  } catch {
    return false;
  }
}

/**
 * Whether the last characters of `packet`, from `encryptedChars` on, are the base64 HMAC of the
 * bytes before them under keys.hmacKey (which the caller has checked is set and well formed).
 */
function hmacTagHolds(packet: Uint8Array, keys: FwknopKeys, encryptedChars: number): boolean {
  const expected = hmacKeyOf(keys).mac(SALT_PREFIX_BYTES, packet.subarray(0, encryptedChars)).toString('base64');
  return equalB64Tag(expected, packet, encryptedChars, packet.length - encryptedChars);
}

/**
 * Checks up to decryption: length, prefix, alphabet, HMAC, AES. The plaintext (digest not yet
 * checked) or the reason. openFwknop = this, then parseFwknopPlaintext.
 */
export function decryptFwknop(packet: Uint8Array, keys: FwknopKeys): { ok: true; plaintext: string } | { ok: false; reason: FwknopRejectReason } {
  const frame = fwknopFrameProblem(packet);
  if (frame !== null) return reject(frame);
  const n = packet.length;
  // The HMAC is checked on the bytes as received, before any text is made of them: junk costs one
  // HMAC and nothing else (this is the per-packet cost of a flood of fwknop-shaped datagrams).
  let encryptedChars = n;
  try {
    if (fwknopKeysProblem(keys) !== null) return reject(keys.hmacKey !== null ? 'fwknop-hmac' : 'fwknop-decrypt');
    if (keys.hmacKey !== null) {
      const tagChars = B64_CHARS[keys.hmacType];
      // Unreachable with MIN_FWKNOP_PACKET_BYTES (140 − 86 ≥ 36), kept as fko_verify_hmac has it.
      if (n - tagChars < MIN_ENCODED_CHARS) return reject('fwknop-length');
      encryptedChars = n - tagChars;
      if (!hmacTagHolds(packet, keys, encryptedChars)) return reject('fwknop-hmac');
    }
  } catch {
    return reject('fwknop-hmac'); // e.g. keys of the wrong shape: nothing authenticates against them
  }
  const encrypted = Buffer.from(packet.buffer, packet.byteOffset, encryptedChars).toString('latin1');
  const plaintext = decrypt(SALT_PREFIX + encrypted, keys);
  return plaintext === null ? reject('fwknop-decrypt') : { ok: true, plaintext };
}

/** Verifies the HMAC (when keys.hmacKey), decrypts, parses, checks the inner digest. Never throws. */
export function openFwknop(packet: Uint8Array, keys: FwknopKeys): FwknopOpenResult {
  const d = decryptFwknop(packet, keys);
  return d.ok ? parseFwknopPlaintext(d.plaintext) : d;
}

/**
 * Builds a packet as the fwknop 2.6 client does (fko_spa_data_final, fko_get_spa_data in
 * lib/fko_funcs.c): base64 of "Salted__" || salt || AES ciphertext, unpadded, HMAC appended over it,
 * then the leading "U2FsdGVkX1" dropped. Throws on invalid input or a packet fwknopd would refuse.
 */
export function sealFwknop(m: FwknopSealInput, keys: FwknopKeys, random: FwknopRandom): Uint8Array {
  const problem = fwknopKeysProblem(keys);
  if (problem !== null) throw new Error(problem);
  if (!(random.salt instanceof Uint8Array) || random.salt.length !== SALT_BYTES) throw new Error('salt must be 8 bytes');
  const plaintext = encodeFwknopPlaintext(m, random.randomDigits);
  let wire = b64(encrypt(plaintext, keys, random.salt));
  if (keys.hmacKey !== null) wire += b64(hmacKeyOf(keys).mac(Buffer.from(wire, 'latin1')));
  if (!wire.startsWith(SALT_PREFIX)) throw new Error('internal: ciphertext does not start with the salt header');
  wire = wire.slice(SALT_PREFIX.length);
  if (wire.length < MIN_FWKNOP_PACKET_BYTES || wire.length > MAX_FWKNOP_PACKET_BYTES) {
    throw new Error(`the packet would be ${wire.length} bytes; fwknopd accepts ${MIN_FWKNOP_PACKET_BYTES}..${MAX_FWKNOP_PACKET_BYTES}`);
  }
  return new Uint8Array(Buffer.from(wire, 'latin1'));
}

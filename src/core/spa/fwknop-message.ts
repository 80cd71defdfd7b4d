/**
 * The fields of an fwknop SPA message (docs/fwknop-format.md; lib/fko_decode.c, lib/fko_encode.c,
 * lib/fko_message.c): the decrypted plaintext parsed exactly (every field canonical, nothing
 * empty, nothing left over, the inner digest checked), the plaintext a client encrypts, and the
 * access message "IP,proto/port,...". Parsers never throw; the encoder throws on input fwknopd
 * would refuse. Pure.
 */

import type { Endpoint } from '../endpoint.js';
import { formatIPAddress, parseIPAddress } from '../ip-address.js';
import {
  MAX_FWKNOP_CLIENT_TIMEOUT_S,
  MAX_FWKNOP_MESSAGE_CHARS,
  MAX_FWKNOP_NAT_HOST_CHARS,
  MAX_FWKNOP_TIMESTAMP_CHARS,
  MAX_FWKNOP_USERNAME_CHARS,
  MAX_FWKNOP_VERSION_CHARS,
} from '../limits.js';
import type { FwknopWireRejectReason } from '../reasons.js';
import { FWKNOP_RANDOM_DIGITS as RANDOM_DIGITS } from './fwknop-cipher.js';
import {
  FWKNOP_DIGEST_TYPES,
  b64,
  digestB64,
  equalText,
  fromB64,
  isDigits,
  isPrintableAscii,
  type FwknopDigestType,
} from './fwknop-text.js';

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

export type FwknopOpenResult =
  | { readonly ok: true; readonly message: FwknopMessage }
  | { readonly ok: false; readonly reason: FwknopWireRejectReason };

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

const MIN_FIELD_SEPARATORS = 6; // MIN_SPA_FIELDS
const MAX_TIMESTAMP = 2 ** 31 - 1; // fwknopd reads it into an int
const MAX_MESSAGE_TYPE_CHARS = 2; // MAX_SPA_MESSAGE_TYPE_SIZE
/** Inner digest types by base64 length, tried in this order (is_valid_digest_len, verify_digest in lib/fko_decode.c). */
const DIGESTS_BY_LENGTH = new Map<number, readonly FwknopDigestType[]>([
  [22, ['md5']],
  [27, ['sha1']],
  [43, ['sha256', 'sha3-256']],
  [64, ['sha384']],
  [86, ['sha512', 'sha3-512']],
]);
/** Characters validate_username (lib/fko_user.c) refuses besides non-printables: " / \ [ ] : ; | = , + * ? < > */
const USERNAME_FORBIDDEN = new Set('"/\\[]:;|=,+*?<>');
const NAT_HOST_FORBIDDEN = /[ /?"'\\]/;
const IPV4_TEXT = /^[0-9.]{7,15}$/;
const PROTO_PORT = /^(tcp|udp)\/(\d{1,5})$/;

function reject(reason: FwknopWireRejectReason): { readonly ok: false; readonly reason: FwknopWireRejectReason } {
  return { ok: false, reason };
}

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

  const [random, userB64, ts, version, typeText, messageB64, ...rest] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
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
    message: {
      random,
      username,
      timestamp: Number(ts),
      version,
      messageType,
      message,
      natAccess,
      serverAuth,
      clientTimeout,
      digestType,
    },
  };
}

/**
 * The plaintext the client encrypts: fko_encode_spa_data (lib/fko_encode.c), then ":" and the digest
 * (_rijndael_encrypt, lib/fko_encryption.c). Throws unless parseFwknopPlaintext accepts the result.
 */
export function encodeFwknopPlaintext(m: FwknopSealInput, randomDigits: string): string {
  if (typeof randomDigits !== 'string' || !isDigits(randomDigits, RANDOM_DIGITS, RANDOM_DIGITS))
    throw new Error('randomDigits must be 16 decimal digits');
  if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0 || m.timestamp > MAX_TIMESTAMP)
    throw new Error('timestamp must be whole seconds in 0..2^31-1');
  if (!Number.isInteger(m.messageType) || m.messageType < 0 || m.messageType > 6)
    throw new Error('messageType must be 0..6');
  const version = m.version ?? FWKNOP_PROTOCOL_VERSION;
  if (
    version.length < 1 ||
    version.length > MAX_FWKNOP_VERSION_CHARS ||
    version.includes(':') ||
    !isPrintableAscii(version)
  ) {
    throw new Error('version must be 1..8 printable characters without ":"');
  }
  const digestType = m.digestType ?? 'sha256';
  if (!FWKNOP_DIGEST_TYPES.includes(digestType)) throw new Error(`unknown digest type ${String(digestType)}`);
  const nat = m.natAccess ?? null;
  if (hasNat(m.messageType) !== (nat !== null))
    throw new Error('natAccess is required for message types 2, 4, 5, 6 and not allowed otherwise');
  const timeout = m.clientTimeout ?? null;
  if (hasTimeout(m.messageType) !== (timeout !== null))
    throw new Error('clientTimeout is required for message types 3, 4, 6 and not allowed otherwise');
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
  if (!check.ok)
    throw new Error(
      `fwknop fields do not parse back (username, message, NAT access or server auth invalid or too long): ${check.reason}`,
    );
  const back = check.message;
  if (
    back.username !== m.username ||
    back.message !== m.message ||
    back.natAccess !== nat ||
    back.serverAuth !== serverAuth
  ) {
    throw new Error('username, message, NAT access and server auth must be Latin-1 text without NUL');
  }
  return plaintext;
}

// ---------------------------------------------------------------------------------------------
// Packets

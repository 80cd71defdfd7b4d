/**
 * `knockgate knock --fwknop FILE HOST`: an fwknop-format SPA packet, so that a knockgate user can
 * reach a server that still runs fwknopd. The keys come from a credential file (0600, never from
 * the command line, where other local users could read them):
 *
 *   kind: knockgate-fwknop-client-v1
 *   key_base64: ...            # or key: "passphrase"     (fwknopd's KEY_BASE64 / KEY)
 *   hmac_key_base64: ...       # or hmac_key: "..."       (optional, as in fwknopd)
 *   hmac_digest_type: sha256   # md5 sha1 sha256 sha384 sha512 sha3_256 sha3_512
 *   encryption_mode: cbc       # or ecb, cfb, ofb, ctr, legacy (fwknop -M)
 *   port: 62201
 *   user: root                 # the username in the packet (REQUIRE_USERNAME); default: yours
 *   # GnuPG mode (fwknop --gpg-encryption), instead of key / key_base64:
 *   gpg_recipient: SERVERKEYID # the server's key; gpg_signer: CLIENTKEYID (signs: fwknopd requires
 *   #                            it by default); gpg_home_dir, gpg_exe, gpg_signing_pw optional
 */

import { randomBytes, randomInt } from 'node:crypto';
import { userInfo } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { DEFAULT_SPA_PORT } from '../core/limits.js';
import { sealFwknop, type FwknopHmacType, type FwknopKeys } from '../core/spa/fwknop-wire.js';
import { FWKNOP_ENCRYPTION_MODES, type FwknopEncryptionMode } from '../core/spa/fwknop-cipher.js';
import { readPrivateYaml } from '../stores/key-files.js';
import { fwknopGpgWire } from '../core/spa/fwknop-gpg-seal.js';
import { encodeFwknopPlaintext } from '../core/spa/fwknop-message.js';
import { type GpgSending, gpgEncrypt } from './gpg-encrypt.js';
import { udpSocket } from './udp-socket.js';

/** fwknop's default GPG_EXE. */
const DEFAULT_GPG_EXE = '/usr/bin/gpg';

export const FWKNOP_CREDENTIAL_KIND = 'knockgate-fwknop-client-v1';

export interface FwknopCredential {
  /** The Rijndael key and the HMAC key; a GnuPG credential's `key` is empty (only the HMAC is used). */
  readonly keys: FwknopKeys;
  readonly port: number;
  readonly user: string;
  /** GnuPG mode (fwknop --gpg-encryption): the packet is gpg's message, not AES. */
  readonly gpg?: GpgSending;
}

const HMAC_TYPES: Readonly<Record<string, FwknopHmacType>> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha3_256: 'sha3-256',
  sha3_512: 'sha3-512',
  'sha3-256': 'sha3-256',
  'sha3-512': 'sha3-512',
};

export function readFwknopCredential(file: string): FwknopCredential {
  return fwknopCredentialFrom(file, readPrivateYaml(file, FWKNOP_CREDENTIAL_KIND));
}

/**
 * The credential from its fields (the credential file's keys: key / key_base64, hmac_key /
 * hmac_key_base64, hmac_digest_type, encryption_mode, port, user), wherever they were read:
 * the credential file, or a ~/.fwknoprc stanza (client/fwknoprc-credential.ts).
 */
export function fwknopCredentialFrom(file: string, doc: Readonly<Record<string, unknown>>): FwknopCredential {
  const bytes = (name: string, base64Name: string, required: boolean): Uint8Array | null => {
    const text = doc[name];
    const b64 = doc[base64Name];
    if (text !== undefined && b64 !== undefined)
      throw new ConfigError(file, undefined, name, `give ${name} or ${base64Name}, not both`);
    if (typeof text === 'string' && text !== '') return new Uint8Array(Buffer.from(text, 'utf8'));
    if (typeof b64 === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(b64))
      return new Uint8Array(Buffer.from(b64, 'base64'));
    if (text !== undefined || b64 !== undefined) throw new ConfigError(file, undefined, name, 'not a key');
    if (required) throw new ConfigError(file, undefined, base64Name, 'is required');
    return null;
  };
  const hmacType = HMAC_TYPES[String(doc.hmac_digest_type ?? 'sha256')];
  if (hmacType === undefined)
    throw new ConfigError(file, undefined, 'hmac_digest_type', `unknown: ${JSON.stringify(doc.hmac_digest_type)}`);
  const mode = String(doc.encryption_mode ?? 'cbc').toLowerCase() as FwknopEncryptionMode;
  if (!FWKNOP_ENCRYPTION_MODES.includes(mode))
    throw new ConfigError(file, undefined, 'encryption_mode', `must be one of ${FWKNOP_ENCRYPTION_MODES.join(', ')}`);
  const port = doc.port ?? DEFAULT_SPA_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(file, undefined, 'port', 'must be a UDP port');
  const user = typeof doc.user === 'string' && doc.user !== '' ? doc.user : userInfo().username;
  const gpg = gpgSendingOf(file, doc);
  return {
    ...(gpg ? { gpg } : {}),
    keys: {
      key: bytes('key', 'key_base64', gpg === null) ?? new Uint8Array(0),
      hmacKey: bytes('hmac_key', 'hmac_key_base64', false),
      hmacType,
      encryptionMode: mode,
    },
    port,
    user,
  };
}

/** The address this host uses towards `host` (what fwknop's -R/-s would otherwise have to guess). */
export function localAddressTowards(host: string, family: 4 | 6, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = udpSocket(family);
    s.on('error', reject);
    s.connect(port, host, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}

/** The access request's plaintext fields (message type 1, or 3 with a client timeout). */
function accessInput(
  cred: FwknopCredential,
  allowIp: string,
  ports: readonly Endpoint[],
  durationS: number,
  nowUnixMs: number,
) {
  return {
    username: cred.user,
    timestamp: Math.floor(nowUnixMs / 1000),
    messageType: durationS > 0 ? 3 : 1,
    message: `${allowIp},${ports.map((e) => formatEndpoint(e).split('/').reverse().join('/')).join(',')}`,
    clientTimeout: durationS > 0 ? durationS : null,
  };
}

const randomDigits = (): string =>
  Array.from({ length: 16 }, (_, i) => String(randomInt(i === 0 ? 1 : 0, 10))).join('');

/** An AES packet (sealFwknop) for an access request; synchronous, for the benchmarks' floods too. */
export function buildFwknopPacket(
  cred: FwknopCredential,
  allowIp: string,
  ports: readonly Endpoint[],
  durationS: number,
  nowUnixMs: number,
): Uint8Array {
  if (cred.gpg) throw new Error('a GnuPG credential: use makeFwknopPacket');
  return sealFwknop(accessInput(cred, allowIp, ports, durationS, nowUnixMs), cred.keys, {
    salt: randomBytes(8),
    randomDigits: randomDigits(),
  });
}

/**
 * The packet for an access request: AES with the credential's keys, or, for a GnuPG credential,
 * gpg's message of the same encoded plaintext (client/gpg-encrypt.ts), HMAC'd and cut as fwknop's
 * client does (core/spa/fwknop-gpg-seal.ts).
 */
export async function makeFwknopPacket(
  cred: FwknopCredential,
  allowIp: string,
  ports: readonly Endpoint[],
  durationS: number,
  nowUnixMs: number,
): Promise<Uint8Array> {
  if (!cred.gpg) return buildFwknopPacket(cred, allowIp, ports, durationS, nowUnixMs);
  const plaintext = encodeFwknopPlaintext(accessInput(cred, allowIp, ports, durationS, nowUnixMs), randomDigits());
  const message = await gpgEncrypt(plaintext, cred.gpg);
  const { hmacKey, hmacType } = cred.keys;
  return fwknopGpgWire(message, hmacKey === null ? null : { type: hmacType, key: hmacKey });
}

/** The credential's gpg_* fields (GnuPG sending), or null when it has no gpg_recipient. */
function gpgSendingOf(file: string, doc: Readonly<Record<string, unknown>>): GpgSending | null {
  const text = (k: string): string | null => {
    const v = doc[k];
    if (v === undefined) return null;
    if (typeof v !== 'string' || v === '' || v.length > 512) throw new ConfigError(file, undefined, k, 'must be text');
    return v;
  };
  const recipient = text('gpg_recipient');
  if (recipient === null) {
    for (const k of ['gpg_signer', 'gpg_home_dir', 'gpg_exe', 'gpg_signing_pw'])
      if (doc[k] !== undefined) throw new ConfigError(file, undefined, k, "needs gpg_recipient (the server's key)");
    return null;
  }
  const exe = text('gpg_exe') ?? DEFAULT_GPG_EXE;
  const homeDir = text('gpg_home_dir');
  for (const [k, p] of [
    ['gpg_exe', exe],
    ['gpg_home_dir', homeDir],
  ] as const)
    if (p !== null && !p.startsWith('/')) throw new ConfigError(file, undefined, k, 'must be an absolute path');
  return { recipient, signer: text('gpg_signer'), homeDir, exe, signingPassphrase: text('gpg_signing_pw') };
}

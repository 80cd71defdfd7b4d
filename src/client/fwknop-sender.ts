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
 */

import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { userInfo } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { DEFAULT_SPA_PORT } from '../core/limits.js';
import { sealFwknop, type FwknopHmacType, type FwknopKeys } from '../core/spa/fwknop-wire.js';
import { FWKNOP_ENCRYPTION_MODES, type FwknopEncryptionMode } from '../core/spa/fwknop-cipher.js';
import { readPrivateYaml } from '../stores/key-files.js';

export const FWKNOP_CREDENTIAL_KIND = 'knockgate-fwknop-client-v1';

export interface FwknopCredential {
  readonly keys: FwknopKeys;
  readonly port: number;
  readonly user: string;
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
  return {
    keys: {
      key: bytes('key', 'key_base64', true) as Uint8Array,
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
    const s = createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('error', reject);
    s.connect(port, host, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}

export function buildFwknopPacket(
  cred: FwknopCredential,
  allowIp: string,
  ports: readonly Endpoint[],
  durationS: number,
  nowUnixMs: number,
): Uint8Array {
  const message = `${allowIp},${ports.map((e) => formatEndpoint(e).split('/').reverse().join('/')).join(',')}`;
  return sealFwknop(
    {
      username: cred.user,
      timestamp: Math.floor(nowUnixMs / 1000),
      messageType: durationS > 0 ? 3 : 1,
      message,
      clientTimeout: durationS > 0 ? durationS : null,
    },
    cred.keys,
    {
      salt: randomBytes(8),
      randomDigits: Array.from({ length: 16 }, (_, i) => String(randomInt(i === 0 ? 1 : 0, 10))).join(''),
    },
  );
}

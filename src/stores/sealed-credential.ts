/**
 * Passphrase-protected client credentials: a knockgate-client-v1 file whose secret (`psk` or
 * `private_key`) is replaced by a `sealed:` block (docs/protocol.md, "Passphrase-protected
 * credentials"). The block's cost parameters are checked against core/limits.ts before any key is
 * derived; the seal binds every other field of the file (core/sealed-secret.ts), so an edited
 * file opens as a wrong passphrase does: not at all. Reading the file, and its mode check, is
 * stores/key-files.ts, always before anyone is asked for a passphrase.
 */

import { formatEndpoint } from '../core/endpoint.js';
import { ConfigError, KnockgateError } from '../core/errors.js';
import { MAX_PASSPHRASE_BYTES, SCRYPT_DEFAULT_N, SCRYPT_DEFAULT_P, SCRYPT_DEFAULT_R } from '../core/limits.js';
import {
  associatedData,
  deriveSealingKey,
  openSecret,
  passphraseBytes,
  scryptParametersProblem,
  sealSecret,
  SEALED_KDF,
  SEALED_NONCE_BYTES,
  SEALED_TAG_BYTES,
  type BoundField,
  type ScryptParameters,
} from '../core/sealed-secret.js';
import { RAW_KEY_BYTES } from '../core/spa/keys.js';
import {
  b64,
  bytesOf,
  CLIENT_CREDENTIAL_KIND,
  clientCredentialText,
  type ClientCredential,
  type CredentialFields,
} from './key-files.js';

type SecretKey = 'psk' | 'private_key';

export interface SealedBlock {
  readonly params: ScryptParameters;
  readonly nonce: Uint8Array;
  /** Which secret the block holds, by its key in a clear file. */
  readonly secretKey: SecretKey;
  /** ChaCha20-Poly1305 ciphertext || tag of the 32-byte secret. */
  readonly sealed: Uint8Array;
}

const BLOCK_KEYS = new Set(['kdf', 'n', 'r', 'p', 'salt', 'nonce', 'psk', 'private_key']);

/** The file's `sealed:` block, checked (shape, then limits); ConfigErrors name the file and key. */
export function readSealedBlock(file: string, doc: Record<string, unknown>): SealedBlock {
  const block = doc.sealed;
  if (typeof block !== 'object' || block === null || Array.isArray(block))
    throw new ConfigError(
      file,
      undefined,
      'sealed',
      'must be a mapping (kdf, n, r, p, salt, nonce, psk or private_key)',
    );
  const b = block as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!BLOCK_KEYS.has(key)) throw new ConfigError(file, undefined, `sealed.${key}`, 'unknown key');
  if (b.kdf !== SEALED_KDF) throw new ConfigError(file, undefined, 'sealed.kdf', `must be ${SEALED_KDF}`);
  const whole = (key: 'n' | 'r' | 'p'): number => {
    const v = b[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      throw new ConfigError(file, undefined, `sealed.${key}`, 'must be a whole number');
    return v;
  };
  const salt = b.salt;
  if (typeof salt !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(salt))
    throw new ConfigError(file, undefined, 'sealed.salt', 'missing or not base64url text');
  const params = { n: whole('n'), r: whole('r'), p: whole('p'), salt: new Uint8Array(Buffer.from(salt, 'base64url')) };
  const problem = scryptParametersProblem(params);
  if (problem) throw new ConfigError(file, undefined, `sealed.${problem.key}`, problem.detail);
  if ((b.psk === undefined) === (b.private_key === undefined))
    throw new ConfigError(file, undefined, 'sealed', 'needs exactly one of "psk" and "private_key"');
  const secretKey: SecretKey = b.psk !== undefined ? 'psk' : 'private_key';
  return {
    params,
    nonce: bytesOf(file, b, 'nonce', SEALED_NONCE_BYTES),
    secretKey,
    sealed: bytesOf(file, b, secretKey, RAW_KEY_BYTES + SEALED_TAG_BYTES),
  };
}

/**
 * What the seal binds, in this order (docs/protocol.md): every field of the file as it reads
 * back, absent optional ones left out, then which secret it is and the KDF's parameters.
 */
export function boundFields(c: CredentialFields, secretKey: SecretKey, params: ScryptParameters): BoundField[] {
  const out: BoundField[] = [
    ['kind', CLIENT_CREDENTIAL_KIND],
    ['name', c.name],
  ];
  if (c.server !== undefined) out.push(['server', c.server]);
  out.push(
    ['port', String(c.port)],
    ['server_public_key', b64(c.serverPublicKey)],
    ['door_id', c.doorId],
    ['client_id', b64(c.clientId)],
  );
  if (c.ports !== undefined) out.push(['ports', c.ports.map(formatEndpoint).join(',')]);
  if (c.allowIp !== undefined) out.push(['allow_ip', c.allowIp]);
  if (c.resolveUrl !== undefined) out.push(['resolve_url', c.resolveUrl]);
  if (c.maxDurationS !== undefined) out.push(['max_duration', String(c.maxDurationS)]);
  out.push(
    ['secret', secretKey],
    ['kdf', SEALED_KDF],
    ['n', String(params.n)],
    ['r', String(params.r)],
    ['p', String(params.p)],
    ['salt', b64(params.salt)],
  );
  return out;
}

/**
 * The credential, its secret opened with `passphrase`; a KG_PASSPHRASE_WRONG error naming the
 * file when it does not open (wrong passphrase or edited file: the AEAD cannot tell which).
 */
export function openSealedCredential(
  file: string,
  fields: CredentialFields,
  block: SealedBlock,
  passphrase: string,
): ClientCredential {
  const secret =
    passphraseBytes(passphrase).length > MAX_PASSPHRASE_BYTES
      ? null
      : openSecret(
          deriveSealingKey(passphrase, block.params),
          block.nonce,
          block.sealed,
          associatedData(boundFields(fields, block.secretKey, block.params)),
        );
  if (secret === null || secret.length !== RAW_KEY_BYTES)
    throw new KnockgateError(
      'KG_PASSPHRASE_WRONG',
      `${file}: the passphrase does not open this credential (a wrong passphrase, or the file was changed after it was protected)`,
    );
  const bytes = new Uint8Array(secret);
  return block.secretKey === 'psk' ? { ...fields, psk: bytes } : { ...fields, privateKey: bytes };
}

export const DEFAULT_SCRYPT = { n: SCRYPT_DEFAULT_N, r: SCRYPT_DEFAULT_R, p: SCRYPT_DEFAULT_P } as const;

/**
 * The text of `c` protected by `passphrase`: `salt` and `nonce` fresh random bytes from the caller
 * (a nonce is never reused: each sealing draws a new salt, hence a new key, as well).
 */
export function sealedCredentialText(
  c: ClientCredential,
  passphrase: string,
  random: { readonly salt: Uint8Array; readonly nonce: Uint8Array },
  cost: { readonly n: number; readonly r: number; readonly p: number } = DEFAULT_SCRYPT,
): string {
  const secretKey: SecretKey = c.psk ? 'psk' : 'private_key';
  const secret = c.psk ?? c.privateKey;
  if (secret === undefined) throw new Error('a credential without a secret cannot be sealed');
  const params: ScryptParameters = { ...cost, salt: random.salt };
  const key = deriveSealingKey(passphrase, params);
  const sealed = sealSecret(key, random.nonce, secret, associatedData(boundFields(c, secretKey, params)));
  return clientCredentialText(c, [
    'sealed:           # the secret, under a passphrase (knockgate passphrase FILE changes it)',
    `  kdf: ${SEALED_KDF}`,
    `  n: ${params.n}`,
    `  r: ${params.r}`,
    `  p: ${params.p}`,
    `  salt: ${b64(params.salt)}`,
    `  nonce: ${b64(random.nonce)}`,
    `  ${secretKey}: ${b64(sealed)}`,
  ]);
}

/**
 * Provisioning: the server's key pair (`knockgate keygen`) and a client's credential plus the
 * server-side entry for it (`knockgate add-client`). Keys come from node:crypto's CSPRNG. In
 * ed25519 mode the server entry holds only the client's public key: whoever reads the server's
 * configuration cannot knock as that client.
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { linkSync, renameSync, rmSync } from 'node:fs';
import { rawPublicOf, x25519PrivateFromRaw } from '../core/spa/keys.js';
import { SPA_CLIENT_ID_BYTES } from '../core/limits.js';
import { KnockgateError } from '../core/errors.js';
import type { ClientAuthMode } from '../core/spa/native-client-auth.js';
import { sshPublicKeyLine, type SshEd25519PublicKey } from '../core/ssh/ssh-public-key.js';
import { DOOR_ID_PATTERN } from '../core/spa/native-door-keys.js';
import {
  b64,
  clientCredentialText,
  readServerKey,
  serverKeyText,
  writePrivateFile,
  type ClientCredential,
} from '../stores/key-files.js';

export function createServerKey(file: string, force: boolean): { publicKey: Uint8Array } {
  const privateKey = randomBytes(32);
  const publicKey = rawPublicOf(x25519PrivateFromRaw(privateKey));
  writePrivateFile(file, serverKeyText(privateKey, publicKey), force);
  return { publicKey };
}

/** Where `keygen --force` keeps the key it replaces. */
export const previousKeyFileOf = (file: string): string => `${file}.previous`;

/**
 * `keygen --force` over an existing key, keeping the old one (key rotation): the old key file is
 * hard-linked to FILE.previous (which must not exist: it would be an earlier rotation's key, maybe
 * still in its overlap), then the new key is renamed over FILE. Either step failing leaves FILE
 * holding the old key. The old file is read first, so that what is kept is a server key.
 */
export function rotateServerKey(file: string): { publicKey: Uint8Array; previousFile: string } {
  readServerKey(file);
  const previousFile = previousKeyFileOf(file);
  const privateKey = randomBytes(32);
  const publicKey = rawPublicOf(x25519PrivateFromRaw(privateKey));
  const tmp = `${file}.tmp-${process.pid}`;
  writePrivateFile(tmp, serverKeyText(privateKey, publicKey), false);
  try {
    linkSync(file, previousFile);
  } catch (err) {
    rmSync(tmp, { force: true });
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw new KnockgateError(
      exists ? 'KG_USAGE' : 'KG_STATE_WRITE_FAILED',
      exists
        ? `${previousFile} exists: the key of an earlier rotation. Once its overlap has ended (previous_key_until), remove it and its previous_server_key line, then run keygen --force again (or replace the key without keeping it: --no-keep-previous)`
        : `cannot keep the old key as ${previousFile}: ${(err as Error).message}`,
    );
  }
  renameSync(tmp, file);
  return { publicKey, previousFile };
}

export interface AddClientOptions {
  readonly name: string;
  readonly serverKeyFile: string;
  /** The door's name (or its spa.door_id) in knockgate.yaml: packets made with the credential open only it. */
  readonly door: string;
  readonly mode: ClientAuthMode;
  /** Mode ssh-ed25519: the agent's key (its public key line, read from a .pub file). */
  readonly sshKey?: SshEd25519PublicKey;
  readonly server?: string;
  readonly port: number;
  readonly out: string;
  readonly force: boolean;
  /** Keep this client id (a re-issue, client/reissue.ts); else a new random one. */
  readonly clientId?: Uint8Array;
  /** The file's text (a protected one: client/credential-passphrase.ts); default: the secret in clear. */
  readonly textOf?: (c: ClientCredential) => string;
  /**
   * The client's longest grant, in seconds: written into the credential (for keep-open) and, as
   * `max_duration:`, into the server entry, so that both say the same.
   */
  readonly maxDurationS?: number;
}

export interface AddClientResult {
  readonly credential: ClientCredential;
  readonly credentialText: string;
  /** YAML to paste under a door's `clients:`. */
  readonly serverEntry: string;
  /** The entry's secret line (`psk: ...`, `public_key: ...` or `ssh_key: ...`), as in serverEntry. */
  readonly secretLine: string;
}

export function addClient(o: AddClientOptions): AddClientResult {
  const server = readServerKey(o.serverKeyFile);
  return makeClientCredential({ ...o, serverPublicKey: rawPublicOf(x25519PrivateFromRaw(server.privateKey)) });
}

/**
 * A new credential under `serverPublicKey`, written to `out` (in clear, or as `textOf` writes it:
 * sealed under a passphrase), and the server-side entry for it. add-client calls it with the
 * server's key; `keygen --client`, on the client, with the public key the operator gave.
 */
export function makeClientCredential(
  o: Omit<AddClientOptions, 'serverKeyFile'> & { readonly serverPublicKey: Uint8Array },
): AddClientResult {
  const clientId = o.clientId ?? randomBytes(SPA_CLIENT_ID_BYTES);
  let secretLine: string;
  let credential: ClientCredential;
  if (!DOOR_ID_PATTERN.test(o.door))
    throw new KnockgateError(
      'KG_USAGE',
      `not a door id: ${JSON.stringify(o.door)} (the door's name, or its spa.door_id)`,
    );
  const base = {
    name: o.name,
    ...(o.server ? { server: o.server } : {}),
    port: o.port,
    serverPublicKey: o.serverPublicKey,
    doorId: o.door,
    clientId,
    ...(o.maxDurationS !== undefined ? { maxDurationS: o.maxDurationS } : {}),
  };
  if (o.mode === 'ssh-ed25519') {
    if (o.sshKey === undefined) throw new Error('mode ssh-ed25519 needs the ssh key');
    credential = { ...base, sshKey: o.sshKey };
    secretLine = `ssh_key: ${JSON.stringify(sshPublicKeyLine(o.sshKey.raw, o.sshKey.comment))}`;
  } else if (o.mode === 'psk') {
    const psk = randomBytes(32);
    credential = { ...base, psk };
    secretLine = `psk: ${b64(psk)}            # secret: keep this config file 0600`;
  } else {
    const pair = generateKeyPairSync('ed25519');
    const seed = Buffer.from(pair.privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    credential = { ...base, privateKey: seed };
    secretLine = `public_key: ${b64(rawPublicOf(pair.publicKey))}`;
  }
  const credentialText = (o.textOf ?? clientCredentialText)(credential);
  writePrivateFile(o.out, credentialText, o.force);
  // Names are quoted: a name such as 1234 or true must read back as a string.
  const serverEntry = [
    `- name: ${JSON.stringify(o.name)}`,
    `  id: ${b64(clientId)}`,
    `  ${secretLine}`,
    ...(o.maxDurationS !== undefined ? [`  max_duration: ${o.maxDurationS}s`] : []),
    '',
  ].join('\n');
  return { credential, credentialText, serverEntry, secretLine };
}

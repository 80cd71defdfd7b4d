/**
 * Provisioning: the server's key pair (`knockgate keygen`) and a client's credential plus the
 * server-side entry for it (`knockgate add-client`). Keys come from node:crypto's CSPRNG. In
 * ed25519 mode the server entry holds only the client's public key: whoever reads the server's
 * configuration cannot knock as that client.
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rawPublicOf, x25519PrivateFromRaw } from '../core/spa/keys.js';
import { SPA_CLIENT_ID_BYTES } from '../core/limits.js';
import { KnockgateError } from '../core/errors.js';
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

export interface AddClientOptions {
  readonly name: string;
  readonly serverKeyFile: string;
  /** The door's name (or its spa.door_id) in knockgate.yaml: packets made with the credential open only it. */
  readonly door: string;
  readonly mode: 'ed25519' | 'psk';
  readonly server?: string;
  readonly port: number;
  readonly out: string;
  readonly force: boolean;
}

export interface AddClientResult {
  readonly credential: ClientCredential;
  readonly credentialText: string;
  /** YAML to paste under a door's `clients:`. */
  readonly serverEntry: string;
}

export function addClient(o: AddClientOptions): AddClientResult {
  const server = readServerKey(o.serverKeyFile);
  const serverPublicKey = rawPublicOf(x25519PrivateFromRaw(server.privateKey));
  const clientId = randomBytes(SPA_CLIENT_ID_BYTES);
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
    serverPublicKey,
    doorId: o.door,
    clientId,
  };
  if (o.mode === 'psk') {
    const psk = randomBytes(32);
    credential = { ...base, psk };
    secretLine = `psk: ${b64(psk)}            # secret: keep this config file 0600`;
  } else {
    const pair = generateKeyPairSync('ed25519');
    const seed = Buffer.from(pair.privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    credential = { ...base, privateKey: seed };
    secretLine = `public_key: ${b64(rawPublicOf(pair.publicKey))}`;
  }
  const credentialText = clientCredentialText(credential);
  writePrivateFile(o.out, credentialText, o.force);
  // Names are quoted: a name such as 1234 or true must read back as a string.
  const serverEntry = [`- name: ${JSON.stringify(o.name)}`, `  id: ${b64(clientId)}`, `  ${secretLine}`, ''].join('\n');
  return { credential, credentialText, serverEntry };
}

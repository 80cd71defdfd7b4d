/**
 * `knockgate keygen --client`: on the client, its own Ed25519 key pair and credential (the private
 * key never leaves the machine), and the server-side entry to send to the server's operator,
 * which holds only the public key. With --passphrase the credential is sealed from the start:
 * no clear copy of the secret is ever written (on flash media, a replaced file can linger).
 */

import { hostname } from 'node:os';
import { makeClientCredential } from '../../client/provision.js';
import { KnockgateError } from '../../core/errors.js';
import { DEFAULT_SPA_PORT } from '../../core/limits.js';
import { RAW_KEY_BYTES } from '../../core/spa/keys.js';
import type { ClientCredential } from '../../stores/key-files.js';
import { checkClientName } from './option-parsers.js';

export interface KeygenFlags {
  out?: string;
  force?: boolean;
  keepPrevious: boolean;
  overlap: number;
  client?: boolean;
  name?: string;
  door?: string;
  serverPublicKey?: string;
  server?: string;
  port?: number;
  passphrase?: boolean;
  passphraseFd?: number;
}

/** With --passphrase or --passphrase-fd: how the new credential's text is sealed (the passphrase asked now). */
export async function sealedTextFor(
  out: string,
  o: { passphrase?: boolean; passphraseFd?: number },
): Promise<{ textOf?: (c: ClientCredential) => string }> {
  if (!o.passphrase && o.passphraseFd === undefined) return {};
  const { newPassphraseFor } = await import('../../client/passphrase-input.js');
  const { sealedTextOf } = await import('../../client/credential-passphrase.js');
  return { textOf: sealedTextOf(await newPassphraseFor(out, o.passphraseFd)) };
}

export async function clientKeygenCommand(o: KeygenFlags): Promise<void> {
  if (!o.keepPrevious) throw new KnockgateError('KG_USAGE', '--no-keep-previous is for the server key');
  const name = checkClientName(o.name ?? hostname().split('.')[0] ?? '');
  if (o.door === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      "keygen --client needs --door NAME: the SPA door in the server's knockgate.yaml",
    );
  if (o.serverPublicKey === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      "keygen --client needs --server-public-key KEY: the public key the server's keygen printed",
    );
  const serverPublicKey = Buffer.from(o.serverPublicKey, 'base64url');
  if (!/^[A-Za-z0-9_-]+$/.test(o.serverPublicKey) || serverPublicKey.length !== RAW_KEY_BYTES)
    throw new KnockgateError(
      'KG_USAGE',
      `--server-public-key: expected ${RAW_KEY_BYTES} bytes in base64url (as keygen prints it), got ${JSON.stringify(o.serverPublicKey)}`,
    );
  const out = o.out ?? `${name}.knockgate.yaml`;
  const r = makeClientCredential({
    name,
    door: o.door,
    mode: 'ed25519',
    serverPublicKey: new Uint8Array(serverPublicKey),
    ...(o.server ? { server: o.server } : {}),
    port: o.port ?? DEFAULT_SPA_PORT,
    out,
    force: o.force ?? false,
    ...(await sealedTextFor(out, o)),
  });
  process.stdout.write(
    `wrote the client credential to ${out} (its private key stays on this machine)\n` +
      `\nsend this to the server's operator, for the "clients:" of SPA door ${JSON.stringify(o.door)} in knockgate.yaml (it holds no secret):\n\n${r.serverEntry.replace(/^/gm, '      ').trimEnd()}\n`,
  );
}

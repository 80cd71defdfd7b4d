/**
 * `knockgate add-client NAME --totp --door DOOR -c CONFIG`: a credential for a time-based sequence
 * door (core/totp-sequence.ts). The door's shared secret is the file its `sequence.totp` names:
 * read (and checked: 0600, trusted) when it exists, else made from node:crypto's CSPRNG and
 * written 0600, never over an existing file. Every client of the door gets the same secret (the
 * sequence is the door's, not the client's); the credential adds the door's parameters, so the
 * client derives the same sequences (stores/totp-key-files.ts).
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { KnockgateError } from '../core/errors.js';
import { TOTP_SECRET_BYTES } from '../core/limits.js';
import { writePrivateFile } from '../stores/key-files.js';
import { readTotpSecret, totpCredentialText, totpSecretText, type TotpCredential } from '../stores/totp-key-files.js';

export interface AddTotpClientOptions {
  readonly name: string;
  readonly configFile: string;
  readonly door: string;
  readonly server?: string;
  readonly out: string;
  readonly force: boolean;
}

export interface AddTotpClientResult {
  readonly credential: TotpCredential;
  readonly credentialText: string;
  readonly secretFile: string;
  /** True when the door had no secret file yet and this wrote it. */
  readonly secretCreated: boolean;
}

export function addTotpClient(o: AddTotpClientOptions): AddTotpClientResult {
  const config = loadConfig(o.configFile);
  const door = config.doors.find((d) => d.name === o.door);
  if (door?.totp == null)
    throw new KnockgateError(
      'KG_USAGE',
      `${config.file} has no time-based sequence door ${JSON.stringify(o.door)} (a door with sequence: { totp: FILE, ... })`,
    );
  const secretFile = door.totp.secretFile;
  const secretCreated = !existsSync(secretFile);
  let secret: Uint8Array;
  if (secretCreated) {
    secret = randomBytes(TOTP_SECRET_BYTES);
    writePrivateFile(secretFile, totpSecretText(secret), false);
  } else secret = readTotpSecret(secretFile);
  const credential: TotpCredential = {
    name: o.name,
    ...(o.server ? { server: o.server } : {}),
    secret,
    parameters: door.totp.parameters,
  };
  const credentialText = totpCredentialText(credential);
  writePrivateFile(o.out, credentialText, o.force);
  return { credential, credentialText, secretFile, secretCreated };
}

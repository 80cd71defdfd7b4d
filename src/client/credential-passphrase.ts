/**
 * Protecting a client credential with a passphrase, changing it, or taking it off
 * (`knockgate passphrase FILE`), and the text of a new credential sealed from the start
 * (`add-client --passphrase`, `keygen --client --passphrase`). Each sealing draws a fresh salt and
 * nonce. The file is replaced by a rename (stores/key-files.ts writePrivateFile): it is either
 * the old file or the new one, never half of each.
 */

import { randomBytes } from 'node:crypto';
import { KnockgateError } from '../core/errors.js';
import { SCRYPT_SALT_BYTES } from '../core/limits.js';
import { SEALED_NONCE_BYTES } from '../core/sealed-secret.js';
import {
  clientCredentialText,
  readCredentialFields,
  withClearSecret,
  writePrivateFile,
  type ClientCredential,
} from '../stores/key-files.js';
import { openSealedCredential, readSealedBlock, sealedCredentialText } from '../stores/sealed-credential.js';
import { newPassphraseFor, passphraseFor } from './passphrase-input.js';

/** How a credential's text is written when it is sealed under `passphrase`. */
export function sealedTextOf(passphrase: string): (c: ClientCredential) => string {
  return (c) =>
    sealedCredentialText(c, passphrase, {
      salt: randomBytes(SCRYPT_SALT_BYTES),
      nonce: randomBytes(SEALED_NONCE_BYTES),
    });
}

export interface ChangePassphraseOptions {
  /** The current passphrase's descriptor (a protected file); else the terminal. */
  readonly passphraseFd?: number;
  /** The new passphrase's descriptor; else typed twice on the terminal. May be the same as passphraseFd: one line each. */
  readonly newPassphraseFd?: number;
  /** Write the secret back in clear. */
  readonly remove?: boolean;
}

/** What was done to `file`: protected (it was clear), changed, or removed (clear again). */
export async function changePassphrase(
  file: string,
  o: ChangePassphraseOptions,
): Promise<'protected' | 'changed' | 'removed'> {
  const { fields, doc } = readCredentialFields(file);
  const sealed = doc.sealed !== undefined;
  if (!sealed && o.remove) throw new KnockgateError('KG_USAGE', `${file} is not protected by a passphrase`);
  const credential = sealed
    ? openSealedCredential(file, fields, readSealedBlock(file, doc), await passphraseFor(file, o.passphraseFd))
    : withClearSecret(file, fields, doc);
  if (o.remove) {
    writePrivateFile(file, clientCredentialText(credential), true);
    return 'removed';
  }
  const text = sealedTextOf(await newPassphraseFor(file, o.newPassphraseFd))(credential);
  writePrivateFile(file, text, true);
  return sealed ? 'changed' : 'protected';
}

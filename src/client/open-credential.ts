/**
 * A client credential ready to knock with: read and checked (stores/key-files.ts: a file readable
 * by others is refused here, before anyone is asked for anything), then, when it is protected,
 * its scrypt parameters checked and its secret opened with the passphrase (from --passphrase-fd,
 * else the terminal). The sealing code and the prompt are loaded only for a protected file, so
 * that knocking with a clear one starts no slower.
 */

import { readCredentialFields, withClearSecret, type ClientCredential } from '../stores/key-files.js';

export interface PassphraseFlags {
  /** --passphrase-fd N: read the passphrase from this descriptor's first line instead of the terminal. */
  readonly passphraseFd?: number;
}

export async function openCredentialFile(file: string, o: PassphraseFlags): Promise<ClientCredential> {
  const { fields, doc } = readCredentialFields(file);
  if (doc.sealed === undefined) return withClearSecret(file, fields, doc);
  const { readSealedBlock, openSealedCredential } = await import('../stores/sealed-credential.js');
  const block = readSealedBlock(file, doc);
  const { passphraseFor } = await import('./passphrase-input.js');
  return openSealedCredential(file, fields, block, await passphraseFor(file, o.passphraseFd));
}

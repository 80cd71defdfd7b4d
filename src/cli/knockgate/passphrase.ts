/**
 * `knockgate passphrase FILE`: protect a client credential with a passphrase, change it, or take
 * it off (--remove). Passphrases come from the terminal (no echo; a new one twice) or from file
 * descriptors, never from argv. The work is src/client/credential-passphrase.ts.
 */

import type { Command } from 'commander';
import { parseFd } from './option-parsers.js';

export function addPassphraseCommand(program: Command): void {
  program
    .command('passphrase')
    .description(
      'protect a client credential with a passphrase (scrypt and ChaCha20-Poly1305), change its passphrase, or remove it',
    )
    .argument('<file>', 'the credential (from knockgate add-client or keygen --client)')
    .option('--passphrase-fd <n>', 'read the current passphrase from this file descriptor (first line)', parseFd)
    .option(
      '--new-passphrase-fd <n>',
      'read the new passphrase from this file descriptor (one line; after the current one if the same descriptor)',
      parseFd,
    )
    .option('--remove', 'write the secret back in clear (the file stays 0600)')
    .action(async (file: string, o: { passphraseFd?: number; newPassphraseFd?: number; remove?: boolean }) => {
      const { changePassphrase } = await import('../../client/credential-passphrase.js');
      const done = await changePassphrase(file, o);
      process.stdout.write(
        done === 'removed'
          ? `removed the passphrase of ${file}: its secret is in clear again\n`
          : `${done === 'changed' ? 'changed the passphrase of' : 'protected with a passphrase:'} ${file}\n`,
      );
    });
}

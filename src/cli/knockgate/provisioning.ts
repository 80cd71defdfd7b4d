/**
 * `knockgate keygen` and `knockgate add-client NAME`: the server's key pair, and a client
 * credential with the server-side entry for it. Argument checks and output here; the keys and
 * files are src/client/provision.ts.
 */

import type { Command } from 'commander';
import { addClient, createServerKey } from '../../client/provision.js';
import { KnockgateError } from '../../core/errors.js';
import { DEFAULT_SPA_PORT } from '../../core/limits.js';
import { parsePortNumber } from './option-parsers.js';

const DEFAULT_SERVER_KEY = '/etc/knockgate/server.key';

interface AddClientFlags {
  serverKey: string;
  door?: string;
  mode: string;
  server?: string;
  port: number;
  out?: string;
  force?: boolean;
  qr?: boolean;
}

export function addProvisioningCommands(program: Command): void {
  program
    .command('keygen')
    .description("create the server's SPA key pair (X25519) and print its public key")
    .option('-o, --out <file>', 'where to write the private key (mode 0600)', DEFAULT_SERVER_KEY)
    .option('--force', 'replace an existing key (every client credential must then be re-issued)')
    .action((o: { out: string; force?: boolean }) => {
      const { publicKey } = createServerKey(o.out, o.force ?? false);
      process.stdout.write(`wrote ${o.out}\npublic key: ${Buffer.from(publicKey).toString('base64url')}\n`);
    });

  program
    .command('add-client')
    .description('create a client credential, and print the entry to paste under a door\'s "clients:"')
    .argument('<name>', 'client name (letters, digits, _ . -)')
    .option('-k, --server-key <file>', 'the server key from knockgate keygen', DEFAULT_SERVER_KEY)
    .option('--door <id>', 'the SPA door the client is for: its name in knockgate.yaml (or its spa.door_id); required')
    .option('--mode <mode>', 'ed25519 (default: the server holds only the public key) or psk', 'ed25519')
    .option('--server <host>', 'the host name clients knock (written into the credential)')
    .option('--port <port>', "the SPA door's UDP port", parsePortNumber, DEFAULT_SPA_PORT)
    .option('-o, --out <file>', 'where to write the credential (mode 0600; default NAME.knockgate.yaml)')
    .option('--force', 'replace an existing credential file')
    .option(
      '--qr',
      'also print the credential as a QR code on the terminal (it is a secret: mind who can see the screen)',
    )
    .action(addClientCommand);
}

async function addClientCommand(name: string, o: AddClientFlags): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(name))
    throw new KnockgateError('KG_USAGE', `client name ${JSON.stringify(name)}: use 1-32 letters, digits, _ . -`);
  if (o.mode !== 'ed25519' && o.mode !== 'psk')
    throw new KnockgateError('KG_USAGE', `--mode must be ed25519 or psk, got ${JSON.stringify(o.mode)}`);
  if (o.door === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      'add-client needs --door NAME: the SPA door (its name in knockgate.yaml, or its spa.door_id) the client is for',
    );
  const out = o.out ?? `${name}.knockgate.yaml`;
  const r = addClient({
    name,
    serverKeyFile: o.serverKey,
    door: o.door,
    mode: o.mode,
    ...(o.server ? { server: o.server } : {}),
    port: o.port,
    out,
    force: o.force ?? false,
  });
  process.stdout.write(`wrote the client credential to ${out} (give it to the client; it is a secret)\n`);
  process.stdout.write(
    `\nadd this under the "clients:" of SPA door ${JSON.stringify(o.door)} in knockgate.yaml:\n\n${r.serverEntry.replace(/^/gm, '      ').trimEnd()}\n`,
  );
  if (o.qr) {
    const qrcode = (await import('qrcode')).default;
    process.stdout.write(
      `\n${await qrcode.toString(r.credentialText, { type: 'terminal', small: true, errorCorrectionLevel: 'L' })}\n`,
    );
  }
}

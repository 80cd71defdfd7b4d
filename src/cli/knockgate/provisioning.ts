/**
 * `knockgate keygen` and `knockgate add-client NAME`: the server's key pair, and a client
 * credential with the server-side entry for it. Argument checks and output here; the keys and
 * files are src/client/provision.ts.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addClient, createServerKey, rotateServerKey, type AddClientResult } from '../../client/provision.js';
import { reissueClient } from '../../client/reissue.js';
import { addTotpClient } from '../../client/provision-totp.js';
import { readSshPublicKeyFile } from '../../stores/ssh-key-credential.js';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { formatIsoTime } from '../../config/iso-time.js';
import { parseDurationMs } from '../../core/duration.js';
import { KnockgateError } from '../../core/errors.js';
import { DEFAULT_KEY_OVERLAP_MS, DEFAULT_SPA_PORT } from '../../core/limits.js';
import { keyFingerprint } from '../../core/spa/key-fingerprint.js';
import { clientKeygenCommand, sealedTextFor, type KeygenFlags } from './client-keygen.js';
import { checkClientName, dashed, parseFd, parsePortNumber, parseSeconds } from './option-parsers.js';

const DEFAULT_SERVER_KEY = '/etc/knockgate/server.key';

interface AddClientFlags {
  serverKey?: string;
  door?: string;
  mode?: string;
  server?: string;
  port?: number;
  reissue?: boolean;
  config: string;
  out?: string;
  force?: boolean;
  qr?: boolean;
  totp?: boolean;
  sshKey?: string;
  passphrase?: boolean;
  passphraseFd?: number;
  maxDuration?: number;
}

const passphraseFlag = [
  '--passphrase',
  'protect the credential with a passphrase (asked twice on the terminal, without echo); knock then asks for it',
] as const;
const passphraseFdFlag = [
  '--passphrase-fd <n>',
  'with --passphrase (implied): read the new passphrase from this file descriptor (first line), not the terminal',
] as const;

export function addProvisioningCommands(program: Command): void {
  program
    .command('keygen')
    .description(
      "create the server's SPA key pair (X25519) and print its public key; with --client, a client's own Ed25519 key pair and credential",
    )
    .option(
      '-o, --out <file>',
      `where to write the private key (mode 0600; default ${DEFAULT_SERVER_KEY}, with --client NAME.knockgate.yaml)`,
    )
    .option(
      '--force',
      'replace an existing key, keeping the old one as FILE.previous for an overlap (every client then needs a new credential)',
    )
    .option('--no-keep-previous', 'with --force: do not keep the old key (old clients are refused at once)')
    .option(
      '--overlap <duration>',
      'with --force: how long the old key stays accepted, for the previous_key_until printed',
      parseOverlap,
      DEFAULT_KEY_OVERLAP_MS,
    )
    .option(
      '--client',
      "on a client: make its Ed25519 key pair here (the private key never leaves this machine) and print the entry to send to the server's operator",
    )
    .option('--name <name>', "with --client: the client's name (default: this host's name)")
    .option('--door <id>', "with --client: the SPA door (its name in the server's knockgate.yaml); required")
    .option(
      '--server-public-key <key>',
      "with --client: the server's public key, as its keygen printed it (base64url); required",
    )
    .option('--server <host>', 'with --client: the host name to knock (written into the credential)')
    .option('--port <port>', `with --client: the SPA door's UDP port (default ${DEFAULT_SPA_PORT})`, parsePortNumber)
    .option(passphraseFlag[0], passphraseFlag[1])
    .option(passphraseFdFlag[0], passphraseFdFlag[1], parseFd)
    .action((o: KeygenFlags) => (o.client ? clientKeygenCommand(o) : keygenCommand(o)));

  program
    .command('add-client')
    .description('create a client credential, and print the entry to paste under a door\'s "clients:"')
    .argument('<name>', 'client name (letters, digits, _ . -)')
    .option(
      '-k, --server-key <file>',
      `the server key from knockgate keygen (default ${DEFAULT_SERVER_KEY}; with --reissue, the config's spa.server_key)`,
    )
    .option('--door <id>', 'the SPA door the client is for: its name in knockgate.yaml (or its spa.door_id); required')
    .option(
      '--mode <mode>',
      'ed25519 (default: the server holds only the public key; with --reissue, the present mode) or psk',
    )
    .option(
      '--ssh-key <file>',
      'the client signs with this ssh-ed25519 key in its ssh-agent (FILE: the OpenSSH public key, e.g. ~/.ssh/id_ed25519.pub); the credential names the key and holds no secret',
    )
    .option('--server <host>', 'the host name clients knock (written into the credential)')
    .option(
      '--port <port>',
      `the SPA door's UDP port (default ${DEFAULT_SPA_PORT}; with --reissue, the door's)`,
      parsePortNumber,
    )
    .option(
      '--max-duration <time>',
      "the client's longest grant, e.g. 10m: written into the credential (keep-open asks for it) and as max_duration into the entry (with --reissue: taken from the config)",
      parseSeconds,
    )
    .option(
      '--reissue',
      'a new credential for a client the config already has (same name and id, a new secret, under the current server key); prints the entry that replaces the old one',
    )
    .option(
      '--totp',
      "a credential for a time-based sequence door (sequence: { totp: FILE, ... }): writes the door's secret FILE (0600) if it has none, prints the credential, and its QR code on a terminal",
    )
    .option(
      '-c, --config <file>',
      'with --reissue or --totp: the server configuration holding the door',
      DEFAULT_CONFIG_FILE,
    )
    .option('-o, --out <file>', 'where to write the credential (mode 0600; default NAME.knockgate.yaml)')
    .option('--force', 'replace an existing credential file')
    .option(passphraseFlag[0], passphraseFlag[1])
    .option(passphraseFdFlag[0], passphraseFdFlag[1], parseFd)
    .option(
      '--qr',
      'also print the credential as a QR code on the terminal (it is a secret: mind who can see the screen)',
    )
    .action(addClientCommand);
}

async function addClientCommand(name: string, o: AddClientFlags): Promise<void> {
  checkClientName(name);
  if (o.totp) {
    if (o.door === undefined)
      throw new KnockgateError('KG_USAGE', 'add-client --totp needs --door NAME: the time-based sequence door');
    return addTotpClientCommand(name, o.door, o);
  }
  if (o.mode !== undefined && o.mode !== 'ed25519' && o.mode !== 'psk')
    throw new KnockgateError('KG_USAGE', `--mode must be ed25519 or psk, got ${JSON.stringify(o.mode)}`);
  if (o.sshKey !== undefined && o.mode !== undefined)
    throw new KnockgateError('KG_USAGE', '--ssh-key takes no --mode: the agent key is the mode');
  const sshKey = o.sshKey === undefined ? undefined : readSshPublicKeyFile(o.sshKey);
  if (o.door === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      'add-client needs --door NAME: the SPA door (its name in knockgate.yaml, or its spa.door_id) the client is for',
    );
  const out = o.out ?? `${name}.knockgate.yaml`;
  const mode = sshKey ? 'ssh-ed25519' : (o.mode as 'psk' | 'ed25519' | undefined);
  if (sshKey && (o.passphrase !== undefined || o.passphraseFd !== undefined))
    throw new KnockgateError(
      'KG_USAGE',
      '--ssh-key takes no --passphrase: the credential names the agent key and holds no secret to protect',
    );
  const textOf = await sealedTextFor(out, o);
  const common = { name, ...(o.server ? { server: o.server } : {}), out, force: o.force ?? false, ...textOf };
  let r: AddClientResult;
  if (o.reissue && o.maxDuration !== undefined)
    throw new KnockgateError(
      'KG_USAGE',
      "--reissue takes the client's max_duration from the config; change it there (--max-duration is for a new client)",
    );
  if (o.reissue) {
    const re = reissueClient({
      ...common,
      configFile: o.config,
      door: o.door,
      ...(mode ? { mode } : {}),
      ...(sshKey ? { sshKey } : {}),
      ...(o.serverKey ? { serverKeyFile: o.serverKey } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
    });
    r = re;
    process.stdout.write(
      `wrote the new credential to ${out} (${sshKey ? 'it names the ssh-agent key and holds no secret' : 'give it to the client; it is a secret'})\n`,
    );
    process.stdout.write(
      `\nin door ${JSON.stringify(re.doorName)} of ${o.config}, replace the psk/public_key/ssh_key (and any previous_*) line of client ${JSON.stringify(name)} with these; keep its other settings:\n\n${r.serverEntry.replace(/^/gm, '      ').trimEnd()}\n`,
    );
    if (!re.keepsOld)
      process.stderr.write(
        `knockgate: ${o.config} has no spa.previous_server_key: ${name}'s old credential stops working as soon as this entry replaces the old one\n`,
      );
  } else {
    r = addClient({
      ...common,
      serverKeyFile: o.serverKey ?? DEFAULT_SERVER_KEY,
      door: o.door,
      mode: mode ?? 'ed25519',
      ...(sshKey ? { sshKey } : {}),
      port: o.port ?? DEFAULT_SPA_PORT,
      ...(o.maxDuration !== undefined ? { maxDurationS: o.maxDuration } : {}),
    });
    process.stdout.write(
      sshKey
        ? `wrote the client credential to ${out} (it names the ssh-agent key and holds no secret)\n`
        : `wrote the client credential to ${out} (give it to the client; it is a secret)\n`,
    );
    process.stdout.write(
      `\nadd this under the "clients:" of SPA door ${JSON.stringify(o.door)} in knockgate.yaml:\n\n${r.serverEntry.replace(/^/gm, '      ').trimEnd()}\n`,
    );
  }
  if (o.qr) await printQr(r.credentialText);
}

/** The credential as a QR code, for a phone to scan (qrcode, loaded only when asked). */
async function printQr(text: string): Promise<void> {
  const qrcode = (await import('qrcode')).default;
  process.stdout.write(
    `\n${await qrcode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' })}\n`,
  );
}

/** add-client --totp: the credential printed, and as a QR code when stdout is a terminal (or with --qr). */
async function addTotpClientCommand(name: string, door: string, o: AddClientFlags): Promise<void> {
  for (const flag of [
    'reissue',
    'mode',
    'serverKey',
    'port',
    'sshKey',
    'passphrase',
    'passphraseFd',
    'maxDuration',
  ] as const)
    if (o[flag] !== undefined) throw new KnockgateError('KG_USAGE', `--totp takes no --${dashed(flag)}`);
  const out = o.out ?? `${name}.knockgate-totp.yaml`;
  const r = addTotpClient({
    name,
    configFile: o.config,
    door,
    ...(o.server ? { server: o.server } : {}),
    out,
    force: o.force ?? false,
  });
  if (r.secretCreated)
    process.stdout.write(`wrote the door's secret to ${r.secretFile} (mode 0600; restart or reload knockgated)\n`);
  process.stdout.write(
    `wrote the client credential to ${out} (give it to the client; it is a secret):\n\n${r.credentialText}`,
  );
  if (o.qr || process.stdout.isTTY) await printQr(r.credentialText);
}

function parseOverlap(v: string): number {
  const ms = parseDurationMs(v);
  if (typeof ms !== 'number' || ms <= 0)
    throw new KnockgateError('KG_USAGE', `--overlap must be a duration such as 7d or 36h, got ${JSON.stringify(v)}`);
  return ms;
}

/**
 * keygen: a new key. With --force over an existing key, the old one is kept as FILE.previous
 * (unless --no-keep-previous) and stderr says what the operator must do, with the exact lines of
 * the spa: section; stdout stays `wrote FILE` and `public key: ...`, as without --force.
 */
function keygenCommand(flags: KeygenFlags): void {
  for (const flag of ['name', 'door', 'serverPublicKey', 'server', 'port', 'passphrase', 'passphraseFd'] as const)
    if (flags[flag] !== undefined) throw new KnockgateError('KG_USAGE', `--${dashed(flag)} is for keygen --client`);
  const o = { ...flags, out: flags.out ?? DEFAULT_SERVER_KEY };
  const replacing = o.force === true && existsSync(o.out);
  if (!replacing || !o.keepPrevious) {
    const { publicKey } = createServerKey(o.out, o.force ?? false);
    process.stdout.write(
      `wrote ${o.out}\npublic key: ${Buffer.from(publicKey).toString('base64url')}\nfingerprint: ${keyFingerprint(publicKey)}\n`,
    );
    if (replacing)
      process.stderr.write(
        `knockgate: warning: the old server key is gone: every client credential made under it is refused from now on (spa-mac1).\n` +
          `  Re-issue each client: knockgate add-client --reissue NAME --door DOOR -c CONFIG\n`,
      );
    return;
  }
  const { publicKey, previousFile } = rotateServerKey(o.out);
  process.stdout.write(
    `wrote ${o.out}\npublic key: ${Buffer.from(publicKey).toString('base64url')}\nfingerprint: ${keyFingerprint(publicKey)}\n`,
  );
  const until = formatIsoTime(Date.now() + o.overlap);
  process.stderr.write(
    [
      `knockgate: warning: the server key is replaced: every client needs a new credential (knockgate add-client --reissue NAME --door DOOR -c CONFIG).`,
      `  The old key is kept as ${previousFile}. So that clients not yet re-issued keep working until ${until},`,
      `  put these lines in the spa: section of knockgate.yaml (beside server_key), then reload knockgated:`,
      '',
      `  previous_server_key: ${resolve(previousFile)}`,
      `  previous_key_until: "${until}"`,
      '',
      `  After that time, packets made for the old key are refused (spa-retired-key); then remove both lines and ${previousFile}.`,
      '',
    ].join('\n'),
  );
}

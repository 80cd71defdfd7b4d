/**
 * `knockgate connect HOST PORT`, for ssh's ProxyCommand: SPA, wait for the port, relay
 * stdin/stdout. Argument checks here; the knocking and waiting are src/client/connect.ts.
 */

import type { Command } from 'commander';
import { connectWithSpa, relay } from '../../client/connect.js';
import { findCredential, knockTarget, profilePath } from '../../client/profiles.js';
import { parseEndpoint } from '../../core/endpoint.js';
import { KnockgateError } from '../../core/errors.js';
import { parseAttempts, parseDelay } from './option-parsers.js';
import { spaOptions, type SpaFlags } from './spa-options.js';

type ConnectFlags = SpaFlags & { attempts: number; wait: number };

export function addConnectCommand(program: Command): void {
  spaOptions(
    program
      .command('connect')
      .description(
        'for ssh: knock with SPA, wait until HOST PORT answers, then relay stdin/stdout (ProxyCommand knockgate connect %h %p)',
      )
      .argument('<host>', 'server name or address')
      .argument('<port>', 'TCP port to connect to')
      .option('--attempts <n>', 'knock at most this many times', parseAttempts, 3)
      .option('--wait <ms>', 'how long to wait for the port after each knock', parseDelay, 2500),
  ).action(connect);
}

async function connect(host: string, portText: string, o: ConnectFlags): Promise<void> {
  const endpoint = parseEndpoint(portText);
  if ('error' in endpoint || endpoint.proto !== 'tcp')
    throw new KnockgateError('KG_USAGE', `port: expected a TCP port number, got ${JSON.stringify(portText)}`);
  const cred = await findCredential({ ...o, host });
  if (cred === null)
    throw new KnockgateError(
      'KG_USAGE',
      `no credential for ${host}: pass --credential FILE, --profile NAME, or create ${profilePath(host)}`,
    );
  const socket = await connectWithSpa({
    cred,
    host: knockTarget({ ...o, host }, cred),
    // Unlike knock, -4 with -6 is not refused here: -4 wins (as it always has).
    family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined,
    flags: o,
    port: endpoint.port,
    attempts: o.attempts,
    waitMs: o.wait,
    say: (line) => {
      if (o.verbose) process.stderr.write(`knockgate: ${line}\n`);
    },
  });
  await relay(socket);
}

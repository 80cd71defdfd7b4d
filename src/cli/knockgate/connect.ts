/**
 * `knockgate connect HOST PORT`, for ssh's ProxyCommand: SPA, wait for the port, relay
 * stdin/stdout. Argument checks here; the knocking and waiting are src/client/connect.ts.
 */

import type { Command } from 'commander';
import { connectWithSpa, relay } from '../../client/connect.js';
import { keepOpenDurationS, spaKeepOpenKnock } from '../../client/keep-open-spa.js';
import { findCredential, knockTarget, profilePath } from '../../client/profiles.js';
import { parseEndpoint } from '../../core/endpoint.js';
import { KnockgateError } from '../../core/errors.js';
import { parseAttempts, parseDelay } from './option-parsers.js';
import { spaOptions, type SpaFlags } from './spa-options.js';

type ConnectFlags = SpaFlags & { attempts: number; wait: number; keepOpen?: boolean };

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
      .option('--wait <ms>', 'how long to wait for the port after each knock', parseDelay, 2500)
      .option(
        '--keep-open',
        'while the connection lasts, knock again before each grant runs out, as keep-open (needs --duration or a credential with max_duration)',
      ),
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
  // --keep-open: every knock, the first ones too, asks for one known duration.
  const keepOpenS = o.keepOpen ? keepOpenDurationS(o.duration, cred) : undefined;
  // Unlike knock, -4 with -6 is not refused here: -4 wins (as it always has).
  const family = o.ipv4 ? 4 : o.ipv6 ? 6 : undefined;
  const flags = keepOpenS === undefined ? o : { ...o, duration: keepOpenS };
  const target = knockTarget({ ...o, host }, cred);
  const socket = await connectWithSpa({
    cred,
    host: target,
    family,
    flags,
    port: endpoint.port,
    attempts: o.attempts,
    waitMs: o.wait,
    say: (line) => {
      if (o.verbose) process.stderr.write(`knockgate: ${line}\n`);
    },
  });
  if (keepOpenS === undefined) return relay(socket);
  await relayKeepingOpen(
    { cred, host: target, family, flags, durationS: keepOpenS, verbose: o.verbose === true },
    relay(socket),
  );
}

/** The relay, with keep-open's loop beside it until the relay ends (loaded only for --keep-open). */
async function relayKeepingOpen(
  k: Parameters<typeof spaKeepOpenKnock>[0] & { verbose: boolean },
  relayed: Promise<void>,
): Promise<void> {
  const { systemClock } = await import('../../daemon/clock.js');
  const { runKeepOpen } = await import('../../client/keep-open-run.js');
  await runKeepOpen({
    clock: systemClock,
    knock: spaKeepOpenKnock(k),
    durationS: k.durationS,
    until: relayed,
    handleSignals: false,
    verbose: k.verbose,
    say: (line) => process.stderr.write(`knockgate: keep-open: ${line}\n`),
  });
}

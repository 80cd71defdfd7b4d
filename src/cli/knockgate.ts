#!/usr/bin/env node
/**
 * knockgate: the client and admin tool. `knockgate knock HOST PORT[/udp] ...` sends a classic
 * sequence. Bad arguments exit 64 with a message that names the argument.
 */

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { sendKnock } from '../client/knock-sender.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../core/endpoint.js';
import { EXIT, KnockgateError } from '../core/errors.js';
import { MAX_KNOCK_DELAY_MS, MAX_SEQUENCE_STEPS } from '../core/limits.js';
import { VERSION } from '../version.js';

function parseDelay(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_KNOCK_DELAY_MS) throw new InvalidArgumentError(`expected whole milliseconds from 0 to ${MAX_KNOCK_DELAY_MS}`);
  return n;
}

async function resolveHost(host: string, want: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(host);
  if (literal !== 0) {
    if (want !== undefined && literal !== want) throw new KnockgateError('KG_USAGE', `${host} is an IPv${literal} address but -${want} was given`);
    return { address: host, family: literal as 4 | 6 };
  }
  try {
    const r = await lookup(host, want === undefined ? {} : { family: want });
    return { address: r.address, family: r.family as 4 | 6 };
  } catch (err) {
    throw new KnockgateError('KG_RESOLVE_FAILED', `cannot resolve ${JSON.stringify(host)}: ${(err as Error).message}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('knockgate')
    .description('knockgate client and admin tool')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('knock')
    .description('send a knock sequence: one SYN per TCP step, one datagram per UDP step (like knock(1))')
    .argument('<host>', 'server name or address')
    .argument('<ports...>', 'steps: PORT, PORT/tcp or PORT/udp (knockd\'s PORT:udp works too)')
    .option('-d, --delay <ms>', 'wait between steps, in milliseconds', parseDelay, 0)
    .option('-u, --udp', 'make steps without a protocol UDP (as knock -u)')
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .option('-v, --verbose', 'print each step')
    .action(async (host: string, ports: string[], o: { delay: number; udp?: boolean; ipv4?: boolean; ipv6?: boolean; verbose?: boolean }) => {
      if (o.ipv4 && o.ipv6) throw new KnockgateError('KG_USAGE', 'give -4 or -6, not both');
      if (ports.length > MAX_SEQUENCE_STEPS) throw new KnockgateError('KG_USAGE', `at most ${MAX_SEQUENCE_STEPS} steps`);
      const steps: Endpoint[] = ports.map((p) => {
        const e = parseEndpoint(p);
        if ('error' in e) throw new KnockgateError('KG_USAGE', `step ${JSON.stringify(p)}: ${e.error}`);
        return o.udp && !/[/:]/.test(p) ? { proto: 'udp', port: e.port } : e;
      });
      const target = await resolveHost(host, o.ipv4 ? 4 : o.ipv6 ? 6 : undefined);
      await sendKnock({
        host: target.address,
        family: target.family,
        steps,
        delayMs: o.delay,
        onStep: o.verbose ? (s) => process.stdout.write(`knocked ${target.address} ${formatEndpoint(s)}\n`) : undefined,
      });
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT.USAGE);
    throw err;
  }
}

main(process.argv).catch((err: unknown) => {
  if (err instanceof KnockgateError) {
    process.stderr.write(`knockgate: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`knockgate: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(EXIT.SOFTWARE);
});

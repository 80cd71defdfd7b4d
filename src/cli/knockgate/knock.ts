/**
 * `knockgate knock HOST [STEP...]`: with steps, a classic sequence; with --totp FILE, the current
 * time-based sequence of that credential; without, one SPA packet from a credential or profile
 * (or, with --fwknop, one fwknop-format packet). Argument checks here; the
 * sending is src/client/knock.ts.
 */

import type { Command } from 'commander';
import { knockClassic, knockSpa, knockTotp } from '../../client/knock.js';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryConnect } from '../../client/connect.js';
import { giveUpMessage } from '../../client/give-up-hints.js';
import { findCredential, knockTarget, profilePath } from '../../client/profiles.js';
import { spaAskLines } from '../../client/spa-ask-text.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../../core/endpoint.js';
import { KnockgateError } from '../../core/errors.js';
import { MAX_SEQUENCE_STEPS } from '../../core/limits.js';
import { type FwknopFlags, knockWithFwknop } from './knock-fwknop.js';
import { parseDelay, parsePortNumber } from './option-parsers.js';
import { familyOf, spaOptions } from './spa-options.js';

type KnockFlags = FwknopFlags & {
  delay: number;
  udp?: boolean;
  totp?: string;
  wait?: number;
  waitMs: number;
};

export function addKnockCommand(program: Command): void {
  spaOptions(
    program
      .command('knock')
      .description(
        'knock: with STEPs, a classic sequence (one SYN per TCP step, one datagram per UDP step, like knock(1)); without, one SPA packet from a credential or profile',
      )
      .argument('<host>', 'server name or address')
      .argument('[steps...]', "classic steps: PORT, PORT/tcp or PORT/udp (knockd's PORT:udp works too)")
      .option('-d, --delay <ms>', 'classic: wait between steps, in milliseconds', parseDelay, 0)
      .option('-u, --udp', 'classic: steps without a protocol are UDP (as knock -u)')
      .option(
        '--totp <file>',
        'send the current sequence of a time-based sequence door, from this credential (0600; knockgate add-client --totp)',
      )
      .option(
        '--wait <port>',
        'after knocking, check that this TCP port answers (exit 0), else say why it may not have opened (exit 69)',
        parsePortNumber,
      )
      .option('--wait-ms <ms>', 'with --wait: how long to wait for the port', parseDelay, 2500)
      .option(
        '--fwknop <file>',
        'send fwknop-format SPA, for servers running fwknopd, with the keys in this credential file (0600)',
      )
      .option(
        '--fwknoprc [stanza]',
        'send fwknop-format SPA as fwknop -n STANZA would, from ~/.fwknoprc (default stanza: the one named HOST, whose SPA_SERVER is knocked; else [default])',
      )
      .option('--rc-file <file>', 'with --fwknoprc: this rc file instead of ~/.fwknoprc (0600)'),
  ).action(knock);
}

async function knock(host: string, steps: string[], o: KnockFlags): Promise<void> {
  const knocked = await knockOnce(host, steps, o);
  if (o.wait !== undefined) await waitForPort(knocked, o.wait, o);
  else if (o.verbose)
    process.stdout.write(
      `sent; a knock gets no answer, so this does not say the port opened (--wait PORT, or knockgate connect ${host} PORT, does)\n`,
    );
}

/** Sends the knock the arguments describe; returns the address knocked. */
async function knockOnce(host: string, steps: string[], o: KnockFlags): Promise<string> {
  const family = familyOf(o);
  const say = o.verbose ? (line: string) => process.stdout.write(`${line}\n`) : () => undefined;
  const onStep = o.verbose
    ? (address: string, s: Endpoint) => say(`knocked ${address} ${formatEndpoint(s)}`)
    : undefined;
  if (o.totp !== undefined) {
    if (steps.length > 0)
      throw new KnockgateError('KG_USAGE', 'a --totp knock takes no steps: they come from the clock');
    if (o.fwknop !== undefined || o.fwknoprc !== undefined)
      throw new KnockgateError('KG_USAGE', 'give one of --totp and --fwknop / --fwknoprc');
    const sent = await knockTotp({
      credentialFile: o.totp,
      host,
      family,
      delayMs: o.delay,
      nowUnixMs: Date.now(),
      onStep,
    });
    say(`sent the time-based sequence (${sent.steps.length} steps) to ${sent.address}`);
    return sent.address;
  }
  if (o.fwknop !== undefined || o.fwknoprc !== undefined) {
    if (steps.length > 0) throw new KnockgateError('KG_USAGE', 'an fwknop knock takes no steps; use --ports');
    return knockWithFwknop(host, family, o, say);
  }
  const cred = steps.length > 0 && !o.credential && !o.profile ? null : await findCredential({ ...o, host });
  if (cred === null) {
    if (steps.length === 0) {
      throw new KnockgateError(
        'KG_USAGE',
        `no steps given and no credential: pass --credential FILE, --profile NAME, or create ${profilePath(host)}`,
      );
    }
    if (steps.length > MAX_SEQUENCE_STEPS) throw new KnockgateError('KG_USAGE', `at most ${MAX_SEQUENCE_STEPS} steps`);
    const endpoints: Endpoint[] = steps.map((p) => {
      const e = parseEndpoint(p);
      if ('error' in e) throw new KnockgateError('KG_USAGE', `step ${JSON.stringify(p)}: ${e.error}`);
      return o.udp && !/[/:]/.test(p) ? { proto: 'udp', port: e.port } : e;
    });
    return knockClassic({ host, family, steps: endpoints, delayMs: o.delay, onStep });
  }
  if (steps.length > 0)
    throw new KnockgateError('KG_USAGE', 'an SPA knock takes no steps; use --ports to ask for ports');
  const sent = await knockSpa(cred, knockTarget({ ...o, host }, cred), family, o, (ask, to) =>
    say(spaAskLines(cred, ask, to).join('\n')),
  );
  return sent.address;
}

/**
 * --wait PORT: whether the knock opened PORT, by connecting to it (and closing at once). Exit 0
 * when it answers; KG_CONNECT_FAILED (69) with the likely causes when it does not.
 */
async function waitForPort(address: string, port: number, o: KnockFlags): Promise<void> {
  await sleep(20); // as connect: let the server's firewall change land before the SYN
  const result = await tryConnect(address, port, o.waitMs);
  if (result instanceof Socket) {
    result.destroy();
    if (o.verbose) process.stdout.write(`${address} port ${port}/tcp answers\n`);
    return;
  }
  throw new KnockgateError(
    'KG_CONNECT_FAILED',
    giveUpMessage({ host: address, port, attempts: 1, waitMs: o.waitMs, outcome: result }),
  );
}

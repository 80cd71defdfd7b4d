/**
 * `knockgate knock HOST [STEP...]`: with steps, a classic sequence; with --totp FILE, the current
 * time-based sequence of that credential; without, one SPA packet from a credential or profile
 * (or, with --fwknop, one fwknop-format packet). Argument checks here; the
 * sending is src/client/knock.ts.
 */

import type { Command } from 'commander';
import { knockClassic, knockFwknop, knockSpa, knockTotp } from '../../client/knock.js';
import { findCredential, profilePath } from '../../client/profiles.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../../core/endpoint.js';
import { KnockgateError } from '../../core/errors.js';
import { MAX_SEQUENCE_STEPS } from '../../core/limits.js';
import { parseDelay } from './option-parsers.js';
import { familyOf, spaOptions, type SpaFlags } from './spa-options.js';

type KnockFlags = SpaFlags & { delay: number; udp?: boolean; fwknop?: string; totp?: string };

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
        '--fwknop <file>',
        'send fwknop-format SPA, for servers running fwknopd, with the keys in this credential file (0600)',
      ),
  ).action(knock);
}

async function knock(host: string, steps: string[], o: KnockFlags): Promise<void> {
  const family = familyOf(o);
  if (o.totp !== undefined) {
    if (steps.length > 0)
      throw new KnockgateError('KG_USAGE', 'a --totp knock takes no steps: they come from the clock');
    if (o.fwknop !== undefined) throw new KnockgateError('KG_USAGE', 'give one of --totp and --fwknop');
    const sent = await knockTotp({
      credentialFile: o.totp,
      host,
      family,
      delayMs: o.delay,
      nowUnixMs: Date.now(),
      onStep: o.verbose ? (address, s) => process.stdout.write(`knocked ${address} ${formatEndpoint(s)}\n`) : undefined,
    });
    if (o.verbose)
      process.stdout.write(`sent the time-based sequence (${sent.steps.length} steps) to ${sent.address}\n`);
    return;
  }
  if (o.fwknop !== undefined) {
    if (steps.length > 0) throw new KnockgateError('KG_USAGE', 'an fwknop knock takes no steps; use --ports');
    if (!o.ports) throw new KnockgateError('KG_USAGE', '--fwknop needs --ports, e.g. --ports 22/tcp (fwknop -A)');
    const sent = await knockFwknop({
      credentialFile: o.fwknop,
      host,
      family,
      ports: o.ports,
      durationS: o.duration ?? 0,
      ...(o.allowIp ? { allowIp: o.allowIp } : {}),
      ...(o.spaPort !== undefined ? { spaPort: o.spaPort } : {}),
    });
    if (o.verbose) process.stdout.write(`sent fwknop SPA to ${sent.address} port ${sent.port}/udp for ${sent.allow}\n`);
    return;
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
    await knockClassic({
      host,
      family,
      steps: endpoints,
      delayMs: o.delay,
      onStep: o.verbose ? (address, s) => process.stdout.write(`knocked ${address} ${formatEndpoint(s)}\n`) : undefined,
    });
    return;
  }
  if (steps.length > 0)
    throw new KnockgateError('KG_USAGE', 'an SPA knock takes no steps; use --ports to ask for ports');
  const sent = await knockSpa(cred, host, family, o);
  if (o.verbose) process.stdout.write(`sent SPA as ${cred.name} to ${sent.address} port ${sent.port}/udp\n`);
}

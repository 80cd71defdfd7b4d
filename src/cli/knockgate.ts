#!/usr/bin/env node
/**
 * knockgate: the client and admin tool.
 *   knock HOST [STEP...]     a classic sequence (steps given), or SPA (a credential or profile)
 *   connect HOST PORT        SPA, wait for the port, relay stdin/stdout (ssh ProxyCommand)
 *   keygen                   the server's key pair
 *   add-client NAME          a client credential and the server-side entry for it
 * Bad arguments exit 64 with a message that names the argument.
 */

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { connectThrough, relay } from '../client/connect.js';
import { sendKnock } from '../client/knock-sender.js';
import { findCredential, profilePath } from '../client/profiles.js';
import { addClient, createServerKey } from '../client/provision.js';
import { buildSpaDatagram, sendDatagram, type SpaAsk } from '../client/spa-sender.js';
import { checkResolverUrl, resolveOwnAddress } from '../client/address-resolver.js';
import { parseDurationMs } from '../core/duration.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../core/endpoint.js';
import { EXIT, KnockgateError } from '../core/errors.js';
import { formatIPAddress, parseIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import { buildFwknopPacket, localAddressTowards, readFwknopCredential } from '../client/fwknop-sender.js';
import {
  DEFAULT_SPA_PORT,
  MAX_GRANT_DURATION_S,
  MAX_KNOCK_DELAY_MS,
  MAX_SEQUENCE_STEPS,
  MAX_SPA_PORTS,
} from '../core/limits.js';
import { writePrivateFile, type ClientCredential } from '../stores/key-files.js';
import { resolve } from 'node:path';
import { importKnockdConf } from '../config/knockd-conf.js';
import { importAccessConf } from '../config/fwknop-access-conf.js';
import { parseConfigText, readConfigFile } from '../config/load.js';
import { VERSION } from '../version.js';

const DEFAULT_SERVER_KEY = '/etc/knockgate/server.key';

function parseDelay(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_KNOCK_DELAY_MS)
    throw new InvalidArgumentError(`expected whole milliseconds from 0 to ${MAX_KNOCK_DELAY_MS}`);
  return n;
}

function parsePortList(value: string): Endpoint[] {
  const list = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (list.length === 0 || list.length > MAX_SPA_PORTS)
    throw new InvalidArgumentError(`expected 1 to ${MAX_SPA_PORTS} ports like 22/tcp,443/tcp`);
  return list.map((p) => {
    const e = parseEndpoint(p);
    if ('error' in e) throw new InvalidArgumentError(e.error);
    return e;
  });
}

function parseSeconds(value: string): number {
  const ms = parseDurationMs(value);
  if (typeof ms !== 'number') throw new InvalidArgumentError(ms.error);
  if (ms % 1000 !== 0 || ms < 1000 || ms > MAX_GRANT_DURATION_S * 1000)
    throw new InvalidArgumentError(`expected whole seconds from 1s to ${MAX_GRANT_DURATION_S / 3600}h`);
  return ms / 1000;
}

function parseAllowIp(value: string): { address: SpaAsk['address']; prefix: number } {
  const [addr, len] = value.split('/');
  const parsed = parseIPAddress(addr ?? '');
  if (!parsed) throw new InvalidArgumentError(`expected ADDRESS or ADDRESS/PREFIX, got ${JSON.stringify(value)}`);
  const full = parsed.family === 4 ? 32 : 128;
  const prefix = len === undefined ? full : Number(len);
  if (!/^\d+$/.test(len ?? String(full)) || prefix < 1 || prefix > full)
    throw new InvalidArgumentError(`prefix must be 1 to ${full}`);
  return { address: parsed, prefix };
}

function parsePrefix(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 128)
    throw new InvalidArgumentError('expected a prefix length such as 24 or 64');
  return n;
}

async function resolveHost(host: string, want: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(host);
  if (literal !== 0) {
    if (want !== undefined && literal !== want)
      throw new KnockgateError('KG_USAGE', `${host} is an IPv${literal} address but -${want} was given`);
    return { address: host, family: literal as 4 | 6 };
  }
  try {
    const r = await lookup(host, want === undefined ? {} : { family: want });
    return { address: r.address, family: r.family as 4 | 6 };
  } catch (err) {
    throw new KnockgateError('KG_RESOLVE_FAILED', `cannot resolve ${JSON.stringify(host)}: ${(err as Error).message}`);
  }
}

interface SpaFlags {
  credential?: string;
  profile?: string;
  ports?: Endpoint[];
  duration?: number;
  allowIp?: { address: SpaAsk['address']; prefix: number };
  resolveUrl?: string;
  prefix?: number;
  spaPort?: number;
  ipv4?: boolean;
  ipv6?: boolean;
  verbose?: boolean;
}

/**
 * What to ask for. The address the request is bound to, first that applies: --allow-ip,
 * --resolve-url, the profile's allow_ip, the profile's resolve_url; else none (family 0: the
 * packet's source, which whoever delivers the datagram first gets; see README "Binding").
 */
async function spaAsk(cred: ClientCredential, o: SpaFlags, family: 4 | 6): Promise<SpaAsk> {
  let bound = o.allowIp ?? null;
  const url = o.allowIp ? undefined : (o.resolveUrl ?? (cred.allowIp === undefined ? cred.resolveUrl : undefined));
  if (bound === null && o.resolveUrl === undefined && cred.allowIp !== undefined) {
    try {
      bound = parseAllowIp(cred.allowIp);
    } catch (err) {
      throw new KnockgateError('KG_USAGE', `the credential's allow_ip: ${(err as Error).message}`);
    }
  }
  if (bound === null && url !== undefined) {
    const address = await resolveOwnAddress(url, { family });
    bound = { address, prefix: o.prefix ?? (address.family === 4 ? 32 : 128) };
  }
  return {
    ports: o.ports ?? cred.ports ?? [],
    durationS: o.duration ?? 0,
    address: bound?.address ?? null,
    prefix: bound?.prefix ?? o.prefix ?? 0,
  };
}

function spaOptions(cmd: Command): Command {
  return cmd
    .option('-c, --credential <file>', 'client credential file (from knockgate add-client)')
    .option(
      '-p, --profile <name>',
      'use ~/.config/knockgate/profiles/NAME.yaml (default: the one named after HOST, if any)',
    )
    .option(
      '--ports <list>',
      'SPA: ports to ask for, e.g. 22/tcp,443/tcp (default: all the server allows this client)',
      parsePortList,
    )
    .option('--duration <time>', "SPA: how long, e.g. 30s or 10m (default: the door's)", parseSeconds)
    .option(
      '--allow-ip <address[/prefix]>',
      "SPA: ask for this address or prefix instead of the packet's source (the server must allow it)",
      parseAllowIp,
    )
    .option(
      '--resolve-url <url>',
      'SPA: bind the request to the address this URL returns (an HTTP(S) GET whose body is your address, as fwknop -R); on any failure nothing is sent',
      (v) => checkResolverUrl(v).href,
    )
    .option(
      '--prefix <length>',
      "SPA: ask for the source address's /LENGTH (carrier-grade NAT; the server must allow it)",
      parsePrefix,
    )
    .option('--spa-port <port>', "SPA: UDP port (default: the credential's)", (v) => {
      const e = parseEndpoint(v);
      if ('error' in e) throw new InvalidArgumentError(e.error);
      return e.port;
    })
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .option('-v, --verbose', 'say what is sent');
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('knockgate')
    .description('knockgate client and admin tool')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

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
        '--fwknop <file>',
        'send fwknop-format SPA, for servers running fwknopd, with the keys in this credential file (0600)',
      ),
  ).action(async (host: string, steps: string[], o: SpaFlags & { delay: number; udp?: boolean; fwknop?: string }) => {
    if (o.ipv4 && o.ipv6) throw new KnockgateError('KG_USAGE', 'give -4 or -6, not both');
    const family = o.ipv4 ? 4 : o.ipv6 ? 6 : undefined;
    if (o.fwknop !== undefined) {
      if (steps.length > 0) throw new KnockgateError('KG_USAGE', 'an fwknop knock takes no steps; use --ports');
      if (!o.ports) throw new KnockgateError('KG_USAGE', '--fwknop needs --ports, e.g. --ports 22/tcp (fwknop -A)');
      const fw = readFwknopCredential(o.fwknop);
      const target = await resolveHost(host, family ?? 4);
      if (target.family !== 4)
        throw new KnockgateError('KG_USAGE', 'fwknop 2.6 access messages carry IPv4 addresses only');
      const port = o.spaPort ?? fw.port;
      const allow = o.allowIp
        ? formatIPAddress(o.allowIp.address as IPAddressBytes)
        : await localAddressTowards(target.address, 4, port);
      await sendDatagram(target.address, 4, port, buildFwknopPacket(fw, allow, o.ports, o.duration ?? 0, Date.now()));
      if (o.verbose) process.stdout.write(`sent fwknop SPA to ${target.address} port ${port}/udp for ${allow}\n`);
      return;
    }
    const cred = steps.length > 0 && !o.credential && !o.profile ? null : findCredential({ ...o, host });
    if (cred === null) {
      if (steps.length === 0) {
        throw new KnockgateError(
          'KG_USAGE',
          `no steps given and no credential: pass --credential FILE, --profile NAME, or create ${profilePath(host)}`,
        );
      }
      if (steps.length > MAX_SEQUENCE_STEPS)
        throw new KnockgateError('KG_USAGE', `at most ${MAX_SEQUENCE_STEPS} steps`);
      const endpoints: Endpoint[] = steps.map((p) => {
        const e = parseEndpoint(p);
        if ('error' in e) throw new KnockgateError('KG_USAGE', `step ${JSON.stringify(p)}: ${e.error}`);
        return o.udp && !/[/:]/.test(p) ? { proto: 'udp', port: e.port } : e;
      });
      const target = await resolveHost(host, family);
      await sendKnock({
        host: target.address,
        family: target.family,
        steps: endpoints,
        delayMs: o.delay,
        onStep: o.verbose ? (s) => process.stdout.write(`knocked ${target.address} ${formatEndpoint(s)}\n`) : undefined,
      });
      return;
    }
    if (steps.length > 0)
      throw new KnockgateError('KG_USAGE', 'an SPA knock takes no steps; use --ports to ask for ports');
    const target = await resolveHost(host, family);
    const port = o.spaPort ?? cred.port;
    await sendDatagram(
      target.address,
      target.family,
      port,
      buildSpaDatagram(cred, await spaAsk(cred, o, target.family), Date.now()),
    );
    if (o.verbose) process.stdout.write(`sent SPA as ${cred.name} to ${target.address} port ${port}/udp\n`);
  });

  spaOptions(
    program
      .command('connect')
      .description(
        'for ssh: knock with SPA, wait until HOST PORT answers, then relay stdin/stdout (ProxyCommand knockgate connect %h %p)',
      )
      .argument('<host>', 'server name or address')
      .argument('<port>', 'TCP port to connect to')
      .option(
        '--attempts <n>',
        'knock at most this many times',
        (v) => {
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10) throw new InvalidArgumentError('expected 1 to 10');
          return Number(v);
        },
        3,
      )
      .option('--wait <ms>', 'how long to wait for the port after each knock', parseDelay, 2500),
  ).action(async (host: string, portText: string, o: SpaFlags & { attempts: number; wait: number }) => {
    const endpoint = parseEndpoint(portText);
    if ('error' in endpoint || endpoint.proto !== 'tcp')
      throw new KnockgateError('KG_USAGE', `port: expected a TCP port number, got ${JSON.stringify(portText)}`);
    const cred = findCredential({ ...o, host });
    if (cred === null)
      throw new KnockgateError(
        'KG_USAGE',
        `no credential for ${host}: pass --credential FILE, --profile NAME, or create ${profilePath(host)}`,
      );
    const target = await resolveHost(host, o.ipv4 ? 4 : o.ipv6 ? 6 : undefined);
    const ask = await spaAsk(cred, o, target.family);
    const spaPort = o.spaPort ?? cred.port;
    const socket = await connectThrough({
      host: target.address,
      port: endpoint.port,
      attempts: o.attempts,
      waitMs: o.wait,
      knock: () => sendDatagram(target.address, target.family, spaPort, buildSpaDatagram(cred, ask, Date.now())),
      say: (line) => {
        if (o.verbose) process.stderr.write(`knockgate: ${line}\n`);
      },
    });
    await relay(socket);
  });

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
    .option(
      '--port <port>',
      "the SPA door's UDP port",
      (v) => {
        const e = parseEndpoint(v);
        if ('error' in e) throw new InvalidArgumentError(e.error);
        return e.port;
      },
      DEFAULT_SPA_PORT,
    )
    .option('-o, --out <file>', 'where to write the credential (mode 0600; default NAME.knockgate.yaml)')
    .option('--force', 'replace an existing credential file')
    .option(
      '--qr',
      'also print the credential as a QR code on the terminal (it is a secret: mind who can see the screen)',
    )
    .action(
      async (
        name: string,
        o: {
          serverKey: string;
          door?: string;
          mode: string;
          server?: string;
          port: number;
          out?: string;
          force?: boolean;
          qr?: boolean;
        },
      ) => {
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
      },
    );

  program
    .command('import')
    .description(
      'turn a knockd.conf or an fwknop access.conf into knockgate YAML (printed, or written with -o); what does not carry over exactly is said on stderr',
    )
    .argument('<file>', 'knockd.conf or access.conf')
    .option('--from <kind>', 'knockd or fwknop (default: guessed from the file)')
    .option('-o, --out <file>', 'write the YAML here (mode 0600: fwknop keys are secrets)')
    .option('--force', 'replace an existing output file')
    .action((file: string, o: { from?: string; out?: string; force?: boolean }) => {
      const path = resolve(file);
      const text = readConfigFile(path);
      const kind = o.from ?? (/^\s*\[[^\]]+\]\s*$/m.test(text) ? 'knockd' : 'fwknop');
      if (kind !== 'knockd' && kind !== 'fwknop')
        throw new KnockgateError('KG_USAGE', `--from must be knockd or fwknop, got ${JSON.stringify(kind)}`);
      const imported = kind === 'knockd' ? importKnockdConf(path, text) : importAccessConf(path);
      for (const w of imported.warnings) {
        const where = 'file' in w ? `${String(w.file)}:${w.line}` : `${path}:${w.line}`;
        process.stderr.write(`knockgate: ${where}: ${w.message}\n`);
      }
      parseConfigText(path, imported.yaml); // what we print must load
      if (o.out) {
        writePrivateFile(o.out, imported.yaml, o.force ?? false);
        process.stdout.write(`wrote ${o.out}\n`);
      } else {
        process.stdout.write(imported.yaml);
      }
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

/**
 * `knockgate knock HOST`, the four ways: a classic sequence, a time-based sequence from a
 * credential (--totp), one native SPA datagram from a
 * credential, or one fwknop-format SPA packet. Each resolves HOST, sends, and returns what it did
 * (for --verbose); the arguments are already parsed and checked by the CLI.
 */

import type { AddressPrefix } from '../core/address-prefix.js';
import type { Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { formatIPAddress } from '../core/ip-address.js';
import type { ClientCredential } from '../stores/key-files.js';
import { readTotpCredential } from '../stores/totp-key-files.js';
import { totpCounter, totpSequence } from '../core/totp-sequence.js';
import { type FwknopCredential, localAddressTowards, makeFwknopPacket } from './fwknop-sender.js';
import { sendKnock } from './knock-sender.js';
import { resolveHost } from './resolve-host.js';
import { spaAsk, type SpaAskFlags } from './spa-ask.js';
import { makeSpaDatagram, sendDatagram, type SpaAsk } from './spa-sender.js';

/** A classic sequence; `onStep` after each step is sent, with the address knocked. Returns that address. */
export async function knockClassic(o: {
  host: string;
  family: 4 | 6 | undefined;
  steps: readonly Endpoint[];
  delayMs: number;
  onStep?: (address: string, step: Endpoint) => void;
}): Promise<string> {
  const target = await resolveHost(o.host, o.family);
  const onStep = o.onStep;
  await sendKnock({
    host: target.address,
    family: target.family,
    steps: o.steps,
    delayMs: o.delayMs,
    onStep: onStep ? (s) => onStep(target.address, s) : undefined,
  });
  return target.address;
}

/**
 * A time-based sequence door's current sequence (core/totp-sequence.ts), derived from the
 * credential at `nowUnixMs` (the wall clock; the server accepts one period of skew either way).
 * Returns the steps sent and the address knocked.
 */
export async function knockTotp(o: {
  credentialFile: string;
  host: string;
  family: 4 | 6 | undefined;
  delayMs: number;
  nowUnixMs: number;
  onStep?: (address: string, step: Endpoint) => void;
}): Promise<{ address: string; steps: readonly Endpoint[] }> {
  const cred = readTotpCredential(o.credentialFile);
  const steps = totpSequence(cred.secret, cred.parameters, totpCounter(o.nowUnixMs, cred.parameters.periodMs));
  const target = await resolveHost(o.host, o.family);
  const onStep = o.onStep;
  await sendKnock({
    host: target.address,
    family: target.family,
    steps,
    delayMs: o.delayMs,
    onStep: onStep ? (s) => onStep(target.address, s) : undefined,
  });
  return { address: target.address, steps };
}

/**
 * One native SPA datagram, to `spaPort` or the credential's port. `before` sees the request
 * before it is sent (knock -v prints it, so a refused send still shows what was asked).
 */
export async function knockSpa(
  cred: ClientCredential,
  host: string,
  family: 4 | 6 | undefined,
  flags: SpaAskFlags & { spaPort?: number },
  before?: (ask: SpaAsk, to: { address: string; port: number }) => void,
): Promise<{ address: string; family: 4 | 6; port: number; ask: SpaAsk }> {
  const target = await resolveHost(host, family);
  const port = flags.spaPort ?? cred.port;
  const ask = await spaAsk(cred, flags, target.family);
  before?.(ask, { address: target.address, port });
  const datagram = await makeSpaDatagram(cred, ask, Date.now());
  await sendDatagram(target.address, target.family, port, datagram);
  return { address: target.address, family: target.family, port, ask };
}

/**
 * One fwknop-format packet (IPv4 only, as fwknop 2.6's access messages) with `fw`'s keys, asking
 * for `allow`: an address, 'source' (0.0.0.0, "the packet's source", fwknop -s), or by default the
 * address this host uses towards the server.
 */
export async function knockFwknop(o: {
  fw: FwknopCredential;
  host: string;
  family: 4 | 6 | undefined;
  ports: readonly Endpoint[];
  durationS: number;
  allow?: AddressPrefix | 'source';
  spaPort?: number;
}): Promise<{ address: string; port: number; allow: string }> {
  const { fw } = o;
  const target = await resolveHost(o.host, o.family ?? 4);
  if (target.family !== 4) throw new KnockgateError('KG_USAGE', 'fwknop 2.6 access messages carry IPv4 addresses only');
  const port = o.spaPort ?? fw.port;
  const allow =
    o.allow === 'source'
      ? '0.0.0.0'
      : o.allow
        ? formatIPAddress(o.allow.address)
        : await localAddressTowards(target.address, 4, port);
  await sendDatagram(target.address, 4, port, await makeFwknopPacket(fw, allow, o.ports, o.durationS, Date.now()));
  return { address: target.address, port, allow };
}

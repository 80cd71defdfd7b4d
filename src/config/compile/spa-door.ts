/**
 * Compiles a native SPA door (`spa:` with `clients:`) and each of its clients.
 *
 * Contract: knock-only keys are errors; the top-level `spa.server_key` must exist; at least one
 * client; door ids are unique under the one server key (else each door would accept the other's
 * packets); client ids are unique across all doors; each client has exactly one of psk, a
 * canonical, not small-order Ed25519 public_key, and an ssh_key (an ssh-ed25519 key held by
 * ssh-agent, checked as public_key), and at most one of previous_psk, previous_public_key and
 * previous_ssh_key (key rotation: the secret accepted only under spa.previous_server_key), checked
 * alike; a psk only in a file readable by its owner alone; a client's `allow` is within the door's `open` and its max_duration within the door's.
 */

import type { Door, SpaClient, SpaClientSecret } from '../../core/door.js';
import { endpointKey, formatEndpoint } from '../../core/endpoint.js';
import { ed25519PublicKeyProblem } from '../../core/spa/ed25519-point.js';
import { ed25519PublicFromRaw } from '../../core/spa/keys.js';
import type { SshEd25519PublicKey } from '../../core/ssh/ssh-public-key.js';
import type { RawDoor, RawSpaClient } from '../schema.js';
import type { CompileContext, ConfigPath } from './context.js';
import { doorMaxDurationS, doorPath, type DoorCommon } from './door-common.js';
import { noKnockFields } from './knock-door.js';

export function compileSpaDoor(
  ctx: CompileContext,
  d: RawDoor,
  spa: NonNullable<RawDoor['spa']>,
  i: number,
  common: DoorCommon,
): Door {
  const { fail } = ctx;
  const at = (...key: ConfigPath): ConfigPath => doorPath(i, ...key);
  for (const key of ['sequence', 'one_time_sequences', 'sequence_timeout', 'tcp_flags', 'hide_knock_ports'] as const) {
    if (d[key] !== undefined) fail(at(key), 'only for knock-sequence doors; this is an SPA door');
  }
  if (ctx.raw.spa?.server_key === undefined)
    fail(at('spa'), 'native SPA doors need the top-level "spa:" section with server_key (knockgate keygen makes one)');
  if (!d.clients || d.clients.length === 0)
    fail(at('clients'), 'an SPA door needs at least one client (knockgate add-client prints one)');
  const doorId = spa.door_id ?? d.name;
  const sameId = ctx.spaDoorIds.get(doorId);
  if (sameId !== undefined)
    fail(
      at('spa', 'door_id'),
      `door id ${JSON.stringify(doorId)} is already door ${JSON.stringify(sameId)}'s: SPA doors sharing the server key need distinct door ids`,
    );
  ctx.spaDoorIds.set(doorId, d.name);
  const doorMaxS = doorMaxDurationS(ctx, d, i);
  const clients = (d.clients ?? []).map((c, j) => compileSpaClient(ctx, d, c, at('clients', j), doorMaxS));
  return Object.freeze({
    ...common,
    fwknop: null,
    spa: Object.freeze({ port: spa.port, capture: spa.capture, doorId, clients: Object.freeze(clients) }),
    ...noKnockFields(),
  });
}

/** One entry of an SPA door's `clients:`; `path` is its place in the file. */
export function compileSpaClient(
  ctx: CompileContext,
  d: RawDoor,
  c: RawSpaClient,
  path: ConfigPath,
  doorMaxS: number,
): SpaClient {
  const { fail } = ctx;
  const cat = (...key: ConfigPath): ConfigPath => [...path, ...key];
  const idHex = Buffer.from(c.id).toString('hex');
  const dup = ctx.clientIds.get(idHex);
  if (dup !== undefined) fail(cat('id'), `client id already used by ${dup}`);
  ctx.clientIds.set(idHex, `${d.name}/${c.name}`);
  const current = (['psk', 'public_key', 'ssh_key'] as const).filter((k) => c[k] !== undefined);
  if (current.length !== 1) fail(cat(), 'give exactly one of "psk", "public_key" and "ssh_key"');
  const previous = (['previous_psk', 'previous_public_key', 'previous_ssh_key'] as const).filter(
    (k) => c[k] !== undefined,
  );
  if (previous.length > 1)
    fail(
      cat(previous[0] as string),
      'give at most one of "previous_psk", "previous_public_key" and "previous_ssh_key"',
    );
  if (previous[0] !== undefined && ctx.raw.spa?.previous_server_key === undefined)
    ctx.warnings.push(
      `${ctx.src.file}:${ctx.src.lineOf(cat(previous[0])) ?? '?'}: ${d.name}/${c.name}: ${previous[0]} is unused without spa.previous_server_key (delete it once the overlap has ended)`,
    );
  for (const key of ['psk', 'previous_psk'] as const) {
    if (c[key] !== undefined && !ctx.secretsProtected)
      fail(cat(key), `this file holds a secret key but is readable by group or others; chmod 600 ${ctx.src.file}`);
  }
  for (const key of ['public_key', 'previous_public_key', 'ssh_key', 'previous_ssh_key'] as const) {
    const value = c[key];
    if (value === undefined) continue;
    const problem = ed25519PublicKeyProblem(value instanceof Uint8Array ? value : value.raw);
    if (problem !== null) {
      fail(
        cat(key),
        problem === 'small-order'
          ? 'is a small-order Ed25519 point: signatures by it prove nothing (anyone can make one); use the key `knockgate add-client` prints'
          : `is not a canonically encoded Ed25519 public key (${problem}); use the key \`knockgate add-client\` prints`,
      );
    }
  }
  const doorOpens = new Set(d.open.map((e) => endpointKey(e.proto, e.port)));
  const allow = c.allow ?? d.open;
  allow.forEach((e, s) => {
    if (!doorOpens.has(endpointKey(e.proto, e.port)))
      fail(cat('allow', s), `${formatEndpoint(e)} is not among the door's "open" ports`);
  });
  const maxDurationS = (c.max_duration ?? d.max_duration ?? d.duration) / 1000;
  if (maxDurationS > doorMaxS) fail(cat('max_duration'), `must not exceed the door's max_duration of ${doorMaxS}s`);
  return Object.freeze({
    name: c.name,
    id: c.id,
    idHex,
    ...clientSecret(c.psk, c.public_key, c.ssh_key),
    ...previousSecret(c),
    allow: Object.freeze([...allow]),
    maxDurationS,
    otherAddress: c.other_address,
    requireAddress: c.require_address,
    minPrefix: Object.freeze({ 4: c.widest_prefix.ipv4, 6: c.widest_prefix.ipv6 }),
  });
}

/** The entry's secret, as the door holds it: exactly one of the three is given (checked above). */
function clientSecret(
  psk: Uint8Array | undefined,
  publicKey: Uint8Array | undefined,
  sshKey: SshEd25519PublicKey | undefined,
): SpaClientSecret {
  if (psk !== undefined) return { mode: 'psk', psk };
  if (sshKey !== undefined) return { mode: 'ssh-ed25519', publicKey: ed25519PublicFromRaw(sshKey.raw) };
  return { mode: 'ed25519', publicKey: ed25519PublicFromRaw(publicKey as Uint8Array) };
}

/** The secret the client held before it was re-issued (key rotation), if the entry keeps one. */
function previousSecret(c: RawSpaClient): { previous?: SpaClientSecret } {
  if (c.previous_psk === undefined && c.previous_public_key === undefined && c.previous_ssh_key === undefined)
    return {};
  return { previous: Object.freeze(clientSecret(c.previous_psk, c.previous_public_key, c.previous_ssh_key)) };
}

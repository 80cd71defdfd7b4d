/**
 * Key files: the server's X25519 key and a client's credential. Both are small YAML documents with
 * a `kind` line, written with mode 0600 (never over an existing file unless asked), and refused
 * when they are readable by group or others: a secret that has leaked to other local users is
 * reported, not used. Also refused (trusted-file.ts): a file another user owns or could write, or
 * one in a directory another user could write.
 */

import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseLocatedYaml } from '../config/located-yaml.js';
import { parseFlatKeyFile } from './flat-key-file.js';
import { readableByOthers, readTrustedFile } from '../config/trusted-file.js';
import { ConfigError, KnockgateError } from '../core/errors.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../core/endpoint.js';
import { formatDurationMs, parseDurationMs } from '../core/duration.js';
import {
  MAX_GRANT_DURATION_S,
  MAX_RESOLVE_URL_CHARS,
  MIN_GRANT_DURATION_S,
  SPA_CLIENT_ID_BYTES,
} from '../core/limits.js';
import { RAW_KEY_BYTES } from '../core/spa/keys.js';
import { DOOR_ID_PATTERN } from '../core/spa/native-door-keys.js';
import type { SshEd25519PublicKey } from '../core/ssh/ssh-public-key.js';
import { sshKeyLines, sshKeyOf } from './ssh-key-credential.js';

export const SERVER_KEY_KIND = 'knockgate-server-key-v1';
export const CLIENT_CREDENTIAL_KIND = 'knockgate-client-v1';

export interface ServerKeyFile {
  readonly privateKey: Uint8Array;
}

export interface ClientCredential {
  readonly name: string;
  /** Where to knock, when the file says. */
  readonly server?: string;
  readonly port: number;
  readonly serverPublicKey: Uint8Array;
  /** The door the credential opens (its `spa.door_id`, or its name): bound into every packet. */
  readonly doorId: string;
  readonly clientId: Uint8Array;
  readonly psk?: Uint8Array;
  /** Ed25519 seed. */
  readonly privateKey?: Uint8Array;
  /** An Ed25519 key held by ssh-agent, which signs (ssh-key-credential.ts). */
  readonly sshKey?: SshEd25519PublicKey;
  /** Ports asked for by default (else the server's defaults). */
  readonly ports?: readonly Endpoint[];
  /** Bind requests to this address (ADDRESS or ADDRESS/PREFIX text), as `knock --allow-ip`. */
  readonly allowIp?: string;
  /** Bind requests to the address this URL returns, as `knock --resolve-url`. */
  readonly resolveUrl?: string;
  /**
   * `max_duration`: the longest grant the server allows this client, in seconds, as add-client
   * wrote it from the door's configuration; what `keep-open` asks for unless told --duration.
   */
  readonly maxDurationS?: number;
}

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** A base64url key of `length` bytes under `key`; a ConfigError naming the file and key otherwise. */
export function bytesOf(file: string, doc: Record<string, unknown>, key: string, length: number): Uint8Array {
  const v = doc[key];
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v))
    throw new ConfigError(file, undefined, key, 'missing or not base64url text');
  const raw = Buffer.from(v, 'base64url');
  if (raw.length !== length)
    throw new ConfigError(file, undefined, key, `must decode to ${length} bytes, got ${raw.length}`);
  return new Uint8Array(raw);
}

/**
 * The fields of knockgate's key files that are secrets: a server or client private key, a psk, a
 * passphrase-sealed secret (readable, it could be attacked offline), a time-based door's secret,
 * fwknop keys. What else a key file holds (names, ids, public keys, an ssh-agent key's public
 * half, ports) is not, and a file holding none of these may be readable by others.
 */
const SECRET_FIELDS = ['private_key', 'psk', 'sealed', 'secret', 'key', 'key_base64', 'hmac_key', 'hmac_key_base64'];

/**
 * Reads a key file, refusing it when it holds a secret (naming which) and group or others can
 * read it; errors are ConfigErrors naming the file.
 */
export function readPrivateYaml(file: string, kind: string): Record<string, unknown> {
  // Owner, writability and directories: trusted-file.ts; readability: its readableByOthers, for the files that hold a secret.
  const { data, stat: st } = readTrustedFile(file);
  const text = data.toString('utf8');
  // The same YAML reader as knockgate.yaml: errors name the line, and keys that are lists, mappings
  // or aliases (exponential time in the YAML library) are refused.
  // The files knockgate writes are flat: read exactly and fast when they are (stores/flat-key-file.ts).
  let doc: unknown = parseFlatKeyFile(text);
  if (doc === null)
    try {
      doc = parseLocatedYaml(file, text).value;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(file, err.line, err.key, `not a key file: ${err.detail}`);
    }
  if (typeof doc !== 'object' || doc === null || (doc as { kind?: unknown }).kind !== kind) {
    throw new ConfigError(file, undefined, 'kind', `not a ${kind} file`);
  }
  const secrets = SECRET_FIELDS.filter((k) => (doc as Record<string, unknown>)[k] !== undefined);
  const readable = readableByOthers(st);
  if (readable !== null && secrets.length > 0) {
    throw new ConfigError(
      file,
      undefined,
      undefined,
      `holds a secret (${secrets.join(', ')}) but is ${readable}; chmod 600 it`,
    );
  }
  return doc as Record<string, unknown>;
}

export function readServerKey(file: string): ServerKeyFile {
  const doc = readPrivateYaml(file, SERVER_KEY_KIND);
  return { privateKey: bytesOf(file, doc, 'private_key', 32) };
}

/**
 * Key rotation: the key file spa.previous_server_key names, checked like the current one, and
 * refused when it holds the current key (a rotation that did not happen). Null without one.
 */
export function readPreviousServerKey(
  config: { readonly spa: { readonly previousServerKeyFile: string | null } | null },
  current: Uint8Array,
): Uint8Array | null {
  const file = config.spa?.previousServerKeyFile ?? null;
  if (file === null) return null;
  const previous = readServerKey(file).privateKey;
  if (Buffer.from(previous).equals(Buffer.from(current)))
    throw new ConfigError(
      file,
      undefined,
      'private_key',
      'is the same key as server_key (spa.previous_server_key must be the key before it)',
    );
  return previous;
}

/** The credential's door id; a credential from before protocol v2 has none, and is told what to do. */
function doorIdOf(file: string, doc: Record<string, unknown>): string {
  const doorId = doc.door_id;
  if (doorId === undefined) {
    throw new ConfigError(
      file,
      undefined,
      'door_id',
      'missing: this credential predates SPA protocol v2, where each packet names its door. ' +
        "Add a line `door_id: NAME` with the door's name in the server's knockgate.yaml (or its spa.door_id), or make a new credential with `knockgate add-client --door NAME`",
    );
  }
  if (typeof doorId !== 'string' || !DOOR_ID_PATTERN.test(doorId))
    throw new ConfigError(file, undefined, 'door_id', 'must be a door id: 1-64 letters, digits, "_", "." or "-"');
  return doorId;
}

/** A credential but its secret: what a passphrase-protected file (stores/sealed-credential.ts) holds in clear. */
export type CredentialFields = Omit<ClientCredential, 'psk' | 'privateKey'>;

/**
 * A credential file read and checked (private, well formed) but for its secret, which is left in
 * `doc`: in clear (`psk` or `private_key`) or sealed under a passphrase (`sealed`), exactly one.
 */
export function readCredentialFields(file: string): { fields: CredentialFields; doc: Record<string, unknown> } {
  const doc = readPrivateYaml(file, CLIENT_CREDENTIAL_KIND);
  const name = typeof doc.name === 'string' ? doc.name : 'client';
  const port = doc.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(file, undefined, 'port', 'must be a UDP port number');
  const agentKey = sshKeyOf(file, doc);
  const secrets =
    ['psk', 'private_key', 'sealed'].filter((k) => doc[k] !== undefined).length + (agentKey.sshKey ? 1 : 0);
  if (secrets !== 1)
    throw new ConfigError(
      file,
      undefined,
      undefined,
      doc.sealed === undefined
        ? 'needs exactly one of "psk", "private_key" and "ssh_key"'
        : 'a passphrase-protected credential ("sealed") holds no "psk", "private_key" or "ssh_key" in clear',
    );
  let ports: Endpoint[] | undefined;
  if (doc.ports !== undefined) {
    if (!Array.isArray(doc.ports))
      throw new ConfigError(file, undefined, 'ports', 'must be a list of ports like 22/tcp');
    ports = doc.ports.map((p) => {
      const e = parseEndpoint(p);
      if ('error' in e) throw new ConfigError(file, undefined, 'ports', e.error);
      return e;
    });
  }
  const fields: CredentialFields = {
    name,
    ...(typeof doc.server === 'string' ? { server: doc.server } : {}),
    port,
    serverPublicKey: bytesOf(file, doc, 'server_public_key', RAW_KEY_BYTES),
    clientId: bytesOf(file, doc, 'client_id', SPA_CLIENT_ID_BYTES),
    ...agentKey,
    doorId: doorIdOf(file, doc),
    ...(ports ? { ports } : {}),
    ...optionalText(file, doc, 'allow_ip', /^[0-9A-Fa-f.:]{2,45}(\/\d{1,3})?$/, 'must be ADDRESS or ADDRESS/PREFIX'),
    ...optionalText(
      file,
      doc,
      'resolve_url',
      new RegExp(`^https?://\\S{1,${MAX_RESOLVE_URL_CHARS}}$`),
      'must be an http:// or https:// URL',
    ),
    ...maxDurationOf(file, doc),
  };
  return { fields, doc };
}

/** A credential whose secret is in clear; a protected one is opened by stores/sealed-credential.ts. */
export function readClientCredential(file: string): ClientCredential {
  const { fields, doc } = readCredentialFields(file);
  return withClearSecret(file, fields, doc);
}

/** The fields with the file's clear secret; a protected file is refused (the caller cannot ask for its passphrase). */
export function withClearSecret(
  file: string,
  fields: CredentialFields,
  doc: Record<string, unknown>,
): ClientCredential {
  if (doc.sealed !== undefined)
    throw new ConfigError(file, undefined, 'sealed', 'is protected by a passphrase; this command cannot ask for it');
  if (fields.sshKey !== undefined) return fields; // the agent holds the secret
  return {
    ...fields,
    ...(doc.psk !== undefined
      ? { psk: bytesOf(file, doc, 'psk', RAW_KEY_BYTES) }
      : { privateKey: bytesOf(file, doc, 'private_key', RAW_KEY_BYTES) }),
  };
}

/** `max_duration: 30s`: whole seconds within the grant bounds, as in the server's config. */
function maxDurationOf(file: string, doc: Record<string, unknown>): { maxDurationS?: number } {
  if (doc.max_duration === undefined) return {};
  const ms = parseDurationMs(doc.max_duration);
  if (typeof ms !== 'number' || ms % 1000 !== 0 || ms < MIN_GRANT_DURATION_S * 1000 || ms > MAX_GRANT_DURATION_S * 1000)
    throw new ConfigError(
      file,
      undefined,
      'max_duration',
      `must be whole seconds from ${MIN_GRANT_DURATION_S}s to ${formatDurationMs(MAX_GRANT_DURATION_S * 1000)}, such as 30s or 10m`,
    );
  return { maxDurationS: ms / 1000 };
}

function optionalText(
  file: string,
  doc: Record<string, unknown>,
  key: 'allow_ip' | 'resolve_url',
  shape: RegExp,
  what: string,
): { allowIp?: string; resolveUrl?: string } {
  const v = doc[key];
  if (v === undefined) return {};
  if (typeof v !== 'string' || !shape.test(v)) throw new ConfigError(file, undefined, key, what);
  return key === 'allow_ip' ? { allowIp: v } : { resolveUrl: v };
}

/** Writes a secret file with mode 0600; refuses to replace an existing one unless `force`. */
export function writePrivateFile(file: string, text: string, force: boolean): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (force) {
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    } else {
      writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
  } catch (err) {
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw new KnockgateError(
      exists ? 'KG_USAGE' : 'KG_STATE_WRITE_FAILED',
      exists
        ? `${file} exists; refusing to overwrite a key (use --force)`
        : `cannot write ${file}: ${(err as Error).message}`,
    );
  }
}

export function serverKeyText(privateKey: Uint8Array, publicKey: Uint8Array): string {
  return [
    '# knockgate server key (X25519). Secret: readable by root only.',
    `# public key, for clients: ${b64(publicKey)}`,
    `kind: ${SERVER_KEY_KIND}`,
    `private_key: ${b64(privateKey)}`,
    '',
  ].join('\n');
}

/**
 * The credential file's text. `secretLines` replace the clear psk/private_key line (a sealed
 * block, stores/sealed-credential.ts); the optional ports, allow_ip and resolve_url are written
 * when present, so that rewriting a file (a new passphrase) keeps them.
 */
export function clientCredentialText(c: ClientCredential, secretLines?: readonly string[]): string {
  return [
    `# knockgate client credential for ${JSON.stringify(c.name)}. ${c.sshKey ? 'It names a key in ssh-agent and holds no secret.' : 'Secret: keep it 0600 (it may live on removable media).'}`,
    `kind: ${CLIENT_CREDENTIAL_KIND}`,
    `name: ${JSON.stringify(c.name)}`,
    ...(c.server ? [`server: ${JSON.stringify(c.server)}`] : []),
    `port: ${c.port}`,
    `server_public_key: ${b64(c.serverPublicKey)}`,
    `door_id: ${JSON.stringify(c.doorId)}`,
    `client_id: ${b64(c.clientId)}`,
    ...(secretLines ?? [
      ...(c.psk ? [`psk: ${b64(c.psk)}`] : []),
      ...(c.privateKey ? [`private_key: ${b64(c.privateKey)}`] : []),
    ]),
    ...sshKeyLines(c),
    ...(c.ports ? [`ports: [${c.ports.map((e) => JSON.stringify(formatEndpoint(e))).join(', ')}]`] : []),
    ...(c.allowIp ? [`allow_ip: ${JSON.stringify(c.allowIp)}`] : []),
    ...(c.resolveUrl ? [`resolve_url: ${JSON.stringify(c.resolveUrl)}`] : []),
    ...(c.maxDurationS !== undefined ? [`max_duration: ${formatDurationMs(c.maxDurationS * 1000)}`] : []),
    '',
  ].join('\n');
}

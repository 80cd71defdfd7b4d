/**
 * `knockgate add-client --reissue NAME`: a new credential for a client the configuration already
 * has, under the current server key (key rotation, or a lost credential). The client keeps its
 * name and id and gets a new secret (a new psk, or a new Ed25519 key pair): a copy of the old
 * credential file, with the new server public key written in by hand, must not open anything.
 *
 * The entry printed replaces the client's psk/public_key line. While the configuration keeps a
 * previous server key, the entry also carries the old secret as previous_psk/previous_public_key,
 * accepted only in packets made for the previous key, so the old credential keeps working until
 * previous_key_until and not a moment longer (and never under the new key). An entry that already
 * has a previous secret keeps it: that is the credential of the previous key, still in its overlap.
 */

import type { SpaClient, SpaClientSecret } from '../core/door.js';
import { KnockgateError } from '../core/errors.js';
import { rawPublicOf } from '../core/spa/keys.js';
import type { ClientAuthMode } from '../core/spa/native-client-auth.js';
import { sshPublicKeyLine, type SshEd25519PublicKey } from '../core/ssh/ssh-public-key.js';
import { loadConfig } from '../config/load.js';
import { b64, type ClientCredential } from '../stores/key-files.js';
import { addClient, type AddClientResult } from './provision.js';

export interface ReissueOptions {
  readonly name: string;
  /** The server's knockgate.yaml, where the client's entry is. */
  readonly configFile: string;
  /** The door's name or its spa.door_id. */
  readonly door: string;
  /** Default: the client's present mode (an ssh-ed25519 client needs sshKey: the key to keep or its new one). */
  readonly mode?: ClientAuthMode;
  readonly sshKey?: SshEd25519PublicKey;
  /** Default: the configuration's spa.server_key. */
  readonly serverKeyFile?: string;
  readonly server?: string;
  /** Default: the door's SPA port. */
  readonly port?: number;
  readonly out: string;
  readonly force: boolean;
  /** As add-client's: the file's text (sealed under a passphrase), default in clear. */
  readonly textOf?: (c: ClientCredential) => string;
}

export interface ReissueResult extends AddClientResult {
  /** The door's name in the configuration. */
  readonly doorName: string;
  /** False when the configuration has no previous server key: the old credential stops with the new entry. */
  readonly keepsOld: boolean;
}

function secretLineOf(prefix: string, s: SpaClientSecret): string {
  if (s.mode === 'psk' && s.psk) return `${prefix}psk: ${b64(s.psk)}`;
  if (s.mode === 'ssh-ed25519' && s.publicKey)
    return `${prefix}ssh_key: ${JSON.stringify(sshPublicKeyLine(rawPublicOf(s.publicKey)))}`;
  if (s.publicKey) return `${prefix}public_key: ${b64(rawPublicOf(s.publicKey))}`;
  throw new Error('a client secret without its key (the config compiler prevents this)');
}

export function reissueClient(o: ReissueOptions): ReissueResult {
  const config = loadConfig(o.configFile);
  const door = config.doors.find((d) => d.spa !== null && (d.name === o.door || d.spa.doorId === o.door));
  if (!door?.spa)
    throw new KnockgateError('KG_USAGE', `${config.file} has no native SPA door ${JSON.stringify(o.door)}`);
  const old: SpaClient | undefined = door.spa.clients.find((c) => c.name === o.name);
  if (old === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      `door ${JSON.stringify(door.name)} in ${config.file} has no client ${JSON.stringify(o.name)}: add it with add-client, without --reissue`,
    );
  const serverKeyFile = o.serverKeyFile ?? config.spa?.serverKeyFile;
  if (!serverKeyFile) throw new KnockgateError('KG_USAGE', `${config.file} names no spa.server_key; give -k FILE`);
  const mode = o.sshKey ? 'ssh-ed25519' : (o.mode ?? old.mode);
  if (mode === 'ssh-ed25519' && o.sshKey === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      `client ${JSON.stringify(o.name)} signs with an ssh-agent key: give it again (or its new one) with --ssh-key FILE.pub`,
    );
  const made = addClient({
    name: o.name,
    serverKeyFile,
    door: door.spa.doorId,
    mode,
    ...(o.sshKey ? { sshKey: o.sshKey } : {}),
    ...(o.server ? { server: o.server } : {}),
    port: o.port ?? door.spa.port,
    out: o.out,
    force: o.force,
    clientId: old.id,
    ...(o.textOf ? { textOf: o.textOf } : {}),
    // What the server allows this client (its max_duration, else the door's): for keep-open.
    maxDurationS: old.maxDurationS,
  });
  const keepsOld = config.spa?.previousServerKeyFile != null;
  const previousSecret = old.previous ?? old;
  const serverEntry = [
    `- name: ${JSON.stringify(o.name)}`,
    `  id: ${b64(old.id)}`,
    `  ${made.secretLine}`,
    ...(keepsOld
      ? [`  ${secretLineOf('previous_', previousSecret)}   # only under previous_server_key, until previous_key_until`]
      : []),
    '',
  ].join('\n');
  return { ...made, serverEntry, doorName: door.name, keepsOld };
}

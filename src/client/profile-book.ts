/**
 * `knockgate profile add | list | show`: the client's profiles (profiles.ts) as a user manages
 * them. A profile is a credential file kept under the profile directory, 0600 in a 0700 directory,
 * copied byte for byte (so any form of credential carries over as it is), after the same checks
 * a knock makes of it (private, owned by the user, a client credential). `list` and `show` print
 * what identifies a credential and never its secret: name, server, door, client id, the server
 * key's fingerprint, the ports and address it asks for, and what kind of secret it holds.
 */

import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readTrustedFile } from '../config/trusted-file.js';
import { ConfigError, KnockgateError } from '../core/errors.js';
import { keyFingerprint } from '../core/spa/key-fingerprint.js';
import { RAW_KEY_BYTES } from '../core/spa/keys.js';
import { SPA_CLIENT_ID_BYTES } from '../core/limits.js';
import { bytesOf, CLIENT_CREDENTIAL_KIND, readPrivateYaml, writePrivateFile } from '../stores/key-files.js';
import { profileDir, profilePath } from './profiles.js';

/** What `list` and `show` print of a credential: public fields only. */
export interface ProfileSummary {
  readonly profile: string;
  readonly file: string;
  readonly name: string;
  readonly server: string | null;
  readonly port: number | null;
  readonly door: string | null;
  readonly clientId: string;
  readonly serverKey: string;
  /** Which secret it holds: psk, ed25519, or the key of another form a newer release wrote. */
  readonly secret: string;
  readonly ports: string | null;
  readonly address: string | null;
}

const SECRET_KEYS = ['psk', 'private_key'] as const;
const PUBLIC_KEYS = new Set([
  'kind',
  'name',
  'server',
  'port',
  'server_public_key',
  'door_id',
  'client_id',
  'ports',
  'allow_ip',
  'resolve_url',
]);

/** Reads a credential's public fields, after the checks every read makes (private, trusted, its kind). */
export function summarizeCredential(file: string, profile: string): ProfileSummary {
  const doc = readPrivateYaml(file, CLIENT_CREDENTIAL_KIND);
  const text = (k: string): string | null => (typeof doc[k] === 'string' ? (doc[k] as string) : null);
  const found = SECRET_KEYS.find((k) => doc[k] !== undefined);
  const secret =
    found === 'psk'
      ? 'psk'
      : found === 'private_key'
        ? 'ed25519'
        : typeof doc.ssh_key === 'string'
          ? 'ssh-agent key (ssh-ed25519)'
          : (Object.keys(doc).find((k) => !PUBLIC_KEYS.has(k)) ?? 'none');
  return {
    profile,
    file,
    name: text('name') ?? 'client',
    server: text('server'),
    port: typeof doc.port === 'number' ? doc.port : null,
    door: text('door_id'),
    clientId: Buffer.from(bytesOf(file, doc, 'client_id', SPA_CLIENT_ID_BYTES)).toString('hex'),
    serverKey: keyFingerprint(bytesOf(file, doc, 'server_public_key', RAW_KEY_BYTES)),
    secret,
    ports: Array.isArray(doc.ports) ? doc.ports.map(String).join(',') : null,
    address: text('allow_ip') ?? (text('resolve_url') === null ? null : `from ${text('resolve_url')}`),
  };
}

/**
 * Copies FILE into the profiles as NAME: given, else the credential's server (when it is a valid
 * profile name), else the file's name without its extensions. Refuses an existing profile unless
 * `force`. Returns the summary of the profile written.
 */
export function addProfile(file: string, name: string | undefined, force: boolean): ProfileSummary {
  const summary = summarizeCredential(file, '');
  const chosen = name ?? summary.server ?? basename(file).replace(/\..*$/, '');
  const target = profilePath(chosen); // refuses a name that is not a profile name
  if (existsSync(target) && !force)
    throw new KnockgateError(
      'KG_USAGE',
      `profile ${JSON.stringify(chosen)} exists (${target}); use --force to replace it`,
    );
  writePrivateFile(target, readTrustedFile(file).data.toString('utf8'), force);
  return { ...summary, profile: chosen, file: target };
}

/** Every profile, by name; one that cannot be read is listed with its problem, not skipped. */
export function listProfiles(): {
  readonly ok: ProfileSummary[];
  readonly bad: { profile: string; problem: string }[];
} {
  const dir = profileDir();
  const ok: ProfileSummary[] = [];
  const bad: { profile: string; problem: string }[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const profile of names.map((f) => f.slice(0, -'.yaml'.length)).sort()) {
    const f = `${profile}.yaml`;
    try {
      ok.push(summarizeCredential(join(dir, f), profile));
    } catch (err) {
      if (!(err instanceof KnockgateError)) throw err;
      bad.push({ profile, problem: err instanceof ConfigError ? err.detail : err.message });
    }
  }
  return { ok, bad };
}

export function showProfile(name: string): ProfileSummary {
  const file = profilePath(name);
  if (!existsSync(file))
    throw new KnockgateError('KG_USAGE', `no profile ${JSON.stringify(name)} (looked for ${file})`);
  return summarizeCredential(file, name);
}

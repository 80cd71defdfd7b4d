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
import { formatEndpoint } from '../core/endpoint.js';
import { keyFingerprint } from '../core/spa/key-fingerprint.js';
import { type CredentialFields, readCredentialFields, writePrivateFile } from '../stores/key-files.js';
import { profileDir, profilePath } from './profiles.js';

/** What `list` and `show` print of a credential: public fields only. */
export interface ProfileSummary {
  readonly profile: string;
  readonly file: string;
  readonly name: string;
  readonly server: string | null;
  readonly port: number;
  readonly door: string;
  readonly clientId: string;
  readonly serverKey: string;
  /** Which secret it holds: psk, ed25519, sealed (passphrase-protected), or an ssh-agent key. */
  readonly secret: string;
  readonly ports: string | null;
  readonly address: string | null;
}

/** Which secret a credential holds, as `list` shows it; the sealed block's own name for a protected one. */
function secretKind(doc: Record<string, unknown>, fields: CredentialFields): string {
  if (fields.sshKey !== undefined) return 'ssh-agent key (ssh-ed25519)';
  if (doc.psk !== undefined) return 'psk';
  if (doc.private_key !== undefined) return 'ed25519';
  return 'sealed';
}

/**
 * A credential's public fields, read by the reader every knock uses (stores/key-files.ts: private,
 * trusted, its kind, well formed), but for its secret, which is never opened.
 */
export function summarizeCredential(file: string, profile: string): ProfileSummary {
  const { fields, doc } = readCredentialFields(file);
  return {
    profile,
    file,
    name: fields.name,
    server: fields.server ?? null,
    port: fields.port,
    door: fields.doorId,
    clientId: Buffer.from(fields.clientId).toString('hex'),
    serverKey: keyFingerprint(fields.serverPublicKey),
    secret: secretKind(doc, fields),
    ports: fields.ports ? fields.ports.map(formatEndpoint).join(',') : null,
    address: fields.allowIp ?? (fields.resolveUrl === undefined ? null : `from ${fields.resolveUrl}`),
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

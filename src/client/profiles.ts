/**
 * Client profiles: credential files under ~/.config/knockgate/profiles/NAME.yaml (or
 * $XDG_CONFIG_HOME/knockgate/...). `knockgate knock HOST` uses the profile named HOST when there is
 * one; `--profile NAME` or `--credential FILE` choose explicitly.
 */

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import type { ClientCredential } from '../stores/key-files.js';
import { openCredentialFile, type PassphraseFlags } from './open-credential.js';

export function profileDir(): string {
  const base = process.env.XDG_CONFIG_HOME?.startsWith('/') ? process.env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'knockgate', 'profiles');
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function profilePath(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new KnockgateError('KG_USAGE', `not a profile name: ${JSON.stringify(name)}`);
  return join(profileDir(), `${name}.yaml`);
}

/**
 * The credential to knock with: an explicit file, an explicit profile, or the profile named after
 * the host if it exists; null when none applies (then the knock is a classic sequence). A
 * protected one is opened with its passphrase (client/open-credential.ts).
 */
export async function findCredential(
  o: { credential?: string; profile?: string; host: string } & PassphraseFlags,
): Promise<ClientCredential | null> {
  const file = credentialFileFor(o);
  return file === null ? null : openCredentialFile(file, o);
}

function credentialFileFor(o: { credential?: string; profile?: string; host: string }): string | null {
  if (o.credential) return o.credential;
  if (o.profile) {
    const path = profilePath(o.profile);
    if (!existsSync(path))
      throw new KnockgateError('KG_USAGE', `no profile ${JSON.stringify(o.profile)} (looked for ${path})`);
    return path;
  }
  if (PROFILE_NAME.test(o.host) && existsSync(profilePath(o.host))) return profilePath(o.host);
  return null;
}

/**
 * Where to send the knock: HOST, unless HOST named the profile (`knockgate knock gw`, or
 * `--profile gw gw`) and that profile says which server it is for (`server:`); an explicit
 * --credential, or a --profile with another HOST, knocks HOST as given.
 */
export function knockTarget(
  o: { credential?: string; profile?: string; host: string },
  cred: ClientCredential | null,
): string {
  if (cred === null || cred.server === undefined || o.credential) return o.host;
  return o.profile === undefined || o.profile === o.host ? cred.server : o.host;
}

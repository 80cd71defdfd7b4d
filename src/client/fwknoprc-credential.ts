/**
 * `knockgate knock --fwknoprc [STANZA] HOST`: the fwknop packet a ~/.fwknoprc stanza describes
 * (client/fwknoprc.ts), sent with knockgate's fwknop sender. The file is read as every key file is
 * (owned by the user, not writable by others) and, unlike fwknop, which only warns, refused when
 * group or others can read it: it holds keys. Which stanza: the one given, else the one named
 * HOST (whose SPA_SERVER is then where the packet goes, as a profile's server: is), else
 * [default] alone.
 */

import { homedir } from 'node:os';
import { join } from 'node:path';
import { readableByOthers, readTrustedFile } from '../config/trusted-file.js';
import type { AddressPrefix } from '../core/address-prefix.js';
import { parseAddressPrefix } from '../core/address-prefix.js';
import { ConfigError } from '../core/errors.js';
import { MAX_CONFIG_FILE_BYTES } from '../core/limits.js';
import { type FwknopCredential, fwknopCredentialFrom } from './fwknop-sender.js';
import { fwknoprcSettings, parseFwknoprc, type FwknoprcSettings } from './fwknoprc.js';

export const DEFAULT_FWKNOPRC = (): string => join(homedir(), '.fwknoprc');

export interface FwknoprcKnock {
  readonly cred: FwknopCredential;
  readonly settings: FwknoprcSettings;
  /** Where to send it: SPA_SERVER when the stanza was chosen by HOST, else HOST. */
  readonly host: string;
}

export function readFwknoprcKnock(o: { file?: string; stanza?: string | true; host: string }): FwknoprcKnock {
  const file = o.file ?? DEFAULT_FWKNOPRC();
  const { data, stat } = readTrustedFile(file, {
    maxBytes: MAX_CONFIG_FILE_BYTES,
    what: 'cannot read the fwknop rc file',
  });
  const readable = readableByOthers(stat);
  if (readable !== null)
    throw new ConfigError(
      file,
      undefined,
      undefined,
      `holds keys but is ${readable}; chmod 600 it (fwknop only warns)`,
    );
  const rc = parseFwknoprc(file, data.toString('utf8'));
  const byHost = typeof o.stanza !== 'string' && rc.has(o.host) && o.host !== 'default';
  const name = typeof o.stanza === 'string' ? o.stanza : byHost ? o.host : null;
  const settings = fwknoprcSettings(file, rc, name);
  const cred = fwknopCredentialFrom(file, {
    ...(settings.key === null
      ? {}
      : settings.key.base64
        ? { key_base64: settings.key.text }
        : { key: settings.key.text }),
    ...(settings.gpg ?? {}),
    ...(settings.hmacKey ? { [settings.hmacKey.base64 ? 'hmac_key_base64' : 'hmac_key']: settings.hmacKey.text } : {}),
    ...(settings.hmacType ? { hmac_digest_type: settings.hmacType.toLowerCase() } : {}),
    ...(settings.encryptionMode ? { encryption_mode: settings.encryptionMode } : {}),
    ...(settings.port !== null ? { port: settings.port } : {}),
    ...(settings.user ? { user: settings.user } : {}),
  });
  // HOST named the stanza (found by it, or --fwknoprc HOST HOST): knock the server it names.
  const host = name === o.host && settings.server !== null ? settings.server : o.host;
  return { cred, settings, host };
}

/** ALLOW_IP as the sender takes it: an address, the packet's source (0.0.0.0), or null (ask a resolver / the local address). */
export function allowOf(file: string, s: FwknoprcSettings): AddressPrefix | 'source' | 'resolve' | null {
  if (s.allow === null) return null;
  if (s.allow === 'source' || s.allow === 'resolve') return s.allow;
  const parsed = parseAddressPrefix(s.allow);
  if ('error' in parsed) throw new ConfigError(file, undefined, 'ALLOW_IP', parsed.error);
  return parsed;
}

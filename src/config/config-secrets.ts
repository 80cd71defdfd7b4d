/**
 * What in a loaded configuration file is a secret its readers could use, for the warning
 * knockgated gives when the file is world-readable. Only the fixed knock sequences are: a local
 * user who reads one can knock it. Everything else a readable file may hold is not (clients'
 * Ed25519 public keys, the paths of key, secret and one-time sequence files, ports, durations),
 * and pre-shared keys in a readable file are already refused by the loader. Pure.
 */

import type { Config } from './config.js';

/** The warning's text, naming the doors whose sequences are exposed; null when nothing is. */
export function readableSecretsWarning(config: Pick<Config, 'doors'>): string | null {
  const exposed = config.doors.filter((d) => d.sequence !== null && d.spa === null && d.fwknop === null);
  if (exposed.length === 0) return null;
  const names = exposed.map((d) => d.name).join(', ');
  return `the configuration is world-readable and holds the knock sequence${exposed.length === 1 ? '' : 's'} of ${names}: any local user can read and knock ${exposed.length === 1 ? 'it' : 'them'}; chmod 600 it`;
}

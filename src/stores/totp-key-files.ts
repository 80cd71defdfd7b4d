/**
 * The key files of time-based sequence doors (core/totp-sequence.ts), in the style of the other
 * key files (key-files.ts: small YAML with a `kind` line, 0600, refused when group or others may
 * read them, or when trusted-file.ts finds another user could change them):
 *   - the server's shared secret, the file a door's `sequence.totp` names;
 *   - the client's credential (`knockgate add-client --totp`, read by `knockgate knock --totp`):
 *     the same secret with the door's parameters, so the client derives the same sequence.
 */

import { existsSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import {
  MAX_SEQUENCE_STEPS,
  MAX_TOTP_PERIOD_MS,
  MIN_TOTP_PERIOD_MS,
  MIN_TOTP_STEPS,
  TOTP_SECRET_BYTES,
} from '../core/limits.js';
import { totpSpaceSize, type TotpParameters, type TotpProtocol } from '../core/totp-sequence.js';
import { b64, bytesOf, readPrivateYaml } from './key-files.js';

export const TOTP_SECRET_KIND = 'knockgate-totp-secret-v1';
export const TOTP_CREDENTIAL_KIND = 'knockgate-totp-client-v1';

export interface TotpCredential {
  readonly name: string;
  /** Where to knock, when the file says. */
  readonly server?: string;
  readonly secret: Uint8Array;
  readonly parameters: TotpParameters;
}

export function readTotpSecret(file: string): Uint8Array {
  if (!existsSync(file))
    throw new ConfigError(
      file,
      undefined,
      undefined,
      "no such file: the door's shared secret; `knockgate add-client NAME --totp --door DOOR` writes it",
    );
  return bytesOf(file, readPrivateYaml(file, TOTP_SECRET_KIND), 'secret', TOTP_SECRET_BYTES);
}

export function totpSecretText(secret: Uint8Array): string {
  return [
    '# knockgate shared secret of a time-based knock sequence. Secret: readable by root only.',
    `kind: ${TOTP_SECRET_KIND}`,
    `secret: ${b64(secret)}`,
    '',
  ].join('\n');
}

export function readTotpCredential(file: string): TotpCredential {
  const doc = readPrivateYaml(file, TOTP_CREDENTIAL_KIND);
  const fail = (key: string, what: string): never => {
    throw new ConfigError(file, undefined, key, what);
  };
  const int = (key: string, min: number, max: number): number => {
    const v = doc[key];
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : fail(key, `must be a whole number from ${min} to ${max}`);
  };
  const door = typeof doc.door === 'string' && doc.door !== '' ? doc.door : fail('door', "missing: the door's name");
  const steps = int('steps', MIN_TOTP_STEPS, MAX_SEQUENCE_STEPS);
  const periodS = int('period', MIN_TOTP_PERIOD_MS / 1000, MAX_TOTP_PERIOD_MS / 1000);
  const range = typeof doc.ports === 'string' ? /^(\d{1,5})-(\d{1,5})$/.exec(doc.ports) : null;
  const low = Number(range?.[1]);
  const high = Number(range?.[2]);
  if (range === null || low < 1 || high > 65_535 || low > high) fail('ports', 'must be a port range LOW-HIGH');
  const protocol = doc.protocol;
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'mixed') fail('protocol', 'must be tcp, udp or mixed');
  const parameters: TotpParameters = {
    door,
    steps,
    periodMs: periodS * 1000,
    low,
    high,
    protocol: protocol as TotpProtocol,
  };
  if (totpSpaceSize(parameters) < steps) fail('ports', 'holds fewer endpoints than steps');
  return {
    name: typeof doc.name === 'string' ? doc.name : 'client',
    ...(typeof doc.server === 'string' ? { server: doc.server } : {}),
    secret: bytesOf(file, doc, 'secret', TOTP_SECRET_BYTES),
    parameters,
  };
}

export function totpCredentialText(c: TotpCredential): string {
  const p = c.parameters;
  return [
    `# knockgate time-based knock credential for ${JSON.stringify(c.name)}. Secret: keep it 0600.`,
    `kind: ${TOTP_CREDENTIAL_KIND}`,
    `name: ${JSON.stringify(c.name)}`,
    ...(c.server ? [`server: ${JSON.stringify(c.server)}`] : []),
    `door: ${JSON.stringify(p.door)}`,
    `steps: ${p.steps}`,
    `period: ${p.periodMs / 1000}`,
    `ports: ${p.low}-${p.high}`,
    `protocol: ${p.protocol}`,
    `secret: ${b64(c.secret)}`,
    '',
  ].join('\n');
}

/**
 * What `keep-open` and `connect --keep-open` knock with: native SPA through knockSpa (knock.ts),
 * each knock a fresh datagram (new nonce, new time; HOST and any --resolve-url looked up again, so
 * that a changed address is followed), always asking for one known duration.
 *
 * The client cannot know the door's default duration, so the duration is never left to the
 * server: it is --duration, else the credential's max_duration (add-client writes it), and a
 * --duration above the credential's max_duration is refused here rather than by the server.
 */

import { KnockgateError } from '../core/errors.js';
import { keepOpenDurationProblem } from '../core/keep-open-schedule.js';
import type { ClientCredential } from '../stores/key-files.js';
import { knockSpa } from './knock.js';
import type { SpaAskFlags } from './spa-ask.js';

/** The grant keep-open asks for, in seconds; KG_USAGE when none is known or it is out of bounds. */
export function keepOpenDurationS(flagS: number | undefined, cred: ClientCredential): number {
  const max = cred.maxDurationS;
  if (flagS === undefined && max === undefined)
    throw new KnockgateError(
      'KG_USAGE',
      `keep-open must know how long a grant lasts: give --duration (at most the client's max_duration on the server), or use a credential with max_duration (knockgate add-client --max-duration, or --reissue)`,
    );
  if (flagS !== undefined && max !== undefined && flagS > max)
    throw new KnockgateError(
      'KG_USAGE',
      `--duration ${flagS}s is above this credential's max_duration of ${max}s: the server would refuse it`,
    );
  const durationS = flagS ?? (max as number);
  const problem = keepOpenDurationProblem(durationS);
  if (problem !== null) throw new KnockgateError('KG_USAGE', problem);
  return durationS;
}

/** One knock of `durationS`; resolves with where it went. */
export function spaKeepOpenKnock(o: {
  readonly cred: ClientCredential;
  readonly host: string;
  readonly family: 4 | 6 | undefined;
  readonly flags: SpaAskFlags & { spaPort?: number };
  readonly durationS: number;
}): () => Promise<{ address: string; port: number }> {
  const flags = { ...o.flags, duration: o.durationS };
  return () => knockSpa(o.cred, o.host, o.family, flags);
}

/**
 * A door, compiled from configuration: what knock opens it, what it opens, for how long, and what
 * runs when it opens and closes. Immutable once built; a reload builds new doors.
 */

import type { Endpoint } from './endpoint.js';
import type { TcpFlagCondition } from './tcp-flags.js';

export interface Door {
  readonly name: string;
  /** The fixed sequence, or null when the door reads one-time sequences from a file. */
  readonly sequence: readonly Endpoint[] | null;
  /** Absolute path of the one-time sequence file, when the door uses one. */
  readonly oneTimeSequencesFile: string | null;
  readonly sequenceTimeoutMs: number;
  readonly tcpFlags: TcpFlagCondition;
  /** Ports opened for the knocking source. Empty when the door only runs commands. */
  readonly open: readonly Endpoint[];
  /** How long a grant lasts; also when stop_command runs. */
  readonly durationS: number;
  /** argv templates (see command-template.ts); run without a shell. */
  readonly startCommand: readonly string[] | null;
  readonly stopCommand: readonly string[] | null;
  readonly commandTimeoutMs: number;
  /** Drop packets to the knock ports so that they look filtered, not closed (default true). */
  readonly hideKnockPorts: boolean;
}

/**
 * The one-time sequences of a door: the one in force, and burning it once it has bought a grant.
 * The local implementation is a file (stores/one-time-sequence-file.ts).
 *
 * Contract: markUsed() returns only once the sequence is burnt durably, and throws when it could
 * not be (then no grant may be made); afterwards current() is the next one (null when none is left).
 */

import type { OneTimeSequence } from '../core/one-time-sequences.js';

export interface OneTimeSequenceStore {
  /** The sequence in force, or null when every one is used. */
  current(): OneTimeSequence | null;
  remaining(): number;
  markUsed(seq: OneTimeSequence): void;
}

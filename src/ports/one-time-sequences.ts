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

/** In-memory sequences, in order, for unit tests; `failWrites` makes markUsed() fail as a full disk would. */
export class MemoryOneTimeSequences implements OneTimeSequenceStore {
  failWrites = false;
  private readonly unused: OneTimeSequence[];

  constructor(sequences: readonly OneTimeSequence['steps'][]) {
    this.unused = sequences.map((steps, i) => ({ line: i + 1, offset: i, steps }));
  }

  current(): OneTimeSequence | null {
    return this.unused[0] ?? null;
  }

  remaining(): number {
    return this.unused.length;
  }

  markUsed(seq: OneTimeSequence): void {
    if (this.unused[0] !== seq) throw new Error('markUsed: not the current sequence');
    if (this.failWrites) throw new Error('simulated write failure');
    this.unused.shift();
  }
}

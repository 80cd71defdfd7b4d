/**
 * The firewall gates' queue of changes (nftables.ts, iptables.ts): while one batch is in the
 * kernel, changes queue and go together in the next, cut at MAX_GRANTS_PER_FIREWALL_BATCH changes
 * and MAX_FIREWALL_BATCH_BYTES (the first always goes, whatever its size). A batch the kernel
 * refuses is applied not at all, so its members are then tried one at a time and only the change
 * at fault fails. A job (an install) runs alone, in its place in the order.
 *
 * Contract: each enqueue's promise settles once its change is applied (after `commit`, which
 * updates the gate's mirror) or refused (with the kernel's error); changes apply in queue order.
 */

import { MAX_FIREWALL_BATCH_BYTES, MAX_GRANTS_PER_FIREWALL_BATCH } from '../core/limits.js';

interface Pending<W> {
  readonly work: W | null;
  readonly job: (() => Promise<void>) | null;
  readonly bytes: number;
  readonly commit: () => void;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class BatchQueue<W> {
  private queue: Pending<W>[] = [];
  private running = false;

  /**
   * `apply` sends several changes to the kernel as one transaction (it throws when the kernel
   * refuses it); `bytesOf` is a change's size in the transaction, for the byte limit.
   */
  constructor(
    private readonly apply: (batch: readonly W[]) => Promise<void>,
    private readonly bytesOf: (work: W) => number,
  ) {}

  /** A change that may share a transaction with its neighbours. */
  change(work: W, commit: () => void): Promise<void> {
    return this.push({ work, job: null, bytes: this.bytesOf(work) }, commit);
  }

  /** A job that runs alone, after what was queued before it. */
  alone(job: () => Promise<void>, commit: () => void): Promise<void> {
    return this.push({ work: null, job, bytes: 0 }, commit);
  }

  private push(p: Pick<Pending<W>, 'work' | 'job' | 'bytes'>, commit: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...p, commit, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const first = this.queue[0] as Pending<W>;
        if (first.job !== null) {
          this.queue.shift();
          await this.settleAfter(first, first.job);
          continue;
        }
        const batch = this.queue.splice(0, this.nextBatchLength());
        const works = batch.map((p) => p.work as W);
        try {
          await this.apply(works);
          for (const p of batch) settle(p, null);
        } catch (err) {
          if (batch.length === 1) settle(batch[0] as Pending<W>, err);
          // The kernel refused the whole transaction: find the member(s) at fault.
          else for (const p of batch) await this.settleAfter(p, () => this.apply([p.work as W]));
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** How many changes from the head go together: up to the first job, the count and byte limits. */
  private nextBatchLength(): number {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < MAX_GRANTS_PER_FIREWALL_BATCH) {
      const p = this.queue[n] as Pending<W>;
      if (p.job !== null || (n > 0 && bytes + p.bytes > MAX_FIREWALL_BATCH_BYTES)) break;
      bytes += p.bytes;
      n++;
    }
    return n;
  }

  private async settleAfter(p: Pending<W>, run: () => Promise<void>): Promise<void> {
    try {
      await run();
      settle(p, null);
    } catch (err) {
      settle(p, err);
    }
  }
}

function settle(p: Pending<unknown>, err: unknown): void {
  if (err === null) {
    p.commit();
    p.resolve();
  } else p.reject(err);
}

/**
 * Asks the kernel whether it would take a batch, and commits nothing: libnftables' dry run
 * (NFT_CTX_DRY_RUN, what `nft -c` does). The batch goes to the kernel of this process's network
 * namespace without its end-of-batch message, so the kernel validates every command (a base
 * chain whose hook or priority cannot change, a set redefined with another type, ...) and then
 * aborts the whole transaction. For knockgated --check, run exactly where the daemon would run.
 *
 * The same two transports as the gate (nft-runner.ts): the libnftables worker's `@check` request
 * when it is built, else `nft -c -j -f FILE`. Either way the outcome is one of three:
 *   resolved                      the kernel would take the batch;
 *   KG_FIREWALL_UNAVAILABLE (69)  nftables did not answer at all (no worker, no nft, no
 *                                 CAP_NET_ADMIN, no netlink): nothing was checked;
 *   KG_RULESET_REFUSED (78)       nftables answered and refused the batch, with its reason.
 */

import { KnockgateError } from '../core/errors.js';
import { applyNftBatch, findNft } from './nft-runner.js';
import type { NftCommand } from './nftables-ruleset.js';
import { defaultWorkerPath, NftWorker } from './nft-worker.js';

/** What nft says when it could not ask the kernel at all (rather than being refused by it). */
const NOT_ANSWERED = /Operation not permitted|Permission denied|netlink|worker exited|worker did not answer/i;

export interface NftCheckOptions {
  /** The worker to use; default: the built one, unless KNOCKGATE_NFT=spawn. */
  readonly workerPath?: string;
  readonly nftPath?: string;
}

/** Resolves with how it was checked (for the report); `what` names the batch in errors. */
export async function checkNftBatch(
  commands: readonly NftCommand[],
  what: string,
  options: NftCheckOptions = {},
): Promise<string> {
  const worker = options.workerPath ?? (process.env.KNOCKGATE_NFT === 'spawn' ? undefined : defaultWorkerPath());
  try {
    if (worker !== undefined) {
      const w = new NftWorker(worker);
      try {
        await w.run(`@check\n${JSON.stringify({ nftables: commands })}`);
      } finally {
        w.close();
      }
      return 'libnftables worker';
    }
    const nft = options.nftPath ?? findNft();
    await applyNftBatch(nft, commands, true);
    return nft;
  } catch (err) {
    if (!(err instanceof KnockgateError) || err.code === 'KG_FIREWALL_UNAVAILABLE') throw err;
    if (NOT_ANSWERED.test(err.message))
      throw new KnockgateError(
        'KG_FIREWALL_UNAVAILABLE',
        `nftables did not answer the check of ${what}: ${err.message}`,
        {
          cause: err,
        },
      );
    const reason = err.message.replace(/^nft rejected the batch(?: \(exit \d+\))?: /, '');
    throw new KnockgateError('KG_RULESET_REFUSED', `nftables refused ${what}, nothing was installed: ${reason}`, {
      cause: err,
    });
  }
}

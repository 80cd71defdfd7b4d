/**
 * The grant path's set-element transactions inside knockgated (native/nft-elements-addon.c, the
 * same netlink code as the worker's `@elements` path), so that a grant does not wait for two
 * process wake-ups through the worker's pipes (about 0.45 ms on the bench machine, on the path
 * from the last packet to an open port).
 *
 * Contract: `applyElementsInProcess(binding, request)` applies one `@elements` request
 * (nft-element-request.ts) as one transaction, synchronously, and resolves, or rejects with
 * KG_FIREWALL_FAILED and the kernel's message, exactly as the worker's answer would (nothing of a
 * refused batch is applied). `loadElementBinding()` is null when the addon is not built or when
 * KNOCKGATE_NFT=worker asks for the worker's path (for comparing the two); callers then use the
 * worker.
 */

import { KnockgateError } from '../core/errors.js';
import { loadNativeAddon } from '../sensors/native-addon.js';

export interface ElementBinding {
  /** null when applied; else why not (the kernel's error, or the request's fault). */
  apply(request: Buffer): string | null;
}

export function loadElementBinding(): ElementBinding | null {
  if (process.env.KNOCKGATE_NFT === 'worker') return null;
  try {
    return loadNativeAddon<ElementBinding>('nft-elements.node', 'nftables element binding');
  } catch {
    return null;
  }
}

export function applyElementsInProcess(binding: ElementBinding, request: string): Promise<void> {
  const refused = binding.apply(Buffer.from(request, 'utf8'));
  if (refused === null) return Promise.resolve();
  return Promise.reject(new KnockgateError('KG_FIREWALL_FAILED', `nft rejected the batch: ${refused}`));
}

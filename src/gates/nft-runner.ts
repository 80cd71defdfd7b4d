/**
 * Runs `nft` with JSON on stdin (`nft -j -f -`), never through a shell, with a time limit. The
 * only data it passes is the JSON built by nftables-ruleset.ts from validated values.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KnockgateError } from '../core/errors.js';
import { FIREWALL_COMMAND_TIMEOUT_MS } from '../core/limits.js';

const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

export function findNft(): string {
  const found = NFT_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new KnockgateError('KG_FIREWALL_UNAVAILABLE', `nft not found (looked in ${NFT_CANDIDATES.join(', ')}); install the nftables package`);
  return found;
}

export interface NftResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

export function runNft(nft: string, args: readonly string[], stdin?: string): Promise<NftResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), FIREWALL_COMMAND_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new KnockgateError('KG_FIREWALL_UNAVAILABLE', `cannot run ${nft}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.on('error', () => undefined); // reported through the exit code
    child.stdin.end(stdin ?? '');
  });
}

/** Applies a batch atomically; throws KG_FIREWALL_FAILED with nft's own message on failure. */
export async function applyNftBatch(nft: string, commands: readonly unknown[]): Promise<void> {
  const r = await runNft(nft, ['-j', '-f', '-'], JSON.stringify({ nftables: commands }));
  if (r.code !== 0) {
    throw new KnockgateError('KG_FIREWALL_FAILED', `nft rejected the batch (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  }
}

/**
 * Runs `nft` with a JSON batch (`nft -j -f FILE`), never through a shell, with a time limit. The
 * only data it passes is the JSON built by nftables-ruleset.ts from validated values.
 *
 * Why a file and not stdin: nft reads `-f -` by opening /dev/stdin, which fails (ENXIO) when stdin
 * is a socket, and Node's child pipes are sockets. argv would cap a batch at 128 KiB. So each
 * batch goes through a 0600 file in a 0700 directory of our own, removed right after.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export function runNft(nft: string, args: readonly string[]): Promise<NftResult> {
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
    child.stdin.end();
  });
}

let batchDir: string | undefined;
let batchSerial = 0;

function batchFile(): string {
  if (batchDir === undefined) {
    batchDir = mkdtempSync(join(tmpdir(), 'knockgate-nft-'));
    process.once('exit', () => rmSync(batchDir as string, { recursive: true, force: true }));
  }
  return join(batchDir, `batch-${process.pid}-${++batchSerial}.json`);
}

/** Applies a batch atomically; throws KG_FIREWALL_FAILED with nft's own message on failure. */
export async function applyNftBatch(nft: string, commands: readonly unknown[]): Promise<void> {
  const file = batchFile();
  writeFileSync(file, JSON.stringify({ nftables: commands }), { mode: 0o600 });
  let r: NftResult;
  try {
    r = await runNft(nft, ['-j', '-f', file]);
  } finally {
    unlinkSync(file);
  }
  if (r.code !== 0) {
    throw new KnockgateError('KG_FIREWALL_FAILED', `nft rejected the batch (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  }
}

/**
 * How the nftables gate talks to the kernel. Two ways, one contract (NftExecutor): the long-lived
 * libnftables worker (nft-worker.ts), used whenever `npm run build` has built it (grants take its
 * fast path, nft-element-request.ts), and spawning
 * `nft -j -f FILE` per batch, the fallback when it has not. Never through a shell, always with a
 * time limit. The only data passed is JSON built by nftables-ruleset.ts from validated values.
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
import { applyElementsInProcess, loadElementBinding, type ElementBinding } from './nft-element-binding.js';
import { elementRequest } from './nft-element-request.js';
import type { NftCommand } from './nftables-ruleset.js';
import { defaultWorkerPath, NftWorker } from './nft-worker.js';

const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

export function findNft(): string {
  const found = NFT_CANDIDATES.find((p) => existsSync(p));
  if (!found)
    throw new KnockgateError(
      'KG_FIREWALL_UNAVAILABLE',
      `nft not found (looked in ${NFT_CANDIDATES.join(', ')}); install the nftables package`,
    );
  return found;
}

export interface NftResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

export function runNft(nft: string, args: readonly string[]): Promise<NftResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, [...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
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

/**
 * Applies a batch atomically; throws KG_FIREWALL_FAILED with nft's own message on failure. With
 * `check`, `nft -c`: the kernel validates the batch and commits nothing (knockgated --check).
 */
export async function applyNftBatch(nft: string, commands: readonly unknown[], check = false): Promise<void> {
  const file = batchFile();
  writeFileSync(file, JSON.stringify({ nftables: commands }), { mode: 0o600 });
  let r: NftResult;
  try {
    r = await runNft(nft, check ? ['-c', '-j', '-f', file] : ['-j', '-f', file]);
  } finally {
    unlinkSync(file);
  }
  if (r.code !== 0) {
    throw new KnockgateError(
      'KG_FIREWALL_FAILED',
      `nft rejected the batch (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`,
    );
  }
}

/**
 * Applies JSON batches atomically and lists tables in JSON. `apply` throws KG_FIREWALL_FAILED with
 * nft's message when the batch is refused (then nothing of it was applied). `listTable` resolves
 * with nft's JSON, or undefined when the table does not exist.
 */
export interface NftExecutor {
  readonly kind: 'worker' | 'spawn';
  /** How grant-set changes reach the kernel: in this process (nft-element-binding.ts), the worker, or nft(8). */
  readonly grantPath: 'in-process' | 'worker' | 'spawn';
  apply(commands: readonly unknown[]): Promise<void>;
  listTable(family: string, table: string): Promise<string | undefined>;
  close(): void;
}

const NO_SUCH_TABLE = /No such file or directory/;

class WorkerExecutor implements NftExecutor {
  readonly kind = 'worker';
  readonly grantPath: 'in-process' | 'worker';
  private readonly worker: NftWorker;
  private readonly elements: ElementBinding | null;
  constructor(path: string) {
    this.worker = new NftWorker(path);
    this.elements = loadElementBinding();
    this.grantPath = this.elements === null ? 'worker' : 'in-process';
  }
  /**
   * Grant-set changes take the element path (nft-element-request.ts): in this process when the
   * binding is built, else the worker's; the rest goes to the worker as JSON. The gate's queue
   * (batch-queue.ts) runs one change at a time, so the two paths never reorder changes.
   */
  async apply(commands: readonly unknown[]): Promise<void> {
    const elements = elementRequest(commands as readonly NftCommand[]);
    if (elements !== null && this.elements !== null) return applyElementsInProcess(this.elements, elements);
    await this.worker.run(elements ?? JSON.stringify({ nftables: commands }));
  }
  async listTable(family: string, table: string): Promise<string | undefined> {
    try {
      return await this.worker.run(`list table ${family} ${table}`);
    } catch (err) {
      if (err instanceof KnockgateError && NO_SUCH_TABLE.test(err.message)) return undefined;
      throw err;
    }
  }
  close(): void {
    this.worker.close();
  }
}

class SpawnExecutor implements NftExecutor {
  readonly kind = 'spawn';
  readonly grantPath = 'spawn';
  constructor(private readonly nft: string) {}
  apply(commands: readonly unknown[]): Promise<void> {
    return applyNftBatch(this.nft, commands);
  }
  async listTable(family: string, table: string): Promise<string | undefined> {
    const r = await runNft(this.nft, ['-j', 'list', 'table', family, table]);
    if (r.code === 0) return r.stdout;
    if (NO_SUCH_TABLE.test(r.stderr)) return undefined;
    throw new KnockgateError('KG_FIREWALL_FAILED', `nft list table ${family} ${table} failed: ${r.stderr.trim()}`);
  }
  close(): void {}
}

/**
 * The worker when it is built (or at `workerPath`), else nft(8) per batch. `KNOCKGATE_NFT=spawn`
 * forces the fallback, and `KNOCKGATE_NFT=worker` sends grants through the worker rather than
 * this process (nft-element-binding.ts), for comparing them.
 */
export function createNftExecutor(options: { nftPath?: string; workerPath?: string } = {}): NftExecutor {
  const worker = options.workerPath ?? (process.env.KNOCKGATE_NFT === 'spawn' ? undefined : defaultWorkerPath());
  return worker !== undefined ? new WorkerExecutor(worker) : new SpawnExecutor(options.nftPath ?? findNft());
}

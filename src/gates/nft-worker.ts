/**
 * A client of knockgate-nft (native/knockgate-nft.c), the long-lived libnftables worker: one
 * netlink transaction per batch (about 0.3 ms) instead of one nft(8) spawn (about 10 ms).
 *
 * Contract: requests go one at a time in the order asked; each resolves with nft's output or
 * rejects with KG_FIREWALL_FAILED carrying nft's own message (nothing of that batch applied, as
 * with `nft -f`). A request that takes longer than FIREWALL_COMMAND_TIMEOUT_MS kills the worker
 * and rejects; a worker that dies rejects what it held, and the next request starts a new one.
 * The worker's argv is fixed and its environment minimal; it reads only what we write to it.
 * Each answer is tied to the child that wrote it: bytes from a child that is no longer current (a
 * late answer from one killed on a timeout, written before it died or by anything holding its
 * stdout) are dropped, never paired with the next child's request.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KnockgateError } from '../core/errors.js';
import {
  FIREWALL_COMMAND_TIMEOUT_MS,
  MAX_NFT_WORKER_RESPONSE_BYTES,
  MAX_NFT_WORKER_STDERR_BYTES,
} from '../core/limits.js';

/** Where `npm run build` puts the worker, relative to this compiled file (dist/src/gates/). */
export function defaultWorkerPath(): string | undefined {
  const path = fileURLToPath(new URL('../../libexec/knockgate-nft', import.meta.url));
  return existsSync(path) ? path : undefined;
}

interface Request {
  readonly body: Buffer;
  readonly resolve: (output: string) => void;
  readonly reject: (err: unknown) => void;
}

export class NftWorker {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly waiting: Request[] = [];
  private inFlight: Request | undefined;
  /** Bytes of the current child's answer read so far. */
  private received: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly timeoutMs: number = FIREWALL_COMMAND_TIMEOUT_MS,
  ) {}

  /** Runs one JSON document or one nft command line; resolves with what nft printed. */
  run(request: string): Promise<string> {
    if (this.closed)
      return Promise.reject(new KnockgateError('KG_FIREWALL_UNAVAILABLE', 'the nftables worker was closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ body: Buffer.from(request, 'utf8'), resolve, reject });
      this.pump();
    });
  }

  /** Ends the worker (it exits on end of input); requests still queued are rejected. */
  close(): void {
    this.closed = true;
    const err = new KnockgateError('KG_FIREWALL_UNAVAILABLE', 'the nftables worker was closed');
    for (const r of this.waiting.splice(0)) r.reject(err);
    this.child?.stdin.end();
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.waiting.length === 0) return;
    const req = this.waiting.shift() as Request;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.ensureChild();
    } catch (err) {
      req.reject(err);
      this.pump();
      return;
    }
    this.inFlight = req;
    this.timer = setTimeout(() => {
      this.fail(
        new KnockgateError('KG_FIREWALL_FAILED', `the nftables worker did not answer within ${this.timeoutMs} ms`),
      );
    }, this.timeoutMs);
    child.stdin.write(`${req.body.length}\n`);
    child.stdin.write(req.body);
  }

  private ensureChild(): ChildProcessWithoutNullStreams {
    if (this.child !== undefined) return this.child;
    const child = spawn(this.path, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    this.child = child;
    this.received = Buffer.alloc(0);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_NFT_WORKER_STDERR_BYTES) stderr += d;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.child === child) this.onData(chunk);
    });
    child.stdin.on('error', () => {
      /* EPIPE when it died: reported by 'exit' below */
    });
    child.on('error', (err) => {
      if (this.child === child)
        this.fail(
          new KnockgateError('KG_FIREWALL_UNAVAILABLE', `cannot run ${this.path}: ${err.message}`, { cause: err }),
        );
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.inFlight !== undefined) {
        this.fail(
          new KnockgateError(
            'KG_FIREWALL_FAILED',
            `the nftables worker exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`,
          ),
        );
      }
    });
    return child;
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    const newline = this.received.indexOf(10);
    if (newline < 0) {
      if (this.received.length > 32)
        this.fail(new KnockgateError('KG_FIREWALL_FAILED', 'the nftables worker sent a malformed answer'));
      return;
    }
    const header = /^([01]) (\d{1,9})$/.exec(this.received.subarray(0, newline).toString('latin1'));
    if (header === null || Number(header[2]) > MAX_NFT_WORKER_RESPONSE_BYTES) {
      this.fail(new KnockgateError('KG_FIREWALL_FAILED', 'the nftables worker sent a malformed answer'));
      return;
    }
    const length = Number(header[2]);
    if (this.received.length < newline + 1 + length) return;
    const body = this.received.subarray(newline + 1, newline + 1 + length).toString('utf8');
    this.received = this.received.subarray(newline + 1 + length);
    const req = this.inFlight;
    this.inFlight = undefined;
    clearTimeout(this.timer);
    if (req !== undefined) {
      if (header[1] === '0') req.resolve(body);
      else
        req.reject(
          new KnockgateError(
            'KG_FIREWALL_FAILED',
            `nft rejected the batch: ${body.trim().split('\n').slice(0, 3).join(' | ')}`,
          ),
        );
    }
    this.pump();
  }

  /** Kills the worker and rejects the request it held; the next request starts a fresh one. */
  private fail(err: KnockgateError): void {
    clearTimeout(this.timer);
    const child = this.child;
    this.child = undefined;
    if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    const req = this.inFlight;
    this.inFlight = undefined;
    req?.reject(err);
    this.pump();
  }
}

/**
 * A small deterministic mutation fuzzer for the targets in this directory (one node:test file per
 * parser that sees hostile bytes).
 *
 * Contract. runFuzz(target) feeds target.check first every seed (test/fuzz/corpus/<name>/, then
 * target.seeds, then any earlier failure under test/fuzz/crashes/<name>-*.bin), then mutants of
 * them, until the time budget or the iteration cap runs out. check returns a short outcome label
 * (a reject reason, "ok", ...) and throws when the invariant does not hold; an input that takes
 * longer than the slow-input limit is a failure too ("never a hang"). A mutant whose outcome was
 * never seen before joins the pool that later mutants are drawn from, a cheap stand-in for
 * coverage feedback. On a failure the input (and a shrunken copy) is written to
 * test/fuzz/crashes/<name>-<sha256 prefix>.bin and the test fails with the seed, the iteration and
 * the input in hex. A watchdog thread catches a check that never returns (a synchronous infinite
 * loop cannot be interrupted from this thread): it writes the input the same way and kills the
 * process, so the run fails instead of stalling until the CI job's own timeout.
 *
 * Determinism: every random choice comes from one PRNG seeded with KNOCKGATE_FUZZ_SEED (default
 * DEFAULT_SEED, always printed) mixed with the target's name, so a seed replays the same inputs in
 * the same order; only how many of them run depends on the clock. To replay a failure exactly, use
 * the printed seed and KNOCKGATE_FUZZ_MAX_ITERATIONS=<failing iteration + 1> with a large budget,
 * or just rerun: the crash file is replayed first.
 *
 * Environment: KNOCKGATE_FUZZ_SEED (integer, decimal or 0x-hex), KNOCKGATE_FUZZ_BUDGET_MS (time per
 * target file, shared by the runs in it; default DEFAULT_BUDGET_MS, so that all targets together
 * take about 30 s), KNOCKGATE_FUZZ_MAX_ITERATIONS (per run), KNOCKGATE_FUZZ_SLOW_MS (one input),
 * KNOCKGATE_FUZZ_HANG_MS (watchdog).
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TestContext } from 'node:test';
import fc from 'fast-check';

export const DEFAULT_SEED = 0x6b6e6f63; // "knoc"
/** Per target file; ten files, each with its process start-up, come to about 30 s on 2 cores. */
export const DEFAULT_BUDGET_MS = 2_700;
export const DEFAULT_MAX_ITERATIONS = 1_000_000;
export const DEFAULT_SLOW_MS = 2_000;
export const DEFAULT_HANG_MS = 20_000;
/** Mutants kept in the pool besides the seeds. */
const MAX_POOL = 512;
/** Shrinking a failure: at most this many re-checks or this long. */
const SHRINK_STEPS = 4_000;
const SHRINK_MS = 3_000;
/** The watchdog's copy of the input in flight (a bigger input is recorded truncated). */
const WATCHDOG_INPUT_BYTES = 1 << 20;

/** Sources are test/fuzz/*.ts, compiled to dist/test/fuzz/*.js: the corpus stays in the source tree. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CORPUS_DIR = join(ROOT, 'test', 'fuzz', 'corpus');
export const CRASH_DIR = join(ROOT, 'test', 'fuzz', 'crashes');
/** The repository root, for targets that read fixtures (test/fixtures, README.md, docs/). */
export const REPO_ROOT = ROOT;

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v.trim());
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

export const settings = {
  seed: envInt('KNOCKGATE_FUZZ_SEED', DEFAULT_SEED) >>> 0,
  budgetMs: envInt('KNOCKGATE_FUZZ_BUDGET_MS', DEFAULT_BUDGET_MS),
  maxIterations: envInt('KNOCKGATE_FUZZ_MAX_ITERATIONS', DEFAULT_MAX_ITERATIONS),
  slowMs: envInt('KNOCKGATE_FUZZ_SLOW_MS', DEFAULT_SLOW_MS),
  hangMs: envInt('KNOCKGATE_FUZZ_HANG_MS', DEFAULT_HANG_MS),
};

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32, seeded through splitmix32. Small, fast, and the same on every platform.

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** 0..n-1 (n ≥ 1). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n);
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[this.below(xs.length)] as T;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** The seed of one run: the global seed mixed with the run's name, so runs are independent. */
export function seedFor(name: string): number {
  return (settings.seed ^ fnv1a(name)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Mutations

const INTERESTING_8 = [
  0x00, 0xff, 0x7f, 0x80, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0a, 0x10, 0x11, 0x14, 0x20, 0x28, 0x2c, 0x3a, 0x40,
  0x60, 0xfe,
];
const INTERESTING_16 = [
  0x0000, 0xffff, 0x7fff, 0x8000, 0x0001, 0x00ff, 0x0100, 0x0800, 0x86dd, 0x8100, 0x88a8, 0xfffe, 0x0014, 0x0028,
];
const INTERESTING_32 = [0x0000_0000, 0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 0x0000_0001, 0x001f_ffff, 0x0020_0000];

const enc = new TextEncoder();
/** Bytes that separate tokens in text inputs (config files, key files, plaintexts). */
const DELIMS = new Set([
  0x20, 0x09, 0x0a, 0x0d, 0x2c, 0x3a, 0x3d, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x3b, 0x22, 0x27, 0x23,
]);
const TEXT_TOKENS = [
  '\n',
  '\r\n',
  ' ',
  '\t',
  '#',
  ':',
  '=',
  ',',
  ';',
  '"',
  "'",
  '\\',
  '\u0000',
  '\u00a0',
  '\ufeff',
  '\u2028',
  '\u00e9',
  '\ufffd',
  '0',
  '-1',
  '1',
  '65535',
  '65536',
  '4294967296',
  '9007199254740993',
  '99999999999999999999',
  '1e309',
  'NaN',
  '',
];

export interface MutatorOptions {
  readonly kind: 'binary' | 'text';
  readonly maxBytes: number;
  /** Tokens worth inserting (keywords, separators, magic numbers) as UTF-8. */
  readonly dictionary?: readonly string[];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function splitLines(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) {
      out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  out.push(b.subarray(start));
  return out;
}

function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  lines.forEach((l, i) => {
    if (i > 0) parts.push(NEWLINE);
    parts.push(l);
  });
  return concat(...parts);
}
const NEWLINE = Uint8Array.of(0x0a);

/** [start, end) ranges of the non-delimiter runs of a text input. */
function tokenRanges(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= b.length; i++) {
    const delim = i === b.length || DELIMS.has(b[i] as number);
    if (!delim && start < 0) start = i;
    if (delim && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

export class Mutator {
  private readonly tokens: Uint8Array[];
  constructor(
    private readonly rng: Rng,
    private readonly options: MutatorOptions,
  ) {
    this.tokens = [...(options.dictionary ?? []), ...(options.kind === 'text' ? TEXT_TOKENS : [])].map((t) =>
      enc.encode(t),
    );
  }

  /** 1 to 8 stacked mutations of `input`; `pool` supplies the other parent of splices. */
  mutate(input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
    let out: Uint8Array = Uint8Array.from(input);
    const n = 1 + (this.rng.chance(0.25) ? this.rng.below(8) : this.rng.below(2));
    for (let i = 0; i < n; i++) out = this.once(out, pool);
    return out.length > this.options.maxBytes ? out.subarray(0, this.options.maxBytes) : out;
  }

  private once(b: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
    const r = this.rng;
    const text = this.options.kind === 'text';
    // Text inputs get line- and token-level mutations half of the time.
    if (text && r.chance(0.5)) return this.textOnce(b, pool);
    const op = r.below(14);
    const pos = (): number => r.below(b.length);
    if (b.length === 0 && op < 9) return r.bytes(1 + r.below(8));
    switch (op) {
      case 0: {
        // bit flips
        const out = Uint8Array.from(b);
        const flips = 1 + r.below(4);
        for (let k = 0; k < flips; k++) {
          const p = pos();
          out[p] = (out[p] as number) ^ (1 << r.below(8));
        }
        return out;
      }
      case 1: {
        const out = Uint8Array.from(b);
        out[pos()] = r.pick(INTERESTING_8);
        return out;
      }
      case 2: {
        if (b.length < 2) return b;
        const out = Uint8Array.from(b);
        const p = r.below(b.length - 1);
        const v = r.pick(INTERESTING_16);
        const le = r.chance(0.3);
        out[p] = le ? v & 0xff : v >>> 8;
        out[p + 1] = le ? v >>> 8 : v & 0xff;
        return out;
      }
      case 3: {
        if (b.length < 4) return b;
        const out = Uint8Array.from(b);
        const p = r.below(b.length - 3);
        const v = r.pick(INTERESTING_32);
        for (let k = 0; k < 4; k++) out[p + k] = (v >>> (24 - 8 * k)) & 0xff;
        return out;
      }
      case 4: {
        // small arithmetic on a byte (length fields, counts)
        const out = Uint8Array.from(b);
        const p = pos();
        const delta = 1 + r.below(35);
        out[p] = ((out[p] as number) + (r.chance(0.5) ? delta : -delta)) & 0xff;
        return out;
      }
      case 5: {
        // small arithmetic on a big-endian u16 (IP total length, UDP length, ...)
        if (b.length < 2) return b;
        const out = Uint8Array.from(b);
        const p = r.below(b.length - 1);
        const delta = 1 + r.below(64);
        const v = ((((out[p] as number) << 8) | (out[p + 1] as number)) + (r.chance(0.5) ? delta : -delta)) & 0xffff;
        out[p] = v >>> 8;
        out[p + 1] = v & 0xff;
        return out;
      }
      case 6: {
        const out = Uint8Array.from(b);
        out[pos()] = r.next() & 0xff;
        return out;
      }
      case 7: {
        // delete a range
        const p = pos();
        const len = 1 + r.below(Math.min(b.length - p, r.chance(0.8) ? 8 : 128));
        return concat(b.subarray(0, p), b.subarray(p + len));
      }
      case 8: {
        // duplicate a range in place, or copy it over another place
        const p = pos();
        const len = 1 + r.below(Math.min(b.length - p, 64));
        const chunk = b.slice(p, p + len);
        const at = r.below(b.length + 1);
        if (r.chance(0.5)) return concat(b.subarray(0, at), chunk, b.subarray(at));
        const out = Uint8Array.from(b);
        out.set(chunk.subarray(0, Math.max(0, out.length - at)), at);
        return out;
      }
      case 9: {
        // insert random bytes, or a run of one byte
        const at = r.below(b.length + 1);
        const len = 1 + r.below(r.chance(0.9) ? 8 : 256);
        const ins = r.chance(0.5) ? r.bytes(len) : new Uint8Array(len).fill(r.pick(INTERESTING_8));
        return concat(b.subarray(0, at), ins, b.subarray(at));
      }
      case 10:
        // truncate
        return b.subarray(0, r.below(b.length + 1));
      case 11: {
        // splice: head of this one, tail of another
        const other = r.pick(pool);
        return concat(b.subarray(0, r.below(b.length + 1)), other.subarray(r.below(other.length + 1)));
      }
      case 12: {
        // overwrite a range with the same range of another entry (crossover at aligned offsets)
        const other = r.pick(pool);
        if (other.length === 0 || b.length === 0) return b;
        const p = r.below(Math.min(b.length, other.length));
        const len = 1 + r.below(Math.min(b.length, other.length) - p);
        const out = Uint8Array.from(b);
        out.set(other.subarray(p, p + len), p);
        return out;
      }
      default: {
        // insert or overwrite with a dictionary token
        if (this.tokens.length === 0) return r.bytes(1 + r.below(4));
        const tok = r.pick(this.tokens);
        const at = r.below(b.length + 1);
        if (r.chance(0.5)) return concat(b.subarray(0, at), tok, b.subarray(at));
        const out = Uint8Array.from(b);
        out.set(tok.subarray(0, Math.max(0, out.length - at)), at);
        return out;
      }
    }
  }

  private textOnce(b: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
    const r = this.rng;
    const lines = splitLines(b);
    const li = r.below(lines.length);
    switch (r.below(9)) {
      case 0:
        lines.splice(li, 1);
        return joinLines(lines);
      case 1:
        lines.splice(li, 0, lines[li] as Uint8Array);
        return joinLines(lines);
      case 2: {
        const lj = r.below(lines.length);
        const t = lines[li] as Uint8Array;
        lines[li] = lines[lj] as Uint8Array;
        lines[lj] = t;
        return joinLines(lines);
      }
      case 3: {
        // a line from another entry, inserted or in place of this one
        const others = splitLines(r.pick(pool));
        lines.splice(li, r.below(2), r.pick(others));
        return joinLines(lines);
      }
      case 4: {
        // indentation: YAML nesting, knockd/access.conf leading blanks
        const line = lines[li] as Uint8Array;
        let indent = 0;
        while (indent < line.length && line[indent] === 0x20) indent++;
        const next = r.chance(0.5) ? Math.max(0, indent - 2) : indent + 1 + r.below(4);
        lines[li] = concat(new Uint8Array(next).fill(0x20), line.subarray(indent));
        return joinLines(lines);
      }
      case 5:
      case 6: {
        // replace a token with a dictionary token or a token of another entry
        const ranges = tokenRanges(b);
        if (ranges.length === 0) return b;
        const [s, e] = r.pick(ranges);
        let rep: Uint8Array;
        if (this.tokens.length > 0 && r.chance(0.6)) rep = r.pick(this.tokens);
        else {
          const other = r.pick(pool);
          const oranges = tokenRanges(other);
          if (oranges.length === 0) return b;
          const [os, oe] = r.pick(oranges);
          rep = other.subarray(os, oe);
        }
        return concat(b.subarray(0, s), rep, b.subarray(e));
      }
      case 7: {
        // duplicate or delete a token
        const ranges = tokenRanges(b);
        if (ranges.length === 0) return b;
        const [s, e] = r.pick(ranges);
        return r.chance(0.5)
          ? concat(b.subarray(0, e), b.subarray(s, e), b.subarray(e))
          : concat(b.subarray(0, s), b.subarray(e));
      }
      default: {
        // a long line or a deep structure, for the limits and for super-linear parsing
        const tok = this.tokens.length > 0 ? r.pick(this.tokens) : enc.encode('a');
        const times = 16 << r.below(8);
        const run = new Uint8Array(Math.min(tok.length * times, this.options.maxBytes));
        for (let o = 0; o < run.length; o += Math.max(tok.length, 1)) run.set(tok.subarray(0, run.length - o), o);
        const at = r.below(b.length + 1);
        return concat(b.subarray(0, at), run, b.subarray(at));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Corpus and crashes

/** The seed files of a target, in name order. */
export function readCorpus(name: string): Uint8Array[] {
  const dir = join(CORPUS_DIR, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** Earlier failures of a target (test/fuzz/crashes is not checked in): replayed before anything else. */
function readCrashes(name: string): Uint8Array[] {
  if (!existsSync(CRASH_DIR)) return [];
  return readdirSync(CRASH_DIR)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.bin'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(CRASH_DIR, f))));
}

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function writeCrash(name: string, input: Uint8Array): string {
  mkdirSync(CRASH_DIR, { recursive: true });
  const file = join(CRASH_DIR, `${name}-${sha256Hex(input).slice(0, 16)}.bin`);
  writeFileSync(file, input);
  return file;
}

const hexOf = (b: Uint8Array, max = 8_192): string => {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return h.length > 2 * max ? `${h.slice(0, 2 * max)}... (${b.length} bytes; the whole input is in the crash file)` : h;
};

// ---------------------------------------------------------------------------------------------
// Watchdog: a thread of its own, so it runs while a check spins on the main thread.

const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { mkdirSync, writeFileSync, writeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { join } = require('node:path');
const state = new Int32Array(workerData.state);
const input = new Uint8Array(workerData.input);
const t0 = workerData.t0; // the owner's clock origin: [1] is relative to it
setInterval(() => {
  // state: [0] busy flag, [1] start time (ms since t0), [2] input length, [3] iteration
  if (Atomics.load(state, 0) !== 1) return;
  const elapsed = Date.now() - t0 - Atomics.load(state, 1);
  if (elapsed < workerData.hangMs) return;
  const bytes = input.slice(0, Atomics.load(state, 2));
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  let where = '(not written)';
  try {
    mkdirSync(workerData.crashDir, { recursive: true });
    where = join(workerData.crashDir, workerData.name + '-' + sha + '.bin');
    writeFileSync(where, bytes);
  } catch {}
  writeSync(2, '\\nfuzz ' + workerData.name + ': HANG: one input has run for ' + elapsed + ' ms (limit ' + workerData.hangMs +
    ' ms) at iteration ' + Atomics.load(state, 3) + ', seed ' + workerData.seed + '\\ninput written to ' + where +
    '\\ninput (hex): ' + Buffer.from(bytes).toString('hex') + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 250); // not unref'd: it is all this thread does (the thread itself is unref'd by its owner)
`;

class Watchdog {
  private readonly state: Int32Array;
  private readonly input: Uint8Array;
  private readonly worker: Worker;
  private readonly t0 = Date.now();
  constructor(name: string, seed: number) {
    const stateBuf = new SharedArrayBuffer(16);
    const inputBuf = new SharedArrayBuffer(WATCHDOG_INPUT_BYTES);
    this.state = new Int32Array(stateBuf);
    this.input = new Uint8Array(inputBuf);
    this.worker = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: {
        state: stateBuf,
        input: inputBuf,
        name,
        seed: `0x${seed.toString(16)}`,
        crashDir: CRASH_DIR,
        hangMs: settings.hangMs,
        t0: this.t0,
      },
    });
  }
  /** Resolves once the thread runs (until then a spinning check could not be caught); from then on it keeps no process alive. */
  async ready(): Promise<void> {
    await once(this.worker, 'online');
    this.worker.unref();
  }
  begin(input: Uint8Array, iteration: number): void {
    const n = Math.min(input.length, WATCHDOG_INPUT_BYTES);
    this.input.set(input.subarray(0, n));
    Atomics.store(this.state, 2, n);
    Atomics.store(this.state, 3, iteration);
    Atomics.store(this.state, 1, Date.now() - this.t0);
    Atomics.store(this.state, 0, 1);
  }
  end(): void {
    Atomics.store(this.state, 0, 0);
  }
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// The loop

export interface Target {
  /** Corpus directory and crash-file prefix: test/fuzz/corpus/<name>/, crashes/<name>-*.bin. */
  readonly name: string;
  readonly kind: 'binary' | 'text';
  /** Mutants are cut to this size. */
  readonly maxBytes: number;
  readonly dictionary?: readonly string[];
  /** Seeds made at run time, after the checked-in corpus (e.g. packets sealed with the target's keys). */
  readonly seeds?: readonly Uint8Array[];
  /** Share of the file's budget for this run (runs in one file share KNOCKGATE_FUZZ_BUDGET_MS). */
  readonly budgetShare?: number;
  /** The invariant: returns an outcome label, throws when the invariant does not hold. */
  readonly check: (input: Uint8Array) => string | Promise<string>;
}

export interface Report {
  readonly name: string;
  readonly seed: number;
  readonly iterations: number;
  readonly elapsedMs: number;
  readonly outcomes: ReadonlyMap<string, number>;
  readonly seeds: number;
  readonly pool: number;
  /** process warnings emitted by the code under test (not printed during the run). */
  readonly warnings: number;
}

class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

function describeError(e: unknown): string {
  if (e instanceof Error)
    return `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  return String(e);
}

/** Runs one target for its share of the budget; resolves to a report, rejects with a FuzzFailure. */
export async function runFuzz(target: Target): Promise<Report> {
  const seed = seedFor(target.name);
  const rng = new Rng(seed);
  const mutator = new Mutator(rng, target);
  const budget = settings.budgetMs * (target.budgetShare ?? 1);
  const start = performance.now();
  const deadline = start + budget;
  const outcomes = new Map<string, number>();
  const watchdog = new Watchdog(target.name, settings.seed);
  await watchdog.ready();
  let iteration = 0;
  // Libraries warn through process.emitWarning (yaml: "Keys with collection values will be
  // stringified"); thousands of hostile inputs would bury the report, so count them instead.
  const warningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  let warnings = 0;
  const countWarning = (): void => {
    warnings++;
  };
  process.on('warning', countWarning);
  const restoreWarnings = (): void => {
    process.off('warning', countWarning);
    for (const l of warningListeners) process.on('warning', l);
  };

  const runOne = async (input: Uint8Array): Promise<{ outcome?: string; error?: unknown; ms: number }> => {
    watchdog.begin(input, iteration);
    const t = performance.now();
    try {
      const r = target.check(input);
      const outcome = typeof r === 'string' ? r : await r;
      const ms = performance.now() - t;
      if (ms > settings.slowMs)
        return {
          error: new Error(`slow input: ${ms.toFixed(0)} ms > ${settings.slowMs} ms (KNOCKGATE_FUZZ_SLOW_MS)`),
          ms,
        };
      return { outcome, ms };
    } catch (error) {
      return { error, ms: performance.now() - t };
    } finally {
      watchdog.end();
    }
  };

  const fail = async (input: Uint8Array, error: unknown, phase: string): Promise<never> => {
    const file = writeCrash(target.name, input);
    // Shrink: drop chunks, halving their size, while the check still fails.
    let small = input;
    const t0 = performance.now();
    let steps = 0;
    for (let chunk = Math.max(1, small.length >> 1); chunk >= 1; chunk >>= 1) {
      for (let at = 0; at < small.length && steps < SHRINK_STEPS && performance.now() - t0 < SHRINK_MS; steps++) {
        const candidate = concat(small.subarray(0, at), small.subarray(at + chunk));
        const r = await runOne(candidate);
        if (r.error !== undefined) small = candidate;
        else at += chunk;
      }
    }
    let smallNote = '';
    if (small.length < input.length)
      smallNote = `\nshrunk to ${small.length} bytes (${writeCrash(target.name, small)}), hex: ${hexOf(small)}`;
    await watchdog.stop();
    restoreWarnings();
    throw new FuzzFailure(
      [
        `fuzz ${target.name}: invariant failed (${phase}, iteration ${iteration}, KNOCKGATE_FUZZ_SEED=0x${settings.seed.toString(16)})`,
        describeError(error),
        `input (${input.length} bytes) written to ${file}`,
        `input hex: ${hexOf(input)}${smallNote}`,
      ].join('\n'),
    );
  };

  const seeds = [...readCorpus(target.name), ...(target.seeds ?? [])];
  const pool: Uint8Array[] = seeds.length > 0 ? [...seeds] : [new Uint8Array(0)];
  // Seeds and earlier crashes first: each must hold the invariant like any other input.
  for (const [phase, inputs] of [
    ['crash replay', readCrashes(target.name)],
    ['seed', seeds],
  ] as const) {
    for (const input of inputs) {
      const r = await runOne(input);
      if (r.error !== undefined) await fail(input, r.error, phase);
      outcomes.set(r.outcome as string, (outcomes.get(r.outcome as string) ?? 0) + 1);
      iteration++;
    }
  }
  const fixed = pool.length;
  while (iteration < settings.maxIterations && performance.now() < deadline) {
    const input = mutator.mutate(rng.pick(pool), pool);
    const r = await runOne(input);
    if (r.error !== undefined) await fail(input, r.error, 'mutant');
    const outcome = r.outcome as string;
    const seen = outcomes.get(outcome);
    outcomes.set(outcome, (seen ?? 0) + 1);
    if (seen === undefined) {
      if (pool.length < fixed + MAX_POOL) pool.push(input);
      else pool[fixed + rng.below(MAX_POOL)] = input;
    }
    iteration++;
  }
  await watchdog.stop();
  // Warnings are emitted on the next tick: let them arrive before counting.
  await new Promise((resolve) => setImmediate(resolve));
  restoreWarnings();
  return {
    name: target.name,
    seed,
    iterations: iteration,
    elapsedMs: performance.now() - start,
    outcomes,
    seeds: seeds.length,
    pool: pool.length,
    warnings,
  };
}

export function formatReport(r: Report): string {
  const rate = r.elapsedMs > 0 ? Math.round((r.iterations * 1000) / r.elapsedMs) : 0;
  const sorted = [...r.outcomes].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, 16).map(([k, n]) => `${k.length > 60 ? `${k.slice(0, 60)}…` : k}×${n}`);
  const outcomes =
    shown.join(', ') + (sorted.length > shown.length ? `, and ${sorted.length - shown.length} more` : '');
  const warned = r.warnings > 0 ? `; ${r.warnings} process warnings` : '';
  return `${r.name}: ${r.iterations} inputs (${r.seeds} seeds) in ${r.elapsedMs.toFixed(0)} ms, ${rate}/s; seed 0x${settings.seed.toString(16)}${warned}; ${r.outcomes.size} distinct outcomes: ${outcomes}`;
}

/** Runs a target and prints its report on the test (the spec reporter shows it under the test). */
export async function fuzzIn(t: TestContext, target: Target): Promise<Report> {
  const report = await runFuzz(target);
  t.diagnostic(formatReport(report));
  return report;
}

/** A node:test timeout that a run within its budget never reaches (shrinking and seeds included). */
export function testTimeoutMs(): number {
  return settings.budgetMs * 3 + 60_000;
}

// ---------------------------------------------------------------------------------------------
// fast-check, for structure-aware properties, on the same seed and budget

/**
 * Checks a fast-check property for `share` of the budget (or numRuns runs, whichever ends first),
 * seeded from KNOCKGATE_FUZZ_SEED; prints the runs made and fails with fast-check's report, which
 * includes its seed and the shrunk counterexample.
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  t: TestContext,
  name: string,
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  options: { share: number; numRuns?: number },
): Promise<void> {
  const start = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, {
    seed: seedFor(name) | 0,
    numRuns: options.numRuns ?? 1_000_000,
    interruptAfterTimeLimit: Math.max(1, Math.round(settings.budgetMs * options.share)),
    markInterruptAsFailure: false,
  });
  if (details.failed)
    throw new FuzzFailure(
      `property ${name} (KNOCKGATE_FUZZ_SEED=0x${settings.seed.toString(16)}):\n${fc.defaultReportMessage(details)}`,
    );
  const ms = performance.now() - start;
  t.diagnostic(
    `${name}: ${details.numRuns} runs in ${ms.toFixed(0)} ms, ${Math.round((details.numRuns * 1000) / Math.max(ms, 1))}/s; seed 0x${settings.seed.toString(16)}`,
  );
}

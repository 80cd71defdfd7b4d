/**
 * Runs the bundled client program (dist/src/cli/knockgate-client.cjs, made by
 * scripts/bundle-client.ts) as Node would run a CommonJS file, but compiled with the V8 code cache
 * that the build wrote beside it (knockgate-client.cjs.cache), so that a knock does not spend its
 * start-up compiling commander, yaml and the client from source. Node 20 has no compile cache of
 * its own for this (module.enableCompileCache is Node 22.1+).
 *
 * Contract:
 * - The cache is used only when it was made from exactly this bundle by this Node version: V8's own
 *   check of cached data compares the source's length, not its text, so the cache file starts
 *   with a SHA-256 of (the bundle's text, process.version, process.arch), checked here before V8
 *   sees the data. Any mismatch, a missing or short cache, or V8 refusing it, and the bundle is
 *   compiled from source as usual: the cache changes how fast the client starts, never what it does.
 * - Nothing here writes a file while the client runs; the cache is written only by the build
 *   (trainCodeCache), as the bundle is, so it is as trusted as the code it sits beside.
 * - CommonJS, and only built-in modules: the `knockgate` entry requires this before anything else.
 */

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

const HASH_BYTES = 32;

export const codeCachePath = (bundle: string): string => `${bundle}.cache`;

/** Over the bundle's bytes as read (the same digest as over its text: SHA-256 of its UTF-8). */
function cacheKey(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).update(`\0${process.version}\0${process.arch}`).digest();
}

/** CommonJS's wrapper, as node:module's Module.wrap writes it. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

/** The bundle's cached data when the cache was made from this text by this Node. */
function cachedDataFor(bundle: string, bytes: Buffer): Buffer | 'absent' | 'mismatch' {
  let cache: Buffer;
  try {
    cache = readFileSync(codeCachePath(bundle));
  } catch {
    return 'absent';
  }
  if (cache.length <= HASH_BYTES || !cache.subarray(0, HASH_BYTES).equals(cacheKey(bytes))) return 'mismatch';
  return cache.subarray(HASH_BYTES);
}

function compile(bundle: string, source: string, cachedData: Buffer | undefined): Script {
  return new Script(wrap(source), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
}

/** How the bundle was compiled: from its cache, or from source because the cache was absent, made
 * from another text or Node (mismatch), or refused by V8 (rejected). */
export type CacheUse = 'used' | 'absent' | 'mismatch' | 'rejected';

/** Compiles `bundle` (not yet run), with its cache when the cache fits. */
export function compileClientBundle(bundle: string): { script: Script; cache: CacheUse } {
  const bytes = readFileSync(bundle);
  const cachedData = cachedDataFor(bundle, bytes);
  // The build writes an ASCII-only bundle (bundle-client.ts refuses any other): bytes the cache
  // was made from read the same as Latin-1 as as UTF-8, and Latin-1 skips the decoder's pass over
  // 300 KB. Any other bytes are read as UTF-8, as Node reads a script.
  const source = typeof cachedData === 'string' ? bytes.toString('utf8') : bytes.toString('latin1');
  const script = compile(bundle, source, cachedData === 'absent' || cachedData === 'mismatch' ? undefined : cachedData);
  if (typeof cachedData === 'string') return { script, cache: cachedData };
  return { script, cache: script.cachedDataRejected ? 'rejected' : 'used' };
}

/**
 * Runs `bundle` as the main program, compiled with its cache when the cache fits. A bundle that
 * cannot be read (a checkout built with tsc alone) is an internal error (70) that says so.
 */
export function runClientBundle(bundle: string): void {
  let compiled: { script: Script };
  try {
    compiled = compileClientBundle(bundle);
  } catch (err) {
    process.stderr.write(
      `knockgate: internal error: cannot load the client program ${bundle} (${(err as Error).message}); npm run build makes it\n`,
    );
    process.exit(70);
  }
  execute(bundle, compiled.script);
}

function execute(bundle: string, script: Script): void {
  const module = { exports: {} };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  // The bundle needs only built-in modules, which this file's require resolves as any would.
  fn.call(module.exports, module.exports, require, module, bundle, dirname(bundle));
}

/**
 * For the build only: runs `bundle` (process.argv as the bundle should see it), and when the process
 * exits writes the code cache of everything the run compiled, keyed as cachedDataFor expects.
 */
export function trainCodeCache(bundle: string): void {
  const bytes = readFileSync(bundle);
  const source = bytes.toString('utf8');
  const script = compile(bundle, source, undefined);
  process.on('exit', () => {
    writeFileSync(codeCachePath(bundle), Buffer.concat([cacheKey(bytes), script.createCachedData()]), {
      mode: 0o644,
    });
  });
  execute(bundle, script);
}

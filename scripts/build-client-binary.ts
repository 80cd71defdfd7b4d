/**
 * `npm run build:client-binary`: the client as one executable file, for a machine with no Node and
 * no checkout (a USB stick). It is Node's single-executable application: the running node binary
 * (process.execPath) copied, with the client bundle (dist/src/cli/knockgate-client.cjs, made by
 * `npm run build`; scripts/bundle-client.ts) injected by postject as the NODE_SEA_BLOB resource.
 * The bundle needs only built-in modules and no native part, as a single executable's main script
 * must on Node 20. The same steps work with Node 22 and 24 (the blob must come from the node binary
 * it is injected into, which is why both are process.execPath).
 *
 * Contract: writes the executable to --out FILE (default dist/knockgate-client), mode 0755, only
 * once it is complete (a temporary file renamed over it) and after it printed this build's version
 * for `--version`; any failed step exits 1 naming the step, and leaves no file at FILE.
 * Usage: npm run build:client-binary [-- --out FILE]
 */

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../src/version.js';

const BUILD_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = join(BUILD_ROOT, 'src', 'cli', 'knockgate-client.cjs');
/** The fuse Node's single-executable support looks for (Node's documentation; the same on 20, 22, 24). */
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const POSTJECT = createRequire(import.meta.url).resolve('postject/dist/cli.js');

class StepFailed extends Error {}

function fail(step: string, detail: string): never {
  throw new StepFailed(`${step}: ${detail.trim()}`);
}

function run(step: string, args: string[]): void {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) fail(step, `${r.stderr}${r.stdout}` || `exit ${r.status ?? r.signal}`);
}

function buildBinary(out: string): void {
  if (!existsSync(BUNDLE)) fail('the client bundle', `${BUNDLE} is missing: run npm run build first`);
  const work = mkdtempSync(join(tmpdir(), 'knockgate-sea-'));
  const partial = `${out}.partial`;
  try {
    const blob = join(work, 'knockgate-client.blob');
    const config = join(work, 'sea-config.json');
    // No start-up warning (it would land in ssh's output for a ProxyCommand); the code cache makes
    // the executable's own start-up compile less, as the code cache of knockgate.cjs does.
    writeFileSync(
      config,
      JSON.stringify({ main: BUNDLE, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
    );
    run('node --experimental-sea-config', ['--experimental-sea-config', config]);
    copyFileSync(process.execPath, partial);
    chmodSync(partial, 0o755);
    run('postject', [POSTJECT, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE]);
    const check = spawnSync(partial, ['--version'], { encoding: 'utf8', env: {} });
    if (check.status !== 0 || check.stdout !== `${VERSION}\n`)
      fail('checking the executable', `--version printed ${JSON.stringify(check.stdout)} ${check.stderr}`);
    renameSync(partial, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}

try {
  const outArg = process.argv.indexOf('--out');
  const out = resolve(
    outArg > 0 ? (process.argv[outArg + 1] ?? fail('--out', 'needs a file')) : join(BUILD_ROOT, 'knockgate-client'),
  );
  buildBinary(out);
  const mib = (statSync(out).size / 2 ** 20).toFixed(1);
  process.stdout.write(`build-client-binary: wrote ${out} (${mib} MiB, node ${process.version})\n`);
} catch (err) {
  if (!(err instanceof StepFailed)) throw err;
  process.stderr.write(`build-client-binary: ${err.message}\n`);
  process.exitCode = 1;
}

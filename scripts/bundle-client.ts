/**
 * Bundles the client program (src/cli/knockgate-client.ts, as tsc built it into dist/) with esbuild
 * into one CommonJS file, dist/src/cli/knockgate-client.cjs: the file `knockgate knock`/`connect`
 * load (src/cli/knockgate.cts) and the main script of the single executable
 * (build-client-binary.ts). Run by `npm run build` after tsc. Then, beside it, the V8 code cache
 * that src/cli/client-bundle.cts loads it with: written by a training run of the bundle, one real
 * SPA knock with a throwaway credential to a UDP socket of this process on 127.0.0.1 (so the cache
 * holds what a knock compiles: commander, the YAML reader, the SPA sealing).
 *
 * yaml is bundled from its ES module build (the package's "browser" build, the same code as its
 * CommonJS one; it differs in printing YAML warnings with console.warn rather than
 * process.emitWarning), because esbuild can drop from it what the client never calls.
 *
 * Contract: the bundle requires nothing at run time but Node's built-in modules (a single
 * executable's main script on Node 20 can require nothing else), so a bundle that would leave any
 * other module outside, or that pulls in a native part (sensors/, gates/, the table lock, a .node
 * file), is refused
 * here with the offending inputs named, and nothing is written.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { trainCodeCache } from '../src/cli/client-bundle.cjs';

const BUILD_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_BUNDLE = join(BUILD_ROOT, 'src', 'cli', 'knockgate-client.cjs');
/** What loads a native part (the addon loader and its users, a .node file): never in the client. */
const FORBIDDEN_INPUT = /(^|\/)dist\/src\/(sensors|gates)\/|(^|\/)dist\/src\/stores\/table-lock\.js$|\.node$/;
const KNOCKGATE = join(BUILD_ROOT, 'src', 'cli', 'knockgate.cjs');

/** `yaml` from its ES module build (see the header). */
const yamlAsModules: Plugin = {
  name: 'yaml-as-es-modules',
  setup(b) {
    const esm = join(
      dirname(createRequire(import.meta.url).resolve('yaml/package.json')),
      'browser',
      'dist',
      'index.js',
    );
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: esm }));
  },
};

async function main(): Promise<void> {
  const result = await build({
    entryPoints: [join(BUILD_ROOT, 'src', 'cli', 'knockgate-client.js')],
    outfile: CLIENT_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Whitespace and syntax minified (a third less to read and hash at every start); names are
    // kept, so a stack trace from a user's machine still names the functions in it.
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [yamlAsModules],
  });
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const output = Object.values(result.metafile.outputs)[0];
  const outside = (output?.imports ?? []).filter((i) => i.external && !builtins.has(i.path)).map((i) => i.path);
  const forbidden = Object.keys(result.metafile.inputs).filter((p) => FORBIDDEN_INPUT.test(p));
  if (outside.length > 0 || forbidden.length > 0 || result.outputFiles.length !== 1) {
    process.stderr.write(
      `bundle-client: refused: ${[...outside.map((p) => `requires ${p} at run time`), ...forbidden.map((p) => `includes ${p}`)].join('; ') || 'not one output file'}\n`,
    );
    process.exit(1);
  }
  const contents = result.outputFiles[0]!.contents;
  // client-bundle.cts reads the bundle as Latin-1 when its cache fits, which is exact for ASCII
  // only (esbuild escapes anything else by default: this holds it to that).
  const nonAscii = contents.findIndex((b) => b > 0x7f);
  if (nonAscii >= 0) {
    process.stderr.write(`bundle-client: refused: a byte over 0x7f at offset ${nonAscii} of the bundle\n`);
    process.exit(1);
  }
  writeFileSync(CLIENT_BUNDLE, contents);
  await train();
}

/** The training run: a child process of this script with --train, knocking this process's socket. */
async function train(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'knockgate-bundle-'));
  const door = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => door.bind(0, '127.0.0.1', resolve));
    const knocked = new Promise<void>((resolve) => door.once('message', () => resolve()));
    const tool = (args: string[]) => {
      const r = spawnSync(process.execPath, [KNOCKGATE, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bundle-client: knockgate ${args[0]}: ${r.stderr}`);
    };
    tool(['keygen', '-o', join(dir, 'server.key')]);
    const cred = join(dir, 'train.knockgate.yaml');
    const port = String(door.address().port);
    tool(['add-client', 'train', '-k', join(dir, 'server.key'), '--door', 'train', '--port', port, '-o', cred]);
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--train', 'knock', '127.0.0.1', '--credential', cred],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (status !== 0) throw new Error(`bundle-client: the training knock exited ${status}`);
    await knocked;
  } finally {
    door.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--train') {
  process.argv.splice(2, 1); // the bundle sees `node FILE knock ...`, as when run for real
  trainCodeCache(CLIENT_BUNDLE);
} else {
  await main();
}

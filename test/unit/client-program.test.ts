/**
 * The client program that `knockgate knock`/`connect` run (the bundle dist/src/cli/knockgate-client.cjs
 * and its code cache, src/cli/client-bundle.cts): the entry sends exactly the client commands to it,
 * the bundle needs only Node's built-in modules, and its code cache is used only for the text it was
 * made from, so an edited bundle runs as edited.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { codeCachePath, compileClientBundle } from '../../src/cli/client-bundle.cjs';
import { CLIENT_COMMANDS } from '../../src/cli/knockgate/client-command-names.cjs';
import { addAllCommands } from '../../src/cli/knockgate/all-commands.js';
import { addClientCommands } from '../../src/cli/knockgate/client-commands.js';
import { VERSION } from '../../src/version.js';
import { BUILD_ROOT, KNOCKGATE } from '../support/daemon-process.js';

const BUNDLE = join(BUILD_ROOT, 'src', 'cli', 'knockgate-client.cjs');

describe('the client program', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knockgate-client-program-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is sent exactly the commands client-commands.ts registers, which the whole tool has too', () => {
    const client = new Command();
    addClientCommands(client);
    assert.deepEqual(
      client.commands.map((c) => c.name()),
      [...CLIENT_COMMANDS],
    );
    for (const name of CLIENT_COMMANDS) {
      const one = new Command();
      addClientCommands(one, name);
      assert.deepEqual(
        one.commands.map((c) => c.name()),
        [name],
        'the client program started for one command builds that one only',
      );
    }
    const unknown = new Command();
    addClientCommands(unknown, '--help');
    assert.equal(unknown.commands.length, CLIENT_COMMANDS.length, 'anything else builds them all');
    const all = new Command();
    addAllCommands(all);
    for (const name of CLIENT_COMMANDS)
      assert.ok(
        all.commands.some((c) => c.name() === name),
        name,
      );
  });

  it('answers a client command through the bundle with the same exit statuses', () => {
    const usage = spawnSync(process.execPath, [KNOCKGATE, 'knock'], { encoding: 'utf8' });
    assert.equal(usage.status, 64);
    assert.match(usage.stderr, /missing required argument 'host'/);
    const help = spawnSync(process.execPath, [KNOCKGATE, 'connect', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: knockgate connect \[options\] <host> <port>/);
    const noCredential = spawnSync(process.execPath, [KNOCKGATE, 'connect', '192.0.2.1', '22'], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CONFIG_HOME: dir },
    });
    assert.equal(noCredential.status, 64);
    assert.match(noCredential.stderr, /^knockgate: no credential for 192\.0\.2\.1/);
  });

  it('requires nothing at run time but built-in modules', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    const required = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] as string);
    assert.ok(required.length > 0);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    assert.deepEqual(
      required.filter((m) => !builtins.has(m)),
      [],
    );
  });

  it('is an internal error (70) naming the file when the bundle is missing', () => {
    const missing = join(dir, 'no-such-bundle.cjs');
    const loader = JSON.stringify(join(BUILD_ROOT, 'src', 'cli', 'client-bundle.cjs'));
    const r = spawnSync(process.execPath, ['-e', `require(${loader}).runClientBundle(${JSON.stringify(missing)})`], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 70);
    assert.equal(r.stderr.split('\n').length, 2, 'one line, no stack trace');
    assert.ok(r.stderr.includes(`cannot load the client program ${missing}`), r.stderr);
  });

  it('has the code cache the build wrote beside it', () => {
    // Used only by the Node that built it (the cache is keyed by process.version); the newer
    // runtimes of scripts/test-runtimes.sh run this build too, and compile from source.
    assert.notEqual(compileClientBundle(BUNDLE).cache, 'absent');
  });

  it('uses a cache trained by this Node for this text, and ignores it for any other text, even of the same length', () => {
    const copy = join(dir, 'knockgate-client.cjs');
    const loader = JSON.stringify(join(BUILD_ROOT, 'src', 'cli', 'client-bundle.cjs'));
    // node -e CODE ARG...: argv is [node, ARG...]; the program reads from argv[2], as for a script.
    const runCopy = (fn: string) =>
      spawnSync(process.execPath, ['-e', `require(${loader}).${fn}(${JSON.stringify(copy)})`, 'bundle', '--version'], {
        encoding: 'utf8',
      });
    copyFileSync(BUNDLE, copy);
    const trained = runCopy('trainCodeCache');
    assert.equal(trained.stdout, `${VERSION}\n`, trained.stderr);
    assert.equal(compileClientBundle(copy).cache, 'used');

    const text = readFileSync(BUNDLE, 'utf8');
    const other = '9'.repeat(VERSION.length);
    const inlined = /\bVERSION ?= ?"([^"]+)"/.exec(text);
    assert.equal(inlined?.[1], VERSION, 'the bundle inlines VERSION');
    writeFileSync(copy, text.replace(inlined[0], inlined[0].replace(VERSION, other)));
    assert.equal(readFileSync(copy).length, readFileSync(BUNDLE).length);
    assert.equal(compileClientBundle(copy).cache, 'mismatch');
    const edited = runCopy('runClientBundle');
    assert.equal(edited.stdout, `${other}\n`, edited.stderr);
    rmSync(codeCachePath(copy));
    assert.equal(compileClientBundle(copy).cache, 'absent');
  });
});

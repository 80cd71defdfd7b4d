/**
 * Covers a credential's `max_duration` (stores/key-files.ts), what keep-open asks for when not told
 * --duration: add-client --max-duration writes it into the credential and, as the same
 * max_duration, into the server entry (client/provision.ts), and the entry compiles into a client
 * whose limit is that; add-client --reissue writes what the config allows the client (its
 * max_duration, else the door's, else the door's duration: client/reissue.ts); a credential
 * without one reads as before; a bad one is a ConfigError naming the key; keepOpenDurationS
 * (client/keep-open-spa.ts) takes --duration, else the credential's, refuses one above it and
 * refuses to guess when neither is known.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { keepOpenDurationS } from '../../src/client/keep-open-spa.js';
import { addClient, createServerKey } from '../../src/client/provision.js';
import { reissueClient } from '../../src/client/reissue.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';
import { readClientCredential } from '../../src/stores/key-files.js';

let d = '';
beforeEach(() => {
  d = mkdtempSync(join(tmpdir(), 'kg-maxdur-'));
  createServerKey(join(d, 'server.key'), false);
});
afterEach(() => rmSync(d, { recursive: true, force: true }));

const make = (name: string, maxDurationS?: number) =>
  addClient({
    name,
    serverKeyFile: join(d, 'server.key'),
    door: 'ssh',
    mode: 'ed25519',
    port: 62209,
    out: join(d, `${name}.yaml`),
    force: false,
    ...(maxDurationS !== undefined ? { maxDurationS } : {}),
  });

function config(doorLines: string[], entry: string): string {
  return [
    'interfaces: [any]',
    'spa:',
    '  server_key: server.key',
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62209}',
    '    open: [22/tcp]',
    ...doorLines.map((l) => `    ${l}`),
    '    clients:',
    ...entry
      .trimEnd()
      .split('\n')
      .map((l) => `      ${l}`),
    '',
  ].join('\n');
}

describe('credential max_duration', () => {
  it('add-client --max-duration: the credential and the server entry say the same', () => {
    const r = make('alice', 600);
    assert.match(readFileSync(join(d, 'alice.yaml'), 'utf8'), /^max_duration: 10m$/m);
    assert.equal(readClientCredential(join(d, 'alice.yaml')).maxDurationS, 600);
    assert.match(r.serverEntry, /^ {2}max_duration: 600s$/m);
    const compiled = parseConfigText(join(d, 'knockgate.yaml'), config(['max_duration: 1h'], r.serverEntry));
    assert.equal(compiled.doors[0]?.spa?.clients[0]?.maxDurationS, 600);
  });

  it('without it, neither has one, and keep-open refuses to guess', () => {
    const r = make('bob');
    const cred = readClientCredential(join(d, 'bob.yaml'));
    assert.equal(cred.maxDurationS, undefined);
    assert.doesNotMatch(r.serverEntry, /max_duration/);
    assert.throws(
      () => keepOpenDurationS(undefined, cred),
      (e: unknown) =>
        e instanceof KnockgateError && e.exitCode === 64 && /must know how long a grant lasts/.test(e.message),
    );
    assert.equal(keepOpenDurationS(20, cred), 20);
  });

  it('keep-open takes --duration up to the credential limit, else the limit', () => {
    make('carol', 30);
    const cred = readClientCredential(join(d, 'carol.yaml'));
    assert.equal(keepOpenDurationS(undefined, cred), 30);
    assert.equal(keepOpenDurationS(10, cred), 10);
    assert.throws(() => keepOpenDurationS(31, cred), /above this credential's max_duration of 30s/);
    assert.throws(() => keepOpenDurationS(1, cred), /from 2s to 86400s/);
  });

  for (const [label, doorLines, extra, expected] of [
    ["the client's own", ['duration: 5s', 'max_duration: 1h'], '  max_duration: 2m\n', 120],
    ["the door's max_duration", ['duration: 5s', 'max_duration: 1h'], '', 3600],
    ["the door's duration", ['duration: 45s'], '', 45],
  ] as const) {
    it(`--reissue writes what the config allows: ${label}`, () => {
      const first = make('dave');
      const file = join(d, 'knockgate.yaml');
      writeFileSync(file, config([...doorLines], first.serverEntry + extra), { mode: 0o600 });
      reissueClient({ name: 'dave', configFile: file, door: 'ssh', out: join(d, 'dave2.yaml'), force: false });
      assert.equal(readClientCredential(join(d, 'dave2.yaml')).maxDurationS, expected);
    });
  }

  it('a bad max_duration is refused, naming the key', () => {
    make('erin');
    const file = join(d, 'erin.yaml');
    const text = readFileSync(file, 'utf8');
    for (const bad of ['30', '1500ms', '0s', '2d', 'soon']) {
      writeFileSync(file, `${text}max_duration: ${bad}\n`, { mode: 0o600 });
      assert.throws(
        () => readClientCredential(file),
        (e: unknown) => e instanceof ConfigError && /max_duration: must be whole seconds/.test(e.message),
        bad,
      );
    }
  });
});

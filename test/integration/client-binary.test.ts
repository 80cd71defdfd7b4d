/**
 * The client as one executable file (`npm run build:client-binary`, scripts/build-client-binary.ts),
 * as on a USB stick: built here with the real build script into a temporary directory with a
 * credential beside it, then run in the client's network namespace with no Node anywhere it could
 * find one: an environment holding only PATH and HOME=that directory, and a mount namespace in
 * which the node binary is an empty file and the checkout an empty directory. From there it keeps
 * the credential as a profile and knocks the real knockgated's SPA door by the profile's name (the
 * port opens for that source only), relays a connection as ssh's ProxyCommand would with the
 * credential given by path, prints its version, and exits 64 on a usage error.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BANNER } from '../support/banner-server.js';
import { BUILD_ROOT, REPO_ROOT, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the single-executable client', () => {
  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: ({ tb }) => ({ stick: ['--door', 'ssh', '--port', '62201', '--server', tb.server.clientSide.v4] }),
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 30s',
      '    clients:',
      ...clientEntry('stick'),
    ],
  });
  const { tb, daemon, cred } = s;
  const work = mkdtempSync(join(tmpdir(), 'knockgate-client-binary-'));
  const stick = join(work, 'stick');
  const emptyFile = join(work, 'empty-file');
  const emptyDir = join(work, 'empty-dir');
  const exe = join(stick, 'knockgate');
  const credential = join(stick, 'stick.knockgate.yaml');
  after(() => rmSync(work, { recursive: true, force: true }));

  before(() => {
    mkdirSync(stick);
    mkdirSync(emptyDir);
    writeFileSync(emptyFile, '');
    const built = spawnSync(process.execPath, [join(BUILD_ROOT, 'scripts', 'build-client-binary.js'), '--out', exe], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, /wrote .* \(\d+\.\d MiB, node v\d+/);
    copyFileSync(cred('stick'), credential);
  });

  /**
   * Runs `argv` (argv[0] looked up on PATH=the stick only) in `ns` with no Node to be found: the
   * script below is fixed and the arguments reach it as "$@" (no shell text is made from data); it
   * exits 91 without running anything if the hiding did not take.
   */
  const onStick = (ns: string, argv: string[], input = '') => {
    const hideThenRun = [
      'mount --bind "$1" "$3" && mount --bind "$2" "$4" || exit 90',
      'if [ -s "$3" ] || [ -e "$4/package.json" ]; then exit 91; fi',
      'shift 4',
      'exec env -i PATH="$STICK" HOME="$STICK" "$@"',
    ].join('\n');
    return spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'env',
        `STICK=${stick}`,
        'sh',
        '-c',
        hideThenRun,
        'sh',
        emptyFile,
        emptyDir,
        process.execPath,
        REPO_ROOT,
        ...argv,
      ],
      { encoding: 'utf8', input, timeout: 30_000 },
    );
  };

  it('has no node to find, and prints its version', () => {
    const node = onStick(tb.client.ns, ['node', '--version']);
    assert.equal(node.status, 127, 'env: node: not found');
    const byPath = onStick(tb.client.ns, [process.execPath, '--version']);
    assert.notEqual(byPath.status, 0, 'the node binary is hidden');
    assert.doesNotMatch(byPath.stdout, /^v\d/);
    const r = onStick(tb.client.ns, ['knockgate', '--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
  });

  it('exits 64 with a message on a usage error', () => {
    const r = onStick(tb.client.ns, ['knockgate', 'knock']);
    assert.equal(r.status, 64);
    assert.match(r.stderr, /missing required argument 'host'/);
    const unknown = onStick(tb.client.ns, ['knockgate', 'knock', tb.server.clientSide.v4, '--no-such-flag']);
    assert.equal(unknown.status, 64);
  });

  it('keeps the credential as a profile on the stick and knocks it by name: the port opens for its source only', async () => {
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    const added = onStick(tb.client.ns, ['knockgate', 'profile', 'add', credential, 'gw']);
    assert.equal(added.status, 0, added.stderr);
    assert.match(
      added.stdout,
      new RegExp(`knockgate knock gw knocks ${tb.server.clientSide.v4.replaceAll('.', '\\.')}`),
    );
    const r = onStick(tb.client.ns, ['knockgate', 'knock', 'gw', '-v']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^SPA to ${tb.server.clientSide.v4.replaceAll('.', '\\.')} port 62201/udp\n +client: +stick `),
    );
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.client === 'stick', 5000, 'the grant');
    assert.equal(grant.source, tb.client.v4);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });

  it('connects through the door and relays, as ssh ProxyCommand', () => {
    const r = onStick(tb.other.ns, ['knockgate', 'connect', tb.server.otherSide.v4, '22', '-c', credential]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, BANNER);
  });
});

/**
 * What a user is told when a knock does not work, on the real kernel with the real client and
 * daemon: a knock that cannot leave the client's host is one line and exit 69 (never a stack
 * trace); `knock -v` says what it asks for, with the server key's fingerprint the daemon logs;
 * `knock --wait` and `connect` tell an opened port from a filtered one (the likely causes, in
 * order) and from a reset (nothing listens); a profile knocks the server it names; a
 * world-readable configuration is warned about for its knock sequences only.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KNOCKGATE, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const UNROUTED_V4 = '198.18.255.1'; // the testbed numbers 198.18.1-127 only: no route leads here
const UNROUTED_V6 = '2001:db8:ffff::1';

describe('client errors that say what to do', () => {
  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: (sc) => ({
      alice: ['--door', 'ssh', '--port', '62201', '--server', sc.tb.server.clientSide.v4],
    }),
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp, 2223/tcp]',
      '    duration: 4s',
      '    max_duration: 30s',
      '    clients:',
      ...clientEntry('alice'),
      '  - name: classic',
      '    sequence: [7100, 7200]',
      '    open: [2224/tcp]',
      '    duration: 4s',
    ],
  });
  const { tb, cred } = s;
  const home = mkdtempSync(join(tmpdir(), 'kg-home-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  /** The client in the client's namespace, with its own HOME; status and both streams. */
  const client = (args: readonly string[]) => {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', tb.client.ns, 'env', `HOME=${home}`, 'XDG_CONFIG_HOME=', process.execPath, KNOCKGATE, ...args],
      { encoding: 'utf8', timeout: 30_000 },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const noStack = (stderr: string): void => {
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(stderr, /internal error/);
  };

  it('a knock that cannot leave this host: one line naming the packet, exit 69, for SPA and classic, v4 and v6', () => {
    for (const args of [
      ['knock', UNROUTED_V4, '-c', cred('alice')],
      ['knock', UNROUTED_V4, '7100', '7200/udp'],
      ['knock', UNROUTED_V6, '7100/udp'],
      ['connect', UNROUTED_V4, '22', '-c', cred('alice')],
    ]) {
      const r = client(args);
      assert.equal(r.status, 69, `${args.join(' ')}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^knockgate: .*cannot send to .* the network is unreachable .*\[ENETUNREACH\](; the sequence was not sent)?\n$/,
      );
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
      noStack(r.stderr);
    }
    assert.match(client(['knock', UNROUTED_V4, '7100', '7200']).stderr, /step 1 of 2: /);
  });

  it('profile add, list, show; knock NAME reaches the server the profile names', () => {
    const added = client(['profile', 'add', cred('alice'), 'gw']);
    assert.equal(added.status, 0, added.stderr);
    assert.match(
      added.stdout,
      new RegExp(`knockgate knock gw knocks ${tb.server.clientSide.v4.replace(/\./g, '\\.')}`),
    );
    const again = client(['profile', 'add', cred('alice'), 'gw']);
    assert.equal(again.status, 64);
    assert.match(again.stderr, /profile "gw" exists/);
    const list = client(['profile', 'list']);
    assert.match(list.stdout, /^PROFILE +SERVER +DOOR +CLIENT +SECRET$/m);
    assert.match(
      list.stdout,
      new RegExp(`^gw +${tb.server.clientSide.v4.replace(/\./g, '\\.')} +ssh +alice +ed25519$`, 'm'),
    );
    const show = client(['profile', 'show', 'gw']);
    assert.match(show.stdout, /^server key: SHA256:/m);
    assert.doesNotMatch(show.stdout + list.stdout, /private_key|psk:/, 'never the secret');

    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22, 500).outcome, 'timeout');
    const knocked = client(['knock', 'gw', '--ports', '22/tcp', '--wait', '22']);
    assert.equal(knocked.status, 0, knocked.stderr);
  });

  it('knock -v says what it asks for, and the server key fingerprint is the one the daemon logs', async () => {
    const ready = await s.daemon.waitFor((l) => l.event === 'door-ready' && l.door === 'ssh', 5000, 'door-ready');
    assert.match(String(ready.server_key), /^SHA256:[A-Za-z0-9+/]{43}$/);
    const r = client([
      'knock',
      tb.server.clientSide.v4,
      '-c',
      cred('alice'),
      '-v',
      '--ports',
      '22/tcp',
      '--duration',
      '10s',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^SPA to ${tb.server.clientSide.v4.replace(/\./g, '\\.')} port 62201/udp$`, 'm'));
    assert.match(r.stdout, /^ {2}client: +alice \(door ssh, client id [0-9a-f]{32}\)$/m);
    assert.ok(r.stdout.includes(`  server key: ${ready.server_key}\n`), r.stdout);
    assert.match(r.stdout, /^ {2}ports: +22\/tcp$/m);
    assert.match(r.stdout, /^ {2}duration: +10 s$/m);
    assert.match(r.stdout, /^ {2}address: +the packet's source \(not bound/m);
    assert.match(r.stdout, /a knock gets no answer, so this does not say the port opened/);
  });

  it('knock --wait: exit 0 once the port answers; a port the door does not open: exit 69 with the likely causes', () => {
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22, 500).outcome, 'timeout');
    const ok = client(['knock', tb.server.clientSide.v6, '-c', cred('alice'), '--ports', '22/tcp', '--wait', '22']);
    assert.equal(ok.status, 0, ok.stderr);
    const no = client([
      'knock',
      tb.server.clientSide.v4,
      '-c',
      cred('alice'),
      '--ports',
      '22/tcp',
      '--wait',
      '2224',
      '--wait-ms',
      '500',
    ]);
    assert.equal(no.status, 69);
    assert.match(no.stderr, /port 2224\/tcp did not answer after 1 knock/);
    assert.match(no.stderr, /1\. the door does not open 2224\/tcp/);
    noStack(no.stderr);
  });

  it('connect: filtered is a timeout with the causes in order; opened with nothing listening is a reset, after one knock', () => {
    const filtered = client([
      'connect',
      tb.server.clientSide.v4,
      '2224',
      '-c',
      cred('alice'),
      '--attempts',
      '2',
      '--wait',
      '400',
      '-v',
    ]);
    assert.equal(filtered.status, 69);
    assert.match(filtered.stderr, /did not answer after 2 knocks \(no reply at all in 400 ms each/);
    const causes = filtered.stderr.split('\n').filter((l) => /^ {2}\d\. /.test(l));
    assert.equal(causes.length, 5);
    assert.match(causes[0] as string, /does not open 2224\/tcp/);
    assert.match(causes[2] as string, /clocks differ/);
    assert.match(causes[3] as string, /another server key/);
    noStack(filtered.stderr);

    const reset = client([
      'connect',
      tb.server.clientSide.v4,
      '2223',
      '-c',
      cred('alice'),
      '--ports',
      '2223/tcp',
      '-v',
    ]);
    assert.equal(reset.status, 69);
    assert.match(reset.stderr, /port 2223\/tcp refused the connection \(a TCP reset\): the knock got through/);
    assert.equal(reset.stderr.match(/knocked \(/g)?.length, 1, 'a reset ends it: knocking again cannot help');
  });

  it('a world-readable configuration: the warning names the door whose sequence it exposes, and no SPA door', async () => {
    chmodSync(s.configFile, 0o644);
    const daemon = await s.restart('SIGTERM');
    const warning = await daemon.waitFor((l) => l.event === 'config-readable', 5000, 'the warning');
    assert.match(String(warning.msg), /knock sequence of classic: any local user can read and knock it/);
    assert.doesNotMatch(String(warning.msg), /ssh/);
    chmodSync(s.configFile, 0o600);
  });
});

/**
 * `knockgate keep-open` and `connect --keep-open` end to end on the real kernel: the real
 * knockgated in the server namespace with grants of DURATION_S seconds in nftables, the real
 * client in the client namespace with a credential from `add-client --max-duration`. What a user
 * of sshfs or autossh would see: while keep-open runs, a new TCP connection to the protected port
 * succeeds at any moment, across more than three grant durations; after SIGTERM it exits 0 with
 * one line, and the port is filtered again once the last grant runs out; --while-pid stops it
 * when that process ends; `-- CMD` runs CMD once the door is open and exits with its status; a
 * network that cannot be reached is retried and logged in one line per try, never a stack trace.
 * Every wait and every loop is bounded in count and time.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KNOCKGATE, probe, REPO_ROOT, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const DURATION_S = 3;
const PORT = 22;
/** A service that keeps its connections open (the banner server closes after its line), for connect. */
const HOLD_PORT = 2222;
const HOLD_SERVER = `require('net').createServer((s) => { s.on('error', () => {}); s.write('HOLD\\n'); }).listen(${HOLD_PORT}, '0.0.0.0')`;

interface Run {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  /** Exit status (128 + n for a signal), or a failure after `ms`. */
  readonly exited: (ms: number) => Promise<number>;
}

function watch(child: ChildProcess): Run {
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15))),
  );
  return {
    child,
    stderr: () => err,
    exited: (ms) =>
      Promise.race([
        exit,
        sleep(ms).then(() => {
          throw new Error(`still running after ${ms} ms; stderr: ${err}`);
        }),
      ]),
  };
}

describe('keep-open', () => {
  const s = useScenario({
    banner: [PORT],
    serverKey: true,
    clients: ({ tb: bed }) => ({
      alice: ['--door', 'ssh', '--port', '62201', '--max-duration', `${DURATION_S}s`],
      bob: ['--door', 'ssh', '--port', '62201'],
      // For the systemd unit's command line: a profile that names its server.
      carol: [
        '--door',
        'ssh',
        '--port',
        '62201',
        '--max-duration',
        `${DURATION_S}s`,
        '--server',
        bed.server.clientSide.v4,
      ],
    }),
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      `    open: [${PORT}/tcp, ${HOLD_PORT}/tcp]`,
      '    duration: 1m',
      '    max_duration: 1m',
      '    clients:',
      // alice's entry carries the max_duration add-client wrote into it and her credential.
      ...clientEntry('alice'),
      ...clientEntry('bob'),
      ...clientEntry('carol'),
    ],
  });
  const { tb, daemon, cred } = s;
  const server = (): string => tb.server.clientSide.v4;
  const keepOpen = (args: string[]): Run =>
    watch(tb.start(tb.client.ns, [process.execPath, KNOCKGATE, 'keep-open', ...args]));
  const grantsOf = (source: string) =>
    daemon.lines.filter((l) => l.event === 'grant' && l.source === source && l.client !== undefined);

  /** Polls until the port from the client is filtered, at most `ms`; returns how long it took. */
  async function filteredWithin(ms: number): Promise<number> {
    const start = Date.now();
    for (let i = 0; i < 100 && Date.now() - start < ms; i++) {
      if (probe(tb, tb.client.ns, server(), PORT, 500).outcome === 'timeout') return Date.now() - start;
      await sleep(200);
    }
    throw new Error(`port ${PORT} still open ${ms} ms after keep-open stopped`);
  }

  it('keeps new connections working across more than three grants; SIGTERM: exit 0, one line, then the port closes', async () => {
    assert.equal(probe(tb, tb.client.ns, server(), PORT).outcome, 'timeout', 'closed before');
    const run = keepOpen([server(), '-c', cred('alice')]);
    await daemon.waitFor(
      (l) => l.event === 'grant' && l.source === tb.client.v4 && l.verdict === 'opened',
      5_000,
      'the first grant',
    );
    const started = Date.now();
    const outcomes: string[] = [];
    // A new TCP connection (a new source port: a new conntrack entry that must pass the grant rule)
    // about every 300 ms for 3.5 grant durations.
    for (let i = 0; i < 60 && Date.now() - started < DURATION_S * 3_500; i++) {
      outcomes.push(probe(tb, tb.client.ns, server(), PORT, 1_000).outcome);
      await sleep(100);
    }
    const spanMs = Date.now() - started;
    assert.ok(spanMs >= DURATION_S * 3_000, `checked for ${spanMs} ms`);
    assert.ok(outcomes.length >= 10, `${outcomes.length} connections tried`);
    assert.deepEqual(
      outcomes.filter((o) => o !== 'open'),
      [],
      `every connection got through (${outcomes.length} in ${spanMs} ms)`,
    );
    const grants = grantsOf(tb.client.v4);
    assert.ok(grants.length >= 4, `${grants.length} grants opened or extended`);
    assert.ok(
      grants.every((g) => g.duration_s === DURATION_S && (g.verdict === 'opened' || g.verdict === 'extended')),
      JSON.stringify(grants),
    );

    process.kill(run.child.pid as number, 'SIGTERM');
    const stoppedAt = Date.now();
    assert.equal(await run.exited(3_000), 0, run.stderr());
    assert.match(run.stderr(), /^knockgate: keep-open: stopped by SIGTERM \(\d+ knocks? sent, 0 failed\)\n$/);
    await filteredWithin(DURATION_S * 1_000 + 2_500);
    await daemon.waitFor((l) => l.event === 'grant-expired' && l.source === tb.client.v4, 3_000, 'the expiry');
    assert.ok(Date.now() - stoppedAt <= DURATION_S * 1_000 + 4_000);
  });

  it('--while-pid: stops (exit 0, one line) when that process ends', async () => {
    const sleeper = tb.start(tb.client.ns, ['sleep', '3']);
    const pid = sleeper.pid as number;
    const run = keepOpen([server(), '-c', cred('alice'), '--while-pid', String(pid)]);
    await sleep(1_500);
    assert.equal(run.child.exitCode, null, 'still running while the process lives');
    assert.equal(await run.exited(5_000), 0, run.stderr());
    assert.match(run.stderr(), new RegExp(`^knockgate: keep-open: process ${pid} ended; stopped \\(\\d+ knocks?`));
    assert.equal(run.stderr().split('\n').filter(Boolean).length, 1, run.stderr());
    await filteredWithin(DURATION_S * 1_000 + 2_500);
  });

  it('-- CMD: runs the command once the door is open, and exits with its status', async () => {
    // The command connects to the protected port itself: 7 if it got the banner, 1 if not.
    const script = `const s = require('net').connect(${PORT}, ${JSON.stringify(server())});
      s.setTimeout(2000, () => process.exit(1)); s.on('error', () => process.exit(1));
      s.on('data', (d) => process.exit(String(d).startsWith('SSH-') ? 7 : 1));`;
    const run = keepOpen([server(), '-c', cred('alice'), '--', process.execPath, '-e', script]);
    assert.equal(await run.exited(8_000), 7, run.stderr());
    assert.equal(run.stderr(), '');
    await filteredWithin(DURATION_S * 1_000 + 2_500);
  });

  it('refuses to guess a duration: a credential without max_duration needs --duration (exit 64)', async () => {
    const run = keepOpen([server(), '-c', cred('bob')]);
    assert.equal(await run.exited(5_000), 64);
    assert.match(run.stderr(), /^knockgate: keep-open must know how long a grant lasts/);
    const over = keepOpen([server(), '-c', cred('alice'), '--duration', '10s']);
    assert.equal(await over.exited(5_000), 64);
    assert.match(over.stderr(), /above this credential's max_duration of 3s/);
    const connect = watch(
      tb.start(tb.client.ns, [
        process.execPath,
        KNOCKGATE,
        'connect',
        server(),
        String(PORT),
        '-c',
        cred('bob'),
        '--keep-open',
      ]),
    );
    assert.equal(await connect.exited(5_000), 64, 'connect --keep-open: the same rule, before any knock');
    assert.match(connect.stderr(), /must know how long a grant lasts/);
    for (const extra of [['--reissue'], ['--totp']]) {
      const r = spawnSync(
        process.execPath,
        [KNOCKGATE, 'add-client', 'zed', '--door', 'ssh', '--max-duration', '1m', '-c', s.configFile, ...extra],
        { encoding: 'utf8', cwd: s.dir },
      );
      assert.equal(r.status, 64, `add-client ${extra[0]} --max-duration: ${r.stderr}`);
    }
  });

  it('an unreachable network: each failed send is one line, retried with backoff; SIGTERM still exits 0', async () => {
    // No route from the client namespace to this address (inside 198.18.0.0/15): ENETUNREACH at send.
    const run = keepOpen(['198.19.255.1', '-c', cred('alice')]);
    await sleep(3_600);
    process.kill(run.child.pid as number, 'SIGTERM');
    assert.equal(await run.exited(3_000), 0, run.stderr());
    const lines = run.stderr().trimEnd().split('\n');
    const failed = (n: number, wait: string): RegExp =>
      new RegExp(
        `^knockgate: keep-open: knock failed: cannot send to 198\\.19\\.255\\.1 port 62201/udp: the network is unreachable .*\\[ENETUNREACH\\] \\(${n} in a row\\); retrying in ${wait}$`,
      );
    assert.match(lines[0] ?? '', failed(1, '1s'));
    assert.match(lines[1] ?? '', failed(2, '1.5s'), 'backoff capped at the refresh interval of a 3 s grant');
    assert.match(lines.at(-1) ?? '', /^knockgate: keep-open: stopped by SIGTERM \(0 knocks sent, [23] failed\)$/);
    assert.doesNotMatch(run.stderr(), /\n\s+at /, 'no stack trace');
  });

  it("the systemd unit's command line: profile %i under XDG_CONFIG_HOME, knocking the profile's server:", async () => {
    const unit = readFileSync(join(REPO_ROOT, 'contrib', 'systemd', 'knockgate-keep-open@.service'), 'utf8');
    const exec = /^ExecStart=\/usr\/local\/bin\/knockgate (.*)$/m.exec(unit)?.[1]?.replaceAll('%i', 'gw').split(' ');
    assert.ok(
      exec && /^Environment=XDG_CONFIG_HOME=\/etc$/m.test(unit),
      'the unit runs knockgate with XDG_CONFIG_HOME=/etc',
    );
    // The unit's /etc, here: ETC/knockgate/profiles/gw.yaml, root's and 0600 as the unit expects.
    const etc = mkdtempSync(join(tmpdir(), 'kg-etc-'));
    try {
      mkdirSync(join(etc, 'knockgate', 'profiles'), { recursive: true, mode: 0o700 });
      copyFileSync(cred('carol'), join(etc, 'knockgate', 'profiles', 'gw.yaml'));
      chmodSync(join(etc, 'knockgate', 'profiles', 'gw.yaml'), 0o600);
      const run = watch(
        tb.start(tb.client.ns, [process.execPath, KNOCKGATE, ...exec], { ...process.env, XDG_CONFIG_HOME: etc }),
      );
      // "gw" resolves nowhere: a grant means the profile's server: line was knocked.
      await daemon.waitFor(
        (l) => l.event === 'grant' && l.client === 'carol' && l.source === tb.client.v4,
        5_000,
        "carol's grant",
      );
      process.kill(run.child.pid as number, 'SIGTERM');
      assert.equal(await run.exited(3_000), 0, run.stderr());
      assert.match(run.stderr(), /^knockgate: keep-open: stopped by SIGTERM/);
    } finally {
      rmSync(etc, { recursive: true, force: true });
    }
    await filteredWithin(DURATION_S * 1_000 + 2_500);
  });

  it('connect --keep-open: the grant is extended while the connection lasts, and new connections get through', async () => {
    tb.start(tb.server.ns, [process.execPath, '-e', HOLD_SERVER]);
    await sleep(300);
    const before = grantsOf(tb.client.v4).length;
    // stdin stays open (a pipe we hold), as ssh holds a ProxyCommand's.
    const argv = [
      process.execPath,
      KNOCKGATE,
      'connect',
      server(),
      String(HOLD_PORT),
      '-c',
      cred('alice'),
      '--keep-open',
    ];
    const child = spawn('ip', ['netns', 'exec', tb.client.ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    const run = watch(child);
    try {
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
      for (let i = 0; i < 50 && !out.includes('HOLD'); i++) await sleep(100);
      assert.equal(out, 'HOLD\n', 'relayed the service');
      await sleep(DURATION_S * 2_500);
      assert.equal(child.exitCode, null, 'the connection lasts');
      assert.equal(probe(tb, tb.client.ns, server(), PORT, 1_000).outcome, 'open', 'a new connection gets through');
      const extended = grantsOf(tb.client.v4).slice(before);
      assert.ok(extended.length >= 4, `${extended.length} grants opened or extended in ${DURATION_S * 2.5} s`);
      assert.ok(
        extended.every((g) => g.duration_s === DURATION_S),
        JSON.stringify(extended),
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await run.exited(3_000).catch(() => 0);
  });
});

/**
 * One knockgated per nftables table and network namespace, on the real kernel: a second daemon
 * for the same table in the same namespace (another door, another port) exits 75 naming the
 * first one's PID, and leaves the first one's rules exactly as they were (a knock to the first
 * still opens); a daemon for the same table in another namespace runs at the same time.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';
import {
  BANNER_SERVER,
  KNOCKGATED,
  knock,
  probe,
  startDaemon,
  writeConfig,
  type DaemonHandle,
} from '../support/daemon-process.js';

const FIRST = [7201, 7202, '7203/udp'];
const SECOND = [7301, 7302];

function config(door: string, sequence: (string | number)[], port: number): string {
  return writeConfig(
    [
      'interfaces: [any]',
      'doors:',
      `  - name: ${door}`,
      `    sequence: [${sequence.map((s) => JSON.stringify(s)).join(', ')}]`,
      `    open: [${port}/tcp]`,
      '    duration: 30s',
      '',
    ].join('\n'),
  );
}

/** Starts knockgated in `ns` and waits (bounded) for it to exit: its code and stderr. */
async function runToExit(
  tb: Testbed,
  configFile: string,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stderr: string }> {
  const child = tb.start(tb.server.ns, [process.execPath, KNOCKGATED, '-c', configFile]);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout?.resume();
  const code = await new Promise<number | null | 'running'>((resolve) => {
    const timer = setTimeout(() => resolve('running'), timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code === 'running') {
    process.kill(child.pid as number, 'SIGKILL');
    assert.fail(`the second knockgated was still running after ${timeoutMs} ms; stderr: ${stderr}`);
  }
  return { code, stderr };
}

describe('one daemon per table and network namespace', () => {
  let tb: Testbed;
  let elsewhere: Testbed;
  let first: DaemonHandle;
  let firstConfig: string;
  let secondConfig: string;

  before(async () => {
    tb = createTestbed();
    elsewhere = createTestbed();
    for (const bed of [tb, elsewhere]) bed.start(bed.server.ns, [process.execPath, BANNER_SERVER, '22', '2222']);
    firstConfig = config('ssh', FIRST, 22);
    secondConfig = config('alt', SECOND, 2222);
    first = await startDaemon(tb, firstConfig);
  });

  after(() => {
    tb?.destroy();
    elsewhere?.destroy();
  });

  it('a second daemon on the same table exits 75 naming the first one’s PID and changes none of its rules', async () => {
    const rulesBefore = tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'knockgate']);
    const second = await runToExit(tb, secondConfig);
    assert.equal(second.code, 75, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`knockgated \\(PID ${first.pid}\\) already manages table inet knockgate in this network namespace`),
    );
    assert.match(second.stderr, /\[KG_ALREADY_RUNNING\]/);
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'knockgate']), rulesBefore);
    // 2222 was never protected here, and still is not: the second daemon installed nothing.
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    knock(tb, tb.client.ns, tb.server.clientSide.v4, FIRST);
    await first.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the first daemon’s grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });

  it('a daemon on the same table in another network namespace runs at the same time', async () => {
    const other = await startDaemon(elsewhere, secondConfig);
    assert.equal(first.child.exitCode, null, 'the first daemon is still running');
    assert.equal(probe(elsewhere, elsewhere.other.ns, elsewhere.server.otherSide.v4, 2222).outcome, 'timeout');
    knock(elsewhere, elsewhere.client.ns, elsewhere.server.clientSide.v4, SECOND);
    await other.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the grant in the other namespace');
    assert.equal(probe(elsewhere, elsewhere.client.ns, elsewhere.server.clientSide.v4, 2222).outcome, 'open');
    process.kill(other.pid, 'SIGTERM');
    assert.equal(await other.exited(), 0);
  });
});

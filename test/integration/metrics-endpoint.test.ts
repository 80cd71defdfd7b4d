/**
 * The Prometheus endpoint of the real knockgated in a server namespace: it answers on 127.0.0.1
 * inside the server only (a client on the wire gets no answer from it), and its counters move as
 * knocks arrive, labelled by door and outcome, never by address.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knock, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const PORT = 9436;
const SEQUENCE = [7301, 7302, 7303];

describe('metrics endpoint, real daemon', () => {
  const { tb, daemon } = useScenario({
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    settings: ({ path }) => [
      `pending_commands: ${JSON.stringify(path('pending-commands.json'))}`,
      `metrics: {port: ${PORT}}`,
    ],
    doors: () => ['  - name: ssh', `    sequence: [${SEQUENCE.join(', ')}]`, '    open: [22/tcp]', '    duration: 30s'],
  });

  /** GET /metrics from inside a namespace, with Node's own fetch; the body, or throws. */
  const scrape = (ns: string, host: string): string =>
    tb.run(ns, [
      process.execPath,
      '-e',
      `fetch('http://${host}:${PORT}/metrics', { signal: AbortSignal.timeout(2000) }).then(async (r) => { if (r.status !== 200) process.exit(2); process.stdout.write(await r.text()); }, () => process.exit(3));`,
    ]);
  const sample = (body: string, series: string): number | undefined => {
    const line = body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('listens on 127.0.0.1 only: the server scrapes it, a client on the wire does not reach it', async () => {
    const listening = await daemon.waitFor((l) => l.event === 'metrics-listening');
    assert.equal(listening.address, '127.0.0.1');
    const body = scrape(tb.server.ns, '127.0.0.1');
    assert.match(body, /^knockgate_build_info\{version="[^"]+",node="v\d+/m);
    assert.equal(sample(body, 'knockgate_grants_active'), 0);
    assert.notEqual(probe(tb, tb.client.ns, tb.server.clientSide.v4, PORT).outcome, 'open');
    assert.throws(() => scrape(tb.client.ns, tb.server.clientSide.v4));
  });

  it('its counters move as knocks arrive, by door and outcome; no label holds the client address', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened');
    await sleep(50);
    const body = scrape(tb.server.ns, '127.0.0.1');
    assert.equal(sample(body, 'knockgate_knocks_total{door="ssh",outcome="progress"}'), 2);
    assert.equal(sample(body, 'knockgate_knocks_total{door="ssh",outcome="complete"}'), 1);
    assert.equal(sample(body, 'knockgate_grant_events_total{door="ssh",event="opened"}'), 1);
    assert.equal(sample(body, 'knockgate_grants_active'), 1);
    assert.ok((sample(body, 'knockgate_capture_packets_total{outcome="received"}') ?? 0) >= 3);
    assert.equal(body.includes(tb.client.v4), false, 'the client address appears nowhere');
    // The layout and the grant each went to the kernel as one timed transaction.
    const batches = sample(body, 'knockgate_firewall_batch_seconds_count{outcome="applied"}') ?? 0;
    assert.ok(batches >= 2, `firewall transactions timed: ${batches}`);
    assert.equal(
      sample(body, 'knockgate_firewall_batch_seconds_bucket{outcome="applied",le="+Inf"}'),
      batches,
      'the +Inf bucket holds every transaction',
    );
  });
});

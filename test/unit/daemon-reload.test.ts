/**
 * Reload, in process (test/support/daemon-harness.ts): a new configuration is applied whole or
 * not at all. Asserted as a user would see it: which knocks open what after the reload, that the
 * grants made before are still there (in the grant book and in the gate) and run out on time,
 * what the log says changed, and that a refused reload leaves every part as it was.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { KnockgateError } from '../../src/core/errors.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import type { Configured } from '../../src/daemon/daemon.js';
import type { GateLayout } from '../../src/ports/gate.js';
import { daemonHarness } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const SSH: Endpoint = { proto: 'tcp', port: 22 };
const WEB: Endpoint = { proto: 'tcp', port: 443 };
const ALICE = '198.18.0.2';
const BOB = '198.18.0.3';

const sequenceDoor = (name: string, steps: number[], open: number) => [
  `  - name: ${name}`,
  `    sequence: [${steps.join(', ')}]`,
  `    open: [${open}]`,
  '    duration: 30s',
];
const yaml = (...doors: string[][]) => ['interfaces: [any]', 'doors:', ...doors.flat(), ''].join('\n');

type Harness = Awaited<ReturnType<typeof daemonHarness>>;

async function knock(h: Harness, src: string, ports: readonly number[]): Promise<void> {
  for (const p of ports) h.frames.inject(tcpFrame({ src }, p));
  await h.settle();
}

/** The configuration `text` as knockgated would read it again (same file name as the harness's). */
function next(h: Harness, text: string, serverKey: Uint8Array | null = null): Configured {
  return { config: parseConfigText(join(h.dir, 'knockgate.yaml'), text), oneTimeSequences: new Map(), serverKey };
}

/** Two psk clients of one native SPA door `ssh` (port 62201), and packets they seal. */
function spaSetup() {
  const serverKey = randomBytes(32);
  const server = serverKeysFromPrivate(serverKey, 'ssh', ['ssh']);
  const clients = ['alice', 'bob'].map((name) => ({ name, id: randomBytes(16), psk: randomBytes(32) }));
  const spaYaml = (names: readonly string[], more: readonly string[] = []) =>
    [
      'interfaces: [any]',
      'spa: {server_key: /nonexistent/server.key}',
      'doors:',
      '  - name: ssh',
      '    spa: {port: 62201}',
      '    open: [22]',
      '    duration: 30s',
      '    clients:',
      ...clients
        .filter((c) => names.includes(c.name))
        .map(
          (c) => `      - {name: ${c.name}, id: ${c.id.toString('base64url')}, psk: ${c.psk.toString('base64url')}}`,
        ),
      ...more,
      '',
    ].join('\n');
  const packet = (c: (typeof clients)[number], unixMs: number) =>
    sealSpa({
      serverPublicKey: server.publicKey,
      doorId: 'ssh',
      clientId: c.id,
      secret: { mode: 'psk', psk: c.psk },
      request: { timestampMs: unixMs, nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
      ephemeralPrivate: randomBytes(32),
      topBit: 0,
    });
  const [alice, bob] = clients as [(typeof clients)[number], (typeof clients)[number]];
  return { serverKey, spaYaml, packet, alice, bob };
}

describe('Daemon.reload (in process)', () => {
  it('a door added opens, a door removed no longer does, and the grant it gave is kept until its own end', async () => {
    const h = await daemonHarness(yaml(sequenceDoor('ssh', [7001, 7002, 7003], 22)));
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(ALICE, SSH), true);

      // ssh's port stays protected by the new door `ssh2`; `ssh` itself goes; `web` is new.
      const report = await h.daemon.reload(
        next(h, yaml(sequenceDoor('ssh2', [8001, 8002], 22), sequenceDoor('web', [9001, 9002], 443))),
      );
      assert.deepEqual(report.doors_added, ['ssh2', 'web']);
      assert.deepEqual(report.doors_removed, ['ssh']);
      assert.equal(report.grants_kept, 1);
      assert.deepEqual(
        h.gate.layout.protectedPorts.map((e) => e.port),
        [22, 443],
      );
      assert.equal(h.events('reloaded').length, 1);
      assert.equal(h.events('grant-outlives-config').length, 1, "the removed door's grant is named in the log");

      assert.equal(h.gate.admits(ALICE, SSH), true, 'the grant made before the reload still holds');
      assert.deepEqual(
        h.daemon.grants().map((g) => [g.door, g.source]),
        [['ssh', ALICE]],
      );
      await knock(h, BOB, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(BOB, SSH), false, "the removed door's sequence opens nothing");
      await knock(h, BOB, [9001, 9002]);
      assert.equal(h.gate.admits(BOB, WEB), true, 'the added door opens');
      assert.equal(h.gate.admits(BOB, SSH), false);

      await h.advance(31_000);
      assert.equal(h.gate.admits(ALICE, SSH), false, 'the kept grant ran out at its own time');
      assert.equal(h.daemon.grants().length, 0, 'and left the book');
      const grants = h.metrics.snapshot().find((f) => f.name === 'knockgate_grant_events_total');
      const count = (door: string, event: string) =>
        grants?.samples.find((s) => s.labels.door === door && s.labels.event === event)?.value;
      assert.equal(count('ssh', 'expired'), 1, "counted under the removed door's name");
      assert.equal(count('web', 'opened'), 1, "and the new door's under its own");
    } finally {
      await h.close();
    }
  });

  it('a setting that takes a restart refuses the whole reload, naming it; the old doors keep working', async () => {
    const h = await daemonHarness(yaml(sequenceDoor('ssh', [7001, 7002, 7003], 22)));
    try {
      await h.daemon.start();
      const installs = h.gate.installs;
      const changed = yaml(sequenceDoor('web', [9001, 9002], 443)).replace(
        'interfaces: [any]',
        'interfaces: [any]\nnft_table: other',
      );
      await assert.rejects(
        h.daemon.reload(next(h, changed)),
        (err: KnockgateError) =>
          err.code === 'KG_RELOAD_REFUSED' && /nft_table changed; it takes a restart/.test(err.message),
      );
      assert.equal(h.gate.installs, installs, 'the firewall was not touched');
      const reloads = h.metrics.snapshot().find((f) => f.name === 'knockgate_reloads_total');
      assert.deepEqual(
        reloads?.samples.map((x) => [x.labels.outcome, x.value]),
        [
          ['applied', 0],
          ['refused', 1],
        ],
      );
      assert.equal(h.daemon.config.doors[0]?.name, 'ssh');
      await knock(h, ALICE, [9001, 9002]);
      assert.equal(h.daemon.grants().length, 0, 'the refused door does not exist');
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'the old door still opens');
    } finally {
      await h.close();
    }
  });

  it('when the firewall refuses the new layout, nothing changes: old doors, old sockets, old captures', async () => {
    const { serverKey, spaYaml, packet, alice } = spaSetup();
    const knockDoor = sequenceDoor('web', [9001, 9002], 443);
    const h = await daemonHarness(spaYaml(['alice'], sequenceDoor('ssh2', [7001, 7002, 7003], 22)), { serverKey });
    try {
      await h.daemon.start();
      const install = h.gate.install.bind(h.gate);
      h.gate.install = async (layout: GateLayout) => {
        if (layout.protectedPorts.some((e) => e.port === 443))
          throw new KnockgateError('KG_FIREWALL_FAILED', 'refused for the test');
        return install(layout);
      };
      const moreSpa = [
        '  - name: api',
        '    spa: {port: 62299}',
        '    open: [443]',
        '    duration: 30s',
        '    clients:',
        `      - {name: carol, id: ${randomBytes(16).toString('base64url')}, psk: ${randomBytes(32).toString('base64url')}}`,
      ];
      const text = spaYaml(['alice'], [...knockDoor, ...moreSpa]);
      await assert.rejects(h.daemon.reload(next(h, text, serverKey)), /refused for the test/);
      assert.deepEqual(
        h.gate.layout.protectedPorts.map((e) => e.port),
        [22, 22],
      );
      assert.deepEqual(h.datagrams.ports(), [62201], "the new door's socket was closed again");
      assert.equal(h.frames.opened.filter((c) => c.isOpen).length, 1, 'one capture open, with the old filter');
      await knock(h, ALICE, [9001, 9002]);
      assert.equal(h.daemon.grants().length, 0, 'the refused knock door does not exist');
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'the old knock door opens');
      h.datagrams.deliver(62201, packet(alice, h.clock.unixMs()), BOB);
      await h.settle();
      assert.equal(h.gate.admits(BOB, SSH), true, 'the old SPA door opens');
    } finally {
      await h.close();
    }
  });

  it('a knock sequence in progress starts over; the counters of the old tracker are kept', async () => {
    const h = await daemonHarness(yaml(sequenceDoor('ssh', [7001, 7002, 7003], 22)));
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002]);
      const report = await h.daemon.reload(next(h, yaml(sequenceDoor('ssh', [7001, 7002, 7003], 22))));
      assert.equal(report.sequences_reset, 1);
      assert.deepEqual(report.doors_changed, [], 'the same door is not reported as changed');
      await knock(h, ALICE, [7003]);
      assert.equal(h.gate.admits(ALICE, SSH), false, 'the first two steps were before the reload');
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(ALICE, SSH), true);
    } finally {
      await h.close();
    }
  });

  it('reloadFromSource: an invalid file is refused with its error, logged, and the daemon runs on', async () => {
    let text = 'interfaces: [any]\ndoors:\n  - name: ssh\n    sequence: [7001]\n    open: [22]\n    duration: 30s\n';
    let reread = (): Configured => {
      throw new Error('not yet');
    };
    const h = await daemonHarness(text, { reloadSource: async () => reread() });
    reread = () => next(h, text);
    try {
      await h.daemon.start();
      text = text.replace('duration: 30s', 'duration: soon');
      await assert.rejects(h.daemon.reloadFromSource(), (err: KnockgateError) => err.code === 'KG_CONFIG_INVALID');
      const [refused] = h.events('reload-refused');
      assert.match(String(refused?.fields.error), /knockgate\.yaml:6: .*duration/);
      await knock(h, ALICE, [7001]);
      assert.equal(h.gate.admits(ALICE, SSH), true);
    } finally {
      await h.close();
    }
  });

  it('native SPA: a client removed is refused at its next packet, its grant and the others are kept; the socket stays bound', async () => {
    const { serverKey, spaYaml, packet, alice, bob } = spaSetup();
    const h = await daemonHarness(spaYaml(['alice', 'bob']), { serverKey });
    try {
      await h.daemon.start();
      h.datagrams.deliver(62201, packet(alice, h.clock.unixMs()), ALICE);
      h.datagrams.deliver(62201, packet(bob, h.clock.unixMs()), BOB);
      await h.settle();
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.equal(h.gate.admits(BOB, SSH), true);

      const report = await h.daemon.reload(next(h, spaYaml(['alice']), serverKey));
      assert.deepEqual(report.doors_changed, ['ssh']);
      assert.deepEqual(report.clients_removed, { ssh: ['bob'] });
      assert.equal(report.server_key_changed, false);
      const gauge = (name: string) => h.metrics.snapshot().find((f) => f.name === name)?.samples[0]?.value;
      assert.equal(gauge('knockgate_replay_entries'), 2, 'the two packets accepted before the reload');
      assert.equal(gauge('knockgate_replay_capacity'), 100_000);
      assert.deepEqual(h.datagrams.ports(), [62201], 'one socket, the same one');
      assert.equal(h.daemon.grants().length, 2, 'both grants kept');
      assert.equal(
        h.events('grant-outlives-config').find((l) => l.fields.client === 'bob')?.fields.door,
        'ssh',
        "bob's grant is named, with the revoke that closes it",
      );

      assert.equal(h.datagrams.deliver(62201, packet(bob, h.clock.unixMs()), '198.18.0.4'), true);
      await h.settle();
      assert.equal(h.gate.admits('198.18.0.4', SSH), false, "bob's next packet opens nothing");
      assert.equal(h.daemon.stats().spa_rejected_unknown_client, 1);
      assert.equal(h.datagrams.deliver(62201, packet(alice, h.clock.unixMs()), '198.18.0.5'), true);
      await h.settle();
      assert.equal(h.gate.admits('198.18.0.5', SSH), true, 'alice still opens');
    } finally {
      await h.close();
    }
  });
});

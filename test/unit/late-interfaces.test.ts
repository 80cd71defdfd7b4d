/**
 * Interfaces that come and go (daemon/captures.ts refresh(), config `late_interfaces`), in
 * process with the memory capture factory and the manual clock: a late interface missing at start
 * is logged and skipped, the daemon starts; once it appears its capture opens within one watch
 * interval and a knock on it opens the door; when it goes its capture closes; when it comes back
 * with a new index a new capture opens. Throughout, the protected port stays closed to everyone
 * who holds no grant (the gate does not depend on the interface). The config rules: a late
 * interface must be listed in interfaces; a missing interface not declared late is refused.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { checkInterfacesExist } from '../../src/config/interfaces-exist.js';
import { ConfigError } from '../../src/core/errors.js';
import { INTERFACE_WATCH_INTERVAL_MS } from '../../src/core/limits.js';
import { daemonHarness } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const SSH = { proto: 'tcp' as const, port: 22 };
const ALICE = '198.18.0.2';
const yaml = (late: string): string =>
  [
    'interfaces: [eth0, wg0]',
    late,
    'doors:',
    '  - name: web',
    '    sequence: [7001, 7002]',
    '    open: [22]',
    '    duration: 30s',
    '',
  ].join('\n');

describe('late interfaces: captured once they appear, again when they come back', () => {
  it('starts without wg0, captures it when it appears, drops its capture when it goes, reopens on a new index', async () => {
    const h = await daemonHarness(yaml('late_interfaces: [wg0]'));
    try {
      h.frames.interfaces = new Map([['eth0', 2]]);
      await h.daemon.start();
      assert.deepEqual(
        h.frames.live().map((s) => s.iface),
        ['eth0'],
      );
      assert.equal(h.events('interface-gone').length, 1);
      assert.equal(h.events('interface-gone')[0]?.fields.interface, 'wg0');
      assert.equal(h.gate.admits(ALICE, SSH), false);

      h.frames.interfaces.set('wg0', 7);
      await h.advance(INTERFACE_WATCH_INTERVAL_MS);
      assert.deepEqual(
        h.frames.live().map((s) => s.iface),
        ['eth0', 'wg0'],
      );
      assert.equal(h.events('interface-up').length, 1);
      for (const p of [7001, 7002]) h.frames.inject(tcpFrame({ src: ALICE }, p), 'wg0');
      await h.settle();
      assert.equal(h.gate.admits(ALICE, SSH), true, 'a knock on the late interface opens the door');

      h.frames.interfaces.delete('wg0');
      await h.advance(INTERFACE_WATCH_INTERVAL_MS);
      assert.deepEqual(
        h.frames.live().map((s) => s.iface),
        ['eth0'],
      );
      assert.equal(h.events('interface-gone').length, 2);

      h.frames.interfaces.set('wg0', 9);
      await h.advance(INTERFACE_WATCH_INTERVAL_MS);
      const wg = h.frames.live().filter((s) => s.iface === 'wg0');
      assert.equal(wg.length, 1, 'one capture on the new wg0');
      assert.equal(h.frames.opened.filter((s) => s.iface === 'wg0').length, 2, 'a new capture, not the old one');
      // Its index changed without a disappearance in between: also a new capture.
      h.frames.interfaces.set('wg0', 11);
      await h.advance(INTERFACE_WATCH_INTERVAL_MS);
      assert.equal(h.frames.opened.filter((s) => s.iface === 'wg0').length, 3);
      assert.equal(h.frames.live().filter((s) => s.iface === 'wg0').length, 1);
      // eth0 never changed: still one capture on it (replaced with the others, without loss).
      assert.equal(h.frames.live().filter((s) => s.iface === 'eth0').length, 1);
    } finally {
      await h.close();
    }
  });

  it('a capture that cannot open yet is tried again at the next look', async () => {
    const h = await daemonHarness(yaml('late_interfaces: [wg0]'));
    try {
      h.frames.interfaces = new Map([['eth0', 2]]);
      await h.daemon.start();
      h.frames.interfaces.set('wg0', 7);
      h.frames.failOpen = true;
      await h.advance(INTERFACE_WATCH_INTERVAL_MS);
      assert.deepEqual(
        h.frames.live().map((s) => s.iface),
        ['eth0'],
      );
      h.frames.failOpen = false;
      await h.advance(INTERFACE_WATCH_INTERVAL_MS);
      assert.deepEqual(
        h.frames.live().map((s) => s.iface),
        ['eth0', 'wg0'],
      );
    } finally {
      await h.close();
    }
  });
});

describe('late_interfaces in the configuration', () => {
  const FILE = '/etc/knockgate/knockgate.yaml';
  it('must be listed in interfaces too', () => {
    assert.throws(
      () => parseConfigText(FILE, yaml('late_interfaces: [wg1]')),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.exitCode === 78 &&
        /:2: late_interfaces\[0\]: "wg1" is not in interfaces/.test(e.message),
    );
  });

  it('a missing interface is refused unless it is late', () => {
    const strict = parseConfigText(FILE, yaml(''));
    assert.throws(
      () => checkInterfacesExist(strict, (name) => name === 'eth0'),
      (e: unknown) => e instanceof ConfigError && /no such interface: "wg0" .*late_interfaces/.test(e.message),
    );
    const late = parseConfigText(FILE, yaml('late_interfaces: [wg0]'));
    checkInterfacesExist(late, (name) => name === 'eth0');
  });
});

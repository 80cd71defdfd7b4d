/**
 * Covers key rotation in src/core/spa/native-ladder.ts: a door with a current and a previous server
 * key. A datagram made for the current key goes through unmarked, as without a previous key; one
 * made for the previous key goes on during the overlap (every outcome marked `serverKey:
 * 'previous'`) and is refused as `spa-retired-key` from `previous_key_until` on (the instant itself
 * included, the one before not); one made for neither key is `spa-mac1`. A client re-issued
 * (`previous_psk`) authenticates with its old secret only under the previous key and with its new
 * one only under the current key. Junk, and retired-key datagrams, spend no work token. And the
 * daemon's handler (src/daemon/spa-handler.ts): the decision line says `server_key: previous` /
 * `retired`, counted in knockgate_spa_old_server_key_total.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import type { Door } from '../../src/core/door.js';
import { parseIPAddress, type IPAddressBytes } from '../../src/core/ip-address.js';
import { KnownSources } from '../../src/core/known-sources.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import type { NeedsReplayCheck } from '../../src/core/spa/ladder-step.js';
import { NativeLadder, type NativePending, type NativeStep } from '../../src/core/spa/native-ladder.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate, type SpaServerKeys } from '../../src/core/spa/native-door-keys.js';
import { logKeyOverlap } from '../../src/daemon/door-report.js';
import { SpaHandler } from '../../src/daemon/spa-handler.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import { handlerHarness } from '../support/handler-harness.js';

const T0 = 1_790_000_000_000;
const UNTIL = T0 + 3_600_000;
const WINDOW_MS = 120_000;
const MONO = 5_000;
const SOURCE = '198.18.0.2';
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

const current = serverKeysFromPrivate(randomBytes(32), 'ssh');
const previous = serverKeysFromPrivate(randomBytes(32), 'ssh');
const stranger = serverKeysFromPrivate(randomBytes(32), 'ssh');
const laptopId = randomBytes(16);
const laptopPsk = randomBytes(32);
const phoneId = randomBytes(16);
const phoneOldPsk = randomBytes(32);
const phoneNewPsk = randomBytes(32);

const door: Door = parseConfigText(
  '/nonexistent/knockgate.yaml',
  [
    'interfaces: [eth0]',
    'spa: {server_key: server.key, previous_server_key: server.key.previous, previous_key_until: "2026-09-21T12:00:00Z"}',
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62201}',
    '    open: [22]',
    '    clients:',
    `      - {name: laptop, id: ${b64u(laptopId)}, psk: ${b64u(laptopPsk)}}`,
    `      - {name: phone, id: ${b64u(phoneId)}, psk: ${b64u(phoneNewPsk)}, previous_psk: ${b64u(phoneOldPsk)}}`,
  ].join('\n'),
).doors[0] as Door;

const ladder = new NativeLadder(door, current, WINDOW_MS, { keys: previous, untilUnixMs: UNTIL });

function packet(keys: SpaServerKeys, clientId: Uint8Array, psk: Uint8Array, timestampMs = T0): Uint8Array {
  return sealSpa({
    serverPublicKey: keys.publicKey,
    doorId: 'ssh',
    clientId,
    secret: { mode: 'psk', psk },
    request: { timestampMs, nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
    ephemeralPrivate: randomBytes(32),
    topBit: 0,
  });
}

function ip(text: string): IPAddressBytes {
  const a = parseIPAddress(text);
  assert.ok(a);
  return a;
}
const generous = () => ({ knownSources: new KnownSources(100, 60_000), budget: new WorkBudget(1_000_000, 1_000_000) });
const check = (bytes: Uint8Array, now = T0, allowance = generous()): NativeStep =>
  ladder.check({ payload: bytes, source: ip(SOURCE), sourceText: SOURCE }, now, MONO, allowance);
const reason = (step: NativeStep): string | undefined => (step.kind === 'reject' ? step.reason : undefined);

function needsReplay(step: NativeStep): NeedsReplayCheck<NativePending> {
  assert.equal(step.kind, 'needs-replay-check', JSON.stringify(step));
  return step as NeedsReplayCheck<NativePending>;
}

describe('native ladder with a previous server key (key rotation)', () => {
  it('a datagram made for the current key goes through as without a previous key: not marked', () => {
    const step = needsReplay(check(packet(current, laptopId, laptopPsk)));
    assert.equal(step.serverKey, undefined);
    const final = ladder.conclude(step, 'fresh');
    assert.equal(final.kind, 'grant');
    assert.equal(final.serverKey, undefined);
    assert.equal(final.kind === 'grant' && final.grant.client, 'laptop');
  });

  it('during the overlap a datagram made for the previous key goes on, and its outcome says previous', () => {
    const step = needsReplay(check(packet(previous, laptopId, laptopPsk, UNTIL - 1), UNTIL - 1));
    assert.equal(step.serverKey, 'previous');
    assert.equal(step.who, 'laptop');
    const final = ladder.conclude(step, 'fresh');
    assert.deepEqual(
      { kind: final.kind, serverKey: final.serverKey, client: final.kind === 'grant' && final.grant.client },
      { kind: 'grant', serverKey: 'previous', client: 'laptop' },
    );
    const replayed = ladder.conclude(step, 'replayed');
    assert.deepEqual([replayed.kind === 'reject' && replayed.reason, replayed.serverKey], ['spa-replayed', 'previous']);
  });

  it('from previous_key_until on, a datagram made for the previous key is spa-retired-key, not spa-mac1', () => {
    for (const now of [UNTIL, UNTIL + 86_400_000]) {
      assert.deepEqual(check(packet(previous, laptopId, laptopPsk, now), now), {
        kind: 'reject',
        reason: 'spa-retired-key',
        who: undefined,
        detail: 'made for the previous server key',
        serverKey: 'retired',
      });
    }
  });

  it('a datagram made for neither key is still spa-mac1, unmarked', () => {
    for (const now of [T0, UNTIL]) {
      assert.deepEqual(check(packet(stranger, laptopId, laptopPsk, now), now), {
        kind: 'reject',
        reason: 'spa-mac1',
        who: undefined,
        detail: undefined,
      });
    }
  });

  it('a re-issued client: the old psk only under the previous key, the new psk only under the current key', () => {
    assert.equal(needsReplay(check(packet(previous, phoneId, phoneOldPsk))).who, 'phone');
    assert.equal(needsReplay(check(packet(current, phoneId, phoneNewPsk))).who, 'phone');
    const oldUnderNew = check(packet(current, phoneId, phoneOldPsk));
    assert.deepEqual([reason(oldUnderNew), oldUnderNew.serverKey], ['spa-auth', undefined]);
    const newUnderOld = check(packet(previous, phoneId, phoneNewPsk));
    assert.deepEqual([reason(newUnderOld), newUnderOld.serverKey], ['spa-auth', 'previous']);
  });

  it('junk and retired-key datagrams take no work token; a previous-key datagram takes one, like a current one', () => {
    const allowance = { knownSources: new KnownSources(100, 60_000), budget: new WorkBudget(0.001, 1) };
    const junk = Uint8Array.from(packet(current, laptopId, laptopPsk), (b, i) => (i === 0 ? b ^ 1 : b));
    for (let i = 0; i < 5; i++) {
      assert.equal(reason(check(junk, T0, allowance)), 'spa-mac1');
      assert.equal(reason(check(packet(previous, laptopId, laptopPsk, UNTIL), UNTIL, allowance)), 'spa-retired-key');
    }
    assert.equal(check(packet(previous, laptopId, laptopPsk), T0, allowance).kind, 'needs-replay-check');
    const spent = check(packet(current, laptopId, laptopPsk), T0, allowance);
    assert.deepEqual([reason(spent), spent.serverKey], ['spa-overload', undefined]);
    const spentPrevious = check(packet(previous, laptopId, laptopPsk), T0, allowance);
    assert.deepEqual([reason(spentPrevious), spentPrevious.serverKey], ['spa-overload', 'previous']);
  });
});

describe('SPA handler with a previous server key: the log line and the counter say which key', () => {
  const yaml = [
    'interfaces: [eth0]',
    'spa: {server_key: server.key, previous_server_key: old.key, previous_key_until: "2026-09-21T12:00:00Z"}',
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62201}',
    '    open: [22]',
    '    clients:',
    `      - {name: laptop, id: ${b64u(laptopId)}, psk: ${b64u(laptopPsk)}}`,
  ].join('\n');

  it('accepted under the previous key: server_key previous; after the overlap: spa-retired-key, counted apart', async () => {
    const h = await handlerHarness(yaml, { unixMs: T0 });
    try {
      const handler = new SpaHandler({ ...h.deps, keys: current, previous: { keys: previous, untilUnixMs: UNTIL } });
      handler.handle(packet(current, laptopId, laptopPsk), SOURCE);
      handler.handle(packet(previous, laptopId, laptopPsk), SOURCE);
      await h.settle();
      const spa = h.log.lines.filter((l) => l.fields.event === 'spa').map((l) => l.fields);
      assert.deepEqual(
        spa.map((f) => [f.verdict, f.client, f.server_key]),
        [
          ['accepted', 'laptop', undefined],
          ['accepted', 'laptop', 'previous'],
        ],
      );
      h.clock.unix = UNTIL;
      handler.handle(packet(previous, laptopId, laptopPsk, UNTIL), SOURCE);
      await h.settle();
      const last = h.log.lines.at(-1)?.fields;
      assert.deepEqual([last?.verdict, last?.reason, last?.server_key], ['rejected', 'spa-retired-key', 'retired']);
      assert.equal(h.counts.get('spa_server_key_previous'), 1);
      assert.equal(h.counts.get('spa_server_key_retired'), 1);
      assert.equal(h.counts.get('spa_rejected_retired_key'), 1);
      assert.equal(h.counts.get('spa_accepted'), 2);
    } finally {
      await h.close();
    }
  });
});

describe('the start-up line about the overlap (daemon/door-report.ts logKeyOverlap)', () => {
  const config = parseConfigText(
    '/nonexistent/knockgate.yaml',
    [
      'interfaces: [eth0]',
      'spa: {server_key: server.key, previous_server_key: old.key, previous_key_until: "2026-09-21T12:00:00Z"}',
      'doors:',
      '  - name: ssh',
      '    spa: {port: 62201}',
      '    open: [22]',
      `    clients: [{name: laptop, id: ${b64u(laptopId)}, psk: ${b64u(laptopPsk)}}]`,
    ].join('\n'),
  );
  const end = Date.UTC(2026, 8, 21, 12);
  /** A clock the test moves; `tick()` runs what logKeyOverlap scheduled, as the timer would. */
  const fakeClock = (unix: number) => {
    const c = {
      unix,
      fns: [] as (() => void)[],
      unixMs: () => c.unix,
      every: (_ms: number, fn: () => void) => {
        c.fns.push(fn);
        return { cancel: () => undefined };
      },
      tick: () => {
        for (const f of c.fns) f();
      },
    };
    return c;
  };
  const at = (now: number) => {
    const log = new MemoryLogger();
    logKeyOverlap(config, fakeClock(now), log);
    assert.equal(log.lines.length, 1);
    const l = log.lines[0] as MemoryLogger['lines'][number];
    return [l.level, l.fields.state, l.fields.until, l.msg] as const;
  };

  it('info with the end while more than a day is left; warn within the last day; warn naming spa-retired-key once ended', () => {
    const [level1, state1, until1, msg1] = at(end - 3 * 86_400_000 - 2 * 3_600_000);
    assert.deepEqual([level1, state1, until1], ['info', 'open', '2026-09-21T12:00:00Z']);
    assert.match(msg1, /accepted until 2026-09-21T12:00:00Z \(in 3 d 2 h\)/);
    const [level2, state2, , msg2] = at(end - 5 * 3_600_000);
    assert.deepEqual([level2, state2], ['warn', 'ending']);
    assert.match(msg2, /in about 5 h/);
    const [level3, state3, , msg3] = at(end);
    assert.deepEqual([level3, state3], ['warn', 'ended']);
    assert.match(msg3, /spa-retired-key.*remove previous_server_key/);
  });

  it('says nothing without a previous key', () => {
    const log = new MemoryLogger();
    const none = parseConfigText(
      '/nonexistent/k.yaml',
      'interfaces: [eth0]\ndoors: [{name: a, sequence: [1, 2], open: [22]}]',
    );
    assert.equal(logKeyOverlap(none, fakeClock(end), log), null);
    assert.equal(log.lines.length, 0);
  });

  it('a running daemon logs the change when the last day begins and when the overlap ends, once each', () => {
    const log = new MemoryLogger();
    const clock = fakeClock(end - 2 * 86_400_000);
    assert.ok(logKeyOverlap(config, clock, log) !== null);
    clock.tick();
    clock.unix = end - 3_600_000;
    clock.tick();
    clock.tick();
    clock.unix = end;
    clock.tick();
    clock.unix = end + 60_000;
    clock.tick();
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.fields.state]),
      [
        ['info', 'open'],
        ['warn', 'ending'],
        ['warn', 'ended'],
      ],
    );
  });
});

/**
 * Covers src/core/spa/fwknop-ladder.ts and its steps (fwknop-stanza-open, fwknop-message-checks,
 * fwknop-access-policy, replay-rung, work-admission): every reason an fwknop door can name is
 * reached, in ladder order; the boundary instants of freshness (±window) and ACCESS_EXPIRE (the
 * second itself still serves); "needs a digest lookup" and "needs a replay check" carry exactly
 * what the daemon must look up and record; conclude() names each replay refusal. Clocks are
 * fixed numbers; stanzas come from YAML, as an operator writes them.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import type { Door, FwknopStanza } from '../../src/core/door.js';
import { replayExpiryMs } from '../../src/core/freshness.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import { KnownSources } from '../../src/core/known-sources.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import {
  FwknopLadder,
  stanzaOwnerId,
  type FwknopPending,
  type FwknopStep,
  type NeedsDigestLookup,
} from '../../src/core/spa/fwknop-ladder.js';
import type { NeedsReplayCheck, ReplayOutcome } from '../../src/core/spa/ladder-step.js';
import { fwknopReplayDigestHex, sealFwknop, type FwknopSealInput } from '../../src/core/spa/fwknop-wire.js';

const T0_S = 1_790_000_000;
const T0 = T0_S * 1000;
const WINDOW_MS = 120_000;
const MONO = 5_000;
const SOURCE = '198.18.0.2';
const KEY = 'fwknop-ladder-key';
const HMAC = 'fwknop-ladder-hmac';

function door(stanzas: string[], open = '[22, 80, 443]'): Door {
  const yaml = [
    'interfaces: [eth0]',
    'doors:',
    '  - name: fw',
    '    fwknop: {port: 62201}',
    `    open: ${open}`,
    '    duration: 30s',
    '    max_duration: 10m',
    '    stanzas:',
    ...stanzas.map((s) => `      - ${s}`),
  ].join('\n');
  return parseConfigText('/nonexistent/knockgate.yaml', yaml).doors[0] as Door;
}
const stanza = (extra = '', key = KEY, hmac = HMAC) => `{source: ANY, key: ${key}, hmac_key: ${hmac}${extra}}`;

function packet(m: Partial<FwknopSealInput> = {}, key = KEY, hmac = HMAC): Uint8Array {
  return sealFwknop(
    { username: 'alice', timestamp: T0_S, messageType: 1, message: '0.0.0.0,tcp/22', clientTimeout: null, ...m },
    { key: Buffer.from(key), hmacKey: Buffer.from(hmac), hmacType: 'sha256', encryptionMode: 'cbc' },
    { salt: randomBytes(8), randomDigits: '1234567890123456' },
  );
}

const generous = () => ({ knownSources: new KnownSources(100, 60_000), budget: new WorkBudget(1_000_000, 1_000_000) });
function datagram(payload: Uint8Array, source = SOURCE, destinationText?: string) {
  const a = parseIPAddress(source);
  assert.ok(a);
  return { payload, source: a, sourceText: source, destinationText };
}

function lookup(ladder: FwknopLadder, bytes: Uint8Array, source = SOURCE): NeedsDigestLookup {
  const pre = ladder.beforeCrypto(datagram(bytes, source), MONO, generous());
  assert.equal(pre.kind, 'needs-digest-lookup', JSON.stringify(pre));
  return pre as NeedsDigestLookup;
}
/** Both steps up to the replay check, at wall-clock `now`. */
function run(ladder: FwknopLadder, bytes: Uint8Array, now = T0, source = SOURCE): FwknopStep {
  const step = ladder.open(datagram(bytes, source), lookup(ladder, bytes, source), now);
  assert.notEqual(step.kind, 'needs-gpg-decrypt', 'a Rijndael packet never asks for gpg');
  return step as FwknopStep;
}
const reasonOf = (s: FwknopStep | ReturnType<FwknopLadder['beforeCrypto']>): string =>
  s.kind === 'reject' ? s.reason : s.kind;

describe('fwknop ladder, beforeCrypto(): the rungs before any key', () => {
  const ladder = new FwknopLadder(door([stanza()]), WINDOW_MS);

  it('length, prefix and alphabet are named before anything else', () => {
    const good = packet();
    assert.equal(reasonOf(ladder.beforeCrypto(datagram(good.subarray(0, 100)), MONO, generous())), 'fwknop-length');
    assert.equal(
      reasonOf(ladder.beforeCrypto(datagram(Buffer.concat([Buffer.from('U2FsdGVkX1'), good])), MONO, generous())),
      'fwknop-prefix',
    );
    const bad = Uint8Array.from(good);
    bad[50] = 0x21; // '!'
    assert.equal(reasonOf(ladder.beforeCrypto(datagram(bad), MONO, generous())), 'fwknop-malformed');
  });

  it('asks for a lookup of the packet digest, with the stanzas to try', () => {
    const bytes = packet();
    assert.deepEqual(lookup(ladder, bytes), {
      kind: 'needs-digest-lookup',
      digest: fwknopReplayDigestHex(bytes),
      candidates: [0],
    });
  });

  it('fwknop-no-stanza: no SOURCE matches; a DESTINATION other than ANY needs a known destination (fail closed)', () => {
    const l = new FwknopLadder(door([stanza().replace('source: ANY', 'source: 198.51.100.0/24')]), WINDOW_MS);
    assert.equal(reasonOf(l.beforeCrypto(datagram(packet()), MONO, generous())), 'fwknop-no-stanza');
    const dst = new FwknopLadder(door([stanza(', destination: 203.0.113.0/24')]), WINDOW_MS);
    assert.equal(
      reasonOf(dst.beforeCrypto(datagram(packet()), MONO, generous())),
      'fwknop-no-stanza',
      'an unknown destination matched',
    );
    assert.equal(
      reasonOf(dst.beforeCrypto(datagram(packet(), SOURCE, '198.51.100.1'), MONO, generous())),
      'fwknop-no-stanza',
    );
    assert.equal(
      reasonOf(dst.beforeCrypto(datagram(packet(), SOURCE, '203.0.113.9'), MONO, generous())),
      'needs-digest-lookup',
    );
  });

  it('fwknop-overload: one token per distinct HMAC key to try; a known source spends its own allowance', () => {
    const two = new FwknopLadder(
      door([stanza(), stanza('', KEY, 'other-hmac-key'), stanza(', require_username: bob')]),
      WINDOW_MS,
    );
    const allowance = { knownSources: new KnownSources(100, 60_000), budget: new WorkBudget(0.001, 3) };
    assert.equal(
      reasonOf(two.beforeCrypto(datagram(packet()), MONO, allowance)),
      'needs-digest-lookup',
      'two HMAC keys cost two of three tokens',
    );
    assert.equal(
      reasonOf(two.beforeCrypto(datagram(packet()), MONO, allowance)),
      'fwknop-overload',
      'one token left, two needed',
    );
    allowance.knownSources.remember('198.18.0.3', MONO);
    assert.equal(reasonOf(two.beforeCrypto(datagram(packet(), '198.18.0.3'), MONO, allowance)), 'needs-digest-lookup');
  });
});

describe('fwknop ladder, open(): crypto, message checks, access policy', () => {
  it('fwknop-hmac, fwknop-decrypt, and the deepest rung any stanza reached is the one reported', () => {
    assert.equal(
      reasonOf(run(new FwknopLadder(door([stanza('', KEY, 'wrong-hmac')]), WINDOW_MS), packet())),
      'fwknop-hmac',
    );
    assert.equal(
      reasonOf(run(new FwknopLadder(door([stanza('', 'wrong-key')]), WINDOW_MS), packet())),
      'fwknop-decrypt',
    );
    const l = new FwknopLadder(door([stanza('', 'wrong-key'), stanza('', KEY, 'wrong-hmac')]), WINDOW_MS);
    assert.equal(
      reasonOf(run(l, packet())),
      'fwknop-decrypt',
      'a later HMAC failure hid the right HMAC of the first stanza',
    );
  });

  it('the first stanza in file order that opens wins', () => {
    const l = new FwknopLadder(
      door([stanza('', 'wrong-key'), stanza(', fw_access_timeout: 45s'), stanza(', fw_access_timeout: 90s')]),
      WINDOW_MS,
    );
    const step = run(l, packet());
    assert.equal(step.kind, 'needs-replay-check');
    assert.equal((step as NeedsReplayCheck<FwknopPending>).pending.durationS, 45);
  });

  it('freshness: ts ± (window - 1 ms) goes on; ts ± window is fwknop-stale, with the skew', () => {
    const ladder = new FwknopLadder(door([stanza()]), WINDOW_MS);
    const bytes = packet();
    for (const now of [T0 + WINDOW_MS - 1, T0 - WINDOW_MS + 1])
      assert.equal(reasonOf(run(ladder, bytes, now)), 'needs-replay-check', `at ${now - T0} ms`);
    const origin = (ladder as unknown as { stanzas: FwknopStanza[] }).stanzas[0]?.origin;
    assert.deepEqual(run(ladder, bytes, T0 + WINDOW_MS), {
      kind: 'reject',
      reason: 'fwknop-stale',
      who: origin,
      detail: "client clock 120 s behind this server's (or the packet is that old)",
    });
    assert.equal(reasonOf(run(ladder, bytes, T0 - WINDOW_MS)), 'fwknop-stale');
  });

  it('ACCESS_EXPIRE: the stanza serves through its second, and not a millisecond after', () => {
    const ladder = new FwknopLadder(door([stanza(`, access_expire_epoch: ${T0_S + 10}`)]), WINDOW_MS);
    const bytes = packet();
    assert.equal(reasonOf(run(ladder, bytes, T0 + 10_000)), 'needs-replay-check');
    assert.equal(reasonOf(run(ladder, bytes, T0 + 10_001)), 'fwknop-expired');
  });

  it('REQUIRE_USERNAME is exact; command and NAT messages are refused by name', () => {
    const ladder = new FwknopLadder(door([stanza(', require_username: alice')]), WINDOW_MS);
    assert.equal(reasonOf(run(ladder, packet())), 'needs-replay-check');
    const bob = run(ladder, packet({ username: 'bob' }));
    assert.equal(reasonOf(bob), 'fwknop-username');
    assert.equal(bob.kind === 'reject' && bob.detail, 'user "bob"');
    const cmd = run(ladder, packet({ messageType: 0, message: '198.18.0.2,touch /tmp/x' }));
    assert.equal(reasonOf(cmd), 'fwknop-message-type');
    assert.equal(
      cmd.kind === 'reject' && cmd.detail,
      'command messages are not enabled for this stanza (ENABLE_CMD_EXEC)',
    );
    const nat = run(ladder, packet({ messageType: 2, natAccess: '192.0.2.10,22' }));
    assert.equal(nat.kind === 'reject' && nat.detail, 'NAT access messages are not supported by this door');
  });

  it('fwknop-not-allowed: RESTRICT_PORTS, OPEN_PORTS, a port the door does not open, REQUIRE_SOURCE_ADDRESS', () => {
    const detail = (l: FwknopLadder, m: Partial<FwknopSealInput>) => {
      const s = run(l, packet(m));
      assert.equal(reasonOf(s), 'fwknop-not-allowed');
      return (s as { detail: string }).detail;
    };
    const ports = new FwknopLadder(door([stanza(', open_ports: [22, 443], restrict_ports: [443]')]), WINDOW_MS);
    assert.equal(detail(ports, { message: '0.0.0.0,tcp/443' }), '443/tcp is in RESTRICT_PORTS');
    assert.equal(detail(ports, { message: '0.0.0.0,tcp/80' }), '80/tcp is not in OPEN_PORTS');
    const any = new FwknopLadder(door([stanza()]), WINDOW_MS);
    assert.equal(detail(any, { message: '0.0.0.0,tcp/8080' }), '8080/tcp is not a port this door opens');
    const bound = new FwknopLadder(door([stanza(', require_source_address: true')]), WINDOW_MS);
    assert.match(detail(bound, { message: '0.0.0.0,tcp/22' }), /^REQUIRE_SOURCE_ADDRESS/);
    assert.match(detail(bound, { message: '198.18.0.9,tcp/22' }), /^REQUIRE_SOURCE_ADDRESS/);
    assert.equal(reasonOf(run(bound, packet({ message: `${SOURCE},tcp/22` }))), 'needs-replay-check');
  });

  it('asks for a replay check: the digest, expiring at timestamp + window + margin, owned by the stanza', () => {
    const d = door([stanza()]);
    const ladder = new FwknopLadder(d, WINDOW_MS);
    const bytes = packet();
    const step = run(ladder, bytes, T0 + 3_000) as NeedsReplayCheck<FwknopPending>;
    const s = d.fwknop?.stanzas[0] as FwknopStanza;
    assert.deepEqual(step.replay, {
      key: fwknopReplayDigestHex(bytes),
      expiresAtMs: replayExpiryMs(T0, WINDOW_MS),
      owner: { id: stanzaOwnerId(s), timestampMs: T0 },
    });
    assert.equal(step.who, s.origin);
  });
});

describe('fwknop ladder, conclude()', () => {
  const d = door([stanza(', max_fw_timeout: 2m')]);
  const ladder = new FwknopLadder(d, WINDOW_MS);
  const origin = (d.fwknop!.stanzas[0] as FwknopStanza).origin;

  it('each refusal of the store has its own reason', () => {
    const step = run(ladder, packet()) as NeedsReplayCheck<FwknopPending>;
    const expected: [ReplayOutcome, string][] = [
      ['replayed', 'fwknop-replayed'],
      ['full', 'fwknop-replay-store-full'],
      ['store-failed', 'fwknop-replay-store-failed'],
      ['behind-high-water', 'fwknop-replay-high-water'],
      ['owner-full', 'fwknop-replay-client-quota'],
    ];
    for (const [outcome, reason] of expected)
      assert.deepEqual(ladder.conclude(step, outcome), { kind: 'reject', reason, who: origin, detail: undefined });
  });

  it('fresh: 0.0.0.0 means the source; a client timeout is capped by MAX_FW_TIMEOUT', () => {
    const plain = run(ladder, packet()) as NeedsReplayCheck<FwknopPending>;
    assert.deepEqual(ladder.conclude(plain, 'fresh'), {
      kind: 'grant',
      who: origin,
      grant: { source: SOURCE, family: 4, endpoints: [{ proto: 'tcp', port: 22 }], durationS: 30, client: origin },
    });
    const asked = run(
      ladder,
      packet({ messageType: 3, clientTimeout: 600, message: '192.0.2.7,tcp/22,tcp/443' }),
    ) as NeedsReplayCheck<FwknopPending>;
    const g = ladder.conclude(asked, 'fresh');
    assert.equal(g.kind, 'grant');
    assert.deepEqual(g.kind === 'grant' && g.grant, {
      source: '192.0.2.7',
      family: 4,
      endpoints: [
        { proto: 'tcp', port: 22 },
        { proto: 'tcp', port: 443 },
      ],
      durationS: 120,
      client: origin,
    });
  });
});

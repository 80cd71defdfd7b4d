/**
 * Covers src/core/spa/policy.ts (decideSpaGrant, rung 9 of the SPA ladder in docs/protocol.md):
 * ports (empty = the client's allow list, anything outside it refused), duration (0 = the door's
 * default capped by the client's maximum, above the maximum refused), and address binding (the
 * packet source as one address by default, a prefix only as wide as `widest_prefix` allows and
 * granted as its network, another address only with `other_address`, prefixes longer than the
 * family refused). Doors and clients are built by hand.
 * Properties state their invariant in the first line of their description.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Door, SpaClient } from '../../src/core/door.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { parseIPAddress, type IPAddressBytes } from '../../src/core/ip-address.js';
import type { SpaRequest } from '../../src/core/spa/native-request.js';
import { decideSpaGrant, type SpaGrantDecision } from '../../src/core/spa/policy.js';

const tcp = (port: number): Endpoint => ({ proto: 'tcp', port });
const udp = (port: number): Endpoint => ({ proto: 'udp', port });

function ip(text: string): IPAddressBytes {
  const a = parseIPAddress(text);
  assert.ok(a, `test fixture: ${text} is an address`);
  return a;
}

function client(over: Partial<SpaClient> = {}): SpaClient {
  return {
    name: 'laptop',
    id: new Uint8Array(16).fill(0x11),
    idHex: '11'.repeat(16),
    mode: 'psk',
    psk: new Uint8Array(32).fill(0x22),
    allow: [tcp(22), udp(53)],
    maxDurationS: 300,
    otherAddress: false,
    requireAddress: false,
    minPrefix: { 4: 32, 6: 128 },
    ...over,
  };
}

function door(over: Partial<Door> = {}): Door {
  return {
    name: 'ssh',
    spa: { port: 62201, capture: 'socket', doorId: 'ssh', clients: [] },
    fwknop: null,
    sequence: null,
    oneTimeSequencesFile: null,
    totp: null,
    sequenceTimeoutMs: 0,
    tcpFlags: { mask: 0x12, value: 0x02, text: 'syn,!ack' },
    open: [tcp(22), udp(53), tcp(443)],
    durationS: 30,
    startCommand: null,
    stopCommand: null,
    commandTimeoutMs: 30_000,
    hideKnockPorts: false,
    shell: null,
    target: null,
    ...over,
  };
}

function request(over: Partial<SpaRequest> = {}): SpaRequest {
  return {
    timestampMs: 1_767_225_600_000,
    nonce: new Uint8Array(16).fill(0x55),
    durationS: 0,
    address: null,
    prefix: 0,
    ports: [],
    ...over,
  };
}

const V4_SOURCE = ip('198.51.100.7');
const V6_SOURCE = ip('2001:db8:1:2::7');

type Granted = Extract<SpaGrantDecision, { ok: true }>;

function granted(d: SpaGrantDecision): Granted {
  assert.equal(d.ok, true, `expected a grant, got ${JSON.stringify(d)}`);
  return d as Granted;
}

function refused(d: SpaGrantDecision, detail: RegExp): void {
  assert.equal(d.ok, false, `expected a refusal, got ${JSON.stringify(d)}`);
  if (d.ok) return;
  assert.equal(d.reason, 'spa-not-allowed');
  assert.match(d.detail, detail);
}

describe('decideSpaGrant: ports', () => {
  it("an empty port list grants exactly the client's allow list (not the door's open list)", () => {
    const g = granted(decideSpaGrant(door(), client(), request(), V4_SOURCE));
    assert.deepEqual(g.endpoints, [tcp(22), udp(53)]);
  });

  it('a list of allowed ports is granted as asked', () => {
    const g = granted(decideSpaGrant(door(), client(), request({ ports: [udp(53)] }), V4_SOURCE));
    assert.deepEqual(g.endpoints, [udp(53)]);
  });

  it('a port outside the allow list is refused and named in detail, even if the door opens it', () => {
    refused(decideSpaGrant(door(), client(), request({ ports: [tcp(22), tcp(443)] }), V4_SOURCE), /443\/tcp/);
  });

  it('the protocol counts: 53/tcp is not 53/udp', () => {
    refused(decideSpaGrant(door(), client(), request({ ports: [tcp(53)] }), V4_SOURCE), /53\/tcp/);
  });
});

describe('decideSpaGrant: duration', () => {
  it('0 means min(door.durationS, client.maxDurationS)', () => {
    assert.equal(
      granted(decideSpaGrant(door({ durationS: 30 }), client({ maxDurationS: 300 }), request(), V4_SOURCE)).durationS,
      30,
    );
    assert.equal(
      granted(decideSpaGrant(door({ durationS: 600 }), client({ maxDurationS: 120 }), request(), V4_SOURCE)).durationS,
      120,
    );
  });

  it("a duration up to the client's maximum is granted as asked", () => {
    assert.equal(
      granted(decideSpaGrant(door(), client({ maxDurationS: 300 }), request({ durationS: 300 }), V4_SOURCE)).durationS,
      300,
    );
    assert.equal(
      granted(decideSpaGrant(door(), client({ maxDurationS: 300 }), request({ durationS: 5 }), V4_SOURCE)).durationS,
      5,
    );
  });

  it("a duration above the client's maximum is refused", () => {
    refused(
      decideSpaGrant(door(), client({ maxDurationS: 300 }), request({ durationS: 301 }), V4_SOURCE),
      /301s exceeds .* 300s/,
    );
  });
});

describe('decideSpaGrant: address', () => {
  it('address null grants the packet source as one address (IPv4 and IPv6)', () => {
    const g4 = granted(decideSpaGrant(door(), client(), request(), V4_SOURCE));
    assert.equal(g4.source, '198.51.100.7');
    assert.equal(g4.family, 4);
    const g6 = granted(decideSpaGrant(door(), client(), request(), V6_SOURCE));
    assert.equal(g6.source, '2001:db8:1:2::7');
    assert.equal(g6.family, 6);
  });

  it('prefix 0 or the full length (32 / 128) is one address', () => {
    for (const prefix of [0, 32])
      assert.equal(granted(decideSpaGrant(door(), client(), request({ prefix }), V4_SOURCE)).source, '198.51.100.7');
    for (const prefix of [0, 128])
      assert.equal(granted(decideSpaGrant(door(), client(), request({ prefix }), V6_SOURCE)).source, '2001:db8:1:2::7');
  });

  it('prefix 24 with minPrefix[4] = 24 grants the /24 network of the source', () => {
    const c = client({ minPrefix: { 4: 24, 6: 128 } });
    const g = granted(decideSpaGrant(door(), c, request({ prefix: 24 }), V4_SOURCE));
    assert.equal(g.source, '198.51.100.0/24');
    assert.equal(g.family, 4);
  });

  it('prefix 64 with minPrefix[6] = 64 grants the /64 network of an IPv6 source', () => {
    const c = client({ minPrefix: { 4: 32, 6: 64 } });
    assert.equal(granted(decideSpaGrant(door(), c, request({ prefix: 64 }), V6_SOURCE)).source, '2001:db8:1:2::/64');
  });

  it("a prefix wider than the client's limit is refused (23 < 24; 24 with the default /32)", () => {
    refused(
      decideSpaGrant(door(), client({ minPrefix: { 4: 24, 6: 128 } }), request({ prefix: 23 }), V4_SOURCE),
      /\/23 is wider than .*\/24/,
    );
    refused(decideSpaGrant(door(), client(), request({ prefix: 24 }), V4_SOURCE), /\/24 is wider/);
  });

  it('a prefix longer than the family allows is refused (40 for IPv4)', () => {
    refused(decideSpaGrant(door(), client(), request({ prefix: 40 }), V4_SOURCE), /\/40 is too long for IPv4/);
    refused(
      decideSpaGrant(door(), client(), request({ prefix: 33, address: ip('198.51.100.7') }), V4_SOURCE),
      /\/33 is too long/,
    );
    refused(decideSpaGrant(door(), client(), request({ prefix: 129 }), V6_SOURCE), /\/129 is too long for IPv6/);
  });

  it('an explicit address equal to the source is allowed without otherAddress', () => {
    const g = granted(
      decideSpaGrant(door(), client(), request({ address: ip('198.51.100.7'), prefix: 32 }), V4_SOURCE),
    );
    assert.equal(g.source, '198.51.100.7');
  });

  it('an explicit other address is refused unless otherAddress, and granted with it', () => {
    const req = request({ address: ip('203.0.113.9'), prefix: 32 });
    refused(decideSpaGrant(door(), client(), req, V4_SOURCE), /not the packet source/);
    const g = granted(decideSpaGrant(door(), client({ otherAddress: true }), req, V4_SOURCE));
    assert.equal(g.source, '203.0.113.9');
    assert.equal(g.family, 4);
  });

  it('an explicit address inside the granted prefix of the source is allowed without otherAddress', () => {
    const c = client({ minPrefix: { 4: 24, 6: 128 } });
    const g = granted(decideSpaGrant(door(), c, request({ address: ip('198.51.100.200'), prefix: 24 }), V4_SOURCE));
    assert.equal(g.source, '198.51.100.0/24');
    // The same address as a single address does not cover the source.
    refused(
      decideSpaGrant(door(), c, request({ address: ip('198.51.100.200'), prefix: 32 }), V4_SOURCE),
      /not the packet source/,
    );
    // Nor does a /24 next door.
    refused(
      decideSpaGrant(door(), c, request({ address: ip('198.51.101.1'), prefix: 24 }), V4_SOURCE),
      /not the packet source/,
    );
  });

  it('an IPv6 packet asking for an IPv4 address needs otherAddress', () => {
    const req = request({ address: ip('198.51.100.7'), prefix: 32 });
    refused(decideSpaGrant(door(), client(), req, V6_SOURCE), /not the packet source/);
    const g = granted(decideSpaGrant(door(), client({ otherAddress: true }), req, V6_SOURCE));
    assert.equal(g.source, '198.51.100.7');
    assert.equal(g.family, 4);
  });

  it("the other address's family decides the prefix limits (IPv4 prefix on an IPv6 packet)", () => {
    const c = client({ otherAddress: true, minPrefix: { 4: 32, 6: 48 } });
    refused(
      decideSpaGrant(door(), c, request({ address: ip('198.51.100.7'), prefix: 24 }), V6_SOURCE),
      /wider than .*\/32/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property

/** Does `network/prefix` contain `a`? Bitwise, independent of the code under test. */
function contains(network: Uint8Array, prefix: number, a: Uint8Array): boolean {
  if (network.length !== a.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((network[byte] as number) & mask) !== ((a[byte] as number) & mask)) return false;
  }
  return true;
}

/** The granted source as bytes and a prefix length, in the decision's family. */
function parseGrant(g: Granted): { bytes: Uint8Array; prefix: number } {
  const [addr, len] = g.source.split('/');
  const parsed = parseIPAddress(addr as string);
  assert.ok(parsed, `granted source ${g.source} parses`);
  let bytes = parsed.bytes;
  if (g.family === 6 && parsed.family === 4) {
    // An IPv4-mapped IPv6 address is written ::ffff:a.b.c.d and parses back as IPv4.
    bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...parsed.bytes]);
  }
  assert.equal(bytes.length, g.family === 4 ? 4 : 16);
  return { bytes, prefix: len === undefined ? (g.family === 4 ? 32 : 128) : Number(len) };
}

const familyArb = fc.constantFrom<4 | 6>(4, 6);
const addressArb = (family: 4 | 6): fc.Arbitrary<IPAddressBytes> =>
  fc
    .uint8Array({ minLength: family === 4 ? 4 : 16, maxLength: family === 4 ? 4 : 16 })
    .map((bytes) => ({ family, bytes }));

/** An explicit address: random, or the source with a few low bits changed (often inside a granted prefix). */
const requestedAddressArb = (source: IPAddressBytes): fc.Arbitrary<IPAddressBytes | null> =>
  fc.oneof(
    fc.constant(null),
    familyArb.chain(addressArb),
    fc.integer({ min: 0, max: 255 }).map((x) => {
      const bytes = Uint8Array.from(source.bytes);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ x;
      return { family: source.family, bytes };
    }),
  );

describe('decideSpaGrant: require_address', () => {
  it('an unbound request (address null) from a client with requireAddress is refused with spa-address-required, any prefix, any family', () => {
    for (const [src, prefix] of [
      [V4_SOURCE, 0],
      [V4_SOURCE, 24],
      [V6_SOURCE, 0],
    ] as const) {
      const d = decideSpaGrant(
        door(),
        client({ requireAddress: true, minPrefix: { 4: 24, 6: 64 } }),
        request({ prefix }),
        src,
      );
      assert.equal(d.ok, false, `expected a refusal, got ${JSON.stringify(d)}`);
      if (!d.ok) {
        assert.equal(d.reason, 'spa-address-required');
        assert.match(d.detail, /--allow-ip/);
      }
    }
  });

  it('a bound request from such a client is granted for that address; the other rules still hold', () => {
    const c = client({ requireAddress: true });
    assert.equal(
      granted(decideSpaGrant(door(), c, request({ address: ip('198.51.100.7'), prefix: 32 }), V4_SOURCE)).source,
      '198.51.100.7',
    );
    refused(
      decideSpaGrant(door(), c, request({ address: ip('203.0.113.9'), prefix: 32 }), V4_SOURCE),
      /not the packet source/,
    );
    assert.equal(
      granted(decideSpaGrant(door(), client(), request(), V4_SOURCE)).source,
      '198.51.100.7',
      'without requireAddress, unbound is still the default',
    );
  });
});

describe('decideSpaGrant: property', () => {
  it('a granted source always covers the packet source unless otherAddress is true; it is a network (host bits zero)', () => {
    let grants = 0;
    let prefixGrants = 0;
    fc.assert(
      fc.property(
        familyArb.chain(addressArb).chain((source) =>
          fc.record({
            source: fc.constant(source),
            address: requestedAddressArb(source),
            prefix: fc.integer({ min: 0, max: 140 }),
            otherAddress: fc.boolean(),
            min4: fc.integer({ min: 1, max: 32 }),
            min6: fc.integer({ min: 1, max: 128 }),
          }),
        ),
        ({ source, address, prefix, otherAddress, min4, min6 }) => {
          const c = client({ otherAddress, minPrefix: { 4: min4, 6: min6 } });
          const d = decideSpaGrant(door(), c, request({ address, prefix }), source);
          if (!d.ok) return;
          grants++;
          const g = parseGrant(d);
          if (g.prefix < (d.family === 4 ? 32 : 128)) prefixGrants++;
          const full = d.family === 4 ? 32 : 128;
          assert.ok(g.prefix >= 1 && g.prefix <= full, `prefix /${g.prefix} within the family`);
          assert.ok(g.prefix >= c.minPrefix[d.family], `prefix /${g.prefix} not wider than the client's limit`);
          // Host bits are zero: the network contains itself masked, i.e. it equals its own network.
          const zeroHost = new Uint8Array(g.bytes.length);
          for (let bit = 0; bit < g.prefix; bit++)
            if ((g.bytes[bit >> 3] as number) & (0x80 >> (bit & 7)))
              zeroHost[bit >> 3] = (zeroHost[bit >> 3] as number) | (0x80 >> (bit & 7));
          assert.deepEqual(g.bytes, zeroHost, `${d.source} has host bits set`);
          if (!otherAddress) {
            assert.equal(d.family, source.family, 'same family as the packet source');
            assert.ok(contains(g.bytes, g.prefix, source.bytes), `${d.source} does not cover the packet source`);
          }
        },
      ),
      { numRuns: 2000 },
    );
    // Not vacuous: many runs are grants, some of them of a prefix.
    assert.ok(grants > 200, `only ${grants} grants`);
    assert.ok(prefixGrants > 20, `only ${prefixGrants} prefix grants`);
  });
});

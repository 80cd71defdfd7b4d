/**
 * Covers src/gates/nftables.ts through its transport port (NftExecutor), without a kernel:
 *   - with a recording executor: no batch is larger than MAX_FIREWALL_BATCH_BYTES (the worker
 *     refuses requests over 16 MiB and a burst of extensions of 512 prefixes × 64 ports is ~16 MiB
 *     of JSON), and a refused batch fails only the grant at fault;
 *   - with a model of the kernel (test/support/memory-nft-kernel.ts): what the kernel is asked
 *     (which commands, in which batches, cut where) and what it then holds, and what each caller
 *     observes: the expiry mirror that skips a knock that would not lengthen a grant or that a live
 *     prefix grant already covers, batches cut at exactly MAX_GRANTS_PER_FIREWALL_BATCH and at the
 *     byte limit, a refused batch retried grant by grant, install() keeping and dropping grants.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../src/core/endpoint.js';
import { KnockgateError } from '../../src/core/errors.js';
import { MAX_FIREWALL_BATCH_BYTES, MAX_GRANTS_PER_FIREWALL_BATCH } from '../../src/core/limits.js';
import { NftablesGate } from '../../src/gates/nftables.js';
import type { NftExecutor } from '../../src/gates/nft-runner.js';
import { setGrantCommands, type NftCommand } from '../../src/gates/nftables-ruleset.js';
import { MemoryNftKernel } from '../support/memory-nft-kernel.js';

class RecordingExecutor implements NftExecutor {
  readonly kind = 'worker';
  readonly grantPath = 'worker';
  readonly batches: number[] = [];
  constructor(private readonly refuse: (json: string) => boolean = () => false) {}
  async apply(commands: readonly unknown[]): Promise<void> {
    const json = JSON.stringify({ nftables: commands });
    this.batches.push(json.length);
    if (json.length > 16 * 1024 * 1024)
      throw new KnockgateError('KG_FIREWALL_FAILED', 'the nftables worker exited (code 65)');
    if (this.refuse(json))
      throw new KnockgateError('KG_FIREWALL_FAILED', 'nft rejected the batch: Could not process rule: File exists');
  }
  async listTable(): Promise<string | undefined> {
    return undefined;
  }
  close(): void {}
}

const ports = (n: number): Endpoint[] => Array.from({ length: n }, (_, i) => ({ proto: 'tcp', port: 2000 + i }));

describe('NftablesGate batches', () => {
  it('512 IPv6 prefixes × 64 ports, granted then extended at once, go in batches under the size limit, all granted', async () => {
    const nft = new RecordingExecutor();
    let now = 0;
    const gate = new NftablesGate('knockgate', () => now, nft);
    const round = (durationS: number) =>
      Promise.all(
        Array.from({ length: 512 }, (_, i) =>
          gate.grant({ source: `2001:db8:77:${i.toString(16)}::/64`, family: 6, endpoints: ports(64), durationS }),
        ),
      );
    await round(60);
    now = 1_000;
    await round(120); // extensions: three commands per element
    assert.ok(
      Math.max(...nft.batches) <= MAX_FIREWALL_BATCH_BYTES + 64 * 1024,
      `largest batch ${Math.max(...nft.batches)} bytes`,
    );
    assert.ok(nft.batches.length > 2);
  });

  it('a batch the kernel refuses is retried grant by grant: only the grant at fault fails', async () => {
    const nft = new RecordingExecutor((json) => json.includes('198.18.5.5'));
    const observed: string[] = [];
    const gate = new NftablesGate(
      'knockgate',
      () => 0,
      nft,
      (seconds, outcome) => {
        assert.ok(seconds >= 0 && seconds < 5, `a duration in seconds: ${seconds}`);
        observed.push(outcome);
      },
    );
    const e = ports(1);
    const first = gate.grant({ source: '198.18.1.1', family: 4, endpoints: e, durationS: 30 }); // alone in flight
    const outcomes = await Promise.all(
      ['198.18.2.2', '198.18.5.5', '198.18.3.3'].map((source) =>
        gate.grant({ source, family: 4, endpoints: e, durationS: 30 }).then(
          () => 'ok',
          (err: Error) => err.message,
        ),
      ),
    );
    await first;
    assert.deepEqual(
      outcomes.map((o) => (o === 'ok' ? 'ok' : 'failed')),
      ['ok', 'failed', 'ok'],
    );
    // Each transaction timed once: the lone first grant, the refused batch of three, then each retry.
    assert.deepEqual(observed, ['applied', 'refused', 'applied', 'refused', 'applied']);
    assert.match(outcomes[1] as string, /File exists/);
  });
});

/** A batch as `verb source proto/port timeout` lines, for asserting what the kernel was asked. */
const asked = (batch: readonly NftCommand[] | undefined): string[] =>
  (batch ?? []).map((c) => {
    const [verb, body] = Object.entries(c)[0] as [string, { element?: { elem: unknown[] } }];
    if (body.element === undefined) return `${verb} ${Object.keys(body)[0]}`;
    const item = body.element?.elem[0] as { elem?: { val: unknown; timeout: number }; concat?: unknown[] };
    const val = (item.elem?.val ?? item) as { concat: [unknown, string, number] };
    const [source, proto, port] = val.concat;
    const text =
      typeof source === 'string'
        ? source
        : `${(source as { prefix: { addr: string; len: number } }).prefix.addr}/${(source as { prefix: { len: number } }).prefix.len}`;
    return `${verb} ${text} ${proto}/${port}${item.elem ? ` ${item.elem.timeout}s` : ''}`;
  });

const tcp = (port: number): Endpoint => ({ proto: 'tcp', port });
const outcome = (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: Error) => `failed: ${err.message}`,
  );

function modelGate(): { gate: NftablesGate; kernel: MemoryNftKernel; clock: { now: number } } {
  const clock = { now: 0 };
  const kernel = new MemoryNftKernel(() => clock.now);
  const gate = new NftablesGate('knockgate', () => clock.now, kernel);
  return { gate, kernel, clock };
}

describe('NftablesGate against a model of the kernel: the expiry mirror', () => {
  const layout = {
    protectedPorts: [tcp(22), tcp(443), tcp(2000), tcp(2001)],
    hiddenPorts: [],
    untrackedUdpPorts: [],
    exemptInterfaces: [],
  };

  it('a new grant is one add per endpoint, with the duration as the timeout', async () => {
    const { gate, kernel } = modelGate();
    await gate.install(layout);
    await gate.grant({
      source: '198.18.1.1',
      family: 4,
      endpoints: [tcp(22), { proto: 'udp', port: 51820 }],
      durationS: 30,
    });
    assert.deepEqual(asked(kernel.batches[1]), ['add 198.18.1.1 tcp/22 30s', 'add 198.18.1.1 udp/51820 30s']);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 30_000);
    assert.equal(kernel.expiresAt('198.18.1.1', 'udp', 51820), 30_000);
  });

  it('an extension replaces the element (add, delete, add) and the kernel holds the later end', async () => {
    const { gate, kernel, clock } = modelGate();
    await gate.install(layout);
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 });
    clock.now = 10_000;
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 60 });
    assert.deepEqual(asked(kernel.batches[2]), [
      'add 198.18.1.1 tcp/22 60s',
      'delete 198.18.1.1 tcp/22',
      'add 198.18.1.1 tcp/22 60s',
    ]);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 70_000);
  });

  it('a knock that would shorten a grant, or end it at the same instant, asks the kernel nothing; one millisecond later does', async () => {
    const { gate, kernel, clock } = modelGate();
    await gate.install(layout);
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 60 });
    const before = kernel.batches.length;
    clock.now = 10_000;
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 }); // would end at 40 s
    clock.now = 30_000;
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 }); // would end at 60 s, as now
    assert.equal(kernel.batches.length, before, 'the kernel must not be asked to shorten or repeat a grant');
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 60_000);
    clock.now = 30_001;
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 });
    assert.equal(kernel.batches.length, before + 1);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 60_001);
  });

  it('only the endpoints a knock lengthens are asked', async () => {
    const { gate, kernel, clock } = modelGate();
    await gate.install(layout);
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 60 });
    clock.now = 10_000;
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22), tcp(443)], durationS: 30 });
    assert.deepEqual(asked(kernel.batches.at(-1)), ['add 198.18.1.1 tcp/443 30s']);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 60_000);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 443), 40_000);
  });

  it('an element the kernel already dropped on its own timer is made again', async () => {
    const { gate, kernel, clock } = modelGate();
    await gate.install(layout);
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 });
    clock.now = 31_000; // gone from the kernel, still in the mirror (GRANT_MIRROR_GRACE_MS)
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), undefined);
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 });
    assert.deepEqual(asked(kernel.batches.at(-1)), [
      'add 198.18.1.1 tcp/22 30s',
      'delete 198.18.1.1 tcp/22',
      'add 198.18.1.1 tcp/22 30s',
    ]);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 61_000);
  });

  it('an address inside a live prefix grant: a no-op while the prefix runs as long, refused by the kernel when it asks for longer', async () => {
    const { gate, kernel, clock } = modelGate();
    await gate.install(layout);
    await gate.grant({ source: '198.18.200.0/24', family: 4, endpoints: [tcp(2000)], durationS: 60 });
    await gate.grant({ source: '2001:db8:5::/64', family: 6, endpoints: [tcp(2000)], durationS: 60 });
    const before = kernel.batches.length;
    clock.now = 10_000;
    await gate.grant({ source: '198.18.200.7', family: 4, endpoints: [tcp(2000)], durationS: 30 }); // ends at 40 s
    await gate.grant({ source: '198.18.200.8', family: 4, endpoints: [tcp(2000)], durationS: 50 }); // ends at 60 s, with the prefix
    await gate.grant({ source: '2001:db8:5::1', family: 6, endpoints: [tcp(2000)], durationS: 50 });
    assert.equal(kernel.batches.length, before, 'addresses the prefixes cover for as long must not reach the kernel');
    // The same addresses on a port the prefix does not open, and an address outside it, are grants of their own.
    await gate.grant({ source: '198.18.200.7', family: 4, endpoints: [tcp(2001)], durationS: 30 });
    await gate.grant({ source: '198.18.201.7', family: 4, endpoints: [tcp(2000)], durationS: 30 });
    assert.deepEqual(kernel.batches.slice(before).map(asked), [
      ['add 198.18.200.7 tcp/2001 30s'],
      ['add 198.18.201.7 tcp/2000 30s'],
    ]);
    // Longer than the prefix runs: the kernel cannot hold both (interval sets refuse the overlap).
    assert.match(
      await outcome(gate.grant({ source: '198.18.200.9', family: 4, endpoints: [tcp(2000)], durationS: 120 })),
      /^failed: .*File exists/,
    );
    assert.deepEqual(
      kernel
        .live()
        .map((e) => `${e.source} ${e.proto}/${e.port}`)
        .sort(),
      ['198.18.200.0/24 tcp/2000', '198.18.200.7 tcp/2001', '198.18.201.7 tcp/2000', '2001:db8:5::/64 tcp/2000'],
    );
    // Once the prefix has run out, the address is granted on its own.
    clock.now = 60_000;
    await gate.grant({ source: '198.18.200.9', family: 4, endpoints: [tcp(2000)], durationS: 30 });
    assert.equal(kernel.expiresAt('198.18.200.9', 'tcp', 2000), 90_000);
  });

  it('two knocks for one element in the same batch: the kernel holds the later end, whichever came first', async () => {
    for (const durations of [
      [30, 60],
      [60, 30],
    ]) {
      const { gate, kernel } = modelGate();
      await gate.install(layout);
      const first = gate.grant({ source: '198.19.9.9', family: 4, endpoints: [tcp(22)], durationS: 30 }); // in flight alone
      const outcomes = await Promise.all(
        durations.map((durationS) =>
          outcome(gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS })),
        ),
      );
      await first;
      assert.deepEqual(outcomes, ['ok', 'ok']);
      assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 60_000, `durations ${durations.join(' then ')}`);
      // And the mirror agrees with the kernel: a later knock for less than is left does not shorten it.
      await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 45 });
      assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 60_000, `durations ${durations.join(' then ')}, then 45`);
    }
  });

  it('install keeps the grants on ports still protected (and knows their expiry), and deletes the rest', async () => {
    const { gate: before, kernel, clock } = modelGate();
    await before.install({ ...layout, protectedPorts: [tcp(22), tcp(8080)] });
    await before.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22), tcp(8080)], durationS: 60 });
    await before.grant({ source: '198.18.200.0/24', family: 4, endpoints: [tcp(22)], durationS: 60 });
    // A restart, with tcp/8080 no longer protected.
    clock.now = 10_000;
    const gate = new NftablesGate('knockgate', () => clock.now, kernel);
    const kept = await gate.install({ ...layout, protectedPorts: [tcp(22)] });
    assert.deepEqual(
      kept.map((g) => `${g.source} ${g.endpoint.proto}/${g.endpoint.port} ${g.expiresInS}s`),
      ['198.18.1.1 tcp/22 50s', '198.18.200.0/24 tcp/22 50s'],
    );
    assert.ok(asked(kernel.batches.at(-1)).includes('delete 198.18.1.1 tcp/8080'));
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 8080), undefined);
    const installed = kernel.batches.length;
    // The new gate's mirror holds the kept grants: no knock that would not lengthen them is asked.
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 30 });
    await gate.grant({ source: '198.18.200.5', family: 4, endpoints: [tcp(22)], durationS: 30 });
    assert.equal(kernel.batches.length, installed);
    // An extension of a kept grant replaces the element the kernel holds.
    await gate.grant({ source: '198.18.1.1', family: 4, endpoints: [tcp(22)], durationS: 120 });
    assert.deepEqual(asked(kernel.batches.at(-1)), [
      'add 198.18.1.1 tcp/22 120s',
      'delete 198.18.1.1 tcp/22',
      'add 198.18.1.1 tcp/22 120s',
    ]);
    assert.equal(kernel.expiresAt('198.18.1.1', 'tcp', 22), 130_000);
  });
});

describe('NftablesGate against a model of the kernel: batches', () => {
  const layout = { protectedPorts: ports(64), hiddenPorts: [], untrackedUdpPorts: [], exemptInterfaces: [] };
  /** Grants made at once while a first one is in flight: how many grants went in each batch. */
  async function burst(
    kernel: MemoryNftKernel,
    gate: NftablesGate,
    requests: { source: string; family: 4 | 6; endpoints: Endpoint[] }[],
  ): Promise<string[]> {
    await gate.install(layout);
    kernel.batches.length = 0;
    const first = outcome(gate.grant({ source: '198.19.0.1', family: 4, endpoints: [tcp(2000)], durationS: 30 }));
    const rest = await Promise.all(requests.map((r) => outcome(gate.grant({ ...r, durationS: 30 }))));
    return [await first, ...rest];
  }
  const v4 = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      source: `198.18.${i >> 8}.${i & 255}`,
      family: 4 as const,
      endpoints: [tcp(2000)],
    }));

  it(`exactly MAX_GRANTS_PER_FIREWALL_BATCH (${MAX_GRANTS_PER_FIREWALL_BATCH}) waiting grants go in one batch`, async () => {
    const { gate, kernel } = modelGate();
    const outcomes = await burst(kernel, gate, v4(MAX_GRANTS_PER_FIREWALL_BATCH));
    assert.ok(outcomes.every((o) => o === 'ok'));
    assert.deepEqual(
      kernel.batches.map((b) => b.length),
      [1, MAX_GRANTS_PER_FIREWALL_BATCH],
    );
    assert.equal(kernel.live().length, MAX_GRANTS_PER_FIREWALL_BATCH + 1);
  });

  it('one grant over the count limit waits for a batch of its own', async () => {
    const { gate, kernel } = modelGate();
    const outcomes = await burst(kernel, gate, v4(MAX_GRANTS_PER_FIREWALL_BATCH + 1));
    assert.ok(outcomes.every((o) => o === 'ok'));
    assert.deepEqual(
      kernel.batches.map((b) => b.length),
      [1, MAX_GRANTS_PER_FIREWALL_BATCH, 1],
    );
    assert.equal(kernel.expiresAt(v4(MAX_GRANTS_PER_FIREWALL_BATCH + 1).at(-1)?.source as string, 'tcp', 2000), 30_000);
  });

  it('batches are cut at the byte limit: as many grants as fit, and the next one starts the next batch', async () => {
    // Grants of equal size (64 ports each, sources of one length), so the cut is computable.
    const requests = Array.from({ length: 1_000 }, (_, i) => ({
      source: `2001:db8:77:${(0x100 + i).toString(16)}::/64`,
      family: 6 as const,
      endpoints: ports(64),
    }));
    const bytesEach = JSON.stringify(
      requests[0]?.endpoints.flatMap((e) =>
        setGrantCommands('knockgate', requests[0]?.source as string, 6, e, 30, false),
      ),
    ).length;
    const fit = Math.floor(MAX_FIREWALL_BATCH_BYTES / bytesEach);
    assert.ok(fit < MAX_GRANTS_PER_FIREWALL_BATCH, 'the byte limit, not the count, must cut these batches');
    const { gate, kernel } = modelGate();
    const outcomes = await burst(kernel, gate, requests.slice(0, 2 * fit + 1));
    assert.ok(
      outcomes.every((o) => o === 'ok'),
      String(outcomes.find((o) => o !== 'ok')),
    );
    assert.deepEqual(
      kernel.batches.map((b) => b.length / 64),
      [1 / 64, fit, fit, 1],
    );
    assert.equal(kernel.live().length, 1 + (2 * fit + 1) * 64);
  });

  it('a batch the kernel refuses is applied not at all, then grant by grant: the caller of the grant at fault alone sees the failure', async () => {
    const { gate, kernel, clock } = modelGate();
    await gate.install(layout);
    await gate.grant({ source: '198.18.200.0/24', family: 4, endpoints: [tcp(2000)], durationS: 60 });
    kernel.batches.length = 0;
    const first = outcome(gate.grant({ source: '198.19.0.1', family: 4, endpoints: [tcp(2000)], durationS: 30 }));
    const outcomes = await Promise.all(
      ['198.18.1.1', '198.18.200.9', '198.18.1.2'].map((source) =>
        outcome(gate.grant({ source, family: 4, endpoints: [tcp(2000)], durationS: 120 })),
      ),
    );
    assert.equal(await first, 'ok');
    assert.equal(outcomes[0], 'ok');
    assert.match(outcomes[1] as string, /^failed: .*File exists/);
    assert.equal(outcomes[2], 'ok');
    assert.deepEqual(kernel.batches.map(asked), [
      ['add 198.19.0.1 tcp/2000 30s'],
      ['add 198.18.1.1 tcp/2000 120s', 'add 198.18.200.9 tcp/2000 120s', 'add 198.18.1.2 tcp/2000 120s'],
      ['add 198.18.1.1 tcp/2000 120s'],
      ['add 198.18.200.9 tcp/2000 120s'],
      ['add 198.18.1.2 tcp/2000 120s'],
    ]);
    assert.equal(kernel.expiresAt('198.18.200.9', 'tcp', 2000), undefined);
    // The failed grant left nothing in the mirror: once the prefix has gone, asking again reaches the kernel.
    clock.now = 61_000;
    assert.equal(
      await outcome(gate.grant({ source: '198.18.200.9', family: 4, endpoints: [tcp(2000)], durationS: 30 })),
      'ok',
    );
    assert.deepEqual(asked(kernel.batches.at(-1)), ['add 198.18.200.9 tcp/2000 30s']);
  });

  it('a grant refused alone fails with KG_FIREWALL_FAILED and is asked again next time', async () => {
    let refuse = true;
    const clock = { now: 0 };
    const kernel = new MemoryNftKernel(
      () => clock.now,
      (batch) =>
        refuse && JSON.stringify(batch).includes('198.18.7.7')
          ? 'Could not process rule: Operation not permitted'
          : undefined,
    );
    const gate = new NftablesGate('knockgate', () => clock.now, kernel);
    await gate.install(layout);
    await assert.rejects(
      gate.grant({ source: '198.18.7.7', family: 4, endpoints: [tcp(2000)], durationS: 30 }),
      (err: KnockgateError) => err.code === 'KG_FIREWALL_FAILED' && /Operation not permitted/.test(err.message),
    );
    refuse = false;
    await gate.grant({ source: '198.18.7.7', family: 4, endpoints: [tcp(2000)], durationS: 30 });
    assert.equal(kernel.expiresAt('198.18.7.7', 'tcp', 2000), 30_000);
  });
});

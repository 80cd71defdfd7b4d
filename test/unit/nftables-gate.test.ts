/**
 * Covers how src/gates/nftables.ts cuts and retries batches, with a recording executor in place
 * of the kernel (issue "Every promise holds at the edges", item 4): no batch is larger than
 * MAX_FIREWALL_BATCH_BYTES (the worker refuses requests over 16 MiB and a burst of extensions of
 * 512 prefixes × 64 ports is ~16 MiB of JSON), and a refused batch fails only the grant at fault.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../src/core/endpoint.js';
import { KnockgateError } from '../../src/core/errors.js';
import { MAX_FIREWALL_BATCH_BYTES } from '../../src/core/limits.js';
import { NftablesGate } from '../../src/gates/nftables.js';
import type { NftExecutor } from '../../src/gates/nft-runner.js';

class RecordingExecutor implements NftExecutor {
  readonly kind = 'worker';
  readonly batches: number[] = [];
  constructor(private readonly refuse: (json: string) => boolean = () => false) {}
  async apply(commands: readonly unknown[]): Promise<void> {
    const json = JSON.stringify({ nftables: commands });
    this.batches.push(json.length);
    if (json.length > 16 * 1024 * 1024) throw new KnockgateError('KG_FIREWALL_FAILED', 'the nftables worker exited (code 65)');
    if (this.refuse(json)) throw new KnockgateError('KG_FIREWALL_FAILED', 'nft rejected the batch: Could not process rule: File exists');
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
      Promise.all(Array.from({ length: 512 }, (_, i) => gate.grant({ source: `2001:db8:77:${i.toString(16)}::/64`, family: 6, endpoints: ports(64), durationS })));
    await round(60);
    now = 1_000;
    await round(120); // extensions: three commands per element
    assert.ok(Math.max(...nft.batches) <= MAX_FIREWALL_BATCH_BYTES + 64 * 1024, `largest batch ${Math.max(...nft.batches)} bytes`);
    assert.ok(nft.batches.length > 2);
  });

  it('a batch the kernel refuses is retried grant by grant: only the grant at fault fails', async () => {
    const nft = new RecordingExecutor((json) => json.includes('198.18.5.5'));
    const gate = new NftablesGate('knockgate', () => 0, nft);
    const e = ports(1);
    const first = gate.grant({ source: '198.18.1.1', family: 4, endpoints: e, durationS: 30 }); // alone in flight
    const outcomes = await Promise.all(
      ['198.18.2.2', '198.18.5.5', '198.18.3.3'].map((source) => gate.grant({ source, family: 4, endpoints: e, durationS: 30 }).then(() => 'ok', (err: Error) => err.message)),
    );
    await first;
    assert.deepEqual(outcomes.map((o) => (o === 'ok' ? 'ok' : 'failed')), ['ok', 'failed', 'ok']);
    assert.match(outcomes[1] as string, /File exists/);
  });
});

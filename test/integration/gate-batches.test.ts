/**
 * Grants that share a batch do not share a failure, on the real kernel (issue "Every promise holds
 * at the edges", item 4): an address inside a live prefix grant is a no-op when the prefix runs as
 * long, an unrelated grant in the same batch as one the kernel refuses is still made, and a
 * worst-case burst (512 IPv6 prefixes × 64 ports) is cut into batches the worker can take.
 */

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';

const SCENARIO = fileURLToPath(new URL('../support/gate-scenario.js', import.meta.url));

describe('firewall batches', () => {
  let tb: Testbed;
  before(() => {
    tb = createTestbed();
  });
  after(() => tb?.destroy());

  const run = (scenario: string, table: string): Record<string, unknown> =>
    JSON.parse(tb.run(tb.server.ns, [process.execPath, SCENARIO, scenario, table]).trim()) as Record<string, unknown>;

  it('an address inside a live prefix grant does not fail an unrelated grant in the same batch', () => {
    const r = run('overlap', 'kg_overlap');
    assert.equal(r.first, 'ok');
    assert.equal(r.covered, 'ok', 'an address the prefix covers for as long should be a no-op');
    assert.equal(r.unrelated, 'ok', `an unrelated grant failed with the batch: ${JSON.stringify(r)}`);
    assert.match(String(r.longer), /^failed: /, 'an overlapping element the kernel cannot hold fails on its own');
    assert.equal(r.sources, 3, `the kernel should hold the /24 and the two unrelated addresses: ${JSON.stringify(r)}`);
  });

  it('512 IPv6 prefixes × 64 ports at once are all granted (batches cut by size)', () => {
    const r = run('worst', 'kg_worst');
    process.stdout.write(`# 512 × 64 grants: ${JSON.stringify({ ok: r.ok, ms: r.ms })}\n`);
    assert.equal(r.ok, 512, JSON.stringify(r));
    assert.equal(r.granted, 512 * 64);
  });
});

/**
 * The SPA handlers under a flood (issue "Every promise holds at the edges", items 17 and 18), with
 * the real core, a real replay journal in a temp directory and fixed clocks:
 *   - native SPA: a known source gets its own allowance past MAC1, not unlimited work; another
 *     known source is still served while one floods (item 18);
 * Each test asserts what the daemon would count and grant.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import type { Door } from '../../src/core/door.js';
import { KnownSources } from '../../src/core/known-sources.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import { sealSpa, serverKeysFromPrivate } from '../../src/core/spa/native-wire.js';
import { LogLimiter } from '../../src/daemon/log-limiter.js';
import { SpaHandler } from '../../src/daemon/spa-handler.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import { ReplayJournal } from '../../src/stores/replay-journal.js';
import { KNOWN_SPA_SOURCE_WORK_BURST } from '../../src/core/limits.js';

const T0 = 1_790_000_000_000;

async function harness(yaml: string, budget: WorkBudget) {
  const dir = mkdtempSync(join(tmpdir(), 'kg-budget-'));
  const config = parseConfigText(join(dir, 'knockgate.yaml'), yaml);
  const clock = { unix: T0, mono: 1_000 };
  const journal = await ReplayJournal.open(join(dir, 'replay.journal'), 100_000, () => clock.unix);
  const grants: string[] = [];
  const counts = new Map<string, number>();
  const deps = {
    door: config.doors[0] as Door,
    replay: journal,
    freshnessMs: 120_000,
    unixMs: () => clock.unix,
    log: new MemoryLogger(),
    limiter: new LogLimiter(1_000_000, () => 0),
    count: (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1),
    grant: async (_d: Door, g: { source: string }) => {
      grants.push(g.source);
    },
    budget,
    knownSources: new KnownSources(100, 3_600_000),
    nowMs: () => clock.mono,
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    deps, clock, grants, counts, settle,
    close: async () => {
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('native SPA: a known source has an allowance of its own, not a free pass (item 18)', () => {
  it('a known source flooding MAC1-valid packets is capped; another known source is still served', async () => {
    const server = serverKeysFromPrivate(randomBytes(32));
    const id = randomBytes(16);
    const psk = randomBytes(32);
    // A budget a flood has already used up: one token, then next to nothing.
    const h = await harness(
      [
        'interfaces: [eth0]',
        'spa: {server_key: server.key}',
        'doors:',
        '  - name: ssh',
        '    spa: {port: 62201}',
        '    open: [22]',
        '    clients:',
        `      - {name: laptop, id: ${id.toString('base64url')}, psk: ${psk.toString('base64url')}}`,
      ].join('\n'),
      new WorkBudget(0.001, 1),
    );
    const packet = () =>
      sealSpa({
        serverPublicKey: server.publicKey,
        clientId: id,
        secret: { mode: 'psk', psk },
        request: { timestampMs: h.clock.unix, nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
        ephemeralPrivate: randomBytes(32),
        topBit: 0,
      });
    try {
      const handler = new SpaHandler({ ...h.deps, keys: server });
      h.deps.knownSources.remember('198.18.0.2', h.clock.mono);
      h.deps.knownSources.remember('198.18.0.3', h.clock.mono);
      // One packet, the same as a spoofer replaying a capture would send: each costs a key agreement if admitted.
      const flood = packet();
      const FLOOD = 300;
      for (let i = 0; i < FLOOD; i++) handler.handle(flood, '198.18.0.2');
      await h.settle();
      const overload = h.counts.get('spa_rejected_overload') ?? 0;
      const admitted = FLOOD - overload;
      assert.ok(admitted <= KNOWN_SPA_SOURCE_WORK_BURST + 1, `${admitted} of ${FLOOD} packets from one known source went past MAC1`);
      assert.ok(overload >= FLOOD - KNOWN_SPA_SOURCE_WORK_BURST - 1);
      handler.handle(packet(), '198.18.0.3');
      await h.settle();
      assert.ok(h.grants.includes('198.18.0.3'), 'the other known source was not served');
    } finally {
      await h.close();
    }
  });
});

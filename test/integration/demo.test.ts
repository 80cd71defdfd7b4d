/**
 * The README's first command: the demo runs to the end and shows what it says it shows: 22/tcp
 * filtered, opened by the knock for the client alone, filtered again when the grant runs out,
 * opened again by one SPA datagram, and the replayed datagram refused. Run with a 2 s grant (the
 * same code as scripts/demo.sh, which only adds setup.sh first).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILD_ROOT } from '../support/daemon-process.js';

describe('the demo', () => {
  it('runs to the end, shows each step as it says, and cleans up', () => {
    const r = spawnSync(process.execPath, [join(BUILD_ROOT, 'demo', 'demo.js'), '--duration', '2'], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const probes = [...r.stdout.matchAll(/^\s+(client|bystander) -> 22\/tcp: (OPEN|FILTERED)/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    assert.deepEqual(probes, [
      'client FILTERED',
      'client OPEN',
      'bystander FILTERED',
      'client FILTERED',
      'client OPEN',
      'bystander FILTERED',
    ]);
    assert.match(r.stdout, /"reason":"spa-replayed"/);
    assert.match(r.stdout, /cleaned up: namespaces, processes and firewall rules removed/);
  });
});

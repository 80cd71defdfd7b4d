/**
 * The complete SPA configuration shown in the README (the block after `<!-- minimal-spa-config -->`)
 * loads as it is, and says what the README says of it: a plain knock gets `duration`, a client may
 * ask up to `max_duration`, and without the `max_duration:` line a request for 5 minutes is refused.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import { decideSpaGrant } from '../../src/core/spa/policy.js';
import type { SpaRequest } from '../../src/core/spa/native-request.js';
import { REPO_ROOT } from '../support/daemon-process.js';

const README = join(REPO_ROOT, 'README.md');

function exampleBlock(): string {
  const text = readFileSync(README, 'utf8');
  const m = /<!-- minimal-spa-config -->\n```yaml\n([\s\S]*?)```/.exec(text);
  assert.ok(m, 'README.md has the marked minimal SPA configuration');
  return m[1] as string;
}

const request = (durationS: number): SpaRequest => ({
  timestampMs: 0,
  nonce: new Uint8Array(16),
  durationS,
  address: null,
  prefix: 0,
  ports: [],
});
const source = parseIPAddress('198.18.0.2') as NonNullable<ReturnType<typeof parseIPAddress>>;

describe('the README minimal SPA configuration', () => {
  it('loads, with one SPA door and the client that add-client printed', () => {
    const c = parseConfigText(README, exampleBlock());
    assert.deepEqual(
      c.doors.map((d) => d.name),
      ['ssh'],
    );
    const door = c.doors[0];
    assert.ok(door?.spa);
    assert.deepEqual(
      door.spa.clients.map((k) => [k.name, k.mode]),
      [['laptop', 'ed25519']],
    );
  });

  it('a plain knock gets duration (30 s), --duration 5m is granted up to max_duration, and refused without that line', () => {
    const with_ = parseConfigText(README, exampleBlock()).doors[0];
    assert.ok(with_?.spa);
    const client = with_.spa.clients[0] as NonNullable<(typeof with_.spa.clients)[0]>;
    const plain = decideSpaGrant(with_, client, request(0), source);
    assert.deepEqual(plain.ok && plain.durationS, 30);
    const five = decideSpaGrant(with_, client, request(300), source);
    assert.deepEqual(five.ok && five.durationS, 300);
    const without = parseConfigText(README, exampleBlock().replace(/^ {4}max_duration:.*\n(^ +#.*\n)?/m, '')).doors[0];
    assert.ok(without?.spa);
    const refused = decideSpaGrant(without, without.spa.clients[0] as typeof client, request(300), source);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.reason, 'spa-not-allowed');
  });
});

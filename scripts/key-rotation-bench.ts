/**
 * Prints what key rotation costs the native ladder (NativeLadder.check, rungs 1–7), in µs per
 * datagram, with and without a previous server key: random junk (one MAC1 without, two with: the
 * cheap rung at most doubles), a packet made for the previous key after the overlap (two MAC1s,
 * then `spa-retired-key`: no key agreement), and valid psk packets made for the current key (one
 * MAC1, one DH: unchanged) and for the previous key during the overlap (two MAC1s, one DH).
 *
 * Contract: figures only, no assertions; not a test. Run with `npm run bench:key-rotation` after a
 * build; a few seconds on one core.
 */

import { randomBytes } from 'node:crypto';
import { parseConfigText } from '../src/config/load.js';
import type { Door } from '../src/core/door.js';
import { parseIPAddress } from '../src/core/ip-address.js';
import { KnownSources } from '../src/core/known-sources.js';
import { WorkBudget } from '../src/core/work-budget.js';
import { NativeLadder } from '../src/core/spa/native-ladder.js';
import { sealSpa } from '../src/core/spa/native-wire.js';
import { serverKeysFromPrivate, type SpaServerKeys } from '../src/core/spa/native-door-keys.js';

const ITERATIONS = 20_000;
const WARMUP = 2_000;
const POOL = 64;
const NOW = Date.now();
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

const current = serverKeysFromPrivate(randomBytes(32), 'ssh');
const previous = serverKeysFromPrivate(randomBytes(32), 'ssh');
const id = randomBytes(16);
const psk = randomBytes(32);
const door = parseConfigText(
  '/nonexistent/knockgate.yaml',
  [
    'interfaces: [eth0]',
    'spa: {server_key: server.key}',
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62201}',
    '    open: [22]',
    `    clients: [{name: c, id: ${b64u(id)}, psk: ${b64u(psk)}}]`,
  ].join('\n'),
).doors[0] as Door;

const seal = (keys: SpaServerKeys): Uint8Array =>
  sealSpa({
    serverPublicKey: keys.publicKey,
    doorId: 'ssh',
    clientId: id,
    secret: { mode: 'psk', psk },
    request: { timestampMs: NOW, nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
    ephemeralPrivate: randomBytes(32),
    topBit: 0,
  });
const pool = (make: () => Uint8Array): Uint8Array[] => Array.from({ length: POOL }, make);
const source = parseIPAddress('198.18.0.2') as NonNullable<ReturnType<typeof parseIPAddress>>;
const allowance = { knownSources: new KnownSources(100, 60_000), budget: new WorkBudget(1e9, 1e9) };

function time(label: string, ladder: NativeLadder, packets: Uint8Array[], now: number, expect: string): number {
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const step = ladder.check({ payload: packets[i % POOL]!, source, sourceText: '198.18.0.2' }, now, 1, allowance);
      const got = step.kind === 'reject' ? step.reason : 'needs-replay-check';
      if (got !== expect) throw new Error(`${label}: expected ${expect}, got ${got}`);
    }
  };
  run(WARMUP);
  const start = process.hrtime.bigint();
  run(ITERATIONS);
  const us = Number(process.hrtime.bigint() - start) / 1_000 / ITERATIONS;
  console.log(`${label.padEnd(52)} ${us.toFixed(2).padStart(8)} µs/datagram  (${expect})`);
  return us;
}

const alone = new NativeLadder(door, current, 120_000);
const rotating = new NativeLadder(door, current, 120_000, { keys: previous, untilUnixMs: NOW + 3_600_000 });
const junk = pool(() => randomBytes(145 + Math.floor(Math.random() * 200)));
const fresh = pool(() => seal(current));
const old = pool(() => seal(previous));

console.log(`NativeLadder.check, ${ITERATIONS} iterations each, node ${process.version}`);
const j1 = time('random junk, no previous key', alone, junk, NOW, 'spa-mac1');
const j2 = time('random junk, with a previous key', rotating, junk, NOW, 'spa-mac1');
time('previous-key packet after the overlap', rotating, old, NOW + 3_600_000, 'spa-retired-key');
const v1 = time('valid current-key packet, no previous key', alone, fresh, NOW, 'needs-replay-check');
const v2 = time('valid current-key packet, with a previous key', rotating, fresh, NOW, 'needs-replay-check');
time('valid previous-key packet, during the overlap', rotating, old, NOW, 'needs-replay-check');
console.log(
  `junk with a previous key / without: ${(j2 / j1).toFixed(2)}×; valid current-key packet: ${(v2 / v1).toFixed(2)}×`,
);

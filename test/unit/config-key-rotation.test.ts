/**
 * Covers key rotation in the configuration (src/config/schema.ts, compile/previous-server-key.ts,
 * compile/spa-door.ts, iso-time.ts): `spa.previous_server_key` and `spa.previous_key_until` load
 * together (paths absolute, the time as Unix ms); one without the other, a time without its offset
 * or one that does not exist, the same file as server_key, and a client with both previous_psk and
 * previous_public_key fail with exit 78 and `FILE:LINE: KEY:`; a client's previous secret compiles
 * into `previous`, and without a previous key it is only a warning.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

const FILE = '/etc/knockgate/knockgate.yaml';
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const ID = randomBytes(16);
const PSK = randomBytes(32);
const OLD_PSK = randomBytes(32);
const ED_OLD = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;

/** Line 1 interfaces, 2 `spa:`, 3 server_key, then `spa` (lines 4..), then the door. */
function config(spa: string[], client: string[] = []): string {
  return [
    'interfaces: [eth0]',
    'spa:',
    '  server_key: server.key',
    ...spa,
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62201}',
    '    open: [22]',
    '    clients:',
    '      - name: laptop',
    `        id: ${b64u(ID)}`,
    `        psk: ${b64u(PSK)}`,
    ...client,
    '',
  ].join('\n');
}

function expectError(text: string, line: number, key: string, detail: RegExp): void {
  let e: unknown;
  try {
    parseConfigText(FILE, text);
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
  assert.equal(e.exitCode, 78);
  assert.ok(e.message.startsWith(`${FILE}:${line}: ${key}: `), `message: ${e.message}`);
  assert.match(e.detail, detail);
}

describe('config: the previous server key (key rotation)', () => {
  it('loads previous_server_key and previous_key_until together; a time with an offset is that instant', () => {
    const c = parseConfigText(
      FILE,
      config(['  previous_server_key: server.key.previous', '  previous_key_until: 2026-12-10T13:00:00+01:00']),
    );
    assert.equal(c.spa?.previousServerKeyFile, '/etc/knockgate/server.key.previous');
    assert.equal(c.spa?.previousKeyUntilMs, Date.UTC(2026, 11, 10, 12, 0, 0));
    const none = parseConfigText(FILE, config([]));
    assert.deepEqual([none.spa?.previousServerKeyFile, none.spa?.previousKeyUntilMs], [null, null]);
  });

  it('one without the other is an error at the one given', () => {
    expectError(config(['  previous_server_key: old.key']), 4, 'spa.previous_server_key', /needs previous_key_until/);
    expectError(config(['  previous_key_until: 2026-12-10T12:00:00Z']), 4, 'spa.previous_key_until', /goes with/);
  });

  it('a time without an offset, or one that does not exist, or not a time, is an error', () => {
    for (const bad of ['2026-12-10T12:00:00', '2026-02-30T12:00:00Z', '2026-12-10T24:00:00Z', '"next week"', '7d']) {
      expectError(
        config(['  previous_server_key: old.key', `  previous_key_until: ${bad}`]),
        5,
        'spa.previous_key_until',
        /ISO 8601|does not exist|not a date/,
      );
    }
  });

  it('the same file as server_key is an error', () => {
    expectError(
      config(['  previous_server_key: ./server.key', '  previous_key_until: 2026-12-10T12:00:00Z']),
      4,
      'spa.previous_server_key',
      /same file as server_key/,
    );
  });

  it("a client's previous_psk or previous_public_key compiles into its previous secret; both at once is an error", () => {
    const rotation = ['  previous_server_key: old.key', '  previous_key_until: 2026-12-10T12:00:00Z'];
    const psk = parseConfigText(FILE, config(rotation, [`        previous_psk: ${b64u(OLD_PSK)}`])).doors[0];
    assert.equal(psk?.spa?.clients[0]?.previous?.mode, 'psk');
    assert.deepEqual(Buffer.from(psk?.spa?.clients[0]?.previous?.psk ?? []), OLD_PSK);
    const ed = parseConfigText(FILE, config(rotation, [`        previous_public_key: ${ED_OLD}`])).doors[0];
    assert.equal(ed?.spa?.clients[0]?.previous?.mode, 'ed25519');
    assert.equal(ed?.spa?.clients[0]?.previous?.publicKey?.asymmetricKeyType, 'ed25519');
    expectError(
      config(rotation, [`        previous_psk: ${b64u(OLD_PSK)}`, `        previous_public_key: ${ED_OLD}`]),
      14,
      'doors[0].clients[0].previous_psk',
      /at most one/,
    );
  });

  it('a previous secret without a previous server key loads, with a warning naming the line', () => {
    const c = parseConfigText(FILE, config([], [`        previous_psk: ${b64u(OLD_PSK)}`]));
    assert.equal(c.warnings.length, 1);
    assert.match(
      c.warnings[0] ?? '',
      /knockgate\.yaml:12: ssh\/laptop: previous_psk is unused without spa\.previous_server_key/,
    );
  });
});

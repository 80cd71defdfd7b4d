/**
 * The bounds and defaults that moved into src/core/limits.ts are the ones the code enforces: the
 * schema's minimums and defaults (freshness, command timeout, replay store, grant duration), and
 * the SPA socket's datagram size, which native/udp-batch.c compiles in and which must stay equal
 * to MAX_SPA_DATAGRAM_BYTES and longer than any valid packet.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/load.js';
import { formatDurationMs } from '../../src/core/duration.js';
import { ConfigError } from '../../src/core/errors.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_GRANT_DURATION_S,
  MAX_FWKNOP_PACKET_BYTES,
  MAX_SPA_BYTES,
  MAX_SPA_DATAGRAM_BYTES,
  MIN_COMMAND_TIMEOUT_MS,
  MIN_REPLAY_ENTRIES,
  MIN_SPA_FRESHNESS_MS,
} from '../../src/core/limits.js';

const FILE = '/etc/knockgate/knockgate.yaml';
const knockDoor = (...extra: string[]): string =>
  [
    'interfaces: [eth0]',
    'doors:',
    '  - name: ssh',
    '    sequence: [7000, 8000, 9000]',
    '    open: [22]',
    ...extra.map((l) => `    ${l}`),
    '',
  ].join('\n');
const withSpa = (...settings: string[]): string =>
  ['spa:', '  server_key: server.key', ...settings.map((l) => `  ${l}`), knockDoor()].join('\n');

function rejected(text: string, key: RegExp): void {
  assert.throws(
    () => parseConfigText(FILE, text),
    (err: unknown) => err instanceof ConfigError && key.test(err.message),
  );
}

describe('limits enforced by the configuration schema', () => {
  it(`a door's duration defaults to DEFAULT_GRANT_DURATION_S (${DEFAULT_GRANT_DURATION_S} s) and its command timeout to DEFAULT_COMMAND_TIMEOUT_MS`, () => {
    const door = parseConfigText(FILE, knockDoor()).doors[0];
    assert.equal(door?.durationS, DEFAULT_GRANT_DURATION_S);
    assert.equal(door?.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS);
  });

  it(`command_timeout: MIN_COMMAND_TIMEOUT_MS (${MIN_COMMAND_TIMEOUT_MS} ms) is taken, a millisecond less is refused`, () => {
    assert.equal(
      parseConfigText(FILE, knockDoor(`command_timeout: ${formatDurationMs(MIN_COMMAND_TIMEOUT_MS)}`)).doors[0]
        ?.commandTimeoutMs,
      MIN_COMMAND_TIMEOUT_MS,
    );
    rejected(
      knockDoor(`command_timeout: ${formatDurationMs(MIN_COMMAND_TIMEOUT_MS - 1)}`),
      /command_timeout: must be from/,
    );
  });

  it(`spa.freshness: MIN_SPA_FRESHNESS_MS (${MIN_SPA_FRESHNESS_MS} ms) is taken, a millisecond less is refused`, () => {
    assert.equal(
      parseConfigText(FILE, withSpa(`freshness: ${formatDurationMs(MIN_SPA_FRESHNESS_MS)}`)).spa?.freshnessMs,
      MIN_SPA_FRESHNESS_MS,
    );
    rejected(withSpa(`freshness: ${formatDurationMs(MIN_SPA_FRESHNESS_MS - 1)}`), /freshness: must be from/);
  });

  it(`spa.max_replay_entries: MIN_REPLAY_ENTRIES (${MIN_REPLAY_ENTRIES}) is taken, one less is refused`, () => {
    assert.equal(
      parseConfigText(FILE, withSpa(`max_replay_entries: ${MIN_REPLAY_ENTRIES}`)).spa?.maxReplayEntries,
      MIN_REPLAY_ENTRIES,
    );
    rejected(withSpa(`max_replay_entries: ${MIN_REPLAY_ENTRIES - 1}`), /max_replay_entries/);
  });
});

describe('limits the native SPA socket compiles in', () => {
  const source = readFileSync(fileURLToPath(new URL('../../../native/record-layout.h', import.meta.url)), 'utf8');

  it('native/udp-batch.c reads datagrams of MAX_SPA_DATAGRAM_BYTES (native/record-layout.h)', () => {
    const m = /^#define MAX_DATAGRAM_BYTES (\d+)$/m.exec(source);
    assert.ok(m, 'record-layout.h no longer defines MAX_DATAGRAM_BYTES');
    assert.equal(Number(m[1]), MAX_SPA_DATAGRAM_BYTES);
  });

  it('a datagram cut to MAX_SPA_DATAGRAM_BYTES is still longer than any valid packet, so the length check drops it', () => {
    assert.ok(MAX_SPA_DATAGRAM_BYTES > MAX_SPA_BYTES);
    assert.ok(MAX_SPA_DATAGRAM_BYTES > MAX_FWKNOP_PACKET_BYTES);
  });
});

/**
 * Covers the time-based sequence settings of a knock door (`sequence: { totp: FILE, ... }`;
 * src/config/schema.ts and src/config/compile/knock-door.ts): what they compile to, the defaults,
 * and each bad setting failing with a ConfigError (exit 78) that names file, line and key.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

const FILE = '/etc/knockgate/knockgate.yaml';
const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;

/** Line 1 interfaces, line 4 `- name: ssh`, line 5 `sequence:`, its keys from line 6. */
function totpDoor(sequence: string[], rest: string[] = ['    open: [22/tcp]']): string {
  return lines(
    'interfaces: [eth0]',
    'firewall: nftables',
    'doors:',
    '  - name: ssh',
    '    sequence:',
    ...sequence,
    ...rest,
  );
}

function expectError(text: string, line: number, key: string, detail: RegExp): void {
  let caught: unknown;
  try {
    parseConfigText(FILE, text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.exitCode, 78);
  assert.equal(caught.file, FILE);
  assert.equal(caught.line, line, caught.message);
  assert.equal(caught.key, key, caught.message);
  assert.match(caught.detail, detail);
}

describe('config: time-based sequences', () => {
  it('compiles the settings, the secret file made absolute against the config directory', () => {
    const c = parseConfigText(
      FILE,
      totpDoor([
        '      totp: secrets/ssh.totp',
        '      steps: 5',
        '      period: 10s',
        '      ports: 20000-29999',
        '      protocol: mixed',
      ]),
    );
    const d = c.doors[0];
    assert.ok(d);
    assert.equal(d.sequence, null);
    assert.equal(d.oneTimeSequencesFile, null);
    assert.deepEqual(d.totp, {
      secretFile: '/etc/knockgate/secrets/ssh.totp',
      parameters: { door: 'ssh', steps: 5, periodMs: 10_000, low: 20_000, high: 29_999, protocol: 'mixed' },
    });
    assert.equal(d.hideKnockPorts, true);
  });

  it('defaults: 4 steps, 30 s, tcp', () => {
    const c = parseConfigText(FILE, totpDoor(['      totp: /etc/knockgate/ssh.totp', '      ports: 40000-40999']));
    assert.deepEqual(c.doors[0]?.totp?.parameters, {
      door: 'ssh',
      steps: 4,
      periodMs: 30_000,
      low: 40_000,
      high: 40_999,
      protocol: 'tcp',
    });
  });

  it('a door without a time-based sequence has totp null', () => {
    const c = parseConfigText(
      FILE,
      lines('interfaces: [eth0]', 'doors:', '  - name: ssh', '    sequence: [1000, 2000]', '    open: [22]'),
    );
    assert.equal(c.doors[0]?.totp, null);
  });

  it('errors name the file, the line and the key (exit 78)', () => {
    expectError(totpDoor(['      totp: s.totp']), 6, 'doors[0].sequence.ports', /required: the port range/);
    expectError(totpDoor(['      totp: s.totp', '      ports: 20000']), 7, 'doors[0].sequence.ports', /LOW-HIGH/);
    expectError(totpDoor(['      totp: s.totp', '      ports: 30000-20000']), 7, 'doors[0].sequence.ports', /LOW-HIGH/);
    expectError(totpDoor(['      totp: s.totp', '      ports: 1-70000']), 7, 'doors[0].sequence.ports', /LOW-HIGH/);
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20000-29999', '      period: 1s']),
      8,
      'doors[0].sequence.period',
      /5s/,
    );
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20000-29999', '      period: 7500ms']),
      8,
      'doors[0].sequence.period',
      /whole seconds/,
    );
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20000-29999', '      steps: 1']),
      8,
      'doors[0].sequence.steps',
      /2/,
    );
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20000-29999', '      protocol: icmp']),
      8,
      'doors[0].sequence.protocol',
      /tcp/,
    );
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20000-29999', '      step: 3']),
      8,
      'doors[0].sequence.step',
      /nrecognized|unknown/,
    );
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20000-20002', '      steps: 4']),
      7,
      'doors[0].sequence.ports',
      /fewer than the 4 steps/,
    );
    // A protected port (of any door) or an SPA port inside the range.
    expectError(
      totpDoor(['      totp: s.totp', '      ports: 20-30']),
      7,
      'doors[0].sequence.ports',
      /22\/tcp, a port that door "ssh" opens/,
    );
    expectError(
      totpDoor(
        ['      totp: s.totp', '      ports: 62000-62999', '      protocol: udp'],
        ['    open: [22/tcp]', '  - name: spa', '    spa: { port: 62201 }', '    open: [443/tcp]'],
      ),
      7,
      'doors[0].sequence.ports',
      /62201\/udp, the SPA port of door "spa"/,
    );
    // A range of udp ports does not hold a tcp port.
    assert.doesNotThrow(() =>
      parseConfigText(FILE, totpDoor(['      totp: s.totp', '      ports: 20-30', '      protocol: udp'])),
    );
    // Both a sequence list and one-time sequences: the old rule still holds.
    expectError(
      totpDoor(
        ['      totp: s.totp', '      ports: 20000-29999'],
        ['    one_time_sequences: otp.txt', '    open: [22]'],
      ),
      4,
      'doors[0]',
      /exactly one/,
    );
  });
});

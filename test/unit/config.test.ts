/**
 * Covers src/config/load.ts (parseConfigText, loadConfig) with the schema and located-YAML parts
 * it uses: the README example loads and is compiled (durations to ms / s, ports to endpoints,
 * tcp_flags defaulting to syn,!ack); every kind of bad input fails with a ConfigError (exit code
 * 78) whose message starts with `FILE:LINE: KEY:` naming the offending line and key; loadConfig
 * reads a real file and reports a missing or unreadable one.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { MAX_CONFIG_FILE_BYTES } from '../../src/core/limits.js';

const FILE = '/etc/knockgate/knockgate.yaml';

const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;

const README_EXAMPLE = lines(
  'interfaces: [eth0]',
  'firewall: nftables',
  'doors:',
  '  - name: ssh',
  '    sequence: [5643, 234, 6543, 6679, 35546, 192, 14]   # a step may be "7000/udp"',
  '    sequence_timeout: 10s',
  '    open: [22/tcp]',
  '    duration: 30s',
);

/** A one-door config whose door body is given, line 1 = interfaces, the door's `- name:` on line 4. */
function oneDoor(body: string[], head: string[] = ['interfaces: [eth0]', 'firewall: nftables']): string {
  assert.equal(head.length, 2, 'keep line numbers predictable');
  return lines(...head, 'doors:', '  - name: ssh', ...body);
}

function configError(text: string, file = FILE): ConfigError {
  try {
    parseConfigText(file, text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the configuration to be rejected');
}

/** The error is a ConfigError, exit 78, `FILE:LINE: KEY: detail`, and detail matches `detail`. */
function expectError(text: string, line: number, key: string, detail?: RegExp): void {
  const e = configError(text);
  assert.equal(e.exitCode, 78);
  assert.equal(e.code, 'KG_CONFIG_INVALID');
  assert.ok(e.message.startsWith(`${FILE}:${line}: ${key}: `), `message: ${e.message}`);
  assert.equal(e.file, FILE);
  assert.equal(e.line, line);
  assert.equal(e.key, key);
  if (detail) assert.match(e.detail, detail);
}

describe('parseConfigText: valid configurations', () => {
  it('loads the README example and compiles every value', () => {
    const c = parseConfigText(FILE, README_EXAMPLE);
    assert.equal(c.file, FILE);
    assert.deepEqual(c.interfaces, ['eth0']);
    assert.equal(c.firewall, 'nftables');
    assert.equal(c.nftTable, 'knockgate');
    assert.equal(c.maxTrackedSequences, 100_000);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.doors.length, 1);
    assert.equal(c.spa, null);
    assert.deepEqual(c.doors[0], {
      name: 'ssh',
      spa: null,
      fwknop: null,
      sequence: [5643, 234, 6543, 6679, 35546, 192, 14].map((port) => ({ proto: 'tcp', port })),
      oneTimeSequencesFile: null,
      totp: null,
      sequenceTimeoutMs: 10_000,
      tcpFlags: { mask: 0x12, value: 0x02, text: 'syn,!ack' },
      open: [{ proto: 'tcp', port: 22 }],
      durationS: 30,
      startCommand: null,
      stopCommand: null,
      commandTimeoutMs: 30_000,
      hideKnockPorts: true,
      shell: null,
      target: null,
    });
  });

  it('freezes the compiled configuration', () => {
    const c = parseConfigText(FILE, README_EXAMPLE);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.doors));
    assert.ok(Object.isFrozen(c.doors[0]));
    assert.ok(Object.isFrozen(c.doors[0]?.sequence));
    assert.ok(Object.isFrozen(c.interfaces));
  });

  it('compiles every optional key: UDP steps (both notations), units, flags, commands, one-time file', () => {
    const c = parseConfigText(
      FILE,
      lines(
        'interfaces: [eth0, "wg0"]',
        'firewall: nftables',
        'nft_table: kg2',
        'max_tracked_sequences: 5000',
        'log_level: debug',
        'doors:',
        '  - name: web.admin-1',
        '    sequence: [7000, "8000/udp", "9000:udp", "10000/TCP"]',
        '    sequence_timeout: 500ms',
        '    tcp_flags: "syn"',
        '    open: [443, "53/udp"]',
        '    duration: 2m',
        '    start_command: ["/usr/bin/logger", "opened {ports} for {ip} ({family}) on {door} for {duration}s {{literal}}"]',
        '    stop_command: ["/usr/bin/logger", "closed"]',
        '    command_timeout: 5s',
        '    hide_knock_ports: false',
        '  - name: otp',
        '    one_time_sequences: sequences/otp.txt',
        '    open: [22]',
        '    duration: 1h',
      ),
    );
    assert.deepEqual(c.interfaces, ['eth0', 'wg0']);
    assert.equal(c.nftTable, 'kg2');
    assert.equal(c.maxTrackedSequences, 5000);
    assert.equal(c.logLevel, 'debug');
    const [web, otp] = c.doors;
    assert.ok(web && otp);
    assert.deepEqual(web.sequence, [
      { proto: 'tcp', port: 7000 },
      { proto: 'udp', port: 8000 },
      { proto: 'udp', port: 9000 },
      { proto: 'tcp', port: 10000 },
    ]);
    assert.equal(web.sequenceTimeoutMs, 500);
    assert.deepEqual(web.tcpFlags, { mask: 0x02, value: 0x02, text: 'syn' });
    assert.deepEqual(web.open, [
      { proto: 'tcp', port: 443 },
      { proto: 'udp', port: 53 },
    ]);
    assert.equal(web.durationS, 120);
    assert.deepEqual(web.startCommand, [
      '/usr/bin/logger',
      'opened {ports} for {ip} ({family}) on {door} for {duration}s {{literal}}',
    ]);
    assert.deepEqual(web.stopCommand, ['/usr/bin/logger', 'closed']);
    assert.equal(web.commandTimeoutMs, 5000);
    assert.equal(web.hideKnockPorts, false);
    assert.equal(otp.sequence, null);
    assert.equal(otp.oneTimeSequencesFile, '/etc/knockgate/sequences/otp.txt');
    assert.equal(otp.durationS, 3600);
  });

  it('accepts firewall: none with a start_command and no open ports; accepts interfaces: [any]', () => {
    const c = parseConfigText(
      FILE,
      lines(
        'interfaces: [any]',
        'firewall: none',
        'doors:',
        '  - name: cmd',
        '    sequence: [1000]',
        '    start_command: [/bin/true, "{ip}"]',
      ),
    );
    assert.equal(c.firewall, 'none');
    assert.deepEqual(c.interfaces, ['any']);
    assert.deepEqual(c.doors[0]?.open, []);
    assert.deepEqual(c.doors[0]?.startCommand, ['/bin/true', '{ip}']);
  });

  it('accepts the inclusive bounds of sequence_timeout and duration', () => {
    for (const [key, value, field, expected] of [
      ['sequence_timeout', '100ms', 'sequenceTimeoutMs', 100],
      ['sequence_timeout', '1h', 'sequenceTimeoutMs', 3_600_000],
      ['duration', '1s', 'durationS', 1],
      ['duration', '1d', 'durationS', 86_400],
      ['duration', '1000ms', 'durationS', 1],
    ] as const) {
      const c = parseConfigText(FILE, oneDoor(['    sequence: [1000]', '    open: [22]', `    ${key}: ${value}`]));
      assert.equal(c.doors[0]?.[field], expected, `${key}: ${value}`);
    }
  });

  it('a UDP knock step may share its number with an opened TCP port', () => {
    const c = parseConfigText(FILE, oneDoor(['    sequence: ["22/udp"]', '    open: [22/tcp]']));
    assert.deepEqual(c.doors[0]?.sequence, [{ proto: 'udp', port: 22 }]);
  });
});

describe('parseConfigText: errors name the file, the line and the key (exit 78)', () => {
  it('unknown key at the top level', () => {
    expectError(
      lines(
        'interfaces: [eth0]',
        'firewal: nftables',
        'doors:',
        '  - name: ssh',
        '    sequence: [1000]',
        '    open: [22]',
      ),
      2,
      'firewal',
      /unknown key/,
    );
    // Of two unknown keys, the first in the file is named.
    expectError(
      lines(
        'interfaces: [eth0]',
        'doors:',
        '  - name: ssh',
        '    sequence: [1000]',
        '    open: [22]',
        'colour: red',
        'size: 3',
      ),
      6,
      'colour',
      /unknown key/,
    );
  });

  it('unknown key inside a door', () => {
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    colour: red']),
      7,
      'doors[0].colour',
      /unknown key/,
    );
  });

  it('unknown key inside the second door points at that door', () => {
    expectError(
      lines(
        'interfaces: [eth0]',
        'doors:',
        '  - name: a',
        '    sequence: [1000]',
        '    open: [22]',
        '  - name: b',
        '    sequence: [2000]',
        '    open: [23]',
        '    durration: 30s',
      ),
      9,
      'doors[1].durration',
      /unknown key/,
    );
  });

  it('bad ports: 0, 70000, "22/icmp", "abc", 22.5', () => {
    expectError(oneDoor(['    sequence: [1000, 0]', '    open: [22]']), 5, 'doors[0].sequence[1]', /1 to 65535/);
    expectError(oneDoor(['    sequence: [1000]', '    open: [22, 70000]']), 6, 'doors[0].open[1]', /1 to 65535/);
    expectError(oneDoor(['    sequence: [1000, "22/icmp"]', '    open: [22]']), 5, 'doors[0].sequence[1]', /22\/icmp/);
    expectError(oneDoor(['    sequence: [abc]', '    open: [22]']), 5, 'doors[0].sequence[0]', /abc/);
    expectError(
      oneDoor(['    sequence: [1000]', '    open:', '      - 22', '      - 22.5']),
      8,
      'doors[0].open[1]',
      /22\.5/,
    );
  });

  it('a bare number as a duration is refused', () => {
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    duration: 30']),
      7,
      'doors[0].duration',
      /unit/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    sequence_timeout: 10', '    open: [22]']),
      6,
      'doors[0].sequence_timeout',
      /unit/,
    );
  });

  it('durations out of bounds', () => {
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    sequence_timeout: 99ms']),
      7,
      'doors[0].sequence_timeout',
      /from 100ms to 1h/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    sequence_timeout: 2h']),
      7,
      'doors[0].sequence_timeout',
      /from 100ms to 1h/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    duration: 0s']),
      7,
      'doors[0].duration',
      /from 1s to 24h/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    duration: 86401s']),
      7,
      'doors[0].duration',
      /from 1s to 24h/,
    );
  });

  it('a sub-second grant duration ("1500ms") is refused: kernel timeouts are whole seconds', () => {
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    duration: 1500ms']),
      7,
      'doors[0].duration',
      /whole seconds/,
    );
  });

  it('missing interfaces', () => {
    expectError(
      lines('firewall: nftables', 'doors:', '  - name: ssh', '    sequence: [1000]', '    open: [22]'),
      1,
      'interfaces',
      /required/,
    );
  });

  it('empty interfaces, or "any" together with another interface', () => {
    expectError(
      lines('interfaces: []', 'doors:', '  - name: ssh', '    sequence: [1000]', '    open: [22]'),
      1,
      'interfaces',
      /at least one/,
    );
    expectError(
      lines(
        'log_level: info',
        'interfaces: [any, eth0]',
        'doors:',
        '  - name: ssh',
        '    sequence: [1000]',
        '    open: [22]',
      ),
      2,
      'interfaces',
      /any/,
    );
  });

  it('an interface name starting with @ (nftables would read it as a set reference)', () => {
    expectError(
      lines('interfaces: ["@protected"]', 'doors:', '  - name: ssh', '    sequence: [1000]', '    open: [22]'),
      1,
      'interfaces[0]',
      /not a valid interface name/,
    );
    expectError(
      lines(
        'interfaces: [eth0]',
        'exempt_interfaces: [wg0, "@x"]',
        'doors:',
        '  - name: ssh',
        '    sequence: [1000]',
        '    open: [22]',
      ),
      2,
      'exempt_interfaces[1]',
      /not a valid interface name/,
    );
    assert.deepEqual(
      parseConfigText(
        FILE,
        lines('interfaces: ["eth0@if5"]', 'doors:', '  - name: ssh', '    sequence: [1000]', '    open: [22]'),
      ).interfaces,
      ['eth0@if5'],
    );
  });

  it('missing doors, and empty doors', () => {
    expectError(lines('interfaces: [eth0]', 'firewall: nftables'), 1, 'doors', /required/);
    expectError(lines('interfaces: [eth0]', 'firewall: nftables', 'doors: []'), 3, 'doors', /at least one door/);
  });

  it('duplicate door names point at the second name', () => {
    expectError(
      lines(
        'interfaces: [eth0]',
        'doors:',
        '  - name: ssh',
        '    sequence: [1000]',
        '    open: [22]',
        '  - name: ssh',
        '    sequence: [2000]',
        '    open: [23]',
      ),
      6,
      'doors[1].name',
      /used twice/,
    );
  });

  it('both sequence and one_time_sequences, or neither', () => {
    expectError(
      oneDoor(['    sequence: [1000]', '    one_time_sequences: otp.txt', '    open: [22]']),
      4,
      'doors[0]',
      /exactly one/,
    );
    expectError(oneDoor(['    open: [22]']), 4, 'doors[0]', /exactly one/);
  });

  it('a knock step equal to a port some door opens', () => {
    expectError(oneDoor(['    sequence: [1000, 22]', '    open: [22/tcp]']), 5, 'doors[0].sequence[1]', /22\/tcp/);
    expectError(
      lines(
        'interfaces: [eth0]',
        'doors:',
        '  - name: a',
        '    sequence: [1000]',
        '    open: [443]',
        '  - name: b',
        '    sequence: [2000, "443/tcp"]',
        '    open: [23]',
      ),
      7,
      'doors[1].sequence[1]',
      /door "a" opens/,
    );
  });

  it('nft_table names that are nft keywords (nft itself could not name the table)', () => {
    for (const name of ['counter', 'ip', 'meta', 'rule', 'accept', 'table', 'inet', 'drop']) {
      expectError(
        lines(
          'interfaces: [eth0]',
          `nft_table: ${name}`,
          'doors:',
          '  - name: d',
          '    sequence: [1000]',
          '    open: [22]',
        ),
        2,
        'nft_table',
        /is an nft keyword/,
      );
    }
    // Names that are not keywords still load.
    for (const name of ['knockgate', 'kg2', 'counter_kg', 'Counter']) {
      assert.equal(
        parseConfigText(
          FILE,
          lines(
            'interfaces: [eth0]',
            `nft_table: ${name}`,
            'doors:',
            '  - name: d',
            '    sequence: [1000]',
            '    open: [22]',
          ),
        ).nftTable,
        name,
      );
    }
  });

  it('firewall nftables with no open ports (empty or absent)', () => {
    expectError(oneDoor(['    sequence: [1000]', '    open: []']), 6, 'doors[0].open', /at least one port/);
    expectError(oneDoor(['    sequence: [1000]']), 4, 'doors[0].open', /at least one port/);
  });

  it('firewall none without start_command, or with open ports', () => {
    const head = ['interfaces: [eth0]', 'firewall: none'];
    expectError(oneDoor(['    sequence: [1000]'], head), 4, 'doors[0].start_command', /start_command/);
    expectError(
      oneDoor(['    sequence: [1000]', '    start_command: [/bin/true]', '    open: [22]'], head),
      7,
      'doors[0].open',
      /nothing can be opened/,
    );
  });

  it('start_command with a relative program, or an empty argv', () => {
    const head = ['interfaces: [eth0]', 'firewall: none'];
    expectError(
      oneDoor(['    sequence: [1000]', '    start_command: [logger, "{ip}"]'], head),
      6,
      'doors[0].start_command[0]',
      /absolute path/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    start_command: []'], head),
      6,
      'doors[0].start_command',
      /at least the program/,
    );
  });

  it('unknown placeholder {ipp} and unbalanced braces in a command argument', () => {
    expectError(
      oneDoor([
        '    sequence: [1000]',
        '    open: [22]',
        '    stop_command:',
        '      - /usr/bin/logger',
        '      - "closed for {ipp}"',
      ]),
      9,
      'doors[0].stop_command[1]',
      /unknown placeholder \{ipp\}/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    start_command: [/usr/bin/logger, "{ip"]']),
      7,
      'doors[0].start_command[1]',
      /unbalanced brace/,
    );
  });

  it('bad tcp_flags ("syn,bogus", a flag named twice)', () => {
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    tcp_flags: "syn,bogus"']),
      7,
      'doors[0].tcp_flags',
      /bogus/,
    );
    expectError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    tcp_flags: "syn,!syn"']),
      7,
      'doors[0].tcp_flags',
      /twice/,
    );
  });

  it('a bad enum value names the choices', () => {
    expectError(
      lines(
        'interfaces: [eth0]',
        'firewall: ipfw',
        'doors:',
        '  - name: ssh',
        '    sequence: [1000]',
        '    open: [22]',
      ),
      2,
      'firewall',
      /"nftables", "iptables", "none"/,
    );
  });

  it('a port listed twice in open', () => {
    expectError(oneDoor(['    sequence: [1000]', '    open: [22, "22/tcp"]']), 6, 'doors[0].open[1]', /listed twice/);
  });

  it('YAML syntax errors name the file and the line', () => {
    const e = configError(
      lines('interfaces: [eth0]', 'doors:', '  - name: ssh', '    sequence: [1000]', '    open: "22/tcp'),
    );
    assert.equal(e.exitCode, 78);
    assert.ok(e.message.startsWith(`${FILE}:`), e.message);
    assert.match(e.detail, /^YAML syntax: /);
    const tab = configError(
      lines('interfaces: [eth0]', 'doors:', '  - name: ssh', '\tsequence: [1000]', '    open: [22]'),
    );
    assert.equal(tab.line, 4);
    assert.ok(tab.message.startsWith(`${FILE}:4: `), tab.message);
    assert.match(tab.detail, /^YAML syntax: /);
  });

  it('a duplicate key is an error at the line of its second occurrence', () => {
    const e = configError(
      oneDoor(['    sequence: [1000]', '    open: [22]', '    duration: 30s', '    duration: 40s']),
    );
    assert.equal(e.exitCode, 78);
    assert.equal(e.line, 8);
    assert.ok(e.message.startsWith(`${FILE}:8: `), e.message);
    assert.match(e.detail, /unique/);
  });

  it('a document that is not a mapping', () => {
    const e = configError('just a string\n');
    assert.equal(e.exitCode, 78);
    assert.ok(e.message.startsWith(`${FILE}:1: `), e.message);
  });

  it('reports the error that comes first in the file', () => {
    // sequence[0] is bad on line 5, log_level on line 7: the user should see line 5 first.
    expectError(
      lines(
        'interfaces: [eth0]',
        'doors:',
        '  - name: ssh',
        '    open: [22]',
        '    sequence: [0]',
        '    duration: 30s',
        'log_level: loud',
      ),
      5,
      'doors[0].sequence[0]',
    );
  });
});

describe('loadConfig', () => {
  it('reads, validates and compiles a file; relative paths resolve against the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knockgate-config-'));
    try {
      const file = join(dir, 'knockgate.yaml');
      writeFileSync(file, README_EXAMPLE.replace('    duration: 30s', '    duration: 45s'));
      const c = loadConfig(file);
      assert.equal(c.file, file);
      assert.equal(c.doors[0]?.durationS, 45);
      assert.equal(c.doors[0]?.sequence?.length, 7);
      // A relative path to loadConfig is made absolute.
      assert.equal(loadConfig(relative(process.cwd(), file)).file, file);

      const otp = join(dir, 'otp.yaml');
      writeFileSync(
        otp,
        lines('interfaces: [eth0]', 'doors:', '  - name: otp', '    one_time_sequences: seq/otp.txt', '    open: [22]'),
      );
      assert.equal(loadConfig(otp).doors[0]?.oneTimeSequencesFile, join(dir, 'seq', 'otp.txt'));

      // Errors in a file carry its absolute path and the line.
      const bad = join(dir, 'bad.yaml');
      writeFileSync(
        bad,
        lines(
          'interfaces: [eth0]',
          'doors:',
          '  - name: ssh',
          '    sequence: [1000]',
          '    open: [22]',
          '    duration: 30',
        ),
      );
      assert.throws(
        () => loadConfig(bad),
        (err: unknown) =>
          err instanceof ConfigError && err.exitCode === 78 && err.message.startsWith(`${bad}:6: doors[0].duration: `),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing file fails with exit 78 and a message that names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knockgate-config-'));
    try {
      const missing = join(dir, 'nope.yaml');
      assert.throws(
        () => loadConfig(missing),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.exitCode === 78 &&
          err.message.startsWith(`${missing}: `) &&
          /cannot read/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a directory, or a file over the size limit, is refused with exit 78', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knockgate-config-'));
    try {
      const sub = join(dir, 'conf.d');
      mkdirSync(sub);
      assert.throws(
        () => loadConfig(sub),
        (err: unknown) =>
          err instanceof ConfigError && err.exitCode === 78 && err.message === `${sub}: not a regular file`,
      );
      const big = join(dir, 'big.yaml');
      writeFileSync(big, README_EXAMPLE + '#'.repeat(MAX_CONFIG_FILE_BYTES));
      assert.throws(
        () => loadConfig(big),
        (err: unknown) =>
          err instanceof ConfigError && err.exitCode === 78 && err.message.startsWith(`${big}: larger than`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metrics: the Prometheus endpoint section', () => {
  const withMetrics = (...m: string[]) => `${README_EXAMPLE}${lines('metrics:', ...m.map((l) => `  ${l}`))}`;

  it('is off without the section; with it, listens on 127.0.0.1 unless an address is given', () => {
    assert.equal(parseConfigText(FILE, README_EXAMPLE).metrics, null);
    const c = parseConfigText(FILE, withMetrics('port: 9436'));
    assert.deepEqual(c.metrics, { address: '127.0.0.1', port: 9436 });
    assert.deepEqual(c.warnings, []);
    assert.deepEqual(parseConfigText(FILE, withMetrics('address: "::1"', 'port: 9436')).metrics, {
      address: '::1',
      port: 9436,
    });
  });

  it('warns when the address is not loopback (door names and counts would be visible)', () => {
    const c = parseConfigText(FILE, withMetrics('address: 198.18.0.1', 'port: 9436'));
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0] as string, /metrics.address 198.18.0.1 is not a loopback address/);
  });

  it('refuses a host name, a missing or bad port, an unknown key, with file, line and key', () => {
    expectError(withMetrics('address: localhost', 'port: 9436'), 10, 'metrics.address', /IPv4 or IPv6 address/);
    expectError(withMetrics('address: 127.0.0.1'), 10, 'metrics.port', /is required/);
    expectError(withMetrics('port: 70000'), 10, 'metrics.port');
    expectError(withMetrics('port: 9436', 'path: /x'), 11, 'metrics.path', /unknown key/);
  });
});

describe('audit_log: the audit trail file', () => {
  const withAudit = (...settings: string[]): string =>
    lines('interfaces: [eth0]', ...settings, 'doors:', '  - name: ssh', '    sequence: [1000]', '    open: [22]');

  it('defaults to /var/log/knockgate/audit.jsonl, rotated at 16 MiB with 5 files kept', () => {
    assert.deepEqual(parseConfigText(FILE, withAudit()).audit, {
      file: '/var/log/knockgate/audit.jsonl',
      maxBytes: 16 * 1024 * 1024,
      keep: 5,
    });
  });

  it('a relative path is taken from the configuration directory; none turns it off', () => {
    const c = parseConfigText(
      FILE,
      withAudit('audit_log: trail/audit.jsonl', 'audit_log_max_bytes: 65536', 'audit_log_keep: 2'),
    );
    assert.deepEqual(c.audit, { file: '/etc/knockgate/trail/audit.jsonl', maxBytes: 65_536, keep: 2 });
    assert.equal(parseConfigText(FILE, withAudit('audit_log: none')).audit, null);
  });

  it('a bad value is exit 78 naming the line and the key', () => {
    expectError(withAudit('audit_log: /var/log/knockgate/'), 2, 'audit_log', /not a directory/);
    expectError(withAudit('audit_log: 7'), 2, 'audit_log', /expected string/);
    expectError(withAudit('audit_log: ""'), 2, 'audit_log', /file path, or none/);
    expectError(withAudit('audit_log_max_bytes: 10'), 2, 'audit_log_max_bytes');
    expectError(withAudit('audit_log_keep: 0'), 2, 'audit_log_keep');
  });
});

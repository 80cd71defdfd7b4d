/**
 * Covers the SPA parts of src/config/load.ts (parseConfigText) and src/config/schema.ts: the
 * top-level `spa:` section (paths resolved against the config file's directory, defaults) and SPA
 * doors compiled to a Door (spa.port, capture default 'socket', clients with idHex, mode, allow
 * defaulting to the door's open, maxDurationS defaulting to the door's max_duration or duration,
 * minPrefix from widest_prefix defaulting to 32/128); and every SPA rule failing with a ConfigError
 * (exit code 78) whose message starts with `FILE:LINE: KEY:` naming the offending line and key.
 * Ids and keys are generated with node:crypto.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { ed25519PublicFromRaw, rawPublicOf } from '../../src/core/spa/keys.js';

const FILE = '/etc/knockgate/knockgate.yaml';

const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

const ID1 = randomBytes(16);
const ID2 = randomBytes(16);
const PSK1 = randomBytes(32);
const PSK2 = randomBytes(32);
const ED = generateKeyPairSync('ed25519');
const ED_PUBLIC_B64 = ED.publicKey.export({ format: 'jwk' }).x as string;

/**
 * An SPA config: line 1 interfaces, lines 2-3 the top-level spa section (or two other keys when
 * `spaSection` is false, so line numbers stay put), line 4 `doors:`, line 5 `- name: ssh`, then
 * `body` from line 6 on.
 */
function spaConfig(body: string[], spaSection = true): string {
  const head = spaSection ? ['spa:', '  server_key: server.key'] : ['firewall: nftables', 'log_level: info'];
  return lines('interfaces: [eth0]', ...head, 'doors:', '  - name: ssh', ...body);
}

/** The usual SPA door body, lines 6-11: port, open, one psk client. */
const DOOR = [
  '    spa: {port: 62201}', // 6
  '    open: [22, "53/udp"]', // 7
  '    clients:', // 8
  '      - name: laptop', // 9
  `        id: ${b64u(ID1)}`, // 10
  `        psk: ${b64u(PSK1)}`, // 11
];

function configError(text: string, secretsProtected: boolean): ConfigError {
  try {
    parseConfigText(FILE, text, secretsProtected);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the configuration to be rejected');
}

/** The error is a ConfigError, exit 78, `FILE:LINE: KEY: detail`, and detail matches `detail`. */
function expectError(text: string, line: number, key: string, detail: RegExp, secretsProtected = true): void {
  const e = configError(text, secretsProtected);
  assert.equal(e.exitCode, 78);
  assert.equal(e.code, 'KG_CONFIG_INVALID');
  assert.ok(e.message.startsWith(`${FILE}:${line}: ${key}: `), `message: ${e.message}`);
  assert.equal(e.line, line);
  assert.equal(e.key, key);
  assert.match(e.detail, detail);
}

// ---------------------------------------------------------------------------------------------

describe('parseConfigText: SPA configurations that load', () => {
  it('compiles the spa section and an SPA door with a psk and a public_key client', () => {
    const c = parseConfigText(
      FILE,
      lines(
        'interfaces: [eth0]',
        'firewall: nftables',
        'spa:',
        '  server_key: keys/server.key',
        '  freshness: 90s',
        '  replay_journal: state/replay.journal',
        '  max_replay_entries: 5000',
        'doors:',
        '  - name: ssh',
        '    spa: {port: 62201}',
        '    open: [22, "53/udp", 443]',
        '    duration: 30s',
        '    max_duration: 5m',
        '    clients:',
        '      - name: laptop',
        `        id: ${b64u(ID1)}`,
        `        psk: ${b64u(PSK1)}`,
        '      - name: phone',
        `        id: ${b64u(ID2)}`,
        `        public_key: ${ED_PUBLIC_B64}`,
        '        allow: [22]',
        '        max_duration: 1m',
        '        other_address: true',
        '        widest_prefix: {ipv4: 24, ipv6: 64}',
      ),
    );
    assert.deepEqual(c.spa, {
      serverKeyFile: '/etc/knockgate/keys/server.key',
      previousServerKeyFile: null,
      previousKeyUntilMs: null,
      freshnessMs: 90_000,
      replayJournal: '/etc/knockgate/state/replay.journal',
      maxReplayEntries: 5000,
      maxReplayEntriesPerClient: 10_000,
    });
    const door = c.doors[0];
    assert.ok(door?.spa);
    assert.equal(door.name, 'ssh');
    assert.equal(door.spa.port, 62201);
    assert.equal(door.spa.capture, 'socket');
    assert.equal(door.sequence, null);
    assert.equal(door.oneTimeSequencesFile, null);
    assert.equal(door.hideKnockPorts, false);
    assert.equal(door.durationS, 30);
    const open = [
      { proto: 'tcp', port: 22 },
      { proto: 'udp', port: 53 },
      { proto: 'tcp', port: 443 },
    ];
    assert.deepEqual(door.open, open);

    const [laptop, phone] = door.spa.clients;
    assert.ok(laptop && phone);
    assert.equal(door.spa.clients.length, 2);
    assert.deepEqual(laptop, {
      name: 'laptop',
      id: new Uint8Array(ID1),
      idHex: ID1.toString('hex'),
      mode: 'psk',
      psk: new Uint8Array(PSK1),
      allow: open, // the door's open list
      maxDurationS: 300, // the door's max_duration
      otherAddress: false,
      requireAddress: false,
      minPrefix: { 4: 32, 6: 128 },
    });
    assert.equal(laptop.publicKey, undefined);

    assert.equal(phone.name, 'phone');
    assert.deepEqual(phone.id, new Uint8Array(ID2));
    assert.equal(phone.idHex, ID2.toString('hex'));
    assert.equal(phone.mode, 'ed25519');
    assert.equal(phone.psk, undefined);
    assert.deepEqual(phone.allow, [{ proto: 'tcp', port: 22 }]);
    assert.equal(phone.maxDurationS, 60);
    assert.equal(phone.otherAddress, true);
    assert.deepEqual(phone.minPrefix, { 4: 24, 6: 64 });
    assert.ok(phone.publicKey);
    assert.equal(phone.publicKey.type, 'public');
    assert.equal(phone.publicKey.asymmetricKeyType, 'ed25519');
    assert.equal(b64u(rawPublicOf(phone.publicKey)), ED_PUBLIC_B64);
    // It is the client's key: a signature by its private key verifies.
    const msg = Buffer.from('knock');
    assert.ok(verify(null, msg, phone.publicKey, sign(null, msg, ED.privateKey)));
    assert.ok(Object.isFrozen(door.spa) && Object.isFrozen(door.spa.clients) && Object.isFrozen(laptop));
  });

  it('defaults: freshness 120 s, the default journal, capture socket; max duration = duration without max_duration', () => {
    const c = parseConfigText(
      FILE,
      spaConfig([
        '    spa: {port: 62201, capture: pcap}',
        '    open: [22]',
        '    duration: 45s',
        '    clients:',
        '      - name: laptop',
        `        id: ${b64u(ID1)}`,
        `        psk: ${b64u(PSK1)}`,
      ]),
    );
    assert.deepEqual(c.spa, {
      serverKeyFile: '/etc/knockgate/server.key',
      previousServerKeyFile: null,
      previousKeyUntilMs: null,
      freshnessMs: 120_000,
      replayJournal: '/var/lib/knockgate/replay.journal',
      maxReplayEntries: 1_000_000,
      maxReplayEntriesPerClient: 10_000,
    });
    assert.equal(c.doors[0]?.spa?.capture, 'pcap');
    assert.equal(c.doors[0]?.spa?.clients[0]?.maxDurationS, 45);
    assert.equal(parseConfigText(FILE, spaConfig(DOOR)).doors[0]?.spa?.capture, 'socket');
  });

  it("a client max_duration may be shorter than the door's duration; the client default is the door max_duration", () => {
    const c = parseConfigText(
      FILE,
      spaConfig([
        ...DOOR.slice(0, 2),
        '    duration: 1m',
        '    max_duration: 10m',
        ...DOOR.slice(2),
        '        max_duration: 10s',
      ]),
    );
    assert.equal(c.doors[0]?.spa?.clients[0]?.maxDurationS, 10);
  });

  it('a standard-base64 key (with + / and = padding) is accepted', () => {
    const std = PSK1.toString('base64');
    const c = parseConfigText(FILE, spaConfig([...DOOR.slice(0, 5), `        psk: "${std}"`]));
    assert.deepEqual(c.doors[0]?.spa?.clients[0]?.psk, new Uint8Array(PSK1));
  });

  it('public_key clients load from a file readable by others (secretsProtected false)', () => {
    const c = parseConfigText(FILE, spaConfig([...DOOR.slice(0, 5), `        public_key: ${ED_PUBLIC_B64}`]), false);
    assert.equal(c.doors[0]?.spa?.clients[0]?.mode, 'ed25519');
  });

  it('an SPA port may share its number with an opened TCP port, and with a TCP knock step', () => {
    const opened = parseConfigText(FILE, spaConfig([...DOOR.slice(0, 1), '    open: [22, 62201]', ...DOOR.slice(2)]));
    assert.equal(opened.doors[0]?.spa?.port, 62201);
    assert.deepEqual(opened.doors[0]?.open, [
      { proto: 'tcp', port: 22 },
      { proto: 'tcp', port: 62201 },
    ]);
    const knocked = parseConfigText(
      FILE,
      spaConfig([...DOOR, '  - name: knock', '    sequence: ["62201/tcp", "1000/udp"]', '    open: [23]']),
    );
    assert.deepEqual(knocked.doors[1]?.sequence, [
      { proto: 'tcp', port: 62201 },
      { proto: 'udp', port: 1000 },
    ]);
  });

  it('an Ed25519 public key that is not a canonical point (32 × 0xff: y >= p) is refused at load, naming the key', () => {
    const bogus = Buffer.alloc(32, 0xff);
    expectError(
      spaConfig([...DOOR.slice(0, 5), `        public_key: ${b64u(bogus)}`]),
      11,
      'doors[0].clients[0].public_key',
      /not a canonically encoded Ed25519 public key \(non-canonical\)/,
    );
  });

  it('the identity point as a public key lets (R = identity, S = 0) verify any message where the runtime allows it; such a key is refused at load', () => {
    const identity = Buffer.from(`01${'00'.repeat(31)}`, 'hex');
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    const key = ed25519PublicFromRaw(identity);
    // Why the check exists: on Node 20 and 22 node:crypto accepts the forgery for any message (Node
    // 24 refuses it, measured on 24.21.0); knockgate must not depend on which runtime it has.
    if (Number(process.versions.node.split('.')[0]) < 24)
      assert.equal(verify(null, Buffer.from('any message at all'), key, forged), true);
    expectError(
      spaConfig([...DOOR.slice(0, 5), `        public_key: ${b64u(identity)}`]),
      11,
      'doors[0].clients[0].public_key',
      /small-order Ed25519 point/,
    );
  });

  it('every small-order point, in every encoding (canonical and not), is refused at load', () => {
    const encodings = [
      `01${'00'.repeat(31)}`, // identity (order 1)
      `ec${'ff'.repeat(30)}7f`, // (0, -1), order 2
      '00'.repeat(32), // (±sqrt(-1), 0), order 4
      `${'00'.repeat(31)}80`,
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
      `01${'00'.repeat(30)}80`, // identity with the sign bit: non-canonical
      `ee${'ff'.repeat(30)}7f`, // y = p + 1 ≡ 1: the identity spelled non-canonically
      `ed${'ff'.repeat(30)}7f`, // y = p ≡ 0
    ];
    for (const hexKey of encodings) {
      assert.throws(
        () =>
          parseConfigText(
            FILE,
            spaConfig([...DOOR.slice(0, 5), `        public_key: ${b64u(Buffer.from(hexKey, 'hex'))}`]),
          ),
        (e: unknown) => e instanceof ConfigError && e.key === 'doors[0].clients[0].public_key',
        hexKey,
      );
    }
  });

  it('real Ed25519 keys still load', () => {
    for (let i = 0; i < 20; i++) {
      const pub = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;
      assert.ok(
        parseConfigText(FILE, spaConfig([...DOOR.slice(0, 5), `        public_key: ${pub}`])).doors[0]?.spa?.clients[0]
          ?.publicKey,
      );
    }
  });
});

describe('parseConfigText: SPA errors name the file, the line and the key (exit 78)', () => {
  it('an SPA door without the top-level spa section', () => {
    expectError(spaConfig(DOOR, false), 6, 'doors[0].spa', /top-level "spa:" section/);
  });

  it('an SPA door without clients, or with an empty list', () => {
    expectError(spaConfig(DOOR.slice(0, 2)), 5, 'doors[0].clients', /at least one client/);
  });

  it('door ids: the door name by default, spa.door_id when given; two SPA doors with the same id (one server key) are refused', () => {
    const second = (spa: string): string[] => [
      '  - name: web',
      `    spa: ${spa}`,
      '    open: [22]',
      '    clients:',
      '      - name: phone',
      `        id: ${b64u(ID2)}`,
      `        psk: ${b64u(PSK2)}`,
    ];
    const ok = parseConfigText(FILE, spaConfig([...DOOR, ...second('{port: 62202, door_id: web.example}')]));
    assert.deepEqual(
      ok.doors.map((d) => d.spa?.doorId),
      ['ssh', 'web.example'],
    );
    // lines 12-13: the second door and its spa mapping
    expectError(
      spaConfig([...DOOR, ...second('{port: 62202, door_id: ssh}')]),
      13,
      'doors[1].spa.door_id',
      /door id "ssh" is already door "ssh"'s/,
    );
    expectError(
      spaConfig([...DOOR, ...second('{port: 62202, door_id: "a b"}')]),
      13,
      'doors[1].spa.door_id',
      /door ids are 1-64/,
    );
    expectError(spaConfig([...DOOR.slice(0, 2), '    clients: []']), 8, 'doors[0].clients', /at least one client/);
  });

  it('a client with both psk and public_key, or with neither', () => {
    expectError(
      spaConfig([...DOOR, `        public_key: ${ED_PUBLIC_B64}`]),
      9,
      'doors[0].clients[0]',
      /exactly one of "psk", "public_key" and "ssh_key"/,
    );
    expectError(
      spaConfig(DOOR.slice(0, 5)),
      9,
      'doors[0].clients[0]',
      /exactly one of "psk", "public_key" and "ssh_key"/,
    );
  });

  it('an id of the wrong length (15 or 17 bytes), a psk of 31 bytes, a public_key of 33', () => {
    for (const n of [15, 17]) {
      expectError(
        spaConfig([...DOOR.slice(0, 4), `        id: ${b64u(randomBytes(n))}`, DOOR[5] as string]),
        10,
        'doors[0].clients[0].id',
        new RegExp(`16 bytes, got ${n}`),
      );
    }
    expectError(
      spaConfig([...DOOR.slice(0, 5), `        psk: ${b64u(randomBytes(31))}`]),
      11,
      'doors[0].clients[0].psk',
      /32 bytes, got 31/,
    );
    expectError(
      spaConfig([...DOOR.slice(0, 5), `        public_key: ${b64u(randomBytes(33))}`]),
      11,
      'doors[0].clients[0].public_key',
      /32 bytes, got 33/,
    );
    expectError(
      spaConfig([...DOOR.slice(0, 4), '        id: "not base64!"', DOOR[5] as string]),
      10,
      'doors[0].clients[0].id',
      /base64url/,
    );
  });

  it('a client id used twice, across two doors or within one', () => {
    expectError(
      spaConfig([
        ...DOOR, // 6-11
        '  - name: web', // 12
        '    spa: {port: 62202}', // 13
        '    open: [443]', // 14
        '    clients:', // 15
        '      - name: tablet', // 16
        `        id: ${b64u(ID1)}`, // 17
        `        psk: ${b64u(PSK2)}`, // 18
      ]),
      17,
      'doors[1].clients[0].id',
      /already used by ssh\/laptop/,
    );
    expectError(
      spaConfig([...DOOR, '      - name: phone', `        id: ${b64u(ID1)}`, `        public_key: ${ED_PUBLIC_B64}`]),
      13,
      'doors[0].clients[1].id',
      /already used by ssh\/laptop/,
    );
  });

  it("an allow port that is not among the door's open ports", () => {
    expectError(
      spaConfig([...DOOR, '        allow:', '          - 22', '          - "53/tcp"']),
      14,
      'doors[0].clients[0].allow[1]',
      /53\/tcp is not among the door's "open" ports/,
    );
  });

  it("a client max_duration above the door's max_duration (or, without one, its duration)", () => {
    expectError(
      spaConfig([...DOOR.slice(0, 2), '    max_duration: 5m', ...DOOR.slice(2), '        max_duration: 10m']),
      13,
      'doors[0].clients[0].max_duration',
      /must not exceed the door's max_duration of 300s/,
    );
    expectError(
      spaConfig([...DOOR.slice(0, 2), '    duration: 30s', ...DOOR.slice(2), '        max_duration: 31s']),
      13,
      'doors[0].clients[0].max_duration',
      /of 30s/,
    );
  });

  it('a door max_duration shorter than its duration', () => {
    expectError(
      spaConfig([...DOOR.slice(0, 2), '    duration: 5m', '    max_duration: 1m', ...DOOR.slice(2)]),
      9,
      'doors[0].max_duration',
      /must not be shorter than duration/,
    );
  });

  it('knock-sequence keys on an SPA door', () => {
    for (const line of [
      'sequence: [1000]',
      'tcp_flags: syn',
      'sequence_timeout: 5s',
      'hide_knock_ports: true',
      'one_time_sequences: otp.txt',
    ]) {
      const key = line.slice(0, line.indexOf(':'));
      expectError(
        spaConfig([...DOOR.slice(0, 2), `    ${line}`, ...DOOR.slice(2)]),
        8,
        `doors[0].${key}`,
        /only for knock-sequence doors; this is an SPA door/,
      );
    }
  });

  it('clients or max_duration on a knock-sequence door', () => {
    const seq = ['    sequence: [1000, 2000]', '    open: [22]']; // 6-7
    expectError(
      spaConfig([...seq, ...DOOR.slice(2)]),
      8,
      'doors[0].clients',
      /only for SPA doors; this is a knock-sequence door/,
    );
    expectError(spaConfig([...seq, '    max_duration: 5m']), 8, 'doors[0].max_duration', /only for SPA doors/);
  });

  it('two SPA doors on the same port', () => {
    expectError(
      spaConfig([
        ...DOOR,
        '  - name: web',
        '    spa: {port: 62201}',
        '    open: [443]',
        '    clients:',
        '      - name: tablet',
        `        id: ${b64u(ID2)}`,
        `        psk: ${b64u(PSK2)}`,
      ]),
      13,
      'doors[1].spa.port',
      /door "ssh" already receives SPA on 62201\/udp/,
    );
  });

  it('an SPA port equal to a UDP port that an earlier door, or the door itself, opens', () => {
    expectError(
      spaConfig([
        '    sequence: [1000]', // 6: door "ssh" is a knock door here
        '    open: [22, "62201/udp"]', // 7
        '  - name: spa', // 8
        '    spa: {port: 62201}', // 9
        '    open: [443]', // 10
        '    clients:',
        '      - name: laptop',
        `        id: ${b64u(ID1)}`,
        `        psk: ${b64u(PSK1)}`,
      ]),
      9,
      'doors[1].spa.port',
      /62201\/udp is a port that door "ssh" opens/,
    );
    expectError(
      spaConfig([DOOR[0] as string, '    open: [22, "62201/udp"]', ...DOOR.slice(2)]),
      6,
      'doors[0].spa.port',
      /62201\/udp is a port that door "ssh" opens/,
    );
  });

  it('an SPA port equal to a UDP port that a later door opens', () => {
    expectError(
      spaConfig([...DOOR, '  - name: dns', '    sequence: [1000]', '    open: ["62201/udp"]']), // 12-14
      6,
      'doors[0].spa.port',
      /62201\/udp is a port that door "dns" opens/,
    );
  });

  it('a knock step equal to an SPA port (whichever door comes first)', () => {
    expectError(
      spaConfig([...DOOR, '  - name: knock', '    sequence: [1000, "62201/udp"]', '    open: [23]']),
      13,
      'doors[1].sequence[1]',
      /62201\/udp is the SPA port of door "ssh"/,
    );
    expectError(
      lines(
        'interfaces: [eth0]',
        'spa:',
        '  server_key: server.key',
        'doors:',
        '  - name: knock',
        '    sequence:',
        '      - 1000',
        '      - "62201/udp"', // 8
        '    open: [23]',
        '  - name: ssh',
        ...DOOR,
      ),
      8,
      'doors[0].sequence[1]',
      /SPA port of door "ssh"/,
    );
  });

  it('a psk inline in a file readable by group or others is refused at the psk line', () => {
    expectError(spaConfig(DOOR), 11, 'doors[0].clients[0].psk', /readable by group or others/, false);
    const e = configError(spaConfig(DOOR), false);
    assert.ok(e.detail.includes(`chmod 600 ${FILE}`), e.detail);
    // The same text loads when the file is private.
    assert.equal(parseConfigText(FILE, spaConfig(DOOR), true).doors[0]?.spa?.clients[0]?.mode, 'psk');
  });

  it('unknown keys in a client and in the spa section', () => {
    expectError(spaConfig([...DOOR, '        colour: red']), 12, 'doors[0].clients[0].colour', /unknown key/);
    expectError(
      lines(
        'interfaces: [eth0]',
        'spa:',
        '  server_key: server.key',
        '  freshnes: 10s',
        'doors:',
        '  - name: ssh',
        ...DOOR,
      ),
      4,
      'spa.freshnes',
      /unknown key/,
    );
  });
});

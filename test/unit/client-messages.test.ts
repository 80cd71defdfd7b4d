/**
 * What the client and the daemon tell a user when something did not work: a knock that could not
 * leave this host, a port that stayed filtered or answered with a reset, a stale packet's clock
 * skew with its sign, `knock -v`'s account of a request, the host a profile knocks, "did you mean"
 * for a misspelt key, and which secrets make a world-readable configuration worth a warning.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { giveUpMessage } from '../../src/client/give-up-hints.js';
import { knockTarget } from '../../src/client/profiles.js';
import { sendFailure } from '../../src/client/send-error.js';
import { spaAskLines } from '../../src/client/spa-ask-text.js';
import { readableSecretsWarning } from '../../src/config/config-secrets.js';
import { didYouMean, editDistance } from '../../src/config/did-you-mean.js';
import { parseConfigText } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { knownKeysAt } from '../../src/config/schema-keys.js';
import { ConfigError } from '../../src/core/errors.js';
import { describeSkew } from '../../src/core/freshness.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import { keyFingerprint } from '../../src/core/spa/key-fingerprint.js';
import type { ClientCredential } from '../../src/stores/key-files.js';

const CRED: ClientCredential = {
  name: 'laptop',
  server: 'gw.example.net',
  port: 62201,
  serverPublicKey: new Uint8Array(32).fill(7),
  doorId: 'ssh',
  clientId: new Uint8Array(16).fill(0xab),
  psk: new Uint8Array(32).fill(1),
};

describe('a knock that could not be sent', () => {
  it('no route, a local firewall: KG_SEND_FAILED, exit 69, one line naming the packet and the errno', () => {
    for (const [code, words] of [
      ['ENETUNREACH', /network is unreachable/],
      ['EHOSTUNREACH', /host is unreachable/],
      ['EPERM', /own firewall refused/],
      ['EACCES', /own firewall refused/],
    ] as const) {
      const e = sendFailure(Object.assign(new Error('send'), { code }), '198.18.0.1 port 7000/udp');
      assert.ok(e, code);
      assert.equal(e.code, 'KG_SEND_FAILED');
      assert.equal(e.exitCode, 69);
      assert.match(e.message, /^cannot send to 198\.18\.0\.1 port 7000\/udp: /);
      assert.match(e.message, words);
      assert.ok(e.message.endsWith(`[${code}]`));
      assert.ok(!e.message.includes('\n'));
    }
  });

  it('other errors are not the network: left to the caller', () => {
    assert.equal(sendFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'x'), undefined);
    assert.equal(sendFailure(new Error('no code'), 'x'), undefined);
    assert.equal(sendFailure(undefined, 'x'), undefined);
  });
});

describe("connect's message when it gives up", () => {
  it('a timeout lists the likely causes in order, each with where to check it', () => {
    const text = giveUpMessage({ host: '198.18.0.1', port: 22, attempts: 3, waitMs: 2500, outcome: 'timeout' });
    const lines = text.split('\n');
    assert.match(lines[0] as string, /^198\.18\.0\.1 port 22\/tcp did not answer after 3 knocks .*2500 ms/);
    const causes = lines.filter((l) => /^ {2}\d\. /.test(l));
    assert.deepEqual(
      causes.map((l) => l.match(/\((spa-[a-z0-9-]+)/)?.[1]),
      ['spa-not-allowed', 'spa-not-allowed', 'spa-stale', 'spa-mac1', undefined],
    );
    assert.match(causes[0] as string, /does not open 22\/tcp.*knockgate status.*knockgate knock -v 198\.18\.0\.1/);
    assert.match(causes[1] as string, /max_duration/);
    assert.match(causes[2] as string, /date -u/);
    assert.match(causes[3] as string, /server key fingerprint/);
  });

  it('a reset is told apart: the firewall let it through and nothing listens', () => {
    const text = giveUpMessage({ host: 'h', port: 2222, attempts: 1, waitMs: 100, outcome: 'reset' });
    assert.match(text, /refused the connection \(a TCP reset\)/);
    assert.match(text, /ss -ltn 'sport = :2222'/);
    assert.doesNotMatch(text, /did not answer/);
  });
});

describe("a stale packet's clock skew", () => {
  it('says ahead or behind, never a bare signed number', () => {
    assert.equal(describeSkew(-600_000), "client clock 600 s ahead of this server's");
    assert.equal(describeSkew(600_400), "client clock 600 s behind this server's (or the packet is that old)");
  });
});

describe('knock -v', () => {
  const to = { address: '198.18.0.1', port: 62201 };
  it('names client, door, server key fingerprint, ports, duration and the bound address', () => {
    const lines = spaAskLines(
      CRED,
      {
        ports: [{ proto: 'tcp', port: 22 }],
        durationS: 60,
        address: parseIPAddress('198.18.0.7'),
        prefix: 32,
      },
      to,
    );
    assert.equal(lines[0], 'SPA to 198.18.0.1 port 62201/udp');
    assert.match(lines[1] as string, /laptop \(door ssh, client id (ab){16}\)/);
    assert.ok((lines[2] as string).endsWith(keyFingerprint(CRED.serverPublicKey)));
    assert.match(lines[3] as string, /ports: +22\/tcp$/);
    assert.match(lines[4] as string, /duration: +60 s$/);
    assert.match(lines[5] as string, /address: +198\.18\.0\.7$/);
  });

  it("an unbound request says what that risks; defaults say they are the door's", () => {
    const lines = spaAskLines(CRED, { ports: [], durationS: 0, address: null, prefix: 0 }, to);
    assert.match(lines[3] as string, /the door's/);
    assert.match(lines[4] as string, /the door's default/);
    assert.match(lines[5] as string, /not bound: whoever delivers the datagram first/);
  });

  it('the fingerprint is SHA256: and the unpadded base64 of the raw public key, as ssh-keygen -l prints', () => {
    const key = randomBytes(32);
    const digest = createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
    assert.equal(keyFingerprint(key), `SHA256:${digest}`);
    assert.throws(() => keyFingerprint(new Uint8Array(31)));
  });
});

describe('the host a profile knocks', () => {
  it('a profile named by HOST knocks its server:; an explicit credential or another HOST knocks HOST', () => {
    assert.equal(knockTarget({ host: 'gw' }, CRED), 'gw.example.net');
    assert.equal(knockTarget({ host: 'gw', profile: 'gw' }, CRED), 'gw.example.net');
    assert.equal(knockTarget({ host: '198.18.0.9', profile: 'gw' }, CRED), '198.18.0.9');
    assert.equal(knockTarget({ host: 'gw', credential: '/x.yaml' }, CRED), 'gw');
    const { server: _, ...noServer } = CRED;
    assert.equal(knockTarget({ host: 'gw' }, noServer), 'gw');
    assert.equal(knockTarget({ host: 'gw' }, null), 'gw');
  });
});

describe('did you mean', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('duration', 'duraiton'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('suggests a near key, forgiving case and dashes; nothing for a far one', () => {
    const keys = ['duration', 'max_duration', 'open', 'sequence'];
    assert.equal(didYouMean('duraton', keys), 'duration');
    assert.equal(didYouMean('Max-Duration', keys), 'max_duration');
    assert.equal(didYouMean('opne', keys), 'open');
    assert.equal(didYouMean('colour', keys), null);
  });

  it("the keys come from the schema at the mapping's path: top level, a door, a client", () => {
    assert.ok(knownKeysAt(configSchema, []).includes('firewall'));
    assert.ok(knownKeysAt(configSchema, ['doors', 0]).includes('duration'));
    assert.ok(knownKeysAt(configSchema, ['doors', 0, 'clients', 1]).includes('public_key'));
    assert.ok(knownKeysAt(configSchema, ['spa']).includes('freshness'));
    assert.deepEqual(knownKeysAt(configSchema, ['no_such_key']), []);
  });

  it('a config error names the key it means', () => {
    const text = [
      'interfaces: [lo]',
      'doors:',
      '  - name: ssh',
      '    sequence: [1, 2]',
      '    open: [22/tcp]',
      '    duraton: 30s',
      '',
    ].join('\n');
    try {
      parseConfigText('/etc/knockgate/knockgate.yaml', text);
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        '/etc/knockgate/knockgate.yaml:6: doors[0].duraton: unknown key; did you mean "duration"?',
      );
    }
  });
});

describe('a world-readable configuration', () => {
  const door = (name: string, over: object) => ({ name, sequence: null, spa: null, fwknop: null, ...over });
  it('is worth a warning for its fixed knock sequences only, naming their doors', () => {
    const warning = readableSecretsWarning({
      doors: [
        door('ssh', { sequence: [{ proto: 'tcp', port: 1 }] }),
        door('web', { sequence: [{ proto: 'udp', port: 2 }] }),
        door('spa', { spa: {} }),
      ],
    } as never);
    assert.match(warning ?? '', /knock sequences of ssh, web: any local user can read and knock them; chmod 600/);
    assert.doesNotMatch(warning ?? '', /spa/);
  });

  it('holding only public keys, paths of secret files and time-based doors, it is not', () => {
    assert.equal(
      readableSecretsWarning({ doors: [door('spa', { spa: {} }), door('totp', { totp: {} })] } as never),
      null,
    );
  });
});

/**
 * Covers the key files and provisioning, in temp dirs:
 *   src/stores/key-files.ts  readServerKey, readClientCredential, writePrivateFile: files are 0600,
 *                            never overwritten without force (KG_USAGE), refused when readable by
 *                            group or others, of the wrong kind, or with bad base64url / lengths
 *   src/client/provision.ts  createServerKey, addClient (psk and ed25519): the credential reads back;
 *                            the printed server entry is YAML for one client; in ed25519 mode it holds
 *                            no private material; end to end, a datagram built from the credential
 *                            (src/client/spa-sender.ts) opens with the server key and the entry
 *                            (src/core/spa/native-wire.ts openSpa).
 */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { parse } from 'yaml';
import { addClient, createServerKey } from '../../src/client/provision.js';
import { buildSpaDatagram } from '../../src/client/spa-sender.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';
import { sshPublicKeyLine } from '../../src/core/ssh/ssh-public-key.js';
import {
  ed25519PrivateFromSeed,
  ed25519PublicFromRaw,
  rawPublicOf,
  x25519PrivateFromRaw,
} from '../../src/core/spa/keys.js';
import { openSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import type { SpaClientKey } from '../../src/core/spa/native-client-auth.js';
import {
  CLIENT_CREDENTIAL_KIND,
  readClientCredential,
  readServerKey,
  SERVER_KEY_KIND,
} from '../../src/stores/key-files.js';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const modeOf = (file: string): number => statSync(file).mode & 0o777;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knockgate-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to `name` in the temp dir with exactly `mode`. */
function put(name: string, text: string, mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}

function expectConfigError(fn: () => unknown, detail: RegExp, key?: string): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.exitCode, 78);
    assert.match(err.detail, detail);
    if (key !== undefined) assert.equal(err.key, key);
    return err;
  }
  assert.fail('expected a ConfigError');
}

function expectUsageError(fn: () => unknown): void {
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof KnockgateError &&
      err.code === 'KG_USAGE' &&
      err.exitCode === 64 &&
      /exists; refusing to overwrite/.test(err.message),
  );
}

// ---------------------------------------------------------------------------------------------

describe('server key: createServerKey and readServerKey', () => {
  it('writes a 0600 file whose private key reads back and matches the returned public key', () => {
    const file = join(dir, 'sub', 'server.key');
    const { publicKey } = createServerKey(file, false);
    assert.equal(modeOf(file), 0o600);
    assert.equal(publicKey.length, 32);
    const { privateKey } = readServerKey(file);
    assert.equal(privateKey.length, 32);
    assert.deepEqual(rawPublicOf(x25519PrivateFromRaw(privateKey)), publicKey);
    const text = readFileSync(file, 'utf8');
    assert.match(text, new RegExp(`^kind: ${SERVER_KEY_KIND}$`, 'm'));
    assert.ok(text.includes(`public key, for clients: ${b64u(publicKey)}`));
  });

  it('refuses to overwrite an existing key without force (KG_USAGE); replaces it with force', () => {
    const file = join(dir, 'server.key');
    createServerKey(file, false);
    const before = readFileSync(file, 'utf8');
    expectUsageError(() => createServerKey(file, false));
    assert.equal(readFileSync(file, 'utf8'), before, 'the old key is untouched');
    const { publicKey } = createServerKey(file, true);
    assert.notEqual(readFileSync(file, 'utf8'), before);
    assert.equal(modeOf(file), 0o600);
    assert.deepEqual(rawPublicOf(x25519PrivateFromRaw(readServerKey(file).privateKey)), publicKey);
  });

  it('refuses a key file readable by group or others (0644, 0640, 0604) with a ConfigError', () => {
    const file = join(dir, 'server.key');
    createServerKey(file, false);
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(file, mode);
      const e = expectConfigError(() => readServerKey(file), /readable by group or others/);
      assert.equal(e.file, file);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
    }
    chmodSync(file, 0o400);
    assert.equal(readServerKey(file).privateKey.length, 32, 'owner-only read is fine');
  });

  it('the refusal names the secret; a credential holding none (an ssh-agent key) may be readable', () => {
    const psk = put(
      'psk.yaml',
      [
        `kind: ${CLIENT_CREDENTIAL_KIND}`,
        'port: 62201',
        `server_public_key: ${b64u(randomBytes(32))}`,
        'door_id: ssh',
        `client_id: ${b64u(randomBytes(16))}`,
        `psk: ${b64u(randomBytes(32))}`,
        '',
      ].join('\n'),
      0o644,
    );
    expectConfigError(
      () => readClientCredential(psk),
      /holds a secret \(psk\) but is readable by group or others \(mode 644\)/,
    );
    const agentKey = readFileSync(psk, 'utf8').replace(
      /^psk: .*$/m,
      `ssh_key: "${sshPublicKeyLine(rawPublicOf(generateKeyPairSync('ed25519').publicKey), 'me@laptop')}"`,
    );
    const ssh = put('ssh.yaml', agentKey, 0o644);
    assert.equal(readClientCredential(ssh).sshKey?.comment, 'me@laptop');
  });

  it('refuses a file of the wrong kind', () => {
    const file = put('server.key', `kind: ${CLIENT_CREDENTIAL_KIND}\nprivate_key: ${b64u(randomBytes(32))}\n`);
    expectConfigError(() => readServerKey(file), new RegExp(`not a ${SERVER_KEY_KIND} file`), 'kind');
    const none = put('none.key', `private_key: ${b64u(randomBytes(32))}\n`);
    expectConfigError(() => readServerKey(none), /not a knockgate-server-key-v1 file/, 'kind');
    const notYaml = put('junk.key', 'kind: [unclosed\n');
    expectConfigError(() => readServerKey(notYaml), /not a key file/);
  });

  it('refuses bad base64url and wrong lengths', () => {
    const head = `kind: ${SERVER_KEY_KIND}\n`;
    const std = Buffer.from(randomBytes(32)).toString('base64'); // may hold + / and = padding
    expectConfigError(
      () => readServerKey(put('a.key', `${head}private_key: "${std.slice(0, 40)}+/=="\n`)),
      /base64url/,
      'private_key',
    );
    expectConfigError(() => readServerKey(put('b.key', `${head}private_key: "abc def"\n`)), /base64url/, 'private_key');
    expectConfigError(() => readServerKey(put('c.key', `${head}\n`)), /missing/, 'private_key');
    expectConfigError(
      () => readServerKey(put('d.key', `${head}private_key: ${b64u(randomBytes(31))}\n`)),
      /32 bytes, got 31/,
      'private_key',
    );
    expectConfigError(
      () => readServerKey(put('e.key', `${head}private_key: ${b64u(randomBytes(33))}\n`)),
      /32 bytes, got 33/,
      'private_key',
    );
  });

  it('a missing file is a ConfigError that says it cannot be read', () => {
    expectConfigError(() => readServerKey(join(dir, 'nope.key')), /cannot read/);
  });
});

// ---------------------------------------------------------------------------------------------

interface Provisioned {
  serverKeyFile: string;
  out: string;
  r: ReturnType<typeof addClient>;
}

function provision(mode: 'psk' | 'ed25519', name = 'laptop'): Provisioned {
  const serverKeyFile = join(dir, 'server.key');
  createServerKey(serverKeyFile, false);
  const out = join(dir, 'creds', `${name}.knockgate.yaml`);
  const r = addClient({
    door: 'ssh',
    name,
    serverKeyFile,
    mode,
    server: 'gw.example.net',
    port: 62201,
    out,
    force: false,
  });
  return { serverKeyFile, out, r };
}

interface Entry {
  name: string;
  id: string;
  psk?: string;
  public_key?: string;
}

/** The server entry parsed as YAML: one list item with name, id and one of psk / public_key. */
function parseEntry(text: string): Entry {
  const doc: unknown = parse(text);
  assert.ok(Array.isArray(doc), 'a YAML list');
  assert.equal(doc.length, 1, 'one client');
  const e = doc[0] as Record<string, unknown>;
  assert.equal(typeof e.name, 'string');
  assert.equal(typeof e.id, 'string');
  return e as unknown as Entry;
}

function lookupFromEntry(e: Entry): (idHex: string) => SpaClientKey | undefined {
  const id = new Uint8Array(Buffer.from(e.id, 'base64url'));
  const key: SpaClientKey =
    e.psk !== undefined
      ? { id, mode: 'psk', psk: new Uint8Array(Buffer.from(e.psk, 'base64url')) }
      : {
          id,
          mode: 'ed25519',
          publicKey: ed25519PublicFromRaw(new Uint8Array(Buffer.from(e.public_key as string, 'base64url'))),
        };
  const hex = Buffer.from(id).toString('hex');
  return (idHex) => (idHex === hex ? key : undefined);
}

describe('addClient', () => {
  for (const mode of ['psk', 'ed25519'] as const) {
    it(`${mode}: writes a 0600 credential that reads back (${mode === 'psk' ? 'psk' : 'private key'} only)`, () => {
      const { serverKeyFile, out, r } = provision(mode);
      assert.equal(modeOf(out), 0o600);
      assert.equal(readFileSync(out, 'utf8'), r.credentialText);
      const cred = readClientCredential(out);
      assert.equal(cred.name, 'laptop');
      assert.equal(cred.server, 'gw.example.net');
      assert.equal(cred.port, 62201);
      assert.equal(cred.ports, undefined);
      assert.deepEqual(cred.clientId, new Uint8Array(r.credential.clientId));
      assert.equal(cred.clientId.length, 16);
      assert.deepEqual(
        cred.serverPublicKey,
        rawPublicOf(x25519PrivateFromRaw(readServerKey(serverKeyFile).privateKey)),
      );
      if (mode === 'psk') {
        assert.equal(cred.privateKey, undefined);
        assert.deepEqual(cred.psk, new Uint8Array(r.credential.psk as Uint8Array));
        assert.equal(cred.psk?.length, 32);
      } else {
        assert.equal(cred.psk, undefined);
        assert.deepEqual(cred.privateKey, new Uint8Array(r.credential.privateKey as Uint8Array));
        assert.equal(cred.privateKey?.length, 32);
      }
    });

    it(`${mode}: the server entry is one YAML list item with name, id and ${mode === 'psk' ? 'psk' : 'public_key'}`, () => {
      const { r } = provision(mode);
      const e = parseEntry(r.serverEntry);
      assert.equal(e.name, 'laptop');
      assert.deepEqual(new Uint8Array(Buffer.from(e.id, 'base64url')), new Uint8Array(r.credential.clientId));
      if (mode === 'psk') {
        assert.deepEqual(Object.keys(e).sort(), ['id', 'name', 'psk']);
        assert.deepEqual(
          new Uint8Array(Buffer.from(e.psk as string, 'base64url')),
          new Uint8Array(r.credential.psk as Uint8Array),
        );
      } else {
        assert.deepEqual(Object.keys(e).sort(), ['id', 'name', 'public_key']);
        const expected = rawPublicOf(ed25519PrivateFromSeed(r.credential.privateKey as Uint8Array));
        assert.deepEqual(new Uint8Array(Buffer.from(e.public_key as string, 'base64url')), expected);
      }
    });

    it(`${mode}: end to end, a datagram built from the credential opens with the server key and the entry`, () => {
      const { serverKeyFile, out, r } = provision(mode);
      const cred = readClientCredential(out);
      const keys = serverKeysFromPrivate(readServerKey(serverKeyFile).privateKey, 'ssh');
      const lookup = lookupFromEntry(parseEntry(r.serverEntry));
      const now = Date.now();
      const d = buildSpaDatagram(
        cred,
        { ports: [{ proto: 'tcp', port: 22 }], durationS: 60, address: null, prefix: 0 },
        now,
      );
      const opened = openSpa(d, keys, lookup);
      assert.equal(opened.ok, true, JSON.stringify(opened));
      if (!opened.ok) return;
      assert.equal(opened.client.mode, mode);
      assert.equal(opened.request.timestampMs, now);
      assert.equal(opened.request.durationS, 60);
      assert.deepEqual(opened.request.ports, [{ proto: 'tcp', port: 22 }]);
      assert.ok(opened.replayKey.startsWith(Buffer.from(cred.clientId).toString('hex')));
      // Two datagrams never share a nonce (replay key).
      const again = openSpa(
        buildSpaDatagram(cred, { ports: [], durationS: 0, address: null, prefix: 0 }, now),
        keys,
        lookup,
      );
      assert.ok(again.ok && again.replayKey !== opened.replayKey);
      // Another server's key does not open it.
      const otherServer = join(dir, 'other.key');
      createServerKey(otherServer, false);
      assert.deepEqual(openSpa(d, serverKeysFromPrivate(readServerKey(otherServer).privateKey, 'ssh'), lookup), {
        ok: false,
        reason: 'spa-mac1',
      });
    });

    it(`${mode}: the server entry loads as a client of an SPA door in knockgate.yaml`, () => {
      const { serverKeyFile, r } = provision(mode);
      const entry = r.serverEntry.trimEnd().replace(/^/gm, '      ');
      const text = [
        'interfaces: [eth0]',
        'spa:',
        `  server_key: ${serverKeyFile}`,
        'doors:',
        '  - name: ssh',
        '    spa: {port: 62201}',
        '    open: [22]',
        '    clients:',
        entry,
        '',
      ].join('\n');
      const c = parseConfigText(join(dir, 'knockgate.yaml'), text, true);
      const client = c.doors[0]?.spa?.clients[0];
      assert.ok(client);
      assert.equal(client.name, 'laptop');
      assert.equal(client.mode, mode);
      assert.equal(client.idHex, Buffer.from(r.credential.clientId).toString('hex'));
    });
  }

  it('ed25519: the server entry holds no private material (seed in no encoding, no private key export)', () => {
    const { r } = provision('ed25519');
    const seed = Buffer.from(r.credential.privateKey as Uint8Array);
    assert.equal(seed.length, 32);
    const priv: KeyObject = createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const pkcs8 = priv.export({ format: 'der', type: 'pkcs8' });
    const forbidden = [
      seed.toString('base64url'),
      seed.toString('base64'),
      seed.toString('base64').replace(/=+$/, ''),
      seed.toString('hex'),
      seed.toString('hex').toUpperCase(),
      pkcs8.toString('base64'),
      pkcs8.toString('base64url'),
      // 9-byte pieces of the seed (12 base64url characters), at each of the three alignments.
      ...[0, 1, 2].flatMap((skip) =>
        [0, 10, 20].map((at) => seed.subarray(at + skip, at + skip + 9).toString('base64url')),
      ),
    ];
    for (const f of forbidden) assert.ok(!r.serverEntry.includes(f), `server entry contains ${f}`);
    // Only the three public keys, one per line.
    const lines = r.serverEntry.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^(- | {2})(name|id|public_key): ("[A-Za-z0-9_.-]+"|[A-Za-z0-9_-]+)$/);
    // And it is in the credential, so the search above looked for the right thing.
    assert.ok(r.credentialText.includes(seed.toString('base64url')));
  });

  it('psk: the entry carries the psk (the config must then be 0600)', () => {
    const { r } = provision('psk');
    assert.ok(r.serverEntry.includes(b64u(r.credential.psk as Uint8Array)));
  });

  it('refuses to overwrite an existing credential without force (KG_USAGE)', () => {
    const { serverKeyFile, out } = provision('psk');
    const before = readFileSync(out, 'utf8');
    expectUsageError(() =>
      addClient({ door: 'ssh', name: 'laptop', serverKeyFile, mode: 'psk', port: 62201, out, force: false }),
    );
    assert.equal(readFileSync(out, 'utf8'), before);
    const r = addClient({ door: 'ssh', name: 'laptop', serverKeyFile, mode: 'psk', port: 62201, out, force: true });
    assert.equal(readFileSync(out, 'utf8'), r.credentialText);
    assert.equal(modeOf(out), 0o600);
  });

  it('refuses a server key readable by others (and writes no credential)', () => {
    const serverKeyFile = join(dir, 'server.key');
    createServerKey(serverKeyFile, false);
    chmodSync(serverKeyFile, 0o644);
    const out = join(dir, 'c.yaml');
    expectConfigError(
      () => addClient({ door: 'ssh', name: 'x', serverKeyFile, mode: 'ed25519', port: 62201, out, force: false }),
      /readable by group or others/,
    );
    assert.throws(() => statSync(out), /ENOENT/);
  });

  it('a client named with digits only (accepted by `knockgate add-client`) keeps its name as a string in both files', () => {
    const { out, r } = provision('ed25519', '1234');
    assert.equal(parseEntry(r.serverEntry).name, '1234');
    assert.equal(readClientCredential(out).name, '1234');
  });
});

describe('readClientCredential', () => {
  const base = (extra: string[], doorId: string | null = 'ssh'): string =>
    [
      `kind: ${CLIENT_CREDENTIAL_KIND}`,
      'name: laptop',
      'port: 62201',
      `server_public_key: ${b64u(randomBytes(32))}`,
      `client_id: ${b64u(randomBytes(16))}`,
      ...(doorId === null ? [] : [`door_id: ${doorId}`]),
      ...extra,
      '',
    ].join('\n');

  it('needs exactly one of psk and private_key', () => {
    expectConfigError(
      () =>
        readClientCredential(
          put('both.yaml', base([`psk: ${b64u(randomBytes(32))}`, `private_key: ${b64u(randomBytes(32))}`])),
        ),
      /exactly one/,
    );
    expectConfigError(() => readClientCredential(put('neither.yaml', base([]))), /exactly one/);
  });

  it('refuses a bad port, a short client id, the wrong kind, and a world-readable file', () => {
    expectConfigError(
      () =>
        readClientCredential(
          put('p.yaml', base([`psk: ${b64u(randomBytes(32))}`]).replace('port: 62201', 'port: 70000')),
        ),
      /UDP port/,
      'port',
    );
    expectConfigError(
      () =>
        readClientCredential(
          put(
            'i.yaml',
            base([`psk: ${b64u(randomBytes(32))}`]).replace(/client_id: .*/, `client_id: ${b64u(randomBytes(15))}`),
          ),
        ),
      /16 bytes, got 15/,
      'client_id',
    );
    expectConfigError(
      () =>
        readClientCredential(
          put('k.yaml', base([`psk: ${b64u(randomBytes(32))}`]).replace(CLIENT_CREDENTIAL_KIND, SERVER_KEY_KIND)),
        ),
      /not a knockgate-client-v1/,
      'kind',
    );
    expectConfigError(
      () => readClientCredential(put('w.yaml', base([`psk: ${b64u(randomBytes(32))}`]), 0o604)),
      /readable by group or others/,
    );
  });

  it('reads optional default ports', () => {
    const cred = readClientCredential(
      put('ports.yaml', base([`psk: ${b64u(randomBytes(32))}`, 'ports: [22, "53/udp"]'])),
    );
    assert.deepEqual(cred.ports, [
      { proto: 'tcp', port: 22 },
      { proto: 'udp', port: 53 },
    ]);
    expectConfigError(
      () => readClientCredential(put('bad-ports.yaml', base([`psk: ${b64u(randomBytes(32))}`, 'ports: [0]']))),
      /1 to 65535/,
      'ports',
    );
  });

  it('reads the binding keys allow_ip and resolve_url, and refuses malformed ones naming the key', () => {
    const psk = `psk: ${b64u(randomBytes(32))}`;
    const cred = readClientCredential(
      put('bind.yaml', base([psk, 'allow_ip: 198.51.100.7/32', 'resolve_url: https://ip.example.net/'])),
    );
    assert.equal(cred.allowIp, '198.51.100.7/32');
    assert.equal(cred.resolveUrl, 'https://ip.example.net/');
    expectConfigError(
      () => readClientCredential(put('bad-ip.yaml', base([psk, 'allow_ip: "me please"']))),
      /ADDRESS or ADDRESS\/PREFIX/,
      'allow_ip',
    );
    expectConfigError(
      () => readClientCredential(put('bad-url.yaml', base([psk, 'resolve_url: ftp://x/']))),
      /http:\/\/ or https:\/\//,
      'resolve_url',
    );
  });

  it('a credential from before protocol v2 (no door_id) is refused, naming the key and what to do; a bad door id too', () => {
    expectConfigError(
      () => readClientCredential(put('v1.yaml', base([`psk: ${b64u(randomBytes(32))}`], null))),
      /predates SPA protocol v2.*door_id: NAME.*add-client --door NAME/,
      'door_id',
    );
    expectConfigError(
      () => readClientCredential(put('bad-door.yaml', base([`psk: ${b64u(randomBytes(32))}`], '"a b"'))),
      /door id/,
      'door_id',
    );
    assert.equal(
      readClientCredential(put('v2.yaml', base([`psk: ${b64u(randomBytes(32))}`], 'web.example'))).doorId,
      'web.example',
    );
  });
});

/**
 * Covers the provisioning side of key rotation: rotateServerKey (client/provision.ts) keeps the old
 * key as FILE.previous and writes a new one, refusing when FILE.previous exists (the old key left
 * in place); readPreviousServerKey (stores/key-files.ts) refuses a previous key that is the current
 * one; reissueClient (client/reissue.ts) keeps the client's name and id, makes a new secret under
 * the current key, prints the old secret as previous_* only while the config has a previous key,
 * keeps an existing previous secret, and names an unknown client or door (exit 64). What a door
 * built from the printed entry accepts is spa-key-rotation.test.ts's and the integration test's.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addClient, createServerKey, rotateServerKey } from '../../src/client/provision.js';
import { reissueClient } from '../../src/client/reissue.js';
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config/load.js';
import { KnockgateError } from '../../src/core/errors.js';
import { rawPublicOf } from '../../src/core/spa/keys.js';
import {
  parseSshPublicKeyLine,
  sshPublicKeyLine,
  type SshEd25519PublicKey,
} from '../../src/core/ssh/ssh-public-key.js';
import { readClientCredential, readPreviousServerKey, readServerKey } from '../../src/stores/key-files.js';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'kg-rotation-'));
}

function configWith(d: string, entry: string, previous: boolean): string {
  const file = join(d, 'knockgate.yaml');
  const lines = [
    'interfaces: [any]',
    'spa:',
    '  server_key: server.key',
    ...(previous ? ['  previous_server_key: server.key.previous', '  previous_key_until: "2030-01-01T00:00:00Z"'] : []),
    'doors:',
    '  - name: ssh',
    '    spa: {port: 62209}',
    '    open: [22]',
    '    clients:',
    ...entry
      .trimEnd()
      .split('\n')
      .map((l) => `      ${l}`),
    '',
  ];
  writeFileSync(file, lines.join('\n'), { mode: 0o600 });
  return file;
}

describe('key rotation: keygen --force and add-client --reissue', () => {
  it('rotateServerKey keeps the old key as FILE.previous; a second rotation is refused and changes nothing', () => {
    const d = dir();
    try {
      const key = join(d, 'server.key');
      createServerKey(key, false);
      const old = readServerKey(key).privateKey;
      const r = rotateServerKey(key);
      assert.equal(r.previousFile, `${key}.previous`);
      assert.deepEqual(readServerKey(r.previousFile).privateKey, old);
      const now = readServerKey(key).privateKey;
      assert.notDeepEqual(now, old);
      assert.throws(
        () => rotateServerKey(key),
        (e: unknown) =>
          e instanceof KnockgateError && e.exitCode === 64 && /exists: the key of an earlier/.test(e.message),
      );
      assert.deepEqual(readServerKey(key).privateKey, now, 'the refused rotation left the key alone');
      assert.deepEqual(readPreviousServerKey({ spa: { previousServerKeyFile: r.previousFile } }, now), old);
      assert.throws(
        () => readPreviousServerKey({ spa: { previousServerKeyFile: key } }, now),
        /same key as server_key/,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  for (const mode of ['psk', 'ed25519'] as const) {
    it(`reissue (${mode}): same id, a new secret under the current key, the old one as previous_*`, () => {
      const d = dir();
      try {
        const key = join(d, 'server.key');
        createServerKey(key, false);
        const first = addClient({
          name: 'alice',
          serverKeyFile: key,
          door: 'ssh',
          mode,
          port: 62209,
          out: join(d, 'alice.yaml'),
          force: false,
        });
        rotateServerKey(key);
        const config = configWith(d, first.serverEntry.replace(/#.*$/gm, ''), true);
        const re = reissueClient({
          name: 'alice',
          configFile: config,
          door: 'ssh',
          out: join(d, 'new.yaml'),
          force: false,
        });
        const oldCred = readClientCredential(join(d, 'alice.yaml'));
        const newCred = readClientCredential(join(d, 'new.yaml'));
        assert.deepEqual(newCred.clientId, oldCred.clientId);
        assert.equal(newCred.port, 62209);
        assert.notDeepEqual(newCred.serverPublicKey, oldCred.serverPublicKey);
        assert.equal(re.keepsOld, true);
        const secret = mode === 'psk' ? 'psk' : 'public_key';
        const oldSecret = first.serverEntry.match(new RegExp(`^  ${secret}: (\\S+)`, 'm'))?.[1];
        assert.ok(oldSecret);
        assert.match(re.serverEntry, new RegExp(`^  previous_${secret}: ${oldSecret}`, 'm'));
        assert.doesNotMatch(re.serverEntry, new RegExp(`^  ${secret}: ${oldSecret}`, 'm'), 'a new secret');
        // Re-issued again in the same overlap: the previous secret stays the old key's credential's.
        const config2 = configWith(d, re.serverEntry.replace(/#.*$/gm, ''), true);
        const again = reissueClient({
          name: 'alice',
          configFile: config2,
          door: 'ssh',
          out: join(d, 'n2.yaml'),
          force: false,
        });
        assert.match(again.serverEntry, new RegExp(`^  previous_${secret}: ${oldSecret}`, 'm'));
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    });
  }

  it('reissue (ssh-ed25519): --ssh-key is needed again; the entry has the new ssh_key and the old one as previous_ssh_key, and loads', () => {
    const d = dir();
    try {
      const key = join(d, 'server.key');
      createServerKey(key, false);
      const sshKeyOf = (comment: string): SshEd25519PublicKey => {
        const parsed = parseSshPublicKeyLine(
          sshPublicKeyLine(rawPublicOf(generateKeyPairSync('ed25519').publicKey), comment),
        );
        if ('error' in parsed) throw new Error(parsed.error);
        return parsed;
      };
      const [oldKey, newKey] = [sshKeyOf('old@laptop'), sshKeyOf('new@laptop')];
      const first = addClient({
        name: 'dave',
        serverKeyFile: key,
        door: 'ssh',
        mode: 'ssh-ed25519',
        sshKey: oldKey,
        port: 62209,
        out: join(d, 'dave.yaml'),
        force: false,
      });
      rotateServerKey(key);
      const config = configWith(d, first.serverEntry, true);
      const reissue = (sshKey?: SshEd25519PublicKey) =>
        reissueClient({
          name: 'dave',
          configFile: config,
          door: 'ssh',
          ...(sshKey ? { sshKey } : {}),
          out: join(d, 'new.yaml'),
          force: true,
        });
      assert.throws(
        () => reissue(),
        (err: unknown) => err instanceof KnockgateError && err.exitCode === 64 && /--ssh-key/.test(err.message),
      );
      const re = reissue(newKey);
      const lines = re.serverEntry.split('\n');
      assert.ok(lines.includes(`  ssh_key: "${sshPublicKeyLine(newKey.raw, 'new@laptop')}"`), re.serverEntry);
      assert.ok(
        lines.some((l) => l.startsWith(`  previous_ssh_key: "${sshPublicKeyLine(oldKey.raw)}"`)),
        re.serverEntry,
      );
      assert.deepEqual(readClientCredential(join(d, 'new.yaml')).sshKey?.raw, newKey.raw);
      const client = loadConfig(configWith(d, re.serverEntry.replace(/#.*$/gm, ''), true)).doors[0]?.spa?.clients[0];
      assert.equal(client?.mode, 'ssh-ed25519');
      assert.equal(client?.previous?.mode, 'ssh-ed25519');
      assert.deepEqual(client?.previous?.publicKey && rawPublicOf(client.previous.publicKey), oldKey.raw);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('without a previous key the entry has no previous_*; an unknown client or door is a usage error', () => {
    const d = dir();
    try {
      const key = join(d, 'server.key');
      createServerKey(key, false);
      const first = addClient({
        name: 'bob',
        serverKeyFile: key,
        door: 'ssh',
        mode: 'psk',
        port: 62209,
        out: join(d, 'bob.yaml'),
        force: false,
      });
      const config = configWith(d, first.serverEntry.replace(/#.*$/gm, ''), false);
      const re = reissueClient({
        name: 'bob',
        configFile: config,
        door: 'ssh',
        out: join(d, 'new.yaml'),
        force: false,
      });
      assert.equal(re.keepsOld, false);
      assert.doesNotMatch(re.serverEntry, /previous_/);
      assert.ok(readFileSync(join(d, 'new.yaml'), 'utf8').includes('client_id:'));
      for (const [name, door, text] of [
        ['carol', 'ssh', /has no client "carol"/],
        ['bob', 'web', /no native SPA door "web"/],
      ] as const) {
        assert.throws(
          () => reissueClient({ name, configFile: config, door, out: join(d, 'x.yaml'), force: false }),
          (e: unknown) => e instanceof KnockgateError && e.exitCode === 64 && text.test(e.message),
        );
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// Invariant: the raw-key helpers of src/core/spa/keys.ts refuse every length but 32 with a plain Error and turn any 32 bytes into a key of the right curve and kind whose raw public key reads back exactly (X25519 private keys clamped, so the ignored bits change nothing); readServerKey and readClientCredential, on any key-file bytes, either return keys of exactly 32 / 16 bytes and a port in 1-65535, which written back with serverKeyText / clientCredentialText read back identically (but for the ports and an empty server, which the writer leaves out), or throw a ConfigError naming the file, never another exception (also files that use a list, a mapping or an alias as a key: refused, see the regression test).
/**
 * Fuzz targets for the key material parsers:
 *   spa-raw-keys  src/core/spa/keys.ts on arbitrary byte strings (wire and file keys are raw bytes);
 *   key-files     src/stores/key-files.ts readServerKey / readClientCredential. They read files (the
 *                 YAML parsing inside is not exported), so every input is written, mode 0600, to a
 *                 temporary file first.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import {
  ed25519PrivateFromSeed,
  ed25519PublicFromRaw,
  rawPublicOf,
  RAW_KEY_BYTES,
  x25519PrivateFromRaw,
  x25519PublicFromRaw,
} from '../../src/core/spa/keys.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import {
  clientCredentialText,
  readClientCredential,
  readServerKey,
  serverKeyText,
  type ClientCredential,
} from '../../src/stores/key-files.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'knockgate-fuzz-keys-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const FILE = join(DIR, 'key');
const AGAIN = join(DIR, 'key-again');
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const HELPERS: readonly [string, (raw: Uint8Array) => KeyObject, 'x25519' | 'ed25519', 'private' | 'public'][] = [
  ['x25519PrivateFromRaw', x25519PrivateFromRaw, 'x25519', 'private'],
  ['x25519PublicFromRaw', x25519PublicFromRaw, 'x25519', 'public'],
  ['ed25519PrivateFromSeed', ed25519PrivateFromSeed, 'ed25519', 'private'],
  ['ed25519PublicFromRaw', ed25519PublicFromRaw, 'ed25519', 'public'],
];

function checkRawKeys(input: Uint8Array): string {
  for (const [name, helper, curve, kind] of HELPERS) {
    if (input.length !== RAW_KEY_BYTES) {
      assert.throws(
        () => helper(input),
        (e: unknown) => e instanceof Error && e.constructor === Error && /must be 32 bytes/.test(e.message),
        name,
      );
      continue;
    }
    const key = helper(input);
    assert.equal(key.asymmetricKeyType, curve, name);
    assert.equal(key.type, kind, name);
    const pub = rawPublicOf(key);
    assert.equal(pub.length, RAW_KEY_BYTES);
    if (kind === 'public') assert.equal(hexOf(pub), hexOf(input), `${name}: the raw public key does not read back`);
    else
      assert.equal(
        hexOf(pub),
        hexOf(rawPublicOf(createPublicKey(key))),
        `${name}: rawPublicOf disagrees with createPublicKey`,
      );
  }
  if (input.length !== RAW_KEY_BYTES) return `refused:${input.length < RAW_KEY_BYTES ? 'short' : 'long'}`;
  // X25519 clamps the scalar (RFC 7748 §5): bits 0-2 of byte 0 and bit 7 of byte 31 cleared, bit 6 set.
  const clamped = Uint8Array.from(input);
  clamped[0] = (clamped[0] as number) & 0xf8;
  clamped[31] = ((clamped[31] as number) & 0x7f) | 0x40;
  assert.equal(
    hexOf(rawPublicOf(x25519PrivateFromRaw(clamped))),
    hexOf(rawPublicOf(x25519PrivateFromRaw(input))),
    'clamping changed the public key',
  );
  assert.equal(hexOf(serverKeysFromPrivate(input, 'x').publicKey), hexOf(rawPublicOf(x25519PrivateFromRaw(input))));
  return 'keys';
}

/**
 * What clientCredentialText carries over: not `ports` (provisioning never sets them), and not an
 * empty `server` (written only when truthy; a credential without a server reads back without one).
 */
function written(c: ClientCredential): Omit<ClientCredential, 'ports'> {
  const { ports: _ports, server, ...rest } = c;
  return server ? { ...rest, server } : rest;
}

function expectConfigError(e: unknown, lineCount: number): string {
  if (!(e instanceof ConfigError)) throw e;
  assert.equal(e.file, FILE);
  assert.equal(e.code, 'KG_CONFIG_INVALID');
  const where = e.line === undefined ? FILE : `${FILE}:${e.line}`;
  assert.ok(e.message.startsWith(`${where}: `), e.message);
  if (e.line !== undefined) assert.ok(e.line >= 1 && e.line <= lineCount, `line ${e.line} of ${lineCount}`);
  return `error:${e.key ?? '-'}`;
}

function checkKeyFile(input: Uint8Array): string {
  writeFileSync(FILE, input, { mode: 0o600 });
  const lineCount = Buffer.from(input).toString('utf8').split('\n').length;
  let server: string;
  try {
    const k = readServerKey(FILE);
    assert.equal(k.privateKey.length, 32);
    writeFileSync(AGAIN, serverKeyText(k.privateKey, serverKeysFromPrivate(k.privateKey, 'x').publicKey), {
      mode: 0o600,
    });
    assert.equal(hexOf(readServerKey(AGAIN).privateKey), hexOf(k.privateKey), 'server key does not read back');
    server = 'server';
  } catch (e) {
    server = expectConfigError(e, lineCount);
  }
  let client: string;
  try {
    const c = readClientCredential(FILE);
    assert.equal(c.serverPublicKey.length, 32);
    assert.equal(c.clientId.length, 16);
    assert.equal(
      [c.psk, c.privateKey, c.sshKey].filter((k) => k !== undefined).length,
      1,
      'exactly one of psk, private_key and ssh_key',
    );
    assert.equal((c.psk ?? c.privateKey ?? c.sshKey?.raw)?.length, 32);
    assert.ok(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65_535);
    for (const p of c.ports ?? [])
      assert.ok((p.proto === 'tcp' || p.proto === 'udp') && p.port >= 1 && p.port <= 65_535);
    writeFileSync(AGAIN, clientCredentialText(c), { mode: 0o600 });
    assert.deepEqual(written(readClientCredential(AGAIN)), written(c), 'credential does not read back');
    client = c.psk ? 'client:psk' : c.sshKey ? 'client:ssh-key' : 'client:ed25519';
  } catch (e) {
    client = expectConfigError(e, lineCount);
  }
  return `${server}/${client}`;
}

const DICTIONARY = [
  'kind',
  'knockgate-server-key-v1',
  'knockgate-client-v1',
  'private_key',
  'name',
  'server',
  'port',
  'server_public_key',
  'client_id',
  'psk',
  'ssh_key',
  'ssh-ed25519 ',
  'ports',
  ': ',
  '- ',
  '? ',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '&a ',
  '*a',
  '!!binary ',
  '0',
  '65535',
  '65536',
  '22/tcp',
  '51820/udp',
  '=',
  '-',
  '_',
  '+',
  '/',
  'AAAAAAAAAAAAAAAAAAAAAA',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '\u2028',
  '\u0085',
  '\x7f',
];

describe('fuzz: key material (src/core/spa/keys.ts, src/stores/key-files.ts)', () => {
  it('spa-raw-keys', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, { name: 'spa-raw-keys', kind: 'binary', maxBytes: 64, budgetShare: 0.2, check: checkRawKeys });
  });
  it('key-files', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'key-files',
      kind: 'text',
      maxBytes: 4_096,
      dictionary: DICTIONARY,
      budgetShare: 0.8,
      check: checkKeyFile,
    });
  });
  it('regression: a key file with nested collection keys is refused as a ConfigError, not after exponential time', () => {
    writeFileSync(FILE, `kind: x\na:\n  - ${'? '.repeat(240)}x\n`, { mode: 0o600 });
    const t0 = performance.now();
    assert.throws(() => readServerKey(FILE), ConfigError);
    assert.ok(performance.now() - t0 < 100, `took ${(performance.now() - t0).toFixed(0)} ms`);
  });
});

/**
 * Covers passphrase-protected client credentials, in temp dirs:
 *   src/core/sealed-secret.ts, src/stores/sealed-credential.ts  the vector of docs/protocol.md
 *     ("Passphrase-protected client credentials") byte for byte (key, associated data, file text);
 *     round trips (psk and Ed25519, optional fields kept); every bound field edited, and a wrong
 *     passphrase, fail with KG_PASSPHRASE_WRONG (exit 77) naming the file; hostile scrypt
 *     parameters refused as ConfigErrors naming the field, before any derivation (fast)
 *   src/client/open-credential.ts  a protected file readable by others is refused before the
 *     passphrase is read (its descriptor is left unread); clear files open as before
 *   src/client/passphrase-input.ts  --passphrase-fd lines; short new passphrases refused
 *   src/client/credential-passphrase.ts  protect, change and remove, keeping the file 0600
 */

import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { changePassphrase } from '../../src/client/credential-passphrase.js';
import { openCredentialFile } from '../../src/client/open-credential.js';
import { newPassphraseFor, readPassphraseLine } from '../../src/client/passphrase-input.js';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';
import { associatedData, deriveSealingKey } from '../../src/core/sealed-secret.js';
import { REPO_ROOT } from '../support/daemon-process.js';
import { useTempDir } from '../support/temp-dir.js';
import { readClientCredential, readCredentialFields, type ClientCredential } from '../../src/stores/key-files.js';
import { boundFields, readSealedBlock, sealedCredentialText } from '../../src/stores/sealed-credential.js';

const range = (a: number, b: number): Uint8Array => new Uint8Array(Array.from({ length: b - a }, (_, i) => a + i));
const FAST = { n: 2 ** 15, r: 8, p: 1 };
const PASS = 'correct horse battery staple';

const { put } = useTempDir('knockgate-sealed-');

/** A descriptor whose first lines are `lines` (a file: it can also show what was left unread). */
function fdWith(...lines: string[]): number {
  return openSync(put(`fd-${Math.random()}`, lines.map((l) => `${l}\n`).join('')), 'r');
}

function expectWrong(fn: () => Promise<unknown>, file: string): Promise<void> {
  return assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof KnockgateError, String(err));
    assert.equal(err.code, 'KG_PASSPHRASE_WRONG');
    assert.equal(err.exitCode, 77);
    assert.ok(err.message.startsWith(`${file}: the passphrase does not open`), err.message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

const laptop: ClientCredential = {
  name: 'laptop',
  server: 'gw.example',
  port: 62201,
  serverPublicKey: range(32, 64),
  doorId: 'ssh',
  clientId: range(64, 80),
  privateKey: range(96, 128),
};

describe('the vector of docs/protocol.md', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Passphrase-protected client credentials'));
  const fileText = /```yaml\n(# knockgate client credential[\s\S]*?)```/.exec(section)?.[1] ?? '';
  const hex = (name: string): string => new RegExp(`^${name}\\s*= ([0-9a-f]+)$`, 'm').exec(section)?.[1] ?? '';

  it('the file opens with the passphrase to the seed, and the key and associated data are the ones printed', async () => {
    assert.ok(fileText.length > 100, 'the vector is in the document');
    const file = put('vector.yaml', fileText);
    const cred = await openCredentialFile(file, { passphraseFd: fdWith(PASS) });
    assert.deepEqual(cred, laptop);
    const { fields, doc: d } = readCredentialFields(file);
    const block = readSealedBlock(file, d);
    assert.equal(deriveSealingKey(PASS, block.params).toString('hex'), hex('K'));
    assert.equal(associatedData(boundFields(fields, 'private_key', block.params)).toString('hex'), hex('AD'));
  });

  it('sealing the same credential with the same salt and nonce writes the same text', () => {
    assert.equal(sealedCredentialText(laptop, PASS, { salt: range(0, 16), nonce: range(0, 12) }, FAST), fileText);
  });
});

describe('sealed credentials', () => {
  const psk: ClientCredential = {
    name: 'phone',
    port: 40000,
    serverPublicKey: range(1, 33),
    doorId: 'web.door',
    clientId: range(7, 23),
    psk: range(200, 232),
    ports: [
      { proto: 'tcp', port: 22 },
      { proto: 'udp', port: 5000 },
    ],
    allowIp: '198.18.0.0/24',
    resolveUrl: 'https://ip.example/',
  };
  const seal = (c: ClientCredential, pass = PASS): string =>
    sealedCredentialText(c, pass, { salt: range(50, 66), nonce: range(80, 92) }, FAST);

  it('round trip: psk and Ed25519 credentials, with ports, allow_ip and resolve_url, read back equal', async () => {
    for (const c of [psk, laptop]) {
      const file = put(`${c.name}.yaml`, seal(c, 'pässphrase ünicode'));
      assert.doesNotMatch(readFileSync(file, 'utf8'), /^(psk|private_key):/m, 'no secret in clear');
      assert.deepEqual(await openCredentialFile(file, { passphraseFd: fdWith('pässphrase ünicode') }), c);
    }
  });

  it('the default cost is what limits.ts says (N = 2^16), and opens', async () => {
    const file = put('default.yaml', sealedCredentialText(psk, PASS, { salt: range(0, 16), nonce: range(0, 12) }));
    assert.match(readFileSync(file, 'utf8'), /^ {2}n: 65536$/m);
    assert.deepEqual(await openCredentialFile(file, { passphraseFd: fdWith(PASS) }), psk);
  });

  it('a wrong passphrase: KG_PASSPHRASE_WRONG, exit 77, one line naming the file', async () => {
    const file = put('w.yaml', seal(psk));
    await expectWrong(() => openCredentialFile(file, { passphraseFd: fdWith('correct horse battery stapler') }), file);
    await expectWrong(() => openCredentialFile(file, { passphraseFd: fdWith('') }), file);
  });

  it('editing any bound field breaks the seal, as a wrong passphrase does', async () => {
    const text = seal(psk);
    const edits: [string, string][] = [
      ['name: "phone"', 'name: "phone2"'],
      ['door_id: "web.door"', 'door_id: "ssh"'],
      ['port: 40000', 'port: 40001'],
      [
        `client_id: ${Buffer.from(range(7, 23)).toString('base64url')}`,
        `client_id: ${Buffer.from(range(8, 24)).toString('base64url')}`,
      ],
      [
        `server_public_key: ${Buffer.from(range(1, 33)).toString('base64url')}`,
        `server_public_key: ${Buffer.from(range(2, 34)).toString('base64url')}`,
      ],
      ['ports: ["22/tcp", "5000/udp"]', 'ports: ["22/tcp", "5000/udp", "23/tcp"]'],
      ['allow_ip: "198.18.0.0/24"', 'allow_ip: "198.18.0.0/16"'],
      ['resolve_url: "https://ip.example/"', 'resolve_url: "https://evil.example/"'],
      ['kind: knockgate-client-v1', 'kind: knockgate-client-v1\nserver: "elsewhere.example"'],
      ['  n: 32768', '  n: 65536'],
      ['  p: 1', '  p: 2'],
      ['  psk: ', '  private_key: '],
    ];
    for (const [from, to] of edits) {
      assert.ok(text.includes(from), from);
      const file = put('edited.yaml', text.replace(from, to));
      await expectWrong(() => openCredentialFile(file, { passphraseFd: fdWith(PASS) }), file);
    }
    const sealedLine = /^ {2}psk: (\S+)$/m.exec(text)?.[1] ?? '';
    const flipped = Buffer.from(sealedLine, 'base64url');
    flipped[3] = (flipped[3] as number) ^ 1;
    const file = put('flipped.yaml', text.replace(sealedLine, flipped.toString('base64url')));
    await expectWrong(() => openCredentialFile(file, { passphraseFd: fdWith(PASS) }), file);
  });

  it('hostile or weak scrypt parameters are refused, naming the field, before anything is derived', async () => {
    const text = seal(psk);
    const cases: [string, string, string][] = [
      ['  n: 32768', '  n: 1073741824', 'sealed.n'], // 2^30: 128 GiB with r = 8
      ['  n: 32768', '  n: 16384', 'sealed.n'], // below 2^15
      ['  n: 32768', '  n: 40000', 'sealed.n'], // not a power of two
      ['  n: 32768', '  n: 1048576', 'sealed.n'], // 2^20 with r = 8: 1 GiB
      ['  r: 8', '  r: 1', 'sealed.r'],
      ['  r: 8', '  r: 4096', 'sealed.r'],
      ['  p: 1', '  p: 1000000', 'sealed.p'],
      ['  n: 32768\n  r: 8\n  p: 1', '  n: 262144\n  r: 8\n  p: 4', 'sealed.p'], // 256 MiB, but N·r·p = 2^23 (8 s of work)
      ['  kdf: scrypt', '  kdf: pbkdf2', 'sealed.kdf'],
      ['  n: 32768', '  n: "32768"', 'sealed.n'],
      ['  kdf: scrypt', '  kdf: scrypt\n  maxmem: 1', 'sealed.maxmem'],
      [`  salt: ${Buffer.from(range(50, 66)).toString('base64url')}`, '  salt: AAAA', 'sealed.salt'],
      [`  nonce: ${Buffer.from(range(80, 92)).toString('base64url')}`, '  nonce: AAAA', 'nonce'],
    ];
    for (const [from, to, key] of cases) {
      assert.ok(text.includes(from), from);
      const file = put('hostile.yaml', text.replace(from, to));
      const started = process.hrtime.bigint();
      await assert.rejects(
        () => openCredentialFile(file, { passphraseFd: fdWith(PASS) }),
        (err: unknown) => err instanceof ConfigError && err.exitCode === 78 && err.key === key,
        `${to} (${key})`,
      );
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      assert.ok(ms < 50, `${to}: refused in ${ms.toFixed(1)} ms, before any derivation`);
    }
  });

  it('a protected file readable by others is refused before its passphrase is read', async () => {
    const file = put('open.yaml', seal(psk), 0o644);
    const fd = fdWith(PASS);
    await assert.rejects(
      () => openCredentialFile(file, { passphraseFd: fd }),
      (err: unknown) => err instanceof ConfigError && /readable by group or others/.test(err.detail),
    );
    const left = Buffer.alloc(64);
    assert.equal(left.subarray(0, readSync(fd, left, 0, 64, null)).toString(), `${PASS}\n`, 'nothing was read');
    closeSync(fd);
  });

  it('a clear file still opens without a passphrase; readClientCredential refuses a protected one', async () => {
    const file = put('sealed.yaml', seal(psk));
    assert.throws(
      () => readClientCredential(file),
      (err: unknown) => err instanceof ConfigError && err.key === 'sealed',
    );
    const both = put(
      'both.yaml',
      seal(psk).replace('kind:', `psk: ${Buffer.from(range(0, 32)).toString('base64url')}\nkind:`),
    );
    assert.throws(() => readClientCredential(both), /holds no "psk", "private_key" or "ssh_key" in clear/);
    await changePassphrase(file, { passphraseFd: fdWith(PASS), remove: true });
    assert.deepEqual(await openCredentialFile(file, {}), psk);
  });
});

describe('--passphrase-fd and changing passphrases', () => {
  it('one line each from the same descriptor, \\r\\n taken off; end of file or an over-long line is KG_PASSPHRASE_UNAVAILABLE (66)', () => {
    const fd = fdWith('first one\r', 'second one');
    assert.equal(readPassphraseLine(fd), 'first one');
    assert.equal(readPassphraseLine(fd), 'second one');
    const unavailable = (err: unknown) =>
      err instanceof KnockgateError && err.code === 'KG_PASSPHRASE_UNAVAILABLE' && err.exitCode === 66;
    assert.throws(() => readPassphraseLine(fd), unavailable);
    assert.throws(() => readPassphraseLine(fdWith('x'.repeat(1025))), unavailable);
    const latin1 = put('latin1', Buffer.from([0xe9, 0x74, 0xe9, 0x0a])); // "été" in Latin-1: not UTF-8
    assert.throws(() => readPassphraseLine(openSync(latin1, 'r')), unavailable);
    assert.throws(() => readPassphraseLine(9999), unavailable);
  });

  it('a new passphrase shorter than 8 characters is a usage error', async () => {
    await assert.rejects(
      () => newPassphraseFor('f', fdWith('short')),
      (err: unknown) => err instanceof KnockgateError && err.code === 'KG_USAGE',
    );
  });

  it('protect, change, remove: the file stays 0600, keeps its fields, and only the current passphrase opens it', async () => {
    const clear = sealedCredentialText(laptop, PASS, { salt: range(0, 16), nonce: range(0, 12) }, FAST);
    const file = put('c.yaml', clear);
    await changePassphrase(file, { passphraseFd: fdWith(PASS), remove: true });
    assert.match(readFileSync(file, 'utf8'), /^private_key: /m);
    assert.equal(await changePassphrase(file, { newPassphraseFd: fdWith('first passphrase') }), 'protected');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /^private_key: /m);
    const fd = fdWith('first passphrase', 'second passphrase');
    assert.equal(await changePassphrase(file, { passphraseFd: fd, newPassphraseFd: fd }), 'changed');
    await expectWrong(() => openCredentialFile(file, { passphraseFd: fdWith('first passphrase') }), file);
    assert.deepEqual(await openCredentialFile(file, { passphraseFd: fdWith('second passphrase') }), laptop);
    await assert.rejects(
      () =>
        changePassphrase(
          put(
            'plain.yaml',
            readFileSync(file, 'utf8').replace(
              /sealed:[\s\S]*/,
              `private_key: ${Buffer.from(range(0, 32)).toString('base64url')}\n`,
            ),
          ),
          { remove: true },
        ),
      (err: unknown) => err instanceof KnockgateError && err.code === 'KG_USAGE',
    );
  });
});

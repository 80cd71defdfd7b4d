/**
 * The fast reader of flat key files (stores/flat-key-file.ts) against the YAML library itself:
 * whenever it reads a file, it reads what the YAML library reads; it gives up (null) on what it
 * does not read with certainty; and the files knockgate writes are read by it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { parseFlatKeyFile } from '../../src/stores/flat-key-file.js';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const token = fc.oneof(
  fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1, maxLength: 44 }),
  fc.constantFrom(
    'true',
    'False',
    'null',
    '~',
    'yes',
    '0x1F',
    '0o17',
    '1e3',
    '-1',
    '+5',
    '.5',
    '.inf',
    '-.inf',
    '.NaN',
    '007',
    '0',
  ),
  fc.constantFrom(
    '1.5',
    '12',
    '-abc',
    '-_x',
    'a:b',
    'a:',
    'x=',
    'a/b+c',
    '2001:db8::1',
    '198.18.0.1/24',
    '8abc',
    '1e5a',
    '0xzz',
  ),
  fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }).map((a) => `[${a.map((s) => JSON.stringify(s)).join(', ')}]`),
  fc.string({ maxLength: 12 }),
);
const key = fc.constantFrom('kind', 'name', 'port', 'client_id', 'psk', 'ports', 'allow_ip', 'server', 'x_1');

describe('flat key files', () => {
  it('whenever the fast reader reads a file, it reads what the YAML library reads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, token), { maxLength: 8 }), fc.boolean(), (pairs, comments) => {
        const text = `${comments ? '# a comment\n' : ''}${pairs.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
        const fast = parseFlatKeyFile(text);
        if (fast === null) return;
        let slow: unknown;
        try {
          slow = parse(text, { uniqueKeys: true }) ?? {};
        } catch {
          assert.fail(`the fast reader read a file the YAML library refuses:\n${text}`);
        }
        assert.deepEqual(fast, slow, text);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads what knockgate writes; gives up on nesting, duplicates, anchors and trailing comments', () => {
    const written = [
      '# knockgate client credential for "me". Secret: keep it 0600.',
      'kind: knockgate-client-v1',
      'name: "me"',
      'server: "gw.example.net"',
      'port: 62201',
      'server_public_key: -hZcsiGJ3KIYbMiUXHY1wxfweEX_SHBRrmHkpAgmqjs',
      'door_id: "ssh"',
      'client_id: aoMEQLaJo1-cNJVkxSLw5Q',
      'ports: ["22/tcp", "443/tcp"]',
      '',
    ].join('\n');
    assert.deepEqual(parseFlatKeyFile(written), parse(written));
    for (const text of ['a: 1\na: 2\n', 'a:\n  b: 1\n', 'a: &x 1\n', 'a: b # c\n', 'a: |\n  x\n', 'A: 1\n', 'a:  1\n'])
      assert.equal(parseFlatKeyFile(text), null, text);
  });
});

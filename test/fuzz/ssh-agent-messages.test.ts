// Invariant: on any bytes an agent may send, agentFrameOf, parseIdentitiesAnswer and parseSignResponse never throw; a whole frame is never longer than the limit and its contents are exactly the announced bytes; the identities returned, written back as an answer, give exactly the message's contents; a signature returned is 64 bytes and, written back as a sign response, gives exactly the contents; anything else is failure or a named problem. And parseSshPublicKeyLine (the .pub line add-client --ssh-key reads) never throws on any text; a key it accepts has a 32-byte key and an ssh-ed25519 blob that holds it, and written back with sshPublicKeyLine it parses to the same key and comment.
/**
 * Fuzz target for src/core/ssh/ssh-agent-messages.ts, the client's reader of what ssh-agent sends
 * (a forwarded agent is another host's: its bytes are untrusted). Seeds: an identities answer with
 * two keys, a sign response, SSH_AGENT_FAILURE, made here; and for the OpenSSH public key line
 * parser (src/core/ssh/ssh-public-key.ts), seeded with an ssh-ed25519 line and an ecdsa one.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SSH_AGENT_ANSWER_BYTES } from '../../src/core/limits.js';
import {
  agentFrameOf,
  parseIdentitiesAnswer,
  parseSignResponse,
  SSH_AGENT_IDENTITIES_ANSWER,
  SSH_AGENT_SIGN_RESPONSE,
} from '../../src/core/ssh/ssh-agent-messages.js';
import {
  parseSshPublicKeyLine,
  rawOfSshEd25519Blob,
  sshEd25519Blob,
  sshPublicKeyLine,
} from '../../src/core/ssh/ssh-public-key.js';
import { sshString, sshUint32 } from '../../src/core/ssh/ssh-wire.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

const frame = (type: number, contents: Uint8Array): Buffer =>
  Buffer.concat([sshUint32(contents.length + 1), Buffer.from([type]), contents]);
const identitiesContents = (ids: readonly { blob: Uint8Array; comment: string }[]): Buffer =>
  Buffer.concat([sshUint32(ids.length), ...ids.flatMap((i) => [sshString(i.blob), sshString(i.comment)])]);
const signContents = (sig: Uint8Array): Buffer => sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(sig)]));

const SEEDS = [
  frame(
    SSH_AGENT_IDENTITIES_ANSWER,
    identitiesContents([
      { blob: sshEd25519Blob(Buffer.alloc(32, 1)), comment: 'alice@laptop' },
      { blob: Buffer.from('rsa-ish'), comment: '' },
    ]),
  ),
  frame(SSH_AGENT_SIGN_RESPONSE, signContents(Buffer.alloc(64, 2))),
  frame(5, new Uint8Array(0)),
];

function check(input: Uint8Array): string {
  const outcomes: string[] = [];
  for (const limit of [64, MAX_SSH_AGENT_ANSWER_BYTES]) {
    const f = agentFrameOf(input, limit);
    if (f.kind !== 'message') {
      outcomes.push(f.kind);
      continue;
    }
    assert.ok(f.bytes <= 4 + limit && f.bytes <= input.length);
    assert.equal(f.bytes, 4 + Buffer.from(input.subarray(0, 4)).readUInt32BE(0));
    assert.deepEqual(Buffer.from(f.contents), Buffer.from(input.subarray(5, f.bytes)));
    const ids = parseIdentitiesAnswer(f);
    if ('identities' in ids) {
      assert.equal(f.type, SSH_AGENT_IDENTITIES_ANSWER);
      // Comments that were not valid UTF-8 do not survive the round trip; compare blobs then.
      const back = identitiesContents(ids.identities);
      if (ids.identities.every((i) => !i.comment.includes('\ufffd'))) assert.deepEqual(back, Buffer.from(f.contents));
      outcomes.push(`identities-${Math.min(ids.identities.length, 3)}`);
    } else outcomes.push('failure' in ids ? 'failure' : 'problem');
    const sig = parseSignResponse(f);
    if ('signature' in sig) {
      assert.equal(f.type, SSH_AGENT_SIGN_RESPONSE);
      assert.equal(sig.signature.length, 64);
      assert.deepEqual(signContents(sig.signature), Buffer.from(f.contents));
      outcomes.push('signature');
    } else outcomes.push('failure' in sig ? 'failure' : 'problem');
  }
  return outcomes.join('/');
}

function checkLine(input: Uint8Array): string {
  const key = parseSshPublicKeyLine(Buffer.from(input).toString('utf8'));
  if ('error' in key)
    return key.error
      .replace(/is a \S+ key/, 'is a TYPE key')
      .split(' ')
      .slice(0, 4)
      .join('-');
  assert.equal(key.raw.length, 32);
  assert.deepEqual(rawOfSshEd25519Blob(key.blob), key.raw);
  const again = parseSshPublicKeyLine(sshPublicKeyLine(key.raw, key.comment));
  assert.ok(!('error' in again), 'written back, read back');
  assert.deepEqual(again.raw, key.raw);
  assert.equal(again.comment, key.comment);
  return key.comment === '' ? 'key' : 'key-comment';
}

describe('fuzz: ssh-agent answers (src/core/ssh/ssh-agent-messages.ts)', () => {
  it('ssh-agent-messages', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'ssh-agent-messages',
      kind: 'binary',
      maxBytes: 1024,
      budgetShare: 0.5,
      seeds: SEEDS,
      dictionary: ['ssh-ed25519', '\x00\x00\x00\x0bssh-ed25519', '\x00\x00\x00\x40', '\x0c', '\x0e', '\x05'],
      check,
    });
  });

  it('ssh-public-key-line', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'ssh-public-key-line',
      kind: 'text',
      maxBytes: 1024,
      budgetShare: 0.5,
      seeds: [
        Buffer.from(`${sshPublicKeyLine(Buffer.alloc(32, 3), 'alice@laptop')}\n`),
        Buffer.from('# a comment\necdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= bob\n'),
      ],
      dictionary: ['ssh-ed25519 ', 'AAAAC3NzaC1lZDI1NTE5AAAAI', '-----BEGIN OPENSSH PRIVATE KEY-----', '\n', '#', ' '],
      check: checkLine,
    });
  });
});

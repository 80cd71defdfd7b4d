// Invariant: parseOneTimeSequenceBytes (what the store calls on the file's bytes), on any bytes, never throws; it refuses with a line that exists and a message, or returns sequences in line order, each of 1 to MAX_SEQUENCE_STEPS tcp/udp ports in 1-65535, whose byte offset is the first byte of that very line in the file and not a '#'; and burning a sequence as the store does (writing '#' over that byte) leaves exactly the other sequences, at the same lines, offsets and steps.
/**
 * Fuzz target for src/core/one-time-sequences.ts (the pure parser behind
 * src/stores/one-time-sequence-file.ts). The offset is what the store writes the used-mark to, in
 * the file's bytes, so the target works on bytes and checks the offsets against them.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOneTimeSequenceBytes, type OneTimeSequence } from '../../src/core/one-time-sequences.js';
import { MAX_SEQUENCE_STEPS } from '../../src/core/limits.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

const decode = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const HASH = 0x23;
const NL = 0x0a;

/** What the store keeps of a sequence to find it again after re-reading the file. */
const summary = (s: OneTimeSequence): string =>
  `${s.line}@${s.offset}:${s.steps.map((e) => `${e.port}/${e.proto}`).join(',')}`;

function checkBytes(bytes: Uint8Array): string {
  const text = decode(bytes);
  const r = parseOneTimeSequenceBytes(bytes);
  if (!r.ok) {
    assert.ok(Number.isInteger(r.line) && r.line >= 1 && r.line <= text.split('\n').length, `line ${r.line}`);
    assert.ok(typeof r.error === 'string' && r.error.length > 0);
    return 'refused';
  }
  let prevLine = 0;
  for (const s of r.unused) {
    assert.ok(s.line > prevLine, 'sequences out of line order');
    prevLine = s.line;
    assert.ok(s.steps.length >= 1 && s.steps.length <= MAX_SEQUENCE_STEPS, `${s.steps.length} steps`);
    for (const e of s.steps)
      assert.ok(
        (e.proto === 'tcp' || e.proto === 'udp') && Number.isInteger(e.port) && e.port >= 1 && e.port <= 65_535,
      );
    // The offset, in the file's bytes, is the start of line `line`, and the mark will not land on a '#'.
    assert.ok(
      Number.isInteger(s.offset) && s.offset >= 0 && s.offset < bytes.length,
      `offset ${s.offset} of ${bytes.length} bytes`,
    );
    assert.ok(
      s.offset === 0 || bytes[s.offset - 1] === NL,
      `offset ${s.offset} is not the start of a line in the file`,
    );
    let newlines = 0;
    for (let i = 0; i < s.offset; i++) if (bytes[i] === NL) newlines++;
    assert.equal(newlines + 1, s.line, `offset ${s.offset} is on line ${newlines + 1}, not ${s.line}`);
    assert.notEqual(bytes[s.offset], HASH);
  }
  // Burn the first sequence (the store's current one), the last, and one in the middle, as the store does.
  const picks = new Set([0, r.unused.length - 1, r.unused.length >> 1].filter((i) => i >= 0 && i < r.unused.length));
  for (const i of picks) {
    const s = r.unused[i] as OneTimeSequence;
    const burnt = Uint8Array.from(bytes);
    burnt[s.offset] = HASH;
    const again = parseOneTimeSequenceBytes(burnt);
    assert.ok(again.ok, `after burning line ${s.line} the file no longer parses: ${again.ok ? '' : again.error}`);
    assert.deepEqual(
      again.unused.map(summary),
      r.unused.filter((_, j) => j !== i).map(summary),
      `burning line ${s.line} changed the other sequences`,
    );
  }
  return `ok:${Math.min(r.unused.length, 3)}`;
}

const DICTIONARY = [
  ',',
  ' ',
  '\t',
  '\r',
  '\n',
  '#',
  '/',
  ':',
  'tcp',
  'udp',
  '/udp',
  ':UDP',
  '7000',
  '0',
  '65535',
  '65536',
  '\u00a0',
  '\ufeff',
  '\u3000',
  '\u00e9',
  '\u2028',
];

describe('fuzz: one-time sequence files (src/core/one-time-sequences.ts)', () => {
  it('one-time-sequences', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'one-time-sequences',
      kind: 'text',
      maxBytes: 4_096,
      dictionary: DICTIONARY,
      check: checkBytes,
    });
  });

  it('regression: a line whose first character is not one byte, or a file that is not UTF-8, is refused, not burnt at the wrong byte', () => {
    const latin1Comment = Uint8Array.from([...Buffer.from('# caf'), 0xe9, ...Buffer.from('\n7000,8000\n')]);
    for (const [bytes, line] of [
      [Buffer.from('\u00a07000,8000\n9000,9001\n'), 1], // NBSP: trim() skips it, the mark would split it
      [Buffer.from('\ufeff7000,8000\n9000\n'), 1], // a byte-order mark
      [latin1Comment, 1], // a Latin-1 comment: every later offset would be off by two
    ] as const) {
      const r = parseOneTimeSequenceBytes(bytes);
      assert.deepEqual(r.ok ? 'ok' : r.line, line);
    }
  });
});

/**
 * The audit trail's file (src/stores/audit-file.ts): each append is one JSON line, on disk before
 * append() returns; rotation by size renames the file to .1, .2, ... and a reopen after an outside
 * move starts a new file, and across both every record is in exactly one file, once; a failed
 * write throws a named error and leaves no half line.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import type { AuditRecord } from '../../src/ports/audit-log.js';
import { AuditFile } from '../../src/stores/audit-file.js';
import { FaultyJournalFs } from '../support/faulty-journal-fs.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'knockgate-audit-'));
  dirs.push(d);
  return d;
}

function record(n: number): AuditRecord {
  return {
    time: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    event: 'grant',
    grant: `g-${n}`,
    table: 'knockgate',
    door: 'ssh',
    source: '198.18.0.7',
    ports: ['22/tcp'],
    client: 'alice',
    until: new Date(1_700_000_030_000 + n * 1000).toISOString(),
  };
}

const linesOf = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
const grantsIn = (files: string[]): string[] =>
  files.flatMap((f) => linesOf(f).map((l) => (JSON.parse(l) as AuditRecord).grant));

describe('audit file', () => {
  it('appends one JSON line per record, in a 0600 file in a 0700 directory it creates', () => {
    const path = join(tempDir(), 'log', 'audit.jsonl');
    const audit = AuditFile.open(path, { maxBytes: 1 << 20, keep: 3 });
    audit.append(record(1));
    // Read back before close: what append() returned for is in the file already.
    assert.deepEqual(
      linesOf(path).map((l) => JSON.parse(l)),
      [record(1)],
    );
    audit.append(record(2));
    audit.close();
    assert.deepEqual(grantsIn([path]), ['g-1', 'g-2']);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  });

  it('rotates by size to .1 .. .keep, and every record is in exactly one file, in order', () => {
    const path = join(tempDir(), 'audit.jsonl');
    const lineBytes = JSON.stringify(record(10)).length + 1;
    const audit = AuditFile.open(path, { maxBytes: lineBytes * 3, keep: 2 });
    for (let n = 10; n < 22; n++) audit.append(record(n)); // four files' worth: the oldest goes
    audit.close();
    assert.deepEqual(grantsIn([`${path}.2`, `${path}.1`, path]), [
      'g-13',
      'g-14',
      'g-15',
      'g-16',
      'g-17',
      'g-18',
      'g-19',
      'g-20',
      'g-21',
    ]);
    assert.equal(existsSync(`${path}.3`), false, 'no more than keep rotated files');
    for (const f of [`${path}.2`, `${path}.1`, path]) assert.ok(statSync(f).size <= lineBytes * 3);
  });

  it('after an outside move and reopen(), new lines go to a new file; none is lost or doubled', () => {
    const path = join(tempDir(), 'audit.jsonl');
    const audit = AuditFile.open(path, { maxBytes: 1 << 20, keep: 3 });
    audit.append(record(1));
    renameSync(path, `${path}.old`);
    audit.append(record(2)); // still the file it holds open
    audit.reopen();
    audit.append(record(3));
    audit.close();
    assert.deepEqual(grantsIn([`${path}.old`]), ['g-1', 'g-2']);
    assert.deepEqual(grantsIn([path]), ['g-3']);
  });

  it('a failed write throws a named error, leaves no half line, and the next append works', () => {
    const path = join(tempDir(), 'audit.jsonl');
    const fs = new FaultyJournalFs();
    const audit = AuditFile.open(path, { maxBytes: 1 << 20, keep: 3, fs });
    audit.append(record(1));
    fs.tearNextWriteAt = 17;
    assert.throws(
      () => audit.append(record(2)),
      (err: unknown) =>
        err instanceof KnockgateError && err.code === 'KG_STATE_WRITE_FAILED' && err.message.includes(path),
    );
    assert.deepEqual(grantsIn([path]), ['g-1'], 'the fragment was cut off');
    audit.append(record(3));
    audit.close();
    assert.deepEqual(grantsIn([path]), ['g-1', 'g-3']);
  });

  it('a fragment that cannot be cut off does not spoil the next line', () => {
    const path = join(tempDir(), 'audit.jsonl');
    const fs = new FaultyJournalFs();
    const audit = AuditFile.open(path, { maxBytes: 1 << 20, keep: 3, fs });
    fs.tearNextWriteAt = 9;
    fs.failTruncate = true;
    assert.throws(() => audit.append(record(1)), KnockgateError);
    fs.failTruncate = false;
    audit.append(record(2));
    audit.close();
    const lines = linesOf(path);
    assert.equal(lines.length, 2);
    assert.throws(() => JSON.parse(lines[0] as string));
    assert.equal((JSON.parse(lines[1] as string) as AuditRecord).grant, 'g-2');
  });
});

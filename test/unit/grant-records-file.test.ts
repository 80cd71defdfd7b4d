/**
 * The grant labels' file (src/stores/grant-records-file.ts): written whole through a temporary
 * file and a rename (a failed write leaves the old file as it was), read back at open, coalesced
 * (several changes, one write; flush() writes at once), and a file that cannot be read is a named
 * problem with an empty list, never a crash.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import { GRANT_RECORDS_COALESCE_MS } from '../../src/core/limits.js';
import type { StoredGrant } from '../../src/ports/grant-records.js';
import { GrantRecordsFile } from '../../src/stores/grant-records-file.js';
import { FaultyJournalFs } from '../support/faulty-journal-fs.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'knockgate-grants-'));
  dirs.push(d);
  return d;
}

const grant = (id: string, client?: string): StoredGrant => ({
  id,
  door: 'ssh',
  source: '198.18.0.7',
  family: 4,
  ports: ['22/tcp'],
  ...(client ? { client } : {}),
  sinceUnixMs: 1_790_000_000_000,
  untilUnixMs: 1_790_000_030_000,
});
const noError = (err: KnockgateError): never => {
  throw err;
};

describe('grant records file', () => {
  it('flush() writes the list (0600, no temporary file left) and open() reads it back', () => {
    const path = join(tempDir(), 'state', 'grants-kg.json');
    const f = GrantRecordsFile.open(path, noError);
    assert.deepEqual([f.loaded, f.problem], [[], null], 'absent: an empty list, no problem');
    f.changed(() => [grant('a', 'alice'), grant('b')]);
    f.flush();
    f.close();
    assert.equal(existsSync(`${path}.tmp`), false);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const again = GrantRecordsFile.open(path, noError);
    assert.deepEqual(again.loaded, [grant('a', 'alice'), grant('b')]);
    assert.equal(again.problem, null);
  });

  it('coalesces: several changes are one write, of the last list', async () => {
    const path = join(tempDir(), 'grants-kg.json');
    const fs = new FaultyJournalFs();
    const f = GrantRecordsFile.open(path, noError, fs);
    f.changed(() => [grant('a')]);
    f.changed(() => [grant('a'), grant('b')]);
    assert.equal(existsSync(path), false, 'not yet');
    await new Promise((r) => setTimeout(r, GRANT_RECORDS_COALESCE_MS + 100));
    assert.equal(fs.writes, 1);
    assert.deepEqual(
      GrantRecordsFile.open(path, noError).loaded.map((g) => g.id),
      ['a', 'b'],
    );
  });

  it('a failed write throws a named error and leaves the old file whole', () => {
    const path = join(tempDir(), 'grants-kg.json');
    const fs = new FaultyJournalFs();
    const f = GrantRecordsFile.open(path, noError, fs);
    f.changed(() => [grant('a')]);
    f.flush();
    fs.tearNextWriteAt = 10;
    f.changed(() => [grant('a'), grant('b')]);
    assert.throws(
      () => f.flush(),
      (err: unknown) =>
        err instanceof KnockgateError && err.code === 'KG_STATE_WRITE_FAILED' && err.message.includes(path),
    );
    f.close();
    assert.deepEqual(
      GrantRecordsFile.open(path, noError).loaded.map((g) => g.id),
      ['a'],
    );
  });

  it('a file that is not a grant list is a problem naming the file, with an empty list', () => {
    const dir = tempDir();
    for (const [name, text] of [
      ['garbage.json', '{not json'],
      ['other.json', '{"format":"something-else/1","grants":[]}'],
      ['partial.json', '{"format":"knockgate-grants/1","grants":[{"id":"a"}]}'],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const f = GrantRecordsFile.open(path, noError);
      assert.deepEqual(f.loaded, []);
      assert.match(f.problem ?? '', new RegExp(`^${path.replaceAll('.', '\\.')}: the grant records cannot be read`));
      assert.equal(readFileSync(path, 'utf8'), text, 'left alone until the next write');
    }
  });
});

/**
 * `knockgate audit` (src/audit/read-audit.ts, src/cli/knockgate/audit.ts): the trail read back
 * oldest first across its rotated files, each record once; filters by time, door, client and
 * address; a line that is not a record skipped and said; the table and --json as a user sees them.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { auditPredicate, parseSince, readAuditTrail } from '../../src/audit/read-audit.js';
import type { AuditRecord } from '../../src/ports/audit-log.js';
import { AuditFile } from '../../src/stores/audit-file.js';

const KNOCKGATE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'knockgate.js');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T = Date.parse('2026-12-03T12:00:00Z');
const rec = (n: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: new Date(T + n * 60_000).toISOString(),
  event: 'grant',
  grant: `0000000${n}-aaaa`,
  table: 'knockgate',
  door: 'ssh',
  source: '198.18.0.7',
  ports: ['22/tcp'],
  client: null,
  until: new Date(T + n * 60_000 + 30_000).toISOString(),
  ...over,
});

function trail(records: readonly AuditRecord[], maxBytes = 1 << 20): string {
  const d = mkdtempSync(join(tmpdir(), 'knockgate-read-audit-'));
  dirs.push(d);
  const path = join(d, 'audit.jsonl');
  const f = AuditFile.open(path, { maxBytes, keep: 9 });
  for (const r of records) f.append(r);
  f.close();
  return path;
}

describe('reading the audit trail', () => {
  it('reads the rotated files oldest first, each record once', () => {
    const records = [1, 2, 3, 4, 5, 6, 7].map((n) => rec(n));
    const path = trail(records, (JSON.stringify(rec(1)).length + 1) * 2);
    const r = readAuditTrail(path);
    assert.deepEqual(r.files, [`${path}.3`, `${path}.2`, `${path}.1`, path]);
    assert.deepEqual(r.records, records);
    assert.equal(r.skipped, 0);
  });

  it('filters by since, door, client and address (a prefix holds its addresses)', () => {
    const records = [
      rec(1),
      rec(2, { door: 'web' }),
      rec(3, { client: 'alice', source: '2001:db8::7' }),
      rec(4, { source: '198.18.1.9' }),
    ];
    const pick = (f: Parameters<typeof auditPredicate>[0]): number[] => {
      const p = auditPredicate(f);
      if (typeof p !== 'function') throw new Error(p.error);
      return records.filter(p).map((r) => records.indexOf(r) + 1);
    };
    assert.deepEqual(pick({}), [1, 2, 3, 4]);
    assert.deepEqual(pick({ sinceUnixMs: T + 2 * 60_000 }), [2, 3, 4]);
    assert.deepEqual(pick({ door: 'web' }), [2]);
    assert.deepEqual(pick({ client: 'alice' }), [3]);
    assert.deepEqual(pick({ address: '198.18.0.0/24' }), [1, 2]);
    assert.deepEqual(pick({ address: '2001:db8::/32', client: 'alice' }), [3]);
    assert.equal(parseSince('1h', T), T - 3_600_000);
    assert.equal(parseSince('2026-12-03T11:00:00Z', T), T - 3_600_000);
    assert.ok('error' in (parseSince('yesterday', T) as object));
  });

  it('knockgate audit prints a table, --json the lines, and says what it skipped', () => {
    const path = trail([
      rec(1),
      rec(2, { event: 'revoke', until: null, operator: 'ops', operator_basis: 'claimed by a root client' }),
    ]);
    writeFileSync(path, '{"torn', { flag: 'a' });
    writeFileSync(path, `\n${JSON.stringify(rec(3, { event: 'expire', until: null }))}\n`, { flag: 'a' });
    const table = spawnSync(process.execPath, [KNOCKGATE, 'audit', '--file', path], { encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^TIME +EVENT +GRANT +DOOR +SOURCE +PORTS +CLIENT +UNTIL +OPERATOR +REASON$/);
    assert.match(
      lines[2] ?? '',
      /^2026-12-03T12:02:00\.000Z +revoke +00000002 +ssh +198\.18\.0\.7 +22\/tcp +- +- +ops$/,
    );
    assert.equal(lines.length, 4);
    assert.match(table.stderr, /1 line\(s\) of .* are not audit records/);
    const json = spawnSync(
      process.execPath,
      [KNOCKGATE, 'audit', '--file', path, '--json', '--since', '2026-12-03T12:02:00Z'],
      {
        encoding: 'utf8',
      },
    );
    assert.deepEqual(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditRecord).event),
      ['revoke', 'expire'],
    );
    const missing = spawnSync(process.execPath, [KNOCKGATE, 'audit', '--file', `${path}.nope`], { encoding: 'utf8' });
    assert.equal(missing.status, 66);
    assert.match(missing.stderr, /no audit trail at/);
  });
});

/**
 * Prints what one durable audit record costs (AuditFile.append: the line written whole, then
 * fdatasync), in µs: median, p90, p99 and max over ITERATIONS records of a typical size (about
 * 300 bytes), in a temporary directory on the file system given as the first argument (default
 * the system's temporary directory; run it on the one that holds /var/log/knockgate).
 *
 * Contract: figures only, no assertions; not a test. `npm run bench:audit [DIR]` after a build.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUDIT_MAX_BYTES } from '../src/core/limits.js';
import type { AuditRecord } from '../src/ports/audit-log.js';
import { AuditFile } from '../src/stores/audit-file.js';

const ITERATIONS = 1_000;
const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'kg-audit-bench-'));
try {
  const file = AuditFile.open(join(dir, 'audit.jsonl'), { maxBytes: DEFAULT_AUDIT_MAX_BYTES, keep: 1 });
  const record = (i: number): AuditRecord => ({
    time: new Date().toISOString(),
    event: 'grant',
    grant: `3f2a9c1e-0000-4000-8000-${String(i).padStart(12, '0')}`,
    table: 'knockgate',
    door: 'ssh',
    source: '198.18.0.2',
    ports: ['22/tcp'],
    client: 'laptop',
    until: new Date(Date.now() + 30_000).toISOString(),
  });
  const us: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t = process.hrtime.bigint();
    file.append(record(i));
    us.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  file.close();
  us.sort((a, b) => a - b);
  const at = (q: number) => (us[Math.min(us.length - 1, Math.floor(q * us.length))] ?? 0).toFixed(0);
  process.stdout.write(
    `audit append (write + fdatasync), ${ITERATIONS} records in ${dir}: median ${at(0.5)} µs, p90 ${at(0.9)} µs, p99 ${at(0.99)} µs, max ${at(1)} µs\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

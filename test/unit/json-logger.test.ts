/**
 * src/daemon/json-logger.ts: what lands in the log file (the same lines as on stdout): one JSON
 * object per line with level, time, pid, the fields and msg; lines below the level are not
 * written; the file is created with its directory, and appended to, never truncated.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/daemon/json-logger.js';

describe('json-logger', () => {
  it('appends one JSON object per line, at or above the level, with level, time, pid, fields and msg', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-log-'));
    try {
      const file = join(dir, 'sub', 'knockgated.log');
      const log = createLogger('info', { stdout: false, file });
      log.debug({ event: 'hidden' }, 'below the level');
      log.info({ event: 'grant', source: '192.0.2.7', ports: undefined, n: 3 }, 'grant opened');
      log.error({ event: 'crash', error: 'line one\nline two "quoted"' }, 'internal error');
      const lines = readFileSync(file, 'utf8').split('\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines.length, 2);
      const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(Object.keys(a ?? {}), ['level', 'time', 'pid', 'event', 'source', 'n', 'msg']);
      assert.equal(a?.level, 'info');
      assert.equal(a?.pid, process.pid);
      assert.ok(!Number.isNaN(Date.parse(a?.time as string)));
      assert.equal(b?.error, 'line one\nline two "quoted"');
      assert.equal(statSync(file).mode & 0o777, 0o640);

      writeFileSync(file, 'kept\n', { flag: 'a' });
      createLogger('warn', { stdout: false, file }).warn({ event: 'x' }, 'appended');
      assert.match(readFileSync(file, 'utf8'), /^\{.*\n\{.*\nkept\n\{"level":"warn".*"msg":"appended"\}\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Covers src/daemon/dry-run.ts and compose.ts's dry-run stage: what --dry-run is built from.
 * Asserted as a user sees it: no command is run (a file it would create stays absent), each is
 * logged with its argv, and every line is marked as a dry run's; no state file is opened.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { composeDaemon } from '../../src/daemon/compose.js';
import { ManualClock } from '../../src/daemon/clock.js';
import { DryRunCommands, dryRunLogger } from '../../src/daemon/dry-run.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import { MemoryPendingCommands } from '../../src/ports/pending-commands.js';
import { PendingCommandsFile } from '../../src/stores/pending-commands.js';

describe('dry run', () => {
  it('DryRunCommands logs the argv and runs nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-dry-'));
    try {
      const log = new MemoryLogger();
      const marker = join(dir, 'ran');
      const r = await new DryRunCommands(log).run({
        argv: ['/usr/bin/touch', marker],
        timeoutMs: 1000,
        context: { door: 'ssh', which: 'start' },
      });
      assert.equal(r.exitCode, 0);
      assert.equal(existsSync(marker), false);
      assert.deepEqual(log.lines[0]?.fields, {
        event: 'command',
        door: 'ssh',
        which: 'start',
        outcome: 'not-run',
        argv: ['/usr/bin/touch', marker],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dryRunLogger marks every line', () => {
    const log = new MemoryLogger();
    dryRunLogger(log).info({ event: 'grant', verdict: 'opened' }, 'granted');
    assert.deepEqual(log.lines, [
      { level: 'info', msg: 'granted (dry run)', fields: { event: 'grant', verdict: 'opened', dry_run: true } },
    ]);
  });

  it('composeDaemon with dryRun: the memory gate, and no pending-commands file opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-dry-'));
    try {
      const config = parseConfigText(
        join(dir, 'knockgate.yaml'),
        [
          'interfaces: [lo]',
          `pending_commands: ${JSON.stringify(join(dir, 'pending.json'))}`,
          `audit_log: ${JSON.stringify(join(dir, 'audit.jsonl'))}`, // the real composition opens it: not the host's /var/log
          'doors:',
          '  - name: ssh',
          '    sequence: [7000, 8000, 9000]',
          '    open: [22/tcp]',
          '    start_command: [/bin/true]',
          '    stop_command: [/bin/true]',
          '',
        ].join('\n'),
      );
      const files = { oneTimeSequences: new Map(), totpSecrets: new Map(), serverKey: null };
      const deps = await composeDaemon(config, new MemoryLogger(), files, new ManualClock(1_800_000_000_000), {
        dryRun: true,
      });
      assert.equal(deps.gate.kind, 'memory');
      assert.ok(deps.commands instanceof DryRunCommands);
      assert.ok(deps.pendingCommands instanceof MemoryPendingCommands);
      const real = await composeDaemon(config, new MemoryLogger(), files, new ManualClock(1_800_000_000_000));
      assert.ok(real.pendingCommands instanceof PendingCommandsFile, 'control: the real composition opens the file');
      assert.equal(real.gate.kind, 'nftables');
      real.gate.close();
      real.audit?.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

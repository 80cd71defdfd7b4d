/**
 * `knockgated --print-ruleset` for a scenario's config, loaded with `nft -f` into the testbed's
 * other namespace and listed there, beside the table the running daemon installed, listed in the
 * server's: the two texts a test compares (counters zeroed, since probes may have hit the drops).
 */

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { KNOCKGATED } from './daemon-process.js';
import type { Scenario } from './scenario.js';

const zeroCounters = (text: string): string =>
  text.replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0');

export function printedAndInstalled(s: Scenario, table = 'knockgate'): { printed: string; installed: string } {
  const { tb } = s;
  const r = spawnSync(
    'ip',
    ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATED, '-c', s.configFile, '--print-ruleset'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  if (r.status !== 0) throw new Error(`--print-ruleset exited ${r.status}: ${r.stderr}`);
  const file = s.path('printed.nft');
  writeFileSync(file, r.stdout);
  tb.run(tb.other.ns, ['nft', '-f', file]);
  const printed = tb.run(tb.other.ns, ['nft', 'list', 'table', 'inet', table]);
  tb.run(tb.other.ns, ['nft', 'delete', 'table', 'inet', table]);
  return {
    printed: zeroCounters(printed),
    installed: zeroCounters(tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', table])),
  };
}

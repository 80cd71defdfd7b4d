/**
 * The life of one knock grant as a client and a scanner see it, for the sensor tests: 22/tcp
 * filtered before the knock (and the first knock port filtered to a scanner), open for the knocking
 * client alone after it, filtered again once the grant has run out.
 */

import assert from 'node:assert/strict';
import { knock, probe, sleep } from './daemon-process.js';
import type { Scenario } from './scenario.js';

export async function grantCycle(
  s: Scenario,
  family: 4 | 6,
  sequence: readonly number[],
  durationS: number,
): Promise<void> {
  const { tb, daemon } = s;
  const server = family === 4 ? tb.server.clientSide.v4 : tb.server.clientSide.v6;
  const client = family === 4 ? tb.client.v4 : tb.client.v6;
  const other = family === 4 ? tb.server.otherSide.v4 : tb.server.otherSide.v6;
  assert.equal(probe(tb, tb.client.ns, server, 22).outcome, 'timeout', 'filtered before the knock');
  assert.equal(probe(tb, tb.other.ns, other, sequence[0] as number).outcome, 'timeout', 'knock ports look filtered');
  const before = daemon.lines.length;
  knock(tb, tb.client.ns, server, [...sequence]);
  const grant = await daemon.waitFor(
    (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.verdict === 'opened',
    5000,
    `the IPv${family} grant`,
  );
  assert.equal(grant.source, client);
  assert.equal(probe(tb, tb.client.ns, server, 22).outcome, 'open');
  assert.equal(probe(tb, tb.other.ns, other, 22).outcome, 'timeout', 'open for the knocking source only');
  await daemon.waitFor(
    (l) => daemon.lines.indexOf(l) > daemon.lines.indexOf(grant) && l.event === 'grant-expired',
    (durationS + 4) * 1000,
    'the grant to run out',
  );
  await sleep(300);
  assert.equal(probe(tb, tb.client.ns, server, 22).outcome, 'timeout', 'filtered again after the grant');
}

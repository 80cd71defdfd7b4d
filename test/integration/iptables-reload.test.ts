/**
 * Reloads through the iptables gate, on the real kernel: while SIGHUP reloads switch the layout
 * back and forth (a second protected port added, then removed), a host without a grant that tries
 * to connect to the protected port every 10 ms never gets through (each family's chains are
 * replaced in one iptables-restore COMMIT: there is no moment without the drop), and the client's
 * grant is kept across every reload.
 */

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILD_ROOT, knock, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const CONNECT_LOOP = join(BUILD_ROOT, 'test', 'support', 'connect-loop.js');
const SEQUENCE = [7951, 7952, 7953];

describe('reload, iptables gate, real kernel', () => {
  const layout = (ports: string): string =>
    [
      'interfaces: [any]',
      'firewall: iptables',
      `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`,
      'doors:',
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      `    open: [${ports}]`,
      '    duration: 60s',
      '',
    ].join('\n');
  const s = useScenario({ banner: [22, 2222], config: () => layout('22/tcp') });
  const { tb } = s;

  it('six reloads that change the layout: never a connection through for a host without a grant; the grant stays', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await s.daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    const loop = tb.start(tb.other.ns, [process.execPath, CONNECT_LOOP, tb.server.otherSide.v4, '22', '4000']);
    let out = '';
    loop.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise((r) => loop.once('exit', r));
    for (let i = 0; i < 6; i++) {
      const before = s.daemon.lines.filter((l) => l.event === 'reloaded').length;
      // The audit_log line the harness appended stays: a reload cannot move the audit trail.
      const audit = `audit_log: ${JSON.stringify(s.path('audit.jsonl'))}\n`;
      writeFileSync(s.configFile, layout(i % 2 === 0 ? '22/tcp, 2222/tcp' : '22/tcp') + audit, { mode: 0o600 });
      process.kill(s.daemon.pid, 'SIGHUP');
      await s.daemon.waitFor(
        () => s.daemon.lines.filter((l) => l.event === 'reloaded').length > before,
        5000,
        `reload ${i + 1}`,
      );
    }
    await done;
    const r = JSON.parse(out) as { attempts: number; connected: number };
    process.stdout.write(`# connect attempts during the reloads: ${JSON.stringify(r)}\n`);
    assert.ok(r.attempts > 100, JSON.stringify(r));
    assert.equal(r.connected, 0, 'a connection got through during a reload');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open', 'the grant survived');
    // Control: the same loop from the granted client does get through, so "0" above is not a blind loop.
    const control = JSON.parse(
      tb.run(tb.client.ns, [process.execPath, CONNECT_LOOP, tb.server.clientSide.v4, '22', '300']),
    ) as { connected: number };
    assert.ok(control.connected > 0, JSON.stringify(control));
    assert.equal(s.daemon.lines.filter((l) => l.event === 'reload-refused').length, 0);
    // The last reload went back to 22/tcp alone: 2222's drop is gone, 22's is there.
    const chain = tb.run(tb.server.ns, ['iptables', '-S', 'kg_knockgate_in']);
    assert.match(chain, /--dport 22 -j DROP/);
    assert.doesNotMatch(chain, /2222/);
  });
});

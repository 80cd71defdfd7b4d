/**
 * A fwknopd user's own files move over: Debian's default access.conf (the file the fwknop-server
 * package installs, its __CHANGEME__ keys filled in) has no OPEN_PORTS, so `knockgate import`
 * refuses it without --open (exit 64, saying so) and writes, with `--open 22/tcp`, a configuration
 * that `knockgated --check` accepts; knockgated runs on it unchanged, and the real fwknop client
 * opens 22/tcp for its address only.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KNOCKGATE, KNOCKGATED, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

/** What the fwknop-server package ships (test peers: scripts/setup.sh --with-test-peers). */
const DEBIAN_ACCESS_CONF = '/etc/fwknop/access.conf';

describe("knockgate import of Debian's default access.conf", () => {
  const key = randomBytes(32).toString('base64');
  const hmac = randomBytes(64).toString('base64');
  let imported = '';
  const s = useScenario({
    banner: [22],
    testbed: { serverClientIfname: 'eth0' }, // the interface name the import writes (eth0)
    files: () => ({
      'access.conf': readFileSync(DEBIAN_ACCESS_CONF, 'utf8')
        .replace(/^(KEY_BASE64\s+)__CHANGEME__/m, `$1${key}`)
        .replace(/^(HMAC_KEY_BASE64\s+)__CHANGEME__/m, `$1${hmac}`),
    }),
    config: (sc) => {
      const run = (args: string[]) =>
        spawnSync(process.execPath, [KNOCKGATE, 'import', ...args, sc.path('access.conf')], { encoding: 'utf8' });
      const without = run([]);
      assert.equal(without.status, 64, without.stderr);
      assert.match(without.stderr, /no stanza has OPEN_PORTS.*--open/);
      const r = run(['--open', '22/tcp']);
      assert.equal(r.status, 0, r.stderr);
      imported = r.stdout;
      // Only the state files move into the test's directory; the import is used as it came.
      return imported.replace(/^# spa:\n#.*\n/m, 'spa:\n  replay_journal: replay.journal\n');
    },
  });
  const { tb, daemon } = s;

  it('the import refused without --open and, with it, wrote a configuration knockgated --check accepts', () => {
    assert.match(imported, /^ {4}open: \["22\/tcp"\]$/m);
    const check = spawnSync(
      'ip',
      ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATED, '-c', s.configFile, '--check'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(check.status, 0, check.stderr);
  });

  it('the real fwknop client opens 22/tcp for its address only', async () => {
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    tb.run(tb.client.ns, [
      'fwknop',
      '--no-rc-file',
      '--no-save-args',
      '-A',
      'tcp/22',
      '-a',
      tb.client.v4,
      '-D',
      tb.server.clientSide.v4,
      '--key-base64-rijndael',
      key,
      '--use-hmac',
      '--key-base64-hmac',
      hmac,
    ]);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });
});

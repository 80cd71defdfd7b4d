/**
 * fwknop command messages: the decision (src/core/spa/fwknop-command-message.ts: cmd_allow, the
 * address rules, the argv split), access.conf ENABLE_CMD_EXEC / CMD_EXEC_USER / CMD_EXEC_GROUP and
 * the sudo variables (src/config/access-conf/cmd-exec.ts) with the line of each error, the YAML
 * `cmd_exec` and `cmd_allow` keys (src/config/compile/fwknop-cmd-exec.ts), and the daemon's run
 * (src/daemon/fwknop-command-run.ts): audited before it runs, as the stanza's uid and gid, its
 * exit status in the trail; not run when its record cannot be written.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { importAccessConf } from '../../src/config/fwknop-access-conf.js';
import { accessConfFiles, BASE_STANZA, errorAt, fwknopStanzaYaml } from '../support/access-conf-files.js';
import { parseConfigText } from '../../src/config/load.js';
import type { FwknopStanza } from '../../src/core/door.js';
import { ConfigError } from '../../src/core/errors.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import { cmdAllowRule, decideFwknopCommand, type FwknopCmdExec } from '../../src/core/spa/fwknop-command-message.js';
import type { FwknopMessage } from '../../src/core/spa/fwknop-wire.js';
import { ManualClock } from '../../src/daemon/clock.js';
import { runFwknopCommand } from '../../src/daemon/fwknop-command-run.js';
import { GrantAudit } from '../../src/daemon/grant-audit.js';
import { MemoryAuditLog } from '../../src/ports/audit-log.js';
import { MemoryCommands } from '../../src/ports/commands.js';
import { MemoryLogger } from '../../src/ports/logger.js';

const { dir: TMP, conf } = accessConfFiles('kg-cmd-exec-');
const BASE = BASE_STANZA;

const EXEC: FwknopCmdExec = { user: 'nobody', uid: 65534, group: 'nogroup', gid: 65534, allow: null };
const stanzaWith = (exec: FwknopCmdExec, requireSourceAddress = false): FwknopStanza =>
  ({ origin: 'test stanza', cmdExec: exec, requireSourceAddress }) as unknown as FwknopStanza;
const message = (text: string): FwknopMessage => ({ message: text, messageType: 0 }) as unknown as FwknopMessage;
const SOURCE = parseIPAddress('198.18.0.2') as NonNullable<ReturnType<typeof parseIPAddress>>;

describe('command message decision', () => {
  it('splits the command as fwknopd (no shell), and 0.0.0.0 means the packet source', () => {
    const d = decideFwknopCommand(stanzaWith(EXEC), message('0.0.0.0,/usr/bin/id  -un ; reboot'), SOURCE);
    assert.ok(d.ok);
    assert.deepEqual(d.command.argv, ['/usr/bin/id', '-un', ';', 'reboot']);
    assert.equal(d.command.text, '/usr/bin/id  -un ; reboot');
  });
  it('cmd_allow: exact commands and /patterns/ for the whole command; anything else is refused by name', () => {
    const allow = ['/usr/bin/id -un', '/\\/usr\\/bin\\/touch \\/tmp\\/[a-z]+/'].map(
      (e) => cmdAllowRule(e) as Exclude<ReturnType<typeof cmdAllowRule>, { error: string }>,
    );
    const st = stanzaWith({ ...EXEC, allow });
    const verdict = (cmd: string) => {
      const d = decideFwknopCommand(st, message(`198.18.0.2,${cmd}`), SOURCE);
      return d.ok ? 'ok' : d.reason;
    };
    assert.equal(verdict('/usr/bin/id -un'), 'ok');
    assert.equal(verdict('/usr/bin/touch /tmp/abc'), 'ok');
    assert.equal(verdict('/usr/bin/id -un '), 'fwknop-command-not-allowed');
    assert.equal(verdict('/usr/bin/touch /tmp/abc /etc/x'), 'fwknop-command-not-allowed');
    assert.equal(verdict('/usr/bin/id'), 'fwknop-command-not-allowed');
    assert.match((cmdAllowRule('/(/') as { error: string }).error, /not a regular expression/);
  });
  it('REQUIRE_SOURCE_ADDRESS applies as to access messages; too many words are refused', () => {
    const strict = stanzaWith(EXEC, true);
    const d = decideFwknopCommand(strict, message('0.0.0.0,/bin/true'), SOURCE);
    assert.equal(d.ok ? 'ok' : d.reason, 'fwknop-not-allowed');
    const many = decideFwknopCommand(stanzaWith(EXEC), message(`198.18.0.2,/bin/echo${' x'.repeat(28)}`), SOURCE);
    assert.equal(many.ok ? 'ok' : many.reason, 'fwknop-command-not-allowed');
  });
});

describe('access.conf ENABLE_CMD_EXEC', () => {
  it('imports ENABLE_CMD_EXEC with CMD_EXEC_USER as cmd_exec, recommending cmd_allow', () => {
    const r = importAccessConf(conf(...BASE, 'ENABLE_CMD_EXEC Y', 'CMD_EXEC_USER nobody', 'CMD_EXEC_GROUP nogroup'));
    assert.deepEqual((parse(r.stanzasYaml) as Record<string, unknown>[])[0]?.cmd_exec, {
      user: 'nobody',
      group: 'nogroup',
    });
    assert.ok(r.warnings.some((w) => w.line === 5 && /list the allowed commands with cmd_allow/.test(w.message)));
    const cfg = parseConfigText(join(TMP, 'knockgate.yaml'), r.yaml);
    assert.deepEqual(cfg.doors[0]?.fwknop?.stanzas[0]?.cmdExec, {
      user: 'nobody',
      uid: 65534,
      group: 'nogroup',
      gid: 65534,
      allow: null,
    });
  });
  it('names the line of what it refuses: root by default, sudo, unknown names, a cycle beside it', () => {
    errorAt(conf(...BASE, 'ENABLE_CMD_EXEC Y'), 5, 'ENABLE_CMD_EXEC', /fwknopd would run client commands as root/);
    errorAt(conf(...BASE, 'ENABLE_CMD_SUDO_EXEC Y'), 5, 'ENABLE_CMD_SUDO_EXEC', /through sudo is not supported/);
    errorAt(
      conf(...BASE, 'ENABLE_CMD_EXEC Y', 'CMD_EXEC_USER no-such-user-here'),
      6,
      'CMD_EXEC_USER',
      /no user "no-such-user-here"/,
    );
    errorAt(
      conf(...BASE, 'ENABLE_CMD_EXEC Y', 'CMD_EXEC_USER nobody', 'CMD_EXEC_GROUP no-such-group'),
      7,
      'CMD_EXEC_GROUP',
      /no group "no-such-group"/,
    );
    errorAt(
      conf(...BASE, 'CMD_CYCLE_OPEN /bin/true', 'CMD_CYCLE_CLOSE NONE', 'ENABLE_CMD_EXEC Y', 'CMD_EXEC_USER nobody'),
      7,
      'ENABLE_CMD_EXEC',
      /runs its cycle for every message/,
    );
  });
  it('ENABLE_CMD_EXEC N (or unset): no cmd_exec, and CMD_EXEC_USER alone is a warning', () => {
    const r = importAccessConf(conf(...BASE, 'CMD_EXEC_USER nobody', 'CMD_SUDO_EXEC_USER root'));
    assert.equal((parse(r.stanzasYaml) as Record<string, unknown>[])[0]?.cmd_exec, undefined);
    assert.ok(r.warnings.some((w) => w.line === 5 && /no effect without ENABLE_CMD_EXEC Y/.test(w.message)));
    assert.ok(r.warnings.some((w) => w.line === 6 && /not run command messages through sudo/.test(w.message)));
  });
});

describe('knockgate.yaml cmd_exec and cmd_allow', () => {
  const yaml = fwknopStanzaYaml;
  const load = (lines: string[]) => parseConfigText(join(TMP, 'knockgate.yaml'), yaml(lines));
  const bad = (lines: string[], key: RegExp, re: RegExp): void =>
    assert.throws(
      () => load(lines),
      (e: unknown) => e instanceof ConfigError && key.test(e.key ?? '') && re.test(e.detail),
    );
  it('compiles the user, the group (the primary one by default) and the allowlist', () => {
    const st = load(['cmd_exec: { user: nobody }', 'cmd_allow: ["/usr/bin/id -un", "/\\\\/bin\\\\/echo .*/"]']).doors[0]
      ?.fwknop?.stanzas[0];
    assert.equal(st?.cmdExec?.uid, 65534);
    assert.equal(st?.cmdExec?.gid, 65534);
    assert.equal(st?.cmdExec?.allow?.length, 2);
  });
  it('names the key of what it refuses', () => {
    bad(['cmd_exec: { user: no-such-user-here }'], /cmd_exec\.user$/, /no user/);
    bad(['cmd_exec: { user: nobody, group: no-such-group }'], /cmd_exec\.group$/, /no group/);
    bad(['cmd_cycle: { open: /bin/true, close: NONE }', 'cmd_allow: ["/bin/true"]'], /cmd_allow$/, /needs cmd_exec/);
    bad(['cmd_exec: { user: nobody }', 'cmd_allow: ["/(/"]'], /cmd_allow\[0\]$/, /not a regular expression/);
    bad(
      ['cmd_exec: { user: nobody }', 'cmd_cycle: { open: /bin/true, close: NONE }'],
      /cmd_exec$/,
      /give cmd_exec or cmd_cycle, not both/,
    );
  });
});

describe('running a command message (daemon/fwknop-command-run.ts)', () => {
  const door = { name: 'fw', commandTimeoutMs: 5_000 };
  const command = { text: '/usr/bin/id -un', argv: ['/usr/bin/id', '-un'], exec: EXEC };
  function parts() {
    const clock = new ManualClock(1_790_000_000_000);
    const trail = new MemoryAuditLog();
    const log = new MemoryLogger();
    const audit = new GrantAudit(trail, 'knockgate', clock, log, { inc: () => {} } as never);
    return { trail, log, audit, commands: new MemoryCommands() };
  }
  it('is in the audit trail before it runs, as the stanza user, and its exit status after', async () => {
    const p = parts();
    let recordedFirst = false;
    const run = p.commands.run.bind(p.commands);
    p.commands.run = (job) => {
      recordedFirst = p.trail.records.length === 1 && p.trail.records[0]?.event === 'command';
      return run(job);
    };
    assert.equal(await runFwknopCommand(p, door, { source: '198.18.0.2', client: 'stanza 1', command }), 'ran');
    assert.ok(recordedFirst, 'the command record was durable before the command ran');
    assert.equal(p.commands.jobs[0]?.uid, 65534);
    assert.equal(p.commands.jobs[0]?.gid, 65534);
    assert.deepEqual(p.commands.jobs[0]?.argv, ['/usr/bin/id', '-un']);
    const [before, exit] = p.trail.records;
    assert.equal(before?.command, '/usr/bin/id -un');
    assert.equal(before?.run_as, 'nobody:nogroup');
    assert.equal(exit?.event, 'command-exit');
    assert.equal(exit?.exit_code, 0);
    assert.equal(exit?.grant, before?.grant);
  });
  it('does not run when its audit record cannot be written', async () => {
    const p = parts();
    p.trail.failWrites = true;
    assert.equal(await runFwknopCommand(p, door, { source: '198.18.0.2', command }), 'not-audited');
    assert.deepEqual(p.commands.jobs, []);
    assert.ok(p.log.lines.some((l) => l.fields.reason === 'audit-failed'));
  });
});

/**
 * fwknop command cycles: the command parser and its substitution (src/core/spa/fwknop-cmd-cycle.ts),
 * access.conf CMD_CYCLE_OPEN/CLOSE/TIMER (src/config/access-conf/cmd-cycle.ts) with the line of
 * each error, the YAML `cmd_cycle` key (src/config/compile/fwknop-cmd-cycle.ts), and the daemon's
 * run of a cycle (src/daemon/fwknop-cmd-cycle-run.ts): the close recorded durably before the open
 * runs, nothing run when a value is not plain or the close cannot be recorded.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { importAccessConf } from '../../src/config/fwknop-access-conf.js';
import { accessConfFiles, BASE_STANZA, errorAt, fwknopStanzaYaml } from '../support/access-conf-files.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { type CmdCycleFacts, expandCmdCycle, parseCmdCycleCommand } from '../../src/core/spa/fwknop-cmd-cycle.js';
import { ManualClock } from '../../src/daemon/clock.js';
import { runCmdCycle } from '../../src/daemon/fwknop-cmd-cycle-run.js';
import { PendingStops } from '../../src/daemon/pending-stops.js';
import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { MetricRegistry } from '../../src/metrics/registry.js';
import { MemoryCommands } from '../../src/ports/commands.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import { MemoryPendingCommands } from '../../src/ports/pending-commands.js';

const { dir: TMP, conf } = accessConfFiles('kg-cmd-cycle-');
const BASE = BASE_STANZA;

const FACTS: CmdCycleFacts = {
  source: '198.18.0.2',
  packetSource: '198.18.0.9',
  destination: '198.18.0.1',
  port: 22,
  protocolNumber: 6,
  timestampS: 1_790_000_000,
  timeoutS: 30,
};
const argvOf = (text: string, facts: CmdCycleFacts = FACTS): string[] | string => {
  const p = parseCmdCycleCommand(text);
  if ('error' in p) return `error: ${p.error}`;
  const r = expandCmdCycle(p.args, facts);
  return 'argv' in r ? r.argv : `refused: ${r.refused}`;
};

describe('command cycle substitution (fwknopd variables)', () => {
  it('splits at blanks as strtoargv and puts in every variable', () => {
    assert.deepEqual(argvOf('/usr/sbin/ipset add allow $SRC,$PROTO:$PORT timeout $CLIENT_TIMEOUT'), [
      '/usr/sbin/ipset',
      'add',
      'allow',
      '198.18.0.2,6:22',
      'timeout',
      '30',
    ]);
    assert.deepEqual(argvOf('/bin/echo \t$IP  $PKT_SRC $DST $TIMEOUT'), [
      '/bin/echo',
      '198.18.0.2',
      '198.18.0.9',
      '198.18.0.1',
      '1790000030',
    ]);
    // Matched as prefixes, as fwknopd does: $PORTS is $PORT then "S"; UDP is 17.
    assert.deepEqual(argvOf('/bin/echo $PORTS x$PROTO', { ...FACTS, protocolNumber: 17 }), ['/bin/echo', '22S', 'x17']);
    assert.deepEqual(argvOf('/bin/echo $SRC', { ...FACTS, source: '2001:db8::2' }), ['/bin/echo', '2001:db8::2']);
  });

  it('refuses at load what fwknopd would mangle or cut', () => {
    assert.match(argvOf('/bin/echo $FOO') as string, /^error: "\$" in "\$FOO" starts no variable; known: \$IP/);
    assert.match(argvOf('/bin/echo cost$') as string, /starts no variable/);
    assert.match(argvOf('$SRC arg') as string, /the program itself cannot be a variable/);
    assert.match(argvOf('   ') as string, /the command is empty/);
    assert.match(argvOf(`/bin/echo ${'a'.repeat(246)}`) as string, /longer than 255 bytes/);
    assert.deepEqual((argvOf(`/bin/echo ${'a'.repeat(245)}`) as string[]).length, 2);
    assert.match(argvOf(`/bin/echo${' x'.repeat(28)}`) as string, /more than 28 words/);
    assert.equal((argvOf(`/bin/echo${' x'.repeat(27)}`) as string[]).length, 28);
  });

  it('refuses a value that is not plain (nothing runs), and $DST the capture could not give', () => {
    for (const source of ['198.18.0.2;reboot', '$(id)', '198.18.0.2 x', '', 'ABCD::1'])
      assert.equal(argvOf('/bin/echo $SRC', { ...FACTS, source }), 'refused: SRC');
    assert.equal(argvOf('/bin/echo $PKT_SRC', { ...FACTS, packetSource: '1.2.3.4`' }), 'refused: PKT_SRC');
    assert.equal(argvOf('/bin/echo $DST', { ...FACTS, destination: null }), 'refused: DST');
    assert.equal(argvOf('/bin/echo $PORT', { ...FACTS, port: -1 }), 'refused: PORT');
    assert.equal(argvOf('/bin/echo $CLIENT_TIMEOUT', { ...FACTS, timeoutS: 1.5 }), 'refused: CLIENT_TIMEOUT');
    // A command that does not name the missing value still runs.
    assert.deepEqual(argvOf('/bin/echo $SRC', { ...FACTS, destination: null }), ['/bin/echo', '198.18.0.2']);
  });
});

describe('access.conf CMD_CYCLE_OPEN / CMD_CYCLE_CLOSE / CMD_CYCLE_TIMER', () => {
  it('imports a cycle as the stanza cmd_cycle, in a configuration with firewall: none that loads', () => {
    const file = conf(
      ...BASE,
      'CMD_CYCLE_OPEN   /usr/local/bin/allow $SRC $PORT',
      'CMD_CYCLE_CLOSE  /usr/local/bin/deny $SRC $PORT',
      'CMD_CYCLE_TIMER  45',
    );
    const r = importAccessConf(file);
    const [s] = parse(r.stanzasYaml) as Record<string, unknown>[];
    assert.deepEqual(s?.cmd_cycle, {
      open: '/usr/local/bin/allow $SRC $PORT',
      close: '/usr/local/bin/deny $SRC $PORT',
      timer: '45s',
    });
    assert.match(r.yaml, /^firewall: "none"/m);
    const cfg = parseConfigText(join(TMP, 'knockgate.yaml'), r.yaml);
    const st = cfg.doors[0]?.fwknop?.stanzas[0];
    assert.equal(st?.cmdCycle?.timerS, 45);
    assert.equal(
      st?.accessTimeoutS,
      45,
      'the close runs CMD_CYCLE_TIMER after the open when the client asks for no timeout',
    );
    assert.equal(st?.cmdCycle?.close?.length, 3);
  });

  it('CMD_CYCLE_CLOSE NONE: no close command, and no timer needed', () => {
    const r = importAccessConf(conf(...BASE, 'CMD_CYCLE_OPEN /bin/true', 'CMD_CYCLE_CLOSE NONE'));
    const [s] = parse(r.stanzasYaml) as Record<string, unknown>[];
    assert.deepEqual(s?.cmd_cycle, { open: '/bin/true', close: 'NONE' });
    const st = parseConfigText(join(TMP, 'knockgate.yaml'), r.yaml).doors[0]?.fwknop?.stanzas[0];
    assert.equal(st?.cmdCycle?.close, null);
    const w = importAccessConf(conf(...BASE, 'CMD_CYCLE_OPEN /bin/true', 'CMD_CYCLE_CLOSE NONEX'));
    assert.ok(w.warnings.some((x) => x.line === 6 && /reads "NONEX" as NONE/.test(x.message)));
  });

  it('names the line of what fwknopd refuses, and of what knockgate refuses on top', () => {
    errorAt(conf(...BASE, 'CMD_CYCLE_OPEN /bin/true'), 5, 'CMD_CYCLE_OPEN', /without also setting CMD_CYCLE_CLOSE/);
    errorAt(conf(...BASE, 'CMD_CYCLE_CLOSE /bin/true'), 5, 'CMD_CYCLE_CLOSE', /without also setting CMD_CYCLE_OPEN/);
    errorAt(
      conf(...BASE, 'CMD_CYCLE_OPEN /bin/true', 'CMD_CYCLE_CLOSE /bin/false'),
      5,
      'CMD_CYCLE_TIMER',
      /must set the CMD_CYCLE_TIMER/,
    );
    for (const t of ['0', '8388609', 'soon', '-5'])
      errorAt(conf(...BASE, `CMD_CYCLE_TIMER ${t}`), 5, 'CMD_CYCLE_TIMER', /not in range \[1,8388608\]/);
    errorAt(
      conf(...BASE, 'CMD_CYCLE_OPEN /bin/true', 'CMD_CYCLE_CLOSE /bin/echo $USER', 'CMD_CYCLE_TIMER 5'),
      6,
      'CMD_CYCLE_CLOSE',
      /"\$" in "\$USER" starts no variable/,
    );
    errorAt(
      conf(...BASE, `CMD_CYCLE_OPEN /bin/echo ${'x'.repeat(300)}`, 'CMD_CYCLE_CLOSE NONE'),
      5,
      'CMD_CYCLE_OPEN',
      /longer than 255 bytes/,
    );
  });

  it('cuts a timer beyond the longest grant, with a warning', () => {
    const r = importAccessConf(
      conf(...BASE, 'CMD_CYCLE_OPEN /bin/true', 'CMD_CYCLE_CLOSE /bin/true', 'CMD_CYCLE_TIMER 100000'),
    );
    assert.ok(r.warnings.some((w) => w.line === 7 && /the close command runs after 86400s/.test(w.message)));
    assert.equal((parse(r.stanzasYaml) as { cmd_cycle: { timer: string } }[])[0]?.cmd_cycle.timer, '86400s');
  });
});

describe('knockgate.yaml cmd_cycle', () => {
  const yaml = (cycle: string): string => fwknopStanzaYaml(['open_ports: [22/tcp]', `cmd_cycle: ${cycle}`]);
  const load = (cycle: string) => parseConfigText(join(TMP, 'knockgate.yaml'), yaml(cycle));
  it('compiles, and names the key of a bad command', () => {
    const c = load('{ open: "/bin/echo $SRC", close: "/bin/echo $SRC", timer: 20s }').doors[0]?.fwknop?.stanzas[0];
    assert.equal(c?.cmdCycle?.openText, '/bin/echo $SRC');
    assert.equal(c?.accessTimeoutS, 20);
    const bad = (cycle: string, key: RegExp, re: RegExp): void =>
      assert.throws(
        () => load(cycle),
        (e: unknown) => e instanceof ConfigError && key.test(e.key ?? '') && re.test(e.detail) && e.line === 11,
      );
    bad('{ open: "/bin/echo $HOME", close: NONE }', /cmd_cycle\.open$/, /starts no variable/);
    bad('{ open: "/bin/true", close: "/bin/true" }', /cmd_cycle\.timer$/, /needs a timer/);
    bad('{ open: "/bin/true", close: "NONE-please" }', /cmd_cycle\.close$/, /write NONE/);
    // firewall: none and a stanza without a command cycle: nothing would ever happen.
    assert.throws(
      () =>
        parseConfigText(
          join(TMP, 'knockgate.yaml'),
          yaml('{ open: "/bin/true", close: NONE }').replace(/^ {8}cmd_cycle.*\n/m, ''),
        ),
      /with firewall: none a door must have a start_command, or it does nothing \(stanza .* has neither cmd_cycle nor cmd_exec\)/,
    );
  });
});

describe('running a cycle (daemon/fwknop-cmd-cycle-run.ts)', () => {
  function parts() {
    const clock = new ManualClock(1_790_000_000_000);
    const store = new MemoryPendingCommands();
    const commands = new MemoryCommands();
    const log = new MemoryLogger();
    const metrics = new DaemonMetrics(new MetricRegistry(), ['fw']);
    const pending = new PendingStops(store, commands, clock, log, metrics);
    return { clock, store, commands, log, pending };
  }
  const cycleOf = (open: string, close: string | null) => {
    const o = parseCmdCycleCommand(open);
    const c = close === null ? null : parseCmdCycleCommand(close);
    assert.ok('args' in o && (c === null || 'args' in c));
    return {
      open: o.args,
      close: c === null ? null : (c as { args: never[] }).args,
      timerS: 30,
      openText: open,
      closeText: close,
    };
  };
  const door = { name: 'fw', commandTimeoutMs: 5_000 };

  it('records the close durably before the open runs, and runs the close at its time', () => {
    const p = parts();
    const cycle = cycleOf('/bin/open $SRC', '/bin/close $SRC $PORT');
    let openSawRecord = false;
    const run = p.commands.run.bind(p.commands);
    p.commands.run = (job) => {
      if (job.argv[0] === '/bin/open') openSawRecord = p.store.list().length === 1;
      return run(job);
    };
    const r = runCmdCycle(p, door, { source: '198.18.0.2', family: 4, cmdCycle: { cycle, facts: FACTS } });
    assert.equal(r, null);
    assert.ok(openSawRecord, 'the close record was durable when the open command ran');
    assert.deepEqual(p.store.list()[0]?.argv, ['/bin/close', '198.18.0.2', '22']);
    assert.equal(p.store.list()[0]?.which, 'cmd_cycle_close');
    assert.equal(p.store.list()[0]?.dueUnixMs, 1_790_000_000_000 + 30_000);
    p.clock.advance(29_000);
    assert.deepEqual(
      p.commands.jobs.map((j) => j.argv[0]),
      ['/bin/open'],
    );
    p.clock.advance(1_000);
    assert.deepEqual(
      p.commands.jobs.map((j) => j.argv[0]),
      ['/bin/open', '/bin/close'],
    );
  });

  it('runs nothing when the close cannot be recorded, or a value is not plain', () => {
    const p = parts();
    p.store.failWrites = true;
    const cycle = cycleOf('/bin/open $SRC', '/bin/close $SRC');
    const grant = { source: '198.18.0.2', family: 4 as const, cmdCycle: { cycle, facts: FACTS } };
    assert.equal(runCmdCycle(p, door, grant), 'stop-command-not-recorded');
    p.store.failWrites = false;
    const bad = { ...grant, cmdCycle: { cycle, facts: { ...FACTS, source: '198.18.0.2;id' } } };
    assert.equal(runCmdCycle(p, door, bad), 'cmd-cycle-value-not-plain');
    assert.deepEqual(p.commands.jobs, []);
    assert.deepEqual(p.store.list(), []);
    assert.ok(p.log.lines.some((l) => l.fields.reason === 'cmd-cycle-value-not-plain' && l.fields.variable === 'SRC'));
  });

  it('CMD_CYCLE_CLOSE NONE: the open runs, nothing is recorded', () => {
    const p = parts();
    const r = runCmdCycle(p, door, {
      source: '198.18.0.2',
      family: 4,
      cmdCycle: { cycle: cycleOf('/bin/open $SRC', null), facts: FACTS },
    });
    assert.equal(r, null);
    assert.deepEqual(
      p.commands.jobs.map((j) => j.argv),
      [['/bin/open', '198.18.0.2']],
    );
    assert.deepEqual(p.store.list(), []);
  });
});

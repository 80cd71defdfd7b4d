/**
 * access.conf command cycles (CMD_CYCLE_OPEN, CMD_CYCLE_CLOSE, CMD_CYCLE_TIMER), read as fwknop
 * 2.6.11 server/access.c does (parse_access_file, acc_data_is_valid):
 *   - CMD_CYCLE_OPEN and CMD_CYCLE_CLOSE are kept as written (add_acc_string); each needs the
 *     other; a CMD_CYCLE_CLOSE starting with NONE means no close command;
 *   - CMD_CYCLE_TIMER is strtol in [1, 2<<22] seconds, and needed unless the close is NONE;
 *   - each command is shorter than 256 bytes.
 * knockgate's additions (core/spa/fwknop-cmd-cycle.ts): the commands must split into at most 28
 * words and every `$` must start a known variable; a timer longer than knockgate's longest grant
 * is cut to it (the close runs earlier: less access), with a warning.
 *
 * Contract: errors are ConfigErrors at the variable's line (or the stanza's SOURCE line when a
 * variable is missing); the result is what the stanza's YAML `cmd_cycle` carries, or null.
 */

import { MAX_GRANT_DURATION_S } from '../../core/limits.js';
import { isNoCloseCommand, MAX_CMD_CYCLE_TIMER_S, parseCmdCycleCommand } from '../../core/spa/fwknop-cmd-cycle.js';
import { cStrtol, shown } from './c-readings.js';
import type { AccessConfReport, Loc, Setting } from './report.js';

/** The three variables as a stanza draft holds them. */
export interface CmdCycleDraft {
  cmdCycleOpen?: Setting<string>;
  cmdCycleClose?: Setting<string>;
  cmdCycleTimer?: Setting<number>;
}

export type CmdCycleField = keyof CmdCycleDraft;

/** The draft field a CMD_CYCLE_* variable sets, and its value as fwknopd reads it. */
export function readCmdCycleVariable(
  report: AccessConfReport,
  at: Loc,
  name: 'CMD_CYCLE_OPEN' | 'CMD_CYCLE_CLOSE' | 'CMD_CYCLE_TIMER',
  val: string,
): { readonly field: CmdCycleField; readonly value: string | number } {
  if (name === 'CMD_CYCLE_OPEN') return { field: 'cmdCycleOpen', value: val };
  if (name === 'CMD_CYCLE_CLOSE') return { field: 'cmdCycleClose', value: val };
  const r = cStrtol(val);
  if (!r.digits || r.value < 1 || r.value > MAX_CMD_CYCLE_TIMER_S)
    report.fail(at, name, `CMD_CYCLE_TIMER value ${shown(val)} not in range [1,${MAX_CMD_CYCLE_TIMER_S}] (fwknopd)`);
  if (r.rest.trim() !== '')
    report.warn(at, `fwknopd reads ${shown(val)} as ${r.value} seconds (strtol ignores the rest)`);
  return { field: 'cmdCycleTimer', value: r.value };
}

/** The stanza's `cmd_cycle`, checked as fwknopd's acc_data_is_valid() and knockgate's parser do. */
export interface FinishedCmdCycle {
  readonly open: string;
  /** `NONE` for no close command. */
  readonly close: string;
  /** null when the close is NONE and no timer was given. */
  readonly timerS: number | null;
}

export function finishCmdCycle(report: AccessConfReport, stanza: Loc, d: CmdCycleDraft): FinishedCmdCycle | null {
  const { cmdCycleOpen: open, cmdCycleClose: close, cmdCycleTimer: timer } = d;
  if (open === undefined && close === undefined) {
    if (timer !== undefined)
      report.warn(timer, 'CMD_CYCLE_TIMER without CMD_CYCLE_OPEN has no effect (fwknopd ignores it)');
    return null;
  }
  if (close === undefined)
    return report.fail(
      open ?? stanza,
      'CMD_CYCLE_OPEN',
      'cannot set CMD_CYCLE_OPEN without also setting CMD_CYCLE_CLOSE (fwknopd)',
    );
  if (open === undefined)
    return report.fail(
      close,
      'CMD_CYCLE_CLOSE',
      'cannot set CMD_CYCLE_CLOSE without also setting CMD_CYCLE_OPEN (fwknopd)',
    );
  const parsedOpen = parseCmdCycleCommand(open.value);
  if ('error' in parsedOpen) report.fail(open, open.key, parsedOpen.error);
  const noClose = isNoCloseCommand(close.value);
  if (noClose && close.value !== 'NONE')
    report.warn(close, `fwknopd reads ${shown(close.value)} as NONE (no close command): it starts with NONE`);
  if (!noClose) {
    const parsedClose = parseCmdCycleCommand(close.value);
    if ('error' in parsedClose) report.fail(close, close.key, parsedClose.error);
    if (timer === undefined)
      report.fail(open, 'CMD_CYCLE_TIMER', 'must set the CMD_CYCLE_TIMER for command cycle functionality (fwknopd)');
  }
  let timerS = timer?.value ?? null;
  if (timer !== undefined && timerS !== null && timerS > MAX_GRANT_DURATION_S) {
    report.warn(
      timer,
      `CMD_CYCLE_TIMER ${timerS}s is longer than knockgate's longest grant (${MAX_GRANT_DURATION_S}s): the close command runs after ${MAX_GRANT_DURATION_S}s`,
    );
    timerS = MAX_GRANT_DURATION_S;
  }
  return { open: open.value, close: noClose ? 'NONE' : close.value, timerS };
}

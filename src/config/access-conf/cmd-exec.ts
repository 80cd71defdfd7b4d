/**
 * access.conf command execution (ENABLE_CMD_EXEC, CMD_EXEC_USER, CMD_EXEC_GROUP, and the sudo
 * variables), read as fwknop 2.6.11 server/access.c does: ENABLE_CMD_EXEC is a boolean (a leading
 * Y or y), the user and group are names (getpwnam, getgrnam: one that does not exist is an error;
 * the group defaults to the user's primary group).
 * knockgate is stricter where fwknopd would run client commands as root by default: ENABLE_CMD_EXEC
 * Y needs CMD_EXEC_USER (`root` if that is what is meant). Not supported, and refused where
 * ignoring them would change who runs what: ENABLE_CMD_SUDO_EXEC Y (sudo's own filtering would
 * not apply); CMD_SUDO_EXEC_USER/GROUP alone are warnings. A stanza with both a command cycle and
 * ENABLE_CMD_EXEC Y is an error (fwknopd runs the cycle for every message). fwknop has no
 * allowlist: a warning recommends knockgate's `cmd_allow`.
 *
 * Contract: errors are ConfigErrors at the variable's line; the result is the stanza's YAML
 * `cmd_exec`, or null.
 */

import { shown } from './c-readings.js';
import type { AccessConfReport, Loc, Setting } from './report.js';
import { lookupGroup, lookupUser } from '../system-accounts.js';

export interface CmdExecDraft {
  cmdExecEnable?: Setting<boolean>;
  cmdExecUser?: Setting<string>;
  cmdExecGroup?: Setting<string>;
}

export const CMD_EXEC_VARIABLES = [
  'ENABLE_CMD_EXEC',
  'ENABLE_CMD_SUDO_EXEC',
  'CMD_SUDO_EXEC_USER',
  'CMD_SUDO_EXEC_GROUP',
  'CMD_EXEC_USER',
  'CMD_EXEC_GROUP',
] as const;

/** The draft field a command-execution variable sets and its value, or null (nothing to keep). */
export function readCmdExecVariable(
  report: AccessConfReport,
  at: Loc,
  name: string,
  val: string,
): { readonly field: keyof CmdExecDraft; readonly value: boolean | string } | null {
  const yes = val[0] === 'y' || val[0] === 'Y';
  switch (name) {
    case 'ENABLE_CMD_EXEC':
      if (!/^[YyNn]$/.test(val)) report.warn(at, `fwknopd reads ${shown(val)} as ${yes ? 'Y' : 'N'}`);
      return { field: 'cmdExecEnable', value: yes };
    case 'CMD_EXEC_USER':
      return { field: 'cmdExecUser', value: val };
    case 'CMD_EXEC_GROUP':
      return { field: 'cmdExecGroup', value: val };
    case 'ENABLE_CMD_SUDO_EXEC':
      if (yes)
        report.fail(
          at,
          name,
          "running command messages through sudo is not supported (sudo's filtering would not apply); use ENABLE_CMD_EXEC with CMD_EXEC_USER, and cmd_allow in knockgate.yaml",
        );
      return null;
    default:
      report.warn(at, `${name}: knockgate does not run command messages through sudo, so this has no effect`);
      return null;
  }
}

export interface FinishedCmdExec {
  readonly user: string;
  readonly group: string | null;
}

export function finishCmdExec(
  report: AccessConfReport,
  d: CmdExecDraft & { readonly cmdCycleOpen?: Setting<string> },
): FinishedCmdExec | null {
  const { cmdExecEnable: enable, cmdExecUser: user, cmdExecGroup: group } = d;
  if (enable?.value !== true) {
    const extra = user ?? group;
    if (extra !== undefined) report.warn(extra, `${extra.key} has no effect without ENABLE_CMD_EXEC Y`);
    return null;
  }
  if (user === undefined)
    return report.fail(
      enable,
      enable.key,
      'ENABLE_CMD_EXEC Y without CMD_EXEC_USER: fwknopd would run client commands as root; set CMD_EXEC_USER (to root only if that is what you mean)',
    );
  if (d.cmdCycleOpen !== undefined)
    report.fail(
      enable,
      enable.key,
      'a stanza with CMD_CYCLE_OPEN runs its cycle for every message (fwknopd): remove one of them',
    );
  if (lookupUser(user.value) === null)
    report.fail(user, user.key, `[*] Unable to determine UID for CMD_EXEC_USER: no user ${shown(user.value)}`);
  if (group !== undefined && lookupGroup(group.value) === null)
    report.fail(group, group.key, `[*] Unable to determine GID for CMD_EXEC_GROUP: no group ${shown(group.value)}`);
  report.warn(
    enable,
    'command messages run any command the client sends (fwknop has no allowlist): list the allowed commands with cmd_allow in knockgate.yaml',
  );
  return { user: user.value, group: group?.value ?? null };
}

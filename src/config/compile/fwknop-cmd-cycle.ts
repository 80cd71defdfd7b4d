/**
 * Compiles a fwknop stanza's `cmd_cycle` (CMD_CYCLE_OPEN/CLOSE/TIMER) into the argv templates the
 * daemon expands (core/spa/fwknop-cmd-cycle.ts). As fwknopd's acc_data_is_valid(): a close
 * command other than NONE needs a timer; both commands must split and name only known variables.
 * As in fwknopd, a stanza with a command cycle opens no firewall rule of its own: its grants hold
 * no ports, so with a firewall the door's guarded ports stay closed for it and the commands are
 * what gives access (the usual setup is `firewall: none`, where they are all there is).
 */

import { type FwknopCmdCycle, isNoCloseCommand, parseCmdCycleCommand } from '../../core/spa/fwknop-cmd-cycle.js';
import type { RawFwknopStanza } from '../schema.js';
import type { ConfigPath } from './context.js';

export function compileCmdCycle(
  st: RawFwknopStanza,
  fail: (key: ConfigPath, message: string) => never,
): FwknopCmdCycle | null {
  const c = st.cmd_cycle;
  if (c === undefined) return null;
  const open = parseCmdCycleCommand(c.open);
  if ('error' in open) return fail(['cmd_cycle', 'open'], open.error);
  const noClose = isNoCloseCommand(c.close);
  if (noClose && c.close !== 'NONE')
    return fail(
      ['cmd_cycle', 'close'],
      `write NONE for no close command (fwknopd reads ${JSON.stringify(c.close)} as NONE too)`,
    );
  const close = noClose ? null : parseCmdCycleCommand(c.close);
  if (close !== null && 'error' in close) return fail(['cmd_cycle', 'close'], close.error);
  if (close !== null && c.timer === undefined)
    return fail(
      ['cmd_cycle', 'timer'],
      'a close command needs a timer (CMD_CYCLE_TIMER): how long after the open command it runs',
    );
  return Object.freeze({
    open: Object.freeze(open.args),
    close: close === null ? null : Object.freeze(close.args),
    timerS: (c.timer ?? st.fw_access_timeout ?? 0) / 1000,
    openText: c.open,
    closeText: close === null ? null : c.close,
  });
}

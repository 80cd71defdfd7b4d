/**
 * Compiles a fwknop stanza's `cmd_exec` (ENABLE_CMD_EXEC, CMD_EXEC_USER, CMD_EXEC_GROUP) and
 * `cmd_allow` into what the ladder and the daemon need (core/spa/fwknop-command-message.ts): the
 * user and group resolved to ids now (a name the host does not have is an error, never root),
 * the group defaulting to the user's primary group as in fwknopd, every cmd_allow entry compiled
 * (an exact command, or a `/regular expression/` for the whole command). cmd_allow without
 * cmd_exec, or beside a command cycle (which fwknopd runs instead of any command), is an error.
 */

import { cmdAllowRule, type CmdAllowRule, type FwknopCmdExec } from '../../core/spa/fwknop-command-message.js';
import type { RawFwknopStanza } from '../schema.js';
import { groupName, lookupGroup, lookupUser } from '../system-accounts.js';
import type { ConfigPath } from './context.js';

export function compileCmdExec(
  st: RawFwknopStanza,
  fail: (key: ConfigPath, message: string) => never,
): FwknopCmdExec | null {
  const e = st.cmd_exec;
  if (e === undefined) {
    if (st.cmd_allow !== undefined) return fail(['cmd_allow'], 'cmd_allow needs cmd_exec (the user commands run as)');
    return null;
  }
  if (st.cmd_cycle !== undefined)
    return fail(
      ['cmd_exec'],
      'a stanza with a command cycle runs it for every message (as fwknopd): give cmd_exec or cmd_cycle, not both',
    );
  const user = lookupUser(e.user);
  if (user === null) return fail(['cmd_exec', 'user'], `no user ${JSON.stringify(e.user)} on this host (/etc/passwd)`);
  let gid = user.gid;
  if (e.group !== undefined) {
    const g = lookupGroup(e.group);
    if (g === null) return fail(['cmd_exec', 'group'], `no group ${JSON.stringify(e.group)} on this host (/etc/group)`);
    gid = g;
  }
  const allow: CmdAllowRule[] = [];
  (st.cmd_allow ?? []).forEach((entry, i) => {
    const r = cmdAllowRule(entry);
    if ('error' in r) fail(['cmd_allow', i], r.error);
    else allow.push(r);
  });
  return Object.freeze({
    user: e.user,
    uid: user.uid,
    group: e.group ?? groupName(gid),
    gid,
    allow: st.cmd_allow === undefined ? null : Object.freeze(allow),
  });
}

/**
 * fwknop command messages (message type 0, `fwknop --server-cmd CMD`: "IP,CMD"), as fwknopd 2.6.11
 * runs them (server/incoming_spa.c process_cmd_msg; server/extcmd.c; common/fko_util.c strtoargv):
 *   - only for a stanza with ENABLE_CMD_EXEC Y, and never for one with a command cycle (fwknopd
 *     tries its cycle instead, which cannot parse a command as ports);
 *   - the command is split at blanks into at most 28 words and run with execvp: no shell, so
 *     quotes, pipes and redirections are plain words, as in fwknopd's default build;
 *   - as CMD_EXEC_USER (and CMD_EXEC_GROUP, else that user's primary group); fwknopd runs it as
 *     root when no user is set, which knockgate refuses at load (a stanza must name the user,
 *     `root` included if that is meant);
 *   - the address before the comma follows the access rules (REQUIRE_SOURCE_ADDRESS; 0.0.0.0 is
 *     the packet's source), as fwknopd's check_src_access runs before the message type is looked at.
 * knockgate's addition: `cmd_allow`, a list of exact commands or `/regular expressions/` matched
 * against the whole command text; with it, any other command is refused
 * (`fwknop-command-not-allowed`) and nothing runs. Pure.
 */

import { type IPAddressBytes, parseIPAddress, sameIPAddress } from '../ip-address.js';
import type { FwknopStanza } from '../door.js';
import { splitCommandWords } from './fwknop-cmd-cycle.js';
import type { FwknopMessage } from './fwknop-wire.js';

/** One `cmd_allow` entry, compiled. */
export type CmdAllowRule = { readonly exact: string } | { readonly pattern: RegExp; readonly text: string };

/** ENABLE_CMD_EXEC with its user, resolved at load. */
export interface FwknopCmdExec {
  readonly user: string;
  readonly uid: number;
  readonly group: string;
  readonly gid: number;
  /** null: any command (fwknop's behaviour); else only these. */
  readonly allow: readonly CmdAllowRule[] | null;
}

/** A command a stanza lets run: for whom, the argv, and as whom. */
export interface FwknopCommand {
  readonly text: string;
  readonly argv: readonly string[];
  readonly exec: FwknopCmdExec;
}

export type FwknopCommandDecision =
  | { readonly ok: true; readonly address: IPAddressBytes; readonly command: FwknopCommand }
  | {
      readonly ok: false;
      readonly reason: 'fwknop-malformed' | 'fwknop-not-allowed' | 'fwknop-command-not-allowed';
      readonly detail: string;
    };

/** Compiles a `cmd_allow` entry: `/…/` is a regular expression for the whole command, else the exact text. */
export function cmdAllowRule(entry: string): CmdAllowRule | { readonly error: string } {
  if (entry.length >= 2 && entry.startsWith('/') && entry.endsWith('/')) {
    try {
      return { pattern: new RegExp(`^(?:${entry.slice(1, -1)})$`, 'u'), text: entry };
    } catch (err) {
      return { error: `not a regular expression: ${(err as Error).message}` };
    }
  }
  return { exact: entry };
}

export function commandAllowed(rules: readonly CmdAllowRule[] | null, text: string): boolean {
  if (rules === null) return true;
  return rules.some((r) => ('exact' in r ? r.exact === text : r.pattern.test(text)));
}

/** `stanza.cmdExec` must be set; `source`: the packet's source address. */
export function decideFwknopCommand(
  stanza: FwknopStanza,
  message: FwknopMessage,
  source: IPAddressBytes,
): FwknopCommandDecision {
  const exec = stanza.cmdExec as FwknopCmdExec;
  const comma = message.message.indexOf(',');
  const asked = comma > 0 ? parseIPAddress(message.message.slice(0, comma)) : null;
  if (asked === null) return { ok: false, reason: 'fwknop-malformed', detail: 'command message' };
  const unspecified = asked.bytes.every((b) => b === 0);
  if (stanza.requireSourceAddress && (unspecified || !sameIPAddress(asked, source)))
    return {
      ok: false,
      reason: 'fwknop-not-allowed',
      detail: 'REQUIRE_SOURCE_ADDRESS: the packet must name its own source address',
    };
  const text = message.message.slice(comma + 1);
  if (!commandAllowed(exec.allow, text))
    return { ok: false, reason: 'fwknop-command-not-allowed', detail: 'the command is not in cmd_allow' };
  const argv = splitCommandWords(text);
  if ('error' in argv) return { ok: false, reason: 'fwknop-command-not-allowed', detail: argv.error };
  const address = unspecified ? source : asked;
  return { ok: true, address, command: { text, argv: argv.words, exec } };
}

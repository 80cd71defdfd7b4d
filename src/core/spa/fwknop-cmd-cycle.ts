/**
 * fwknop command cycles (access.conf CMD_CYCLE_OPEN, CMD_CYCLE_CLOSE, CMD_CYCLE_TIMER), as
 * fwknopd 2.6.11 defines them (server/cmd_cycle.c, server/access.c, common/fko_util.c strtoargv):
 *   - a stanza with a command cycle opens no firewall rule of its own: on an accepted access
 *     request it runs CMD_CYCLE_OPEN, and CMD_CYCLE_CLOSE after the client's timeout, or
 *     CMD_CYCLE_TIMER seconds when the client asked for none; CMD_CYCLE_CLOSE starting with
 *     `NONE` means no close command, and then no timer is needed;
 *   - the command is split at white space into at most 29 arguments (no quoting, no shell) and
 *     run with execvp; it must be shorter than 256 bytes (CMD_CYCLE_BUFSIZE);
 *   - variables, matched as prefixes in this order: $IP and $SRC (the address access is granted
 *     to), $PKT_SRC (the packet's source), $DST (the packet's destination), $PORT and $PROTO (the
 *     first port of the request and its IP protocol number, 6 or 17), $TIMEOUT (the packet's
 *     timestamp plus the timeout, Unix seconds), $CLIENT_TIMEOUT (the timeout in seconds).
 * knockgate is stricter: a `$` that starts none of these is an error at load (fwknopd drops the
 * `$` and keeps the rest), and every substituted value is knockgate's own parsed and re-formatted
 * field, checked again against a strict character class (hex digits, dots and colons for
 * addresses; decimal digits for numbers) before it is put in an argument. The arguments go to
 * execve without a shell, so no byte of a packet can become syntax.
 *
 * Pure: no I/O; the daemon (daemon/fwknop-cmd-cycle-run.ts) runs the result.
 */

/** CMD_CYCLE_BUFSIZE: a command must be shorter than this many bytes. */
export const MAX_CMD_CYCLE_BYTES = 255;
/** strtoargv's MAX_CMDLINE_ARGS (30) less one: add_argv fails at 29. */
export const MAX_CMD_CYCLE_ARGS = 28;
/** RCHK_MAX_CMD_CYCLE_TIMER (2 << 22). */
export const MAX_CMD_CYCLE_TIMER_S = 8_388_608;

/** In fwknopd's matching order ($IP before $SRC, …): each is matched as a prefix of what follows `$`. */
export const CMD_CYCLE_VARIABLES = [
  'IP',
  'SRC',
  'PKT_SRC',
  'DST',
  'PORT',
  'PROTO',
  'TIMEOUT',
  'CLIENT_TIMEOUT',
] as const;
export type CmdCycleVariable = (typeof CMD_CYCLE_VARIABLES)[number];

/** One argument: literal text and variables, in order. */
export type CmdCyclePart = string | { readonly variable: CmdCycleVariable };
export type CmdCycleArg = readonly CmdCyclePart[];

/** A stanza's command cycle, compiled. */
export interface FwknopCmdCycle {
  readonly open: readonly CmdCycleArg[];
  /** null: CMD_CYCLE_CLOSE NONE. */
  readonly close: readonly CmdCycleArg[] | null;
  /** CMD_CYCLE_TIMER: seconds until the close command when the client asked for no timeout. */
  readonly timerS: number;
  /** The commands as written, for logs and `knockgate check`. */
  readonly openText: string;
  readonly closeText: string | null;
}

/** What the variables stand for in one grant; every field is knockgate's own. */
export interface CmdCycleFacts {
  /** The granted address, formatted by knockgate. */
  readonly source: string;
  /** The packet's header source, formatted by knockgate. */
  readonly packetSource: string;
  /** The packet's destination, formatted by knockgate; null when the capture could not say. */
  readonly destination: string | null;
  readonly port: number;
  readonly protocolNumber: number;
  /** The SPA packet's timestamp, Unix seconds. */
  readonly timestampS: number;
  /** The timeout the close command waits, seconds. */
  readonly timeoutS: number;
}

const ADDRESS = /^[0-9a-f.:]{2,45}$/;
const NUMBER = /^[0-9]{1,12}$/;
/** C's isspace() in the "C" locale, as strtoargv splits. */
const BLANKS = /[ \t\n\v\f\r]+/;

/** strtoargv: the words of a command, at most MAX_CMD_CYCLE_ARGS of them, at least one. */
export function splitCommandWords(text: string): { readonly words: string[] } | { readonly error: string } {
  const words = text.split(BLANKS).filter((w) => w !== '');
  if (words.length === 0) return { error: 'the command is empty' };
  if (words.length > MAX_CMD_CYCLE_ARGS)
    return { error: `the command has more than ${MAX_CMD_CYCLE_ARGS} words (fwknopd's limit)` };
  return { words };
}

/** Splits and checks a CMD_CYCLE_OPEN or CMD_CYCLE_CLOSE command; an error names what is wrong. */
export function parseCmdCycleCommand(text: string): { readonly args: CmdCycleArg[] } | { readonly error: string } {
  if (Buffer.byteLength(text, 'utf8') > MAX_CMD_CYCLE_BYTES)
    return { error: `the command is longer than ${MAX_CMD_CYCLE_BYTES} bytes (fwknopd's limit)` };
  const split = splitCommandWords(text);
  if ('error' in split) return split;
  const words = split.words;
  const args: CmdCycleArg[] = [];
  for (const word of words) {
    const parts: CmdCyclePart[] = [];
    let rest = word;
    while (rest !== '') {
      const dollar = rest.indexOf('$');
      if (dollar < 0) {
        parts.push(rest);
        break;
      }
      if (dollar > 0) parts.push(rest.slice(0, dollar));
      const after = rest.slice(dollar + 1);
      const variable = CMD_CYCLE_VARIABLES.find((v) => after.startsWith(v));
      if (variable === undefined)
        return {
          error: `"$" in ${JSON.stringify(word)} starts no variable; known: ${CMD_CYCLE_VARIABLES.map((v) => `$${v}`).join(' ')} (fwknopd would drop the "$")`,
        };
      if (dollar === 0 && args.length === 0 && parts.length === 0)
        return { error: 'the program itself cannot be a variable: name the program to run' };
      parts.push({ variable });
      rest = after.slice(variable.length);
    }
    args.push(parts);
  }
  return { args };
}

/** The value of each variable for `facts`, or why one cannot be given (named, never thrown). */
export function cmdCycleValue(variable: CmdCycleVariable, facts: CmdCycleFacts): string | null {
  const number = (n: number): string | null => (Number.isSafeInteger(n) && n >= 0 ? String(n) : null);
  switch (variable) {
    case 'IP':
    case 'SRC':
      return facts.source;
    case 'PKT_SRC':
      return facts.packetSource;
    case 'DST':
      return facts.destination;
    case 'PORT':
      return number(facts.port);
    case 'PROTO':
      return number(facts.protocolNumber);
    case 'TIMEOUT':
      return number(facts.timestampS + facts.timeoutS);
    case 'CLIENT_TIMEOUT':
      return number(facts.timeoutS);
  }
}

/** Whether `value` is what `variable` may ever be: an address or a decimal number, nothing else. */
export function plainCmdCycleValue(variable: CmdCycleVariable, value: string): boolean {
  return variable === 'IP' || variable === 'SRC' || variable === 'PKT_SRC' || variable === 'DST'
    ? ADDRESS.test(value)
    : NUMBER.test(value);
}

/**
 * The argv for one grant, or the variable that could not be given a plain value (the caller
 * refuses the command, with a named reason; nothing runs).
 */
export function expandCmdCycle(
  args: readonly CmdCycleArg[],
  facts: CmdCycleFacts,
): { readonly argv: string[] } | { readonly refused: CmdCycleVariable } {
  const argv: string[] = [];
  for (const arg of args) {
    let out = '';
    for (const part of arg) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = cmdCycleValue(part.variable, facts);
      if (value === null || !plainCmdCycleValue(part.variable, value)) return { refused: part.variable };
      out += value;
    }
    argv.push(out);
  }
  return { argv };
}

/** CMD_CYCLE_CLOSE that starts with NONE (strncmp 4, as fwknopd) runs nothing. */
export function isNoCloseCommand(text: string): boolean {
  return text.startsWith('NONE');
}

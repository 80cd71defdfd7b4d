/**
 * Local faults: problems of this host (a bad config file, an `nft` failure, a missing interface).
 * They throw a KnockgateError with a stable code and the daemon fails fast with the code's exit
 * status. Remote faults (bad packets) are never errors: see reasons.ts.
 */

/** sysexits.h values, so that systemd and scripts can tell a bad config from a broken host. */
export const EXIT = {
  OK: 0,
  SOFTWARE: 70, // internal error
  USAGE: 64, // bad command line
  UNAVAILABLE: 69, // a required program, interface or kernel feature is missing
  CANTCREATE: 73, // cannot write a file we must write
  TEMPFAIL: 75, // another instance holds what we need
  NOPERM: 77, // not allowed (the control socket is root's)
  CONFIG: 78, // bad configuration
  NO_MATCH: 1, // an operator's command named nothing that exists (as grep does)
  NO_INPUT: 66, // a file to read is missing or unreadable (the audit trail)
  DATA: 65, // input data is not what it must be (a key file of the wrong kind)
  // `keep-open HOST -- CMD`, as env(1) and timeout(1): CMD found but not run, CMD not found.
  COMMAND_NOT_RUN: 126,
  COMMAND_NOT_FOUND: 127,
} as const;

export const ERROR_CODES = {
  KG_CONFIG_INVALID: { exit: EXIT.CONFIG, summary: 'configuration is invalid' },
  KG_CONFIG_UNREADABLE: { exit: EXIT.CONFIG, summary: 'configuration file cannot be read' },
  KG_USAGE: { exit: EXIT.USAGE, summary: 'bad command-line usage' },
  KG_FIREWALL_UNAVAILABLE: { exit: EXIT.UNAVAILABLE, summary: 'the firewall program is missing or refused to run' },
  KG_FIREWALL_FAILED: { exit: EXIT.SOFTWARE, summary: 'the firewall rejected a change' },
  /** knockgated --check: the kernel, asked to check (not apply) the table this config renders, said no. */
  KG_RULESET_REFUSED: { exit: EXIT.CONFIG, summary: 'nftables refused the ruleset this configuration renders' },
  /**
   * --strict: a protected port is one an established session uses and nothing lets its next
   * connection back in. 78, as a bad config: restarting will not help (RestartPreventExitStatus=78).
   */
  KG_LOCKOUT_RISK: { exit: EXIT.CONFIG, summary: 'the configuration would shut out a session in use (--strict)' },
  KG_CAPTURE_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'packet capture could not start' },
  KG_STATE_WRITE_FAILED: { exit: EXIT.CANTCREATE, summary: 'a state file could not be written' },
  KG_METRICS_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'the metrics endpoint could not listen' },
  KG_RESOLVE_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'a host name could not be resolved' },
  KG_ALREADY_RUNNING: {
    exit: EXIT.TEMPFAIL,
    summary: 'another knockgated manages the same table in this network namespace',
  },
  KG_CONNECT_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'the service did not answer after knocking' },
  /** The client could not put a knock on the wire: no route, the network is down, a local firewall said no. */
  KG_SEND_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'a knock could not be sent from this host' },
  /** The client's gpg run (an fwknop GnuPG packet) failed: no key, a wrong passphrase, no gpg. */
  KG_GPG_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'gpg could not encrypt or sign the fwknop packet' },
  KG_COMMAND_NOT_FOUND: { exit: EXIT.COMMAND_NOT_FOUND, summary: 'the command keep-open was to run does not exist' },
  KG_COMMAND_NOT_RUN: { exit: EXIT.COMMAND_NOT_RUN, summary: 'the command keep-open was to run could not be started' },
  KG_CONTROL_UNAVAILABLE: {
    exit: EXIT.UNAVAILABLE,
    summary: 'knockgated is not running or its control socket does not answer',
  },
  KG_CONTROL_DENIED: { exit: EXIT.NOPERM, summary: "the control socket is root's only" },
  KG_CONTROL_FAILED: { exit: EXIT.SOFTWARE, summary: 'the daemon could not carry out the request' },
  KG_RELOAD_REFUSED: {
    exit: EXIT.CONFIG,
    summary: 'the new configuration was not applied; knockgated runs on the one it had',
  },
  KG_NO_MATCH: { exit: EXIT.NO_MATCH, summary: 'no grant or door matches what was named' },
  KG_AUDIT_UNREADABLE: { exit: EXIT.NO_INPUT, summary: 'the audit trail is missing or cannot be read' },
  // The client's ssh-agent (client/ssh-agent.ts) and the OpenSSH public key naming its key.
  KG_SSH_KEY_UNREADABLE: { exit: EXIT.NO_INPUT, summary: 'the OpenSSH public key file cannot be read' },
  KG_SSH_KEY_INVALID: { exit: EXIT.DATA, summary: 'the file is not an ssh-ed25519 public key' },
  KG_SSH_AGENT_UNSET: { exit: EXIT.UNAVAILABLE, summary: 'SSH_AUTH_SOCK is not set: no ssh-agent to sign with' },
  KG_SSH_AGENT_UNREACHABLE: { exit: EXIT.UNAVAILABLE, summary: 'ssh-agent does not answer at SSH_AUTH_SOCK' },
  KG_SSH_AGENT_NO_KEY: { exit: EXIT.NO_INPUT, summary: "the credential's key is not in ssh-agent" },
  KG_SSH_AGENT_REFUSED: { exit: EXIT.NOPERM, summary: 'ssh-agent refused to sign' },
  KG_SSH_AGENT_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'ssh-agent gave no valid answer' },
  /**
   * A passphrase-protected credential did not open: a wrong passphrase, or a file edited after it
   * was sealed (the AEAD cannot tell which). 77, as a refused permission: retrying the same input fails.
   */
  KG_PASSPHRASE_WRONG: {
    exit: EXIT.NOPERM,
    summary: 'the passphrase does not open the credential (or the file was changed after it was protected)',
  },
  KG_PASSPHRASE_UNAVAILABLE: {
    exit: EXIT.NO_INPUT,
    summary: 'no passphrase could be read: no terminal, an unreadable --passphrase-fd, or the prompt was cancelled',
  },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class KnockgateError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KnockgateError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exit;
  }
}

/**
 * A configuration fault, located: the file, the 1-based line, and the dotted key path.
 * Rendered as `FILE:LINE: KEY: MESSAGE`, the form editors and CI logs link to.
 */
export class ConfigError extends KnockgateError {
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string | undefined;
  readonly detail: string;
  constructor(file: string, line: number | undefined, key: string | undefined, detail: string) {
    const where = line === undefined ? file : `${file}:${line}`;
    super('KG_CONFIG_INVALID', `${where}: ${key ? `${key}: ` : ''}${detail}`);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.key = key;
    this.detail = detail;
  }
}

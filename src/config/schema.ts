/**
 * The shape of knockgate.yaml, checked strictly: an unknown key anywhere is an error, and every
 * value is parsed into its final form (ports into endpoints, durations into numbers) here, so that
 * nothing downstream re-reads text. Cross-field rules live in compile/ (compileConfig).
 */

import { FWKNOP_ENCRYPTION_MODES } from '../core/spa/fwknop-cipher.js';
import { z } from 'zod';
import { parseSshPublicKeyLine, type SshEd25519PublicKey } from '../core/ssh/ssh-public-key.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_GRANT_DURATION_S,
  DEFAULT_MAX_TRACKED_SEQUENCES,
  MAX_COMMAND_ARG_BYTES,
  MAX_COMMAND_ARGS,
  MAX_COMMAND_TIMEOUT_MS,
  MAX_DOORS,
  MAX_GRANT_DURATION_S,
  MAX_MAX_TRACKED_SEQUENCES,
  MAX_GPG_SIGNER_IDS,
  MAX_OPEN_PORTS_PER_DOOR,
  MAX_SEQUENCE_TIMEOUT_MS,
  MIN_COMMAND_TIMEOUT_MS,
  MIN_GRANT_DURATION_S,
  MIN_MAX_TRACKED_SEQUENCES,
  MIN_SEQUENCE_TIMEOUT_MS,
  SPA_CLIENT_ID_BYTES,
  DEFAULT_SPA_FRESHNESS_S,
  MAX_SPA_FRESHNESS_MS,
  MIN_SPA_FRESHNESS_MS,
  MIN_REPLAY_ENTRIES,
  MAX_REPLAY_ENTRIES,
  DEFAULT_REPLAY_ENTRIES,
  DEFAULT_REPLAY_ENTRIES_PER_CLIENT,
  MAX_SPA_CLIENTS_PER_DOOR,
  DEFAULT_SPA_PORT,
  DEFAULT_METRICS_ADDRESS,
  DEFAULT_AUDIT_MAX_BYTES,
  MIN_AUDIT_MAX_BYTES,
  MAX_AUDIT_MAX_BYTES,
  DEFAULT_AUDIT_KEEP_FILES,
  MIN_AUDIT_KEEP_FILES,
  MAX_AUDIT_KEEP_FILES,
} from '../core/limits.js';
import { parseIPAddress } from '../core/ip-address.js';
import { DOOR_ID_PATTERN } from '../core/spa/native-door-keys.js';
import { checkTemplateArg } from '../core/command-template.js';
import { DEFAULT_TCP_FLAGS, parseTcpFlags, type TcpFlagCondition } from '../core/tcp-flags.js';
import { formatDurationMs } from '../core/duration.js';
import { NFT_KEYWORDS } from './nft-keywords.js';
import { duration, endpoint } from './schema-values.js';
import { sequenceSchema } from './sequence-schema.js';

export type { RawTotpSequence } from './sequence-schema.js';
import { parseIsoTimeMs } from './iso-time.js';
import { sensorSchema } from './sensor-schema.js';
import { cmdAllowSchema, cmdCycleSchema, cmdExecSchema } from './fwknop-command-schema.js';

/** Where accepted SPA packets are remembered, across restarts. */
export const DEFAULT_REPLAY_JOURNAL = '/var/lib/knockgate/replay.journal';
/** Where stop commands still to run are remembered, across restarts and crashes. */
export const DEFAULT_PENDING_COMMANDS = '/var/lib/knockgate/pending-commands.json';
/**
 * The audit trail (stores/audit-file.ts). Under /var/log, not /var/lib: the daemon never reads it
 * back (nothing it decides depends on it), it is what operators rotate (logrotate), ship and keep
 * for years, and /var/log is where those tools and backups look; systemd's LogsDirectory= makes it.
 */
export const DEFAULT_AUDIT_LOG = '/var/log/knockgate/audit.jsonl';
/** `audit_log: none`: no audit trail (the grants are still in the decision log). */
export const AUDIT_LOG_NONE = 'none';

/** Door names appear in logs, nft comments and command arguments: keep them boring. */
export const DOOR_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
/**
 * A Linux interface name (IFNAMSIZ - 1 = 15 bytes) or the pseudo-interface `any`; not starting
 * with `@`, which nftables would read as a set reference.
 */
const INTERFACE_NAME = /^[A-Za-z0-9_.:-][A-Za-z0-9_.:@-]{0,14}$/;

const tcpFlags = z.string().transform((v, ctx): TcpFlagCondition => {
  const r = parseTcpFlags(v);
  if ('error' in r) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
    return z.NEVER;
  }
  return r;
});

const commandArg = z
  .string()
  .max(MAX_COMMAND_ARG_BYTES)
  .superRefine((arg, ctx) => {
    const problem = checkTemplateArg(arg);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });

const command = z
  .array(commandArg, {
    invalid_type_error:
      'expected an argv list such as ["/usr/bin/logger", "opened for {ip}"]; commands never run through a shell',
  })
  .min(1, 'a command needs at least the program')
  .max(MAX_COMMAND_ARGS)
  .superRefine((argv, ctx) => {
    if (!argv[0]?.startsWith('/')) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [0],
        message: `the program must be an absolute path (no PATH lookup), got ${JSON.stringify(argv[0])}`,
      });
    }
  });

/** base64url (or standard base64) text that must decode to exactly `bytes` bytes. */
function base64Bytes(bytes: number, what: string) {
  return z.string().transform((v, ctx): Uint8Array => {
    const text = v.trim();
    if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(text)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what} must be base64url text` });
      return z.NEVER;
    }
    const raw = Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
    if (raw.length !== bytes) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${what} must decode to ${bytes} bytes, got ${raw.length}`,
      });
      return z.NEVER;
    }
    return new Uint8Array(raw);
  });
}

/** An OpenSSH public key line of type ssh-ed25519 (`ssh-ed25519 AAAA... comment`), parsed. */
function sshEd25519Key() {
  return z.string().transform((v, ctx): SshEd25519PublicKey => {
    const key = parseSshPublicKeyLine(v);
    if ('error' in key) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `the value ${key.error}` });
      return z.NEVER;
    }
    return key;
  });
}

export const spaClientSchema = z
  .object({
    name: z
      .string()
      .regex(DOOR_NAME, 'client names are 1-32 letters, digits, "_", "." or "-", starting with a letter or digit'),
    id: base64Bytes(SPA_CLIENT_ID_BYTES, 'a client id'),
    psk: base64Bytes(32, 'a psk').optional(),
    public_key: base64Bytes(32, 'an Ed25519 public key').optional(),
    /** An Ed25519 key held by the client's ssh-agent: it signs the SSHSIG wrapper of the transcript. */
    ssh_key: sshEd25519Key().optional(),
    /** Key rotation (`add-client --reissue`): the secret accepted only under spa.previous_server_key. */
    previous_psk: base64Bytes(32, 'a psk').optional(),
    previous_public_key: base64Bytes(32, 'an Ed25519 public key').optional(),
    previous_ssh_key: sshEd25519Key().optional(),
    allow: z.array(endpoint).max(MAX_OPEN_PORTS_PER_DOOR).optional(),
    max_duration: duration(MIN_GRANT_DURATION_S * 1000, MAX_GRANT_DURATION_S * 1000, true).optional(),
    other_address: z.boolean().default(false),
    require_address: z.boolean().default(false),
    widest_prefix: z
      .object({
        ipv4: z.number().int().min(1).max(32).default(32),
        ipv6: z.number().int().min(1).max(128).default(128),
      })
      .strict()
      .default({}),
  })
  .strict();

const stringList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

/** One fwknop access.conf stanza in knockgate's YAML (what `knockgate import` writes). */
/** fwknop's GnuPG mode for a stanza (access.conf GPG_*; core/spa/fwknop-gpg.ts). */
export const fwknopGpgSchema = z
  .object({
    home_dir: z.string().min(1),
    exe: z.string().min(1).default('/usr/bin/gpg'),
    decrypt_id: z.string().min(1),
    decrypt_pw: z.string().min(1).optional(),
    allow_no_pw: z.boolean().default(false),
    require_sig: z.boolean().default(true),
    ignore_sig_verify_error: z.boolean().default(false),
    remote_ids: z.array(z.string().min(1)).max(MAX_GPG_SIGNER_IDS).default([]),
    fingerprint_ids: z.array(z.string().min(1)).max(MAX_GPG_SIGNER_IDS).default([]),
  })
  .strict();

export const fwknopStanzaSchema = z
  .object({
    source: stringList,
    destination: stringList.default(['ANY']),
    open_ports: z.array(endpoint).max(MAX_OPEN_PORTS_PER_DOOR).optional(),
    restrict_ports: z.array(endpoint).max(MAX_OPEN_PORTS_PER_DOOR).optional(),
    key: z.string().min(1).optional(),
    key_base64: z.string().min(1).optional(),
    hmac_key: z.string().min(1).optional(),
    hmac_key_base64: z.string().min(1).optional(),
    hmac_digest_type: z
      .enum(['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512', 'sha3_256', 'sha3_512'])
      .default('sha256'),
    encryption_mode: z.enum(FWKNOP_ENCRYPTION_MODES).default('cbc'),
    fw_access_timeout: duration(MIN_GRANT_DURATION_S * 1000, MAX_GRANT_DURATION_S * 1000, true).optional(),
    max_fw_timeout: duration(MIN_GRANT_DURATION_S * 1000, MAX_GRANT_DURATION_S * 1000, true).optional(),
    require_username: z.string().min(1).optional(),
    require_source_address: z.boolean().default(false),
    access_expire_epoch: z.number().int().min(0).optional(),
    /** FORCE_NAT IP PORT (with FORCE_MASQUERADE / FORCE_SNAT): this stanza's grants go to an inner host. */
    force_nat: z
      .object({
        to: z.string(),
        port: z.number().int().min(1).max(65_535),
        masquerade: z.boolean().default(false),
        snat: z.string().optional(),
      })
      .strict()
      .optional(),
    gpg: fwknopGpgSchema.optional(),
    // CMD_EXEC_* and CMD_CYCLE_* (fwknop-command-schema.ts): command messages as a named user,
    // knockgate's allowlist, and commands run instead of the firewall (`close: NONE` runs none).
    cmd_exec: cmdExecSchema.optional(),
    cmd_allow: cmdAllowSchema.optional(),
    cmd_cycle: cmdCycleSchema.optional(),
  })
  .strict();

export const doorSchema = z
  .object({
    name: z
      .string()
      .regex(DOOR_NAME, 'door names are 1-32 letters, digits, "_", "." or "-", starting with a letter or digit'),
    spa: z
      .object({
        port: z.number().int().min(1).max(65_535),
        capture: z.enum(['socket', 'pcap']).default('socket'),
        door_id: z
          .string()
          .regex(DOOR_ID_PATTERN, 'door ids are 1-64 letters, digits, "_", "." or "-", starting with a letter or digit')
          .optional(),
      })
      .strict()
      .optional(),
    clients: z.array(spaClientSchema).max(MAX_SPA_CLIENTS_PER_DOOR).optional(),
    fwknop: z
      .object({
        port: z.number().int().min(1).max(65_535).default(DEFAULT_SPA_PORT),
        capture: z.enum(['socket', 'pcap']).default('pcap'),
      })
      .strict()
      .optional(),
    /** fwknop's access.conf, read directly (instead of, or before, `stanzas`). */
    access_conf: z.string().min(1).optional(),
    stanzas: z.array(fwknopStanzaSchema).max(MAX_SPA_CLIENTS_PER_DOOR).optional(),
    max_duration: duration(MIN_GRANT_DURATION_S * 1000, MAX_GRANT_DURATION_S * 1000, true).optional(),
    sequence: sequenceSchema.optional(),
    one_time_sequences: z.string().min(1).optional(),
    sequence_timeout: duration(MIN_SEQUENCE_TIMEOUT_MS, MAX_SEQUENCE_TIMEOUT_MS, false).optional(),
    tcp_flags: tcpFlags.optional(),
    open: z.array(endpoint).max(MAX_OPEN_PORTS_PER_DOOR).default([]),
    duration: duration(MIN_GRANT_DURATION_S * 1000, MAX_GRANT_DURATION_S * 1000, true).default(
      `${DEFAULT_GRANT_DURATION_S}s`,
    ),
    start_command: command.optional(),
    stop_command: command.optional(),
    /** knockd-style shell strings with %IP% (see door.ts); mutually exclusive with *_command. */
    start_shell: z.string().max(MAX_COMMAND_ARG_BYTES).optional(),
    start_shell_6: z.string().max(MAX_COMMAND_ARG_BYTES).optional(),
    stop_shell: z.string().max(MAX_COMMAND_ARG_BYTES).optional(),
    stop_shell_6: z.string().max(MAX_COMMAND_ARG_BYTES).optional(),
    target: z.string().optional(),
    command_timeout: duration(MIN_COMMAND_TIMEOUT_MS, MAX_COMMAND_TIMEOUT_MS, false).default(
      formatDurationMs(DEFAULT_COMMAND_TIMEOUT_MS),
    ),
    hide_knock_ports: z.boolean().optional(),
    /** Where `open` is guarded: this host's services (input), or traffic through it (forward). */
    hook: z.enum(['input', 'forward']).optional(),
    /** Forward granted traffic to an inner address for the grant's lifetime (fwknop's FORCE_NAT). */
    nat: z
      .object({
        to: z.string(),
        port: z.number().int().min(1).max(65_535).optional(),
        masquerade: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

const isoTime = z.unknown().transform((v, ctx): number => {
  const r = parseIsoTimeMs(v);
  if (typeof r !== 'number') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
    return z.NEVER;
  }
  return r;
});

export const spaSettingsSchema = z
  .object({
    /** X25519 private key file written by `knockgate keygen`. */
    server_key: z.string().min(1).optional(),
    /** Key rotation: the server key before server_key, accepted until previous_key_until. */
    previous_server_key: z.string().min(1).optional(),
    previous_key_until: isoTime.optional(),
    freshness: duration(MIN_SPA_FRESHNESS_MS, MAX_SPA_FRESHNESS_MS, false).default(`${DEFAULT_SPA_FRESHNESS_S}s`),
    replay_journal: z.string().min(1).default(DEFAULT_REPLAY_JOURNAL),
    max_replay_entries: z
      .number()
      .int()
      .min(MIN_REPLAY_ENTRIES)
      .max(MAX_REPLAY_ENTRIES)
      .default(DEFAULT_REPLAY_ENTRIES),
    max_replay_entries_per_client: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPLAY_ENTRIES)
      .default(DEFAULT_REPLAY_ENTRIES_PER_CLIENT),
  })
  .strict();

/** The optional Prometheus endpoint (metrics/http-endpoint.ts). */
export const metricsSettingsSchema = z
  .object({
    address: z
      .string()
      .refine((a) => parseIPAddress(a) !== null, 'an IPv4 or IPv6 address (no host names: the endpoint binds to it)')
      .default(DEFAULT_METRICS_ADDRESS),
    port: z.number().int().min(1).max(65_535),
  })
  .strict();

export const configSchema = z
  .object({
    interfaces: z
      .array(z.string().regex(INTERFACE_NAME, 'not a valid interface name'))
      .min(1, 'name at least one interface, or [any]'),
    sensor: sensorSchema.default('pcap'),
    /** Listed interfaces that may be missing at start, or go and come back (VPN, PPP, veths). */
    late_interfaces: z.array(z.string().regex(INTERFACE_NAME, 'not a valid interface name')).default([]),
    /** Interfaces on which protected ports are not dropped (lo always is exempt). */
    exempt_interfaces: z.array(z.string().regex(INTERFACE_NAME, 'not a valid interface name')).default([]),
    firewall: z.enum(['nftables', 'iptables', 'none']).default('nftables'),
    /**
     * nftables table (family inet) that knockgate owns, or with `firewall: iptables` the name in its
     * chains and ipsets (kg_NAME_in, kg_NAME_g4, ...); changing it lets two daemons coexist.
     */
    nft_table: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'table names are letters, digits and "_"')
      .refine(
        (name) => !NFT_KEYWORDS.has(name),
        (name) => ({
          message: `${JSON.stringify(name)} is an nft keyword: nft could not name the table (e.g. "nft list table inet ${name}" is a syntax error); choose another name, e.g. ${name}_kg`,
        }),
      )
      .default('knockgate'),
    max_tracked_sequences: z
      .number()
      .int()
      .min(MIN_MAX_TRACKED_SEQUENCES)
      .max(MAX_MAX_TRACKED_SEQUENCES)
      .default(DEFAULT_MAX_TRACKED_SEQUENCES),
    log_level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    /** Also append the JSON log lines to this file (knockd's LogFile). */
    log_file: z.string().min(1).optional(),
    /** Also send the log lines to syslog through logger(1) (knockd's UseSyslog). */
    syslog: z.boolean().default(false),
    /** Write the daemon's PID here while it runs (knockd's PidFile). */
    pid_file: z.string().min(1).optional(),
    /** The pending stop commands file (stores/pending-commands.ts). */
    pending_commands: z.string().min(1).default(DEFAULT_PENDING_COMMANDS),
    /** The audit trail's file (a path, relative to this file's directory), or `none`. */
    audit_log: z
      .string({ invalid_type_error: 'expected a file path, or none' })
      .min(1, 'expected a file path, or none')
      .refine(
        (p) => p === AUDIT_LOG_NONE || (!p.endsWith('/') && !/\p{Cc}/u.test(p)),
        'expected a file path (not a directory, no control characters), or none',
      )
      .default(DEFAULT_AUDIT_LOG),
    /** Rotate the audit trail before it grows past this many bytes. */
    audit_log_max_bytes: z
      .number()
      .int()
      .min(MIN_AUDIT_MAX_BYTES)
      .max(MAX_AUDIT_MAX_BYTES)
      .default(DEFAULT_AUDIT_MAX_BYTES),
    /** Rotated audit files kept (.1 to .N). */
    audit_log_keep: z
      .number()
      .int()
      .min(MIN_AUDIT_KEEP_FILES)
      .max(MAX_AUDIT_KEEP_FILES)
      .default(DEFAULT_AUDIT_KEEP_FILES),
    spa: spaSettingsSchema.optional(),
    metrics: metricsSettingsSchema.optional(),
    doors: z.array(doorSchema).min(1, 'configure at least one door').max(MAX_DOORS),
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;
export type RawDoor = z.infer<typeof doorSchema>;
export type RawSpaClient = z.infer<typeof spaClientSchema>;
export type RawFwknopStanza = z.infer<typeof fwknopStanzaSchema>;
export { DEFAULT_TCP_FLAGS };

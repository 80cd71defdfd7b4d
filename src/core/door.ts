/**
 * A door, compiled from configuration: what knock opens it, what it opens, for how long, and what
 * runs when it opens and closes. Immutable once built; a reload builds new doors.
 */

import type { FwknopEncryptionMode } from './spa/fwknop-cipher.js';
import type { FwknopGpgSettings } from './spa/fwknop-gpg.js';
import type { FwknopCmdCycle } from './spa/fwknop-cmd-cycle.js';
import type { FwknopCmdExec } from './spa/fwknop-command-message.js';
import type { KeyObject } from 'node:crypto';
import type { CidrSet } from './cidr.js';
import type { ClientAuthMode } from './spa/native-client-auth.js';
import type { Endpoint } from './endpoint.js';
import type { TcpFlagCondition } from './tcp-flags.js';
import type { TotpParameters } from './totp-sequence.js';

/** A door whose sequence changes with the clock (`sequence: { totp: FILE, ... }`; core/totp-sequence.ts). */
export interface TotpDoorSettings {
  /** Absolute path of the shared secret's file (stores/totp-secret-file.ts). */
  readonly secretFile: string;
  readonly parameters: TotpParameters;
}

/**
 * A client's secret as the server holds it: a psk, or an Ed25519 public key (mode ed25519: the
 * client signs the transcript; ssh-ed25519: ssh-agent signs its SSHSIG wrapper).
 */
export interface SpaClientSecret {
  readonly mode: ClientAuthMode;
  readonly psk?: Uint8Array;
  readonly publicKey?: KeyObject;
}

/** A client allowed to open an SPA door, and what it may ask for. */
export interface SpaClient {
  readonly name: string;
  /** 16 random bytes, and their hex form (the lookup key). */
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly mode: ClientAuthMode;
  readonly psk?: Uint8Array;
  readonly publicKey?: KeyObject;
  /**
   * Key rotation: the secret the client held before `knockgate add-client --reissue` (the entry's
   * `previous_psk`, `previous_public_key` or `previous_ssh_key`), accepted only in datagrams made for the previous
   * server key; under the current key only the secret above authenticates.
   */
  readonly previous?: SpaClientSecret;
  /** Ports it may ask for (a subset of the door's `open`); also what it gets when it asks for none. */
  readonly allow: readonly Endpoint[];
  readonly maxDurationS: number;
  /** May ask for an address other than the packet's source. */
  readonly otherAddress: boolean;
  /** Refuse requests bound to no address (family 0): `require_address`. */
  readonly requireAddress: boolean;
  /** The shortest prefix length it may ask for, per family (32 / 128: one address only). */
  readonly minPrefix: { readonly 4: number; readonly 6: number };
}

export interface ShellCommands {
  readonly start4: string;
  readonly start6: string;
  readonly stop4: string;
  readonly stop6: string;
}

/** One access.conf stanza, compiled: who may knock with which keys, and for what. */
export interface FwknopStanza {
  /**
   * Where it came from, for logs: `knockgate.yaml:40`, or `/etc/fwknop/access.conf stanza 2` for a
   * stanza read through access_conf. Also the stanza's replay identity (fwknop-handler.ts), so it
   * must not change between releases.
   */
  readonly origin: string;
  readonly sources: CidrSet;
  readonly destinations: CidrSet;
  /** OPEN_PORTS: the ports a request may name; null: any protected port of the door. */
  readonly openPorts: readonly Endpoint[] | null;
  /** RESTRICT_PORTS: never granted. */
  readonly restrictPorts: readonly Endpoint[];
  readonly key: Uint8Array;
  readonly hmacKey: Uint8Array | null;
  readonly hmacType: 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';
  /** ENCRYPTION_MODE (core/spa/fwknop-cipher.ts). */
  readonly encryptionMode: FwknopEncryptionMode;
  readonly accessTimeoutS: number;
  /** Cap on a client-timeout request (message type 3); null: the door's max. */
  readonly maxTimeoutS: number | null;
  readonly requireUsername: string | null;
  readonly requireSourceAddress: boolean;
  /** Unix seconds after which the stanza grants nothing; null: never. */
  readonly expiresAtS: number | null;
  /**
   * FORCE_NAT (with FORCE_MASQUERADE): every grant of this stanza is forwarded to this inner host
   * for its lifetime, at the given port, as fwknopd does; absent or null: granted on this host.
   */
  readonly forceNat?: NatTarget | null;
  /**
   * fwknop's GnuPG mode (GPG_*; core/spa/fwknop-gpg.ts): GnuPG packets are tried against this
   * stanza; absent or null: only Rijndael packets. A GnuPG-only stanza has an empty `key`.
   */
  readonly gpg?: FwknopGpgSettings | null;
  /**
   * CMD_CYCLE_OPEN/CLOSE/TIMER: an accepted request runs these commands instead of opening the
   * firewall (core/spa/fwknop-cmd-cycle.ts); absent or null: the firewall is opened.
   */
  readonly cmdCycle?: FwknopCmdCycle | null;
  /**
   * ENABLE_CMD_EXEC (with CMD_EXEC_USER/GROUP, and knockgate's cmd_allow): command messages this
   * stanza runs (core/spa/fwknop-command-message.ts); absent or null: they are refused.
   */
  readonly cmdExec?: FwknopCmdExec | null;
}

export interface FwknopDoorSettings {
  readonly port: number;
  readonly capture: 'socket' | 'pcap';
  readonly stanzas: readonly FwknopStanza[];
  /** Longest grant any request may get. */
  readonly maxDurationS: number;
}

export interface SpaDoorSettings {
  /** UDP port the SPA datagrams are sent to. */
  readonly port: number;
  /** `socket`: a UDP socket that never answers; `pcap`: nothing listens, libpcap reads them. */
  readonly capture: 'socket' | 'pcap';
  /** What the door is called on the wire (docs/protocol.md, door context): `spa.door_id`, else the door's name. */
  readonly doorId: string;
  readonly clients: readonly SpaClient[];
}

/** Whether a door leaves a command to run later (its stop_command, knockd's stop shell commands, CMD_CYCLE_CLOSE). */
export function hasStopCommand(door: Door): boolean {
  return (
    door.stopCommand !== null ||
    (door.shell !== null && (door.shell.stop4 !== '' || door.shell.stop6 !== '')) ||
    (door.fwknop?.stanzas.some((s) => (s.cmdCycle?.close ?? null) !== null) ?? false)
  );
}

/** Where an SPA or fwknop door receives its datagrams; null for a knock-sequence door. */
export function listenerOf(door: Door): { readonly port: number; readonly capture: 'socket' | 'pcap' } | null {
  return door.spa ?? door.fwknop;
}

/**
 * A port-forward for a grant's lifetime (fwknop's FORCE_NAT): traffic from a granted source to one
 * of the door's `open` ports on this host is sent on to `address` (DNAT), at `port`, or at the
 * same port when null. Only grants of the address's family are forwarded.
 */
export interface NatTarget {
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number | null;
  /** Also rewrite the source to this host's (masquerade), for inner hosts that route elsewhere. */
  readonly masquerade: boolean;
  /** Or rewrite the source to this address (fwknop's FORCE_SNAT); null or absent: not. */
  readonly snatTo?: string | null;
}

/**
 * Where a door's ports are guarded. `input` (the default): services on this host, in the input
 * hook. `forward`: services behind it (a router in front of a LAN, Docker's published ports),
 * guarded before any DNAT, so that a port is named as clients address it; `nat` additionally
 * forwards the granted traffic to an inner address.
 */
export interface ForwardSettings {
  readonly nat: NatTarget | null;
}

export interface Door {
  readonly name: string;
  /** Set for doors that guard the forward path (`hook: forward`, `nat:`); absent or null: input. */
  readonly forward?: ForwardSettings | null;
  /** Set for SPA doors; then `sequence` is null and there is no one-time file. */
  readonly spa: SpaDoorSettings | null;
  /** Set for fwknop-compatible SPA doors; then `sequence` and `spa` are null. */
  readonly fwknop: FwknopDoorSettings | null;
  /** The fixed sequence, or null when the door reads one-time sequences from a file or is SPA. */
  readonly sequence: readonly Endpoint[] | null;
  /** Absolute path of the one-time sequence file, when the door uses one. */
  readonly oneTimeSequencesFile: string | null;
  /** Set when the sequence is derived from a secret and the clock; then `sequence` is null and there is no one-time file. */
  readonly totp: TotpDoorSettings | null;
  readonly sequenceTimeoutMs: number;
  readonly tcpFlags: TcpFlagCondition;
  /** Ports opened for the knocking source (SPA: the most any client may get). Empty when the door only runs commands. */
  readonly open: readonly Endpoint[];
  /** How long a grant lasts; also when stop_command runs. */
  readonly durationS: number;
  /** argv templates (see command-template.ts); run without a shell. */
  readonly startCommand: readonly string[] | null;
  readonly stopCommand: readonly string[] | null;
  /**
   * knockd-style shell commands (`/bin/sh -c`, `%IP%` replaced by the parsed, re-formatted
   * address), by family; '' runs nothing. Set only by knockd.conf imports and `start_shell` keys.
   * Each completed knock runs start, and stop `durationS` later, as knockd does.
   */
  readonly shell: ShellCommands | null;
  /** Only knocks addressed to this IP count (knockd's Target); null: any local address. */
  readonly target: string | null;
  readonly commandTimeoutMs: number;
  /** Drop packets to the knock ports so that they look filtered, not closed (default true). */
  readonly hideKnockPorts: boolean;
}

/**
 * Every size, count and time bound of knockgate, in one place, with its unit in its name.
 *
 * Contract: nothing else in the code base hard-codes a bound or a default. A reviewer who wants to
 * know how much memory or time a hostile peer can make the daemon spend starts here. Two kinds of
 * number live elsewhere on purpose: what another program compiles in and an importer reproduces
 * (knockd's and fwknopd's defaults, beside knockd-conf.ts and fwknop-access-conf.ts, named for
 * that program), and sizes fixed by a format (header lengths, key sizes, the port range).
 */

/**
 * Bytes of each frame libpcap captures (the snap length): more than any knock needs (a native SPA
 * datagram is at most 512 bytes of payload; with Ethernet, two VLAN tags, IPv6 and UDP headers, 582).
 * It also sizes the slots of libpcap's immediate-mode ring: with 65,535 (the usual default) a
 * 16 MB ring holds ~127 frames, which a flood fills in about a millisecond; at this size three
 * slots fit in a 4 KiB block, so CAPTURE_BUFFER_BYTES holds thousands. A longer frame arrives cut
 * and is dropped as truncated.
 */
export const CAPTURE_SNAPLEN_BYTES = 1_200;

/** 802.1Q / 802.1ad tags we skip before giving up on a frame (QinQ is two). */
export const MAX_VLAN_TAGS = 2;

/** IPv6 extension headers we walk before the transport header; more is treated as hostile. */
export const MAX_IPV6_EXTENSION_HEADERS = 8;

/** Steps in one knock sequence. knockd has no limit; 32 ports is far beyond any sane secret. */
export const MAX_SEQUENCE_STEPS = 32;

/** Doors in one configuration. */
export const MAX_DOORS = 256;

/** Ports a door may open. */
export const MAX_OPEN_PORTS_PER_DOOR = 64;

/** Default and bounds of `sequence_timeout`. */
export const DEFAULT_SEQUENCE_TIMEOUT_MS = 10_000;
export const MIN_SEQUENCE_TIMEOUT_MS = 100;
export const MAX_SEQUENCE_TIMEOUT_MS = 3_600_000;

/** Bounds of a door's grant `duration`. The kernel's set timeouts are whole seconds. */
export const MIN_GRANT_DURATION_S = 1;
export const MAX_GRANT_DURATION_S = 86_400;
/**
 * A door's `duration` when it names none: fwknopd's default FW_ACCESS_TIMEOUT, long enough to
 * connect after knocking, short enough that an opening nobody uses does not linger.
 */
export const DEFAULT_GRANT_DURATION_S = 30;

/**
 * `knockgate keep-open`: it knocks again this long before the grant it asked for runs out: the
 * larger of KEEP_OPEN_MIN_MARGIN_MS and KEEP_OPEN_MARGIN_PERCENT of the grant, but never more than
 * half of it (core/keep-open-schedule.ts). A grant shorter than KEEP_OPEN_MIN_DURATION_S is refused:
 * it would mean knocking more than once a second.
 */
export const KEEP_OPEN_MIN_MARGIN_MS = 3_000;
export const KEEP_OPEN_MARGIN_PERCENT = 25;
export const KEEP_OPEN_MIN_DURATION_S = 2;
/** A failed knock is retried after 1 s, 2 s, 4 s, ... up to this (and up to the refresh interval, if shorter). */
export const KEEP_OPEN_RETRY_BASE_MS = 1_000;
export const KEEP_OPEN_RETRY_MAX_MS = 60_000;
/** How often `keep-open --while-pid` looks whether the process still lives. */
export const KEEP_OPEN_PID_POLL_MS = 500;

/** Default and bounds of the number of (door, source) sequences tracked at once. */
export const DEFAULT_MAX_TRACKED_SEQUENCES = 100_000;
export const MIN_MAX_TRACKED_SEQUENCES = 16;
export const MAX_MAX_TRACKED_SEQUENCES = 4_000_000;

/** How often the daemon reclaims timed-out sequence state (the timeout itself is exact). */
export const SEQUENCE_SWEEP_INTERVAL_MS = 250;
/** How often the captures look for interfaces that have appeared, gone, or come back (Captures.refresh). */
export const INTERFACE_WATCH_INTERVAL_MS = 1000;

/** Commands (start/stop): wall-clock limit per run, and how many may run or wait at once. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
/**
 * The shortest `command_timeout`: a busy host needs tens of milliseconds to start a program at all,
 * so a limit below this would kill every command, and is a unit mistake (`5` for `5s`).
 */
export const MIN_COMMAND_TIMEOUT_MS = 100;
export const MAX_COMMAND_TIMEOUT_MS = 600_000;
export const MAX_CONCURRENT_COMMANDS = 8;
export const MAX_QUEUED_COMMANDS = 1_024;
/** Bytes of a command's stdout/stderr kept for the log. */
export const MAX_COMMAND_OUTPUT_BYTES = 4_096;
/** Arguments in one command, and bytes in one argument after substitution. */
export const MAX_COMMAND_ARGS = 64;
export const MAX_COMMAND_ARG_BYTES = 4_096;
/** Entries of a fwknop stanza's cmd_allow (exact commands or patterns). */
export const MAX_CMD_ALLOW_ENTRIES = 64;

/** One-time sequence files: lines (used ones included) and bytes read; more is an error naming the line. */
export const MAX_ONE_TIME_SEQUENCE_LINES = 100_000;
export const MAX_ONE_TIME_SEQUENCE_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Time-based knock sequences (core/totp-sequence.ts): the period bounds (a period shorter than a
 * knock takes would expire the sequence under the client), steps, the secret's size, and the skew
 * in periods accepted on either side of the server's current one.
 */
export const MIN_TOTP_PERIOD_MS = 5_000;
export const MAX_TOTP_PERIOD_MS = 3_600_000;
export const DEFAULT_TOTP_PERIOD_MS = 30_000;
export const MIN_TOTP_STEPS = 2;
export const DEFAULT_TOTP_STEPS = 4;
export const TOTP_SECRET_BYTES = 32;
export const TOTP_SKEW_PERIODS = 1;
/** HMAC blocks a derivation may draw (8 candidate ports each) before it gives up; never reached for a range of at least `steps` ports. */
export const MAX_TOTP_BLOCKS = 256;
/** Burnt-counter records kept on disk (stores/totp-burnt-file.ts); past that the file is compacted at start. */
export const MAX_TOTP_BURNT_RECORDS = 100_000;

/** Configuration file size. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/**
 * YAML aliases a configuration may expand (yaml's maxAliasCount): a real file uses a few, and the
 * bound stops an alias bomb (aliases of aliases, exponential output) before it costs memory.
 */
export const MAX_CONFIG_YAML_ALIASES = 100;

/**
 * Attempts at one log line that the kernel refuses for now (EAGAIN on a non-blocking stdout), 1 ms
 * apart: a reader stalled longer than ~100 ms loses the line, rather than the daemon stalling.
 */
export const MAX_LOG_WRITE_ATTEMPTS = 100;

/**
 * How long the gate remembers a grant past its expiry. The kernel removes an element on its own
 * timer, which may run a little late; while remembered, a new grant for it replaces the element
 * rather than assuming it is gone.
 */
export const GRANT_MIRROR_GRACE_MS = 5_000;
/**
 * Entries in the gate's expiry mirror beyond which a grant also forgets the expired ones: the walk
 * costs in proportion to the mirror, so it is not done on every grant, and the mirror stays
 * bounded by the live grants plus this.
 */
export const GRANT_MIRROR_PRUNE_ENTRIES = 2_048;

/** Grants handed to `nft` in one batch; more wait for the next batch. */
export const MAX_GRANTS_PER_FIREWALL_BATCH = 512;
/**
 * Bytes of JSON in one batch, well below the worker's 16 MiB request limit (MAX_REQUEST_BYTES in
 * native/knockgate-nft.c): a batch is cut at whichever of this and the count comes first. 512
 * IPv6 prefixes × 64 ports is ~8 MiB of JSON, so such a burst goes in a few batches.
 */
export const MAX_FIREWALL_BATCH_BYTES = 2 * 1024 * 1024;
/** Wall-clock limit of one `nft` run, or of one answer from the nftables worker. */
export const FIREWALL_COMMAND_TIMEOUT_MS = 10_000;
/**
 * Entries one ipset of the iptables gate holds (`maxelem`, ipset's own default): per set, so per
 * family and per kind of source (address or prefix). A grant past it is refused by the kernel
 * ("Hash is full") and fails on its own.
 */
export const IPSET_MAX_ELEMENTS = 65_536;
/**
 * Largest `ipset list -output save` answer read for one set: IPSET_MAX_ELEMENTS lines of at most
 * MAX_IPSET_LINE_CHARS, plus the header. A longer answer is a failure, not a partial listing.
 */
export const MAX_IPSET_LINE_CHARS = 256;
export const MAX_IPSET_LISTING_BYTES = (IPSET_MAX_ELEMENTS + 16) * MAX_IPSET_LINE_CHARS;
/**
 * Longest nft_table with `firewall: iptables`: the name goes into chain names (`kg_NAME_fwd`,
 * iptables allows 28 characters) and set names (`kg_NAME_g4`, ipset allows 31).
 */
export const MAX_IPTABLES_TABLE_NAME_CHARS = 20;
/** Largest answer of `iptables -S CHAIN` read while installing (a host with Docker or Kubernetes has thousands of rules). */
export const MAX_IPTABLES_LISTING_BYTES = 16 * 1024 * 1024;
/** Largest answer read from the nftables worker (a listing of a table with a million grants fits). */
export const MAX_NFT_WORKER_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Bytes of the worker's stderr kept to explain its death: its own messages are one line. */
export const MAX_NFT_WORKER_STDERR_BYTES = 1_024;

/** Log lines per second per drop reason before the rest are only counted and summarised. */
export const MAX_DROP_LOG_LINES_PER_S = 20;

/**
 * libpcap's ring per capture (kernel memory mapped into the daemon, counted in its RSS): about
 * 2,800 frames at CAPTURE_SNAPLEN_BYTES in ~3.9 MB, 28 ms of a 100k packets/s flood while the
 * event loop is busy elsewhere. Frames the kernel could not queue are counted (`capture_dropped`).
 */
export const CAPTURE_BUFFER_BYTES = 3_584 * 1024;
/** Bytes of frames handed from the binding to JavaScript in one call. */
export const CAPTURE_BATCH_BYTES = 256 * 1024;
/**
 * Frames a new capture may hold while it takes over from the one it replaces (daemon/captures.ts:
 * two turns of the event loop, well under a millisecond); more, under a flood, are dropped.
 */
export const MAX_CAPTURE_HANDOVER_FRAMES = 4_096;

/**
 * Receive queue of an SPA socket (forced past net.core.rmem_max). The kernel charges a small
 * datagram ~1-2 KiB of it, so this queues ~10,000: 100 ms of a 100k datagrams/s flood.
 */
export const SPA_SOCKET_BUFFER_BYTES = 16 * 1024 * 1024;
/** Bytes of datagrams handed from the socket binding to JavaScript in one call. */
export const SPA_SOCKET_BATCH_BYTES = 256 * 1024;
/**
 * Bytes of one datagram the SPA socket reads (MAX_DATAGRAM_BYTES in native/udp-batch.c, which a
 * unit test keeps equal to this): more than the longest valid packet of either kind (MAX_SPA_BYTES,
 * MAX_FWKNOP_PACKET_BYTES), so that a longer datagram, which arrives cut to this, is still too
 * long and is dropped by the length check rather than parsed from its first bytes.
 */
export const MAX_SPA_DATAGRAM_BYTES = 1_024;

/** Client: bounds of the delay between knock steps. */
export const MAX_KNOCK_DELAY_MS = 60_000;
/**
 * Client, address resolver (`--resolve-url`): how long one lookup may take, and the largest answer
 * read (one address with whitespace is under 64 bytes; more is not an answer).
 */
export const DEFAULT_RESOLVER_TIMEOUT_MS = 5_000;
export const MAX_RESOLVER_BODY_BYTES = 256;
/** Characters of a resolve_url in a credential file: beyond what any resolver URL needs. */
export const MAX_RESOLVE_URL_CHARS = 2_000;

/**
 * Client, ssh-agent (client/ssh-agent.ts): the largest agent message read (OpenSSH's agent caps
 * its own messages at 256 KiB; an identities answer with many RSA keys and certificates stays far
 * below), and how long one signature may take in all, connecting included: long enough for a
 * person to answer the confirmation a key added with `ssh-add -c` asks for.
 */
export const MAX_SSH_AGENT_ANSWER_BYTES = 256 * 1024;
export const SSH_AGENT_TIMEOUT_MS = 30_000;

/** SPA datagram size bounds: the smallest valid packet (psk mode, defaults) and the most we read. */
export const MIN_SPA_BYTES = 145;
export const MAX_SPA_BYTES = 512;
/** Ports one SPA request may ask for; the count field is one byte, this keeps packets small. */
export const MAX_SPA_PORTS = 64;
/** Size of an SPA client id, the name of the key a packet is authenticated with. */
export const SPA_CLIENT_ID_BYTES = 16;
/** Size of the per-packet random nonce that, with the client id, the replay store remembers. */
export const SPA_NONCE_BYTES = 16;
/** The UDP port SPA uses when nothing says otherwise: fwknop's default, kept for both kinds. */
export const DEFAULT_SPA_PORT = 62201;

/** Where the optional Prometheus endpoint listens unless `metrics.address` says otherwise: this host only. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1';
/** Requests the metrics endpoint serves at once; more wait in the kernel's backlog. */
export const MAX_METRICS_CONNECTIONS = 16;
/** A scrape that has not sent its request line and headers by then is closed. */
export const METRICS_REQUEST_TIMEOUT_MS = 5_000;
/** A control request (`knockgate status`, `revoke`, ...) larger than this is refused unread. */
export const MAX_CONTROL_REQUEST_BYTES = 64 * 1024;
/** Control requests the daemon serves at once; more are refused with a named error. */
export const MAX_CONTROL_CONNECTIONS = 8;
/** A control client that has not sent its whole request by then is closed. */
export const CONTROL_REQUEST_TIMEOUT_MS = 5_000;
/** How long `knockgate` waits for the daemon's answer (a revoke waits for the kernel). */
export const CONTROL_ANSWER_TIMEOUT_MS = 15_000;
/** The longest reason or operator name an operator's action records (`knockgate open --reason`). */
export const MAX_OPERATOR_TEXT_CHARS = 200;
/** Default freshness window: a packet whose timestamp is further than this from now is stale. */
export const DEFAULT_SPA_FRESHNESS_S = 120;

/**
 * How long a replay record outlives the last instant its packet can be fresh (core/freshness.ts):
 * freshness is `|now - ts| < window`, the record lives until ts + window + this margin.
 */
export const REPLAY_RETENTION_MARGIN_MS = 5_000;

/**
 * Bounds of the SPA freshness window (`spa.freshness`). fwknop timestamps are whole seconds, so
 * under a second even a client with an exact clock would be stale part of the time.
 */
export const MIN_SPA_FRESHNESS_MS = 1_000;
export const MAX_SPA_FRESHNESS_MS = 600_000;
/**
 * Replay store capacity: accepted packets remembered within one freshness window. A full store
 * refuses packets (fail closed), so the minimum keeps a few clients from filling it by knocking.
 */
export const DEFAULT_REPLAY_ENTRIES = 1_000_000;
export const MIN_REPLAY_ENTRIES = 1_000;
export const MAX_REPLAY_ENTRIES = 10_000_000;
/**
 * Replay journal compaction (stores/replay-journal.ts): the file is rewritten when it holds more
 * than twice the live records plus this slack, so a rewrite (a cost in proportion to the live
 * records) comes at most once per this many appended lines, and the file stays bounded.
 */
export const REPLAY_JOURNAL_COMPACT_SLACK_LINES = 10_000;
/** How often, at most, the journal forgets expired keys before deciding to compact. */
export const REPLAY_JOURNAL_PRUNE_INTERVAL_MS = 1_000;
/**
 * Replay records one client (native: a client id; fwknop: a stanza) may hold, so that one client
 * cannot fill the store for the others: 10,000 per window is 83 packets a second for 120 s.
 */
export const DEFAULT_REPLAY_ENTRIES_PER_CLIENT = 10_000;
/**
 * Native SPA datagrams per second (and at once) that may go past MAC1 into the key agreement and
 * signature check (WorkBudget), when they come from a source that has not proven a key lately.
 * 2,000/s of 60-140 µs is at most ~30% of a core; a burst of 4,000 covers a fleet reconnecting.
 */
export const SPA_UNPROVEN_WORK_PER_S = 2_000;
export const SPA_UNPROVEN_WORK_BURST = 4_000;
/**
 * fwknop doors: HMACs per second (and at once) that datagrams from sources that have not proven a
 * key lately may cost, shared by every fwknop door (WorkBudget, one token per distinct HMAC key a
 * datagram is tried against). An HMAC over a fwknop packet is ~3 µs (and a datagram within the
 * budget also costs its ~2 µs replay digest), so 10,000/s is ~5% of a core: low, because under a
 * flood the capture ring drops what the daemon has no CPU left for, the known client's packet
 * included. The burst covers a door of many stanzas and a fleet reconnecting.
 */
export const FWKNOP_UNPROVEN_HMACS_PER_S = 10_000;
export const FWKNOP_UNPROVEN_HMACS_BURST = 10_000;
/** Sources remembered as having proven a key (KnownSources), and for how long. */
export const MAX_KNOWN_SPA_SOURCES = 65_536;
export const KNOWN_SPA_SOURCE_TTL_MS = 24 * 3_600_000;
/**
 * What one known source may spend past MAC1 on its own allowance (KnownSources.admit), so that a
 * source that proved a key once, or anyone spoofing its address, cannot force one key agreement
 * per packet: 5/s and 20 at once is far above any client's knocking; beyond it the source takes
 * from the shared budget like any other.
 */
export const KNOWN_SPA_SOURCE_WORK_PER_S = 5;
export const KNOWN_SPA_SOURCE_WORK_BURST = 20;

/** Clients of one SPA door (lookup is a hash map: the cost per packet does not grow with this). */
export const MAX_SPA_CLIENTS_PER_DOOR = 100_000;

/**
 * fwknop-compatible SPA (docs/fwknop-format.md). A packet is base64 text, so bytes = characters.
 * fwknopd drops anything shorter than 140 (MIN_SPA_DATA_SIZE, server/fwknopd_common.h) and takes a
 * packet of 400 or more characters for GnuPG (MIN_GNUPG_MSG_SIZE, lib/fko_limits.h;
 * fko_encryption_type() in lib/fko_encryption.c), so the AES packets it accepts are 140..399.
 */
export const MIN_FWKNOP_PACKET_BYTES = 140;
export const MAX_FWKNOP_PACKET_BYTES = 399;
/**
 * fwknop GnuPG packets (core/spa/fwknop-gpg.ts): fwknopd takes 400 characters or more for GnuPG
 * (MIN_GNUPG_MSG_SIZE); knockgate reads at most MAX_SPA_DATAGRAM_BYTES of a datagram, so the
 * longest it accepts is one less (a signed RSA-2048 packet without HMAC is ~1,020 characters;
 * Curve25519 keys give ~600, with room for an HMAC).
 */
export const MIN_FWKNOP_GPG_PACKET_BYTES = 400;
export const MAX_FWKNOP_GPG_PACKET_BYTES = 1_023;
/**
 * One gpg run per packet (a process, the agent's key unlock, the public-key decryption and the
 * signature check): ~0.3 s of wall time with a passphrase-protected RSA-2048 key on a 2-core test
 * machine (test/integration/fwknop-gpg.test.ts prints it; gpg-agent unlocks the key each time),
 * ~11 ms with an unprotected one (GPG_ALLOW_NO_PW). Sources that have not proven a key lately may
 * start FWKNOP_UNPROVEN_GPG_PER_S per second (and a burst of FWKNOP_UNPROVEN_GPG_BURST), shared by
 * every fwknop door; at most MAX_CONCURRENT_GPG run at once, whoever asks (known sources
 * included), so that a flood cannot fill the machine with processes.
 */
export const FWKNOP_UNPROVEN_GPG_PER_S = 2;
export const FWKNOP_UNPROVEN_GPG_BURST = 4;
export const MAX_CONCURRENT_GPG = 2;
/** One gpg run: killed after this long, and its plaintext and status output cut at these sizes. */
export const GPG_TIMEOUT_MS = 5_000;
export const MAX_GPG_PLAINTEXT_BYTES = 2_048;
export const MAX_GPG_STATUS_BYTES = 16_384;
/** GPG_REMOTE_ID and GPG_FINGERPRINT_ID entries of one stanza. */
export const MAX_GPG_SIGNER_IDS = 64;
/** AES key material: at most RIJNDAEL_MAX_KEYSIZE (lib/rijndael.h); legacy mode pads or cuts it to 16. */
export const MAX_FWKNOP_KEY_BYTES = 32;
export const FWKNOP_LEGACY_KEY_BYTES = 16;
/** HMAC key: at most MAX_DIGEST_BLOCK_LEN, the SHA3-256 block (lib/hmac.h). */
export const MAX_FWKNOP_HMAC_KEY_BYTES = 136;
/** Plaintext fields, in characters as they appear in the plaintext (base64 where encoded), lib/fko_limits.h. */
export const MAX_FWKNOP_USERNAME_CHARS = 64; // MAX_SPA_USERNAME_SIZE
export const MAX_FWKNOP_TIMESTAMP_CHARS = 12; // MAX_SPA_TIMESTAMP_SIZE
export const MAX_FWKNOP_VERSION_CHARS = 8; // MAX_SPA_VERSION_SIZE
export const MAX_FWKNOP_MESSAGE_CHARS = 256; // MAX_SPA_MESSAGE_SIZE (also used for NAT access and server auth)
/** Largest client timeout fwknopd parses (2 << 15, parse_client_timeout in lib/fko_decode.c). */
export const MAX_FWKNOP_CLIENT_TIMEOUT_S = 65_536;
/** Host part of a NAT access string (MAX_HOSTNAME_LEN, common/fko_util.h). */
export const MAX_FWKNOP_NAT_HOST_CHARS = 70;
/** Files one access.conf import may read: knockgate's own bound (%include_folder can name many). */
export const MAX_FWKNOP_ACCESS_FILES = 1_024;

/**
 * The audit trail (stores/audit-file.ts): knockgated renames `audit_log` to `.1` (and `.1` to `.2`,
 * ...) when the next line would take it past `audit_log_max_bytes`, and keeps `audit_log_keep`
 * renamed files (the oldest is removed). 16 MiB holds about 50,000 lines; with five kept, a busy
 * gateway keeps weeks of grants and the directory never holds more than ~100 MiB of them.
 */
export const DEFAULT_AUDIT_MAX_BYTES = 16 * 1024 * 1024;
export const MIN_AUDIT_MAX_BYTES = 4_096;
export const MAX_AUDIT_MAX_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_AUDIT_KEEP_FILES = 5;
export const MIN_AUDIT_KEEP_FILES = 1;
export const MAX_AUDIT_KEEP_FILES = 99;
/** One audit line at most (a client name, an operator's reason, the ports: far below this). */
export const MAX_AUDIT_LINE_BYTES = 8_192;
/**
 * The grant records file (stores/grant-records-file.ts) is rewritten at most this often: a burst
 * of grants costs one rename, not one per grant. What is lost in a crash within the window is a
 * label (door, client) of a grant, never the grant (the kernel holds it) nor its record (the audit
 * trail holds that, synced before the grant is reported).
 */
export const GRANT_RECORDS_COALESCE_MS = 200;

/**
 * Key rotation: how long before the end of the previous server key's overlap knockgated and
 * `knockgated --check` start warning about it (daemon/key-overlap.ts), and how far ahead
 * `knockgate keygen --force` proposes the end of the overlap: a week is a working week's slack
 * for delivering re-issued credentials, and short enough that an old key does not linger.
 */
export const PREVIOUS_KEY_REMINDER_MS = 24 * 3_600_000;
export const DEFAULT_KEY_OVERLAP_MS = 7 * 24 * 3_600_000;
/** How often a running daemon looks whether the overlap's last day has begun or the overlap ended. */
export const KEY_OVERLAP_CHECK_MS = 60_000;

// --- Firewall-log sensors (sensor: nflog, sensor: kernel-log) ---

/** TLVs read from one NFLOG record before it is dropped as malformed; the kernel sends about ten. */
export const MAX_NFLOG_TLVS = 32;
/** NFLOG groups are 16-bit (nft `log group`, iptables --nflog-group). */
export const MAX_NFLOG_GROUP = 65_535;
/**
 * Longest kernel log line the parser looks at: a netfilter LOG line of an IPv6 TCP packet with
 * every option is under 600 bytes; a longer line carrying the prefix is dropped, not read.
 */
export const MAX_KERNEL_LOG_LINE_BYTES = 2_048;
/** Longest `prefix` of the kernel-log sensor: nft allows 127 bytes, iptables' LOG 29. */
export const MAX_KERNEL_LOG_PREFIX_BYTES = 64;
/** iptables' LOG target takes a prefix of at most 29 bytes (xt_LOG); the iptables gate's limit. */
export const MAX_IPTABLES_LOG_PREFIX_BYTES = 29;
/** /dev/kmsg is read on a timer (it cannot be polled from Node): this often, at most. */
export const KMSG_POLL_MS = 20;
/** Records read from /dev/kmsg per tick, so that a burst cannot hold the event loop. */
export const KMSG_RECORDS_PER_POLL = 4_096;
/** One /dev/kmsg read: a record is at most ~1 KiB of text plus its dictionary; a smaller buffer is EINVAL. */
export const KMSG_RECORD_BYTES = 8_192;
/** A followed log file is checked for new lines, rotation and truncation this often. */
export const KERNEL_LOG_FILE_POLL_MS = 250;
/** Bytes read from a followed log file per tick (the rest waits for the next one). */
export const KERNEL_LOG_FILE_READ_BYTES = 1 << 20;
/** One line of `journalctl -o json` (a kernel entry is ~1.5 KiB); a longer one is skipped. */
export const MAX_JOURNAL_ENTRY_BYTES = 65_536;

/** Sealed credentials (core/sealed-secret.ts): scrypt cost bounds; memory 128·N·r and work N·r·p capped. */
export const SCRYPT_MIN_N = 2 ** 15;
export const SCRYPT_MAX_N = 2 ** 20;
export const SCRYPT_MIN_R = 8;
export const SCRYPT_MAX_R = 32;
export const SCRYPT_MAX_P = 4;
export const SCRYPT_MAX_MEMORY_BYTES = 256 * 1024 * 1024;
export const SCRYPT_MAX_WORK = 2 ** 22;
/** What knockgate writes: 64 MiB, 0.15 s on a 2-core EPYC VM; a salt of 16 bytes (16 to 64 read). */
export const SCRYPT_DEFAULT_N = 2 ** 16;
export const SCRYPT_DEFAULT_R = 8;
export const SCRYPT_DEFAULT_P = 1;
export const SCRYPT_SALT_BYTES = 16;
export const MAX_SCRYPT_SALT_BYTES = 64;
/** A passphrase, in UTF-8 bytes; a new one has at least MIN_NEW_PASSPHRASE_CHARS characters. */
export const MAX_PASSPHRASE_BYTES = 1_024;
export const MIN_NEW_PASSPHRASE_CHARS = 8;

/** Stanzas read from one ~/.fwknoprc (client/fwknoprc.ts); fwknop's own limit is 256 (MAX_LINE_LEN aside). */
export const MAX_FWKNOPRC_STANZAS = 256;
/** The longest SPA packet fwknop 2.6 sends or fwknopd reads (MAX_SPA_PACKET_LEN, lib/fko_limits.h). */
export const FWKNOP_MAX_WIRE_BYTES = 1_500;
/** A gpg run by the client (encrypt and sign one packet): how long it may take, how much it may write. */
export const CLIENT_GPG_TIMEOUT_MS = 30_000;
export const MAX_CLIENT_GPG_OUTPUT_BYTES = 4_096;

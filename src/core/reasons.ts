/**
 * The closed list of outcomes for remote input (packets): every packet the core looks at ends in
 * exactly one of these. They are values, never exceptions: a hostile packet cannot make the core
 * throw. The daemon counts each and logs it (rate-limited), with no secret in the line.
 */

/** Why a captured frame was not turned into a transport packet (header parser). */
export const FRAME_DROP_REASONS = [
  'frame-truncated', // shorter than the headers it claims
  'link-unsupported', // a link type or ethertype we do not parse
  'link-not-for-us', // sent by this host, or (promiscuous capture) addressed to another host's MAC
  'ip-version-mismatch', // IP version nibble disagrees with the link layer
  'ip-header-invalid', // bad IHL, total length, or IPv6 payload length
  'ip-fragment', // fragments never carry knocks; reassembly is not our job
  'ip-extension-headers-exceeded', // IPv6 extension header chain longer than the limit
  'transport-unsupported', // neither TCP nor UDP
  'transport-header-invalid', // bad TCP data offset or UDP length
] as const;
export type FrameDropReason = (typeof FRAME_DROP_REASONS)[number];

/** What the knock-sequence engine did with a parsed packet, for one door. */
export const SEQUENCE_OUTCOMES = [
  'progress', // the expected next step: the source advanced
  'complete', // the last step: the door opens for this source
  'retransmission', // an exact resend of the step just taken (same source port, same TCP seq): ignored
  'wrong-step', // a knock port of this door, but not the expected step: progress reset
  'not-first-step', // a knock port of this door from a source with no progress, not step one
  'flags-mismatch', // TCP flags do not match the door's tcp_flags: not a knock, ignored
] as const;
export type SequenceOutcome = (typeof SEQUENCE_OUTCOMES)[number];

/** Why an SPA datagram granted nothing: the rungs of the ladder in docs/protocol.md, in order. */
export const SPA_REJECT_REASONS = [
  'spa-length', // outside [MIN_SPA_BYTES, MAX_SPA_BYTES]; nothing else was looked at
  'spa-mac1', // mac1 does not match: junk, or sent without the server's public key
  'spa-retired-key', // mac1 matches the previous server key, whose overlap (spa.previous_key_until) has ended: an old client, not noise
  'spa-overload', // past MAC1, but the budget for unproven sources is spent (a flood by a holder of the server key)
  'spa-decrypt', // the DH gives zero or the AEAD does not open: corrupted or forged
  'spa-wrong-door', // sealed (v2) for another door this daemon serves under the same server key
  'spa-old-version', // a v1 datagram (no door binding): refused; the client must be upgraded (docs/protocol.md)
  'spa-unknown-client', // the client id names no client of this door
  'spa-auth', // the HMAC or signature does not verify with that client's key
  'spa-malformed', // authenticated, but the body does not parse exactly
  'spa-stale', // the timestamp is outside the freshness window
  'spa-replayed', // this (client id, nonce) was seen before
  'spa-not-allowed', // asks for ports, a duration or an address beyond the client's allowance
  'spa-address-required', // unbound (family 0: "whoever sends it") from a client with require_address: true
  'spa-replay-store-full', // the replay store holds its maximum of live entries: refused, never forgotten
  'spa-replay-store-failed', // the record could not be made durable: refused (fail closed)
  'spa-replay-client-quota', // this client holds its quota of replay records (spa.max_replay_entries_per_client): refused, others still admitted
  'spa-replay-high-water', // older, by the freshness window or more, than a packet already accepted from this client (a clock stepped back)
] as const;
export type SpaRejectReason = (typeof SPA_REJECT_REASONS)[number];

/**
 * The rungs of fwknop's SPA format itself (core/spa/fwknop-wire.ts, docs/fwknop-format.md), in
 * the order of the checks: what openFwknop can answer. `fwknop-malformed` is used at two rungs
 * (before any crypto, and after decryption).
 */
export const FWKNOP_WIRE_REJECT_REASONS = [
  'fwknop-length', // outside [MIN_FWKNOP_PACKET_BYTES, MAX_FWKNOP_PACKET_BYTES]; nothing else was looked at
  'fwknop-prefix', // begins with "U2FsdGVkX1" (base64 of "Salted__"), which the client always strips: fwknopd refuses these outright
  'fwknop-malformed', // not unpadded base64 text; or (after decryption) the plaintext fields do not parse exactly
  'fwknop-hmac', // the appended HMAC does not match (wrong HMAC key or type, or tampered); checked before decryption
  'fwknop-decrypt', // not a salt header plus whole AES blocks, bad padding, or the plaintext does not start with 16 digits and ':'
  'fwknop-digest', // the inner digest (last field) does not match the rest of the plaintext
] as const;
export type FwknopWireRejectReason = (typeof FWKNOP_WIRE_REJECT_REASONS)[number];

/**
 * Why an fwknop-compatible door granted nothing (core/spa/fwknop-ladder.ts): the wire's reasons and
 * the door's own rungs, in ladder order. `fwknop-malformed` also names an unparseable source
 * address and an access message that does not parse.
 */
export const FWKNOP_REJECT_REASONS = [
  'fwknop-length',
  'fwknop-prefix',
  'fwknop-malformed',
  'fwknop-no-stanza', // no stanza's SOURCE (and DESTINATION) matches the packet
  'fwknop-overload', // it would cost HMACs, and neither its source's allowance nor the shared budget has them (a flood)
  'fwknop-replayed', // its digest is recorded: seen before the HMAC (the local cache), or at the durable check-and-record
  'fwknop-hmac',
  'fwknop-decrypt',
  'fwknop-digest',
  'fwknop-gpg-overload', // a GnuPG packet would start a gpg run, and neither its source's allowance nor the GnuPG budget (or the limit of runs at once) has one
  'fwknop-gpg-failed', // gpg could not be run, timed out or gave too much output (fail closed; the log says which)
  'fwknop-gpg-unsigned', // GnuPG packet without a signature, and the stanza requires one (GPG_REQUIRE_SIG, fwknopd's default)
  'fwknop-gpg-bad-signature', // the signature does not verify (bad, or its key unknown to the stanza's GPG_HOME_DIR), and GPG_IGNORE_SIG_VERIFY_ERROR is not set
  'fwknop-gpg-signer', // signed by a key that is not in the stanza's GPG_REMOTE_ID / GPG_FINGERPRINT_ID
  'fwknop-stale', // the timestamp is outside the freshness window
  'fwknop-expired', // the stanza's ACCESS_EXPIRE has passed
  'fwknop-username', // not the stanza's REQUIRE_USERNAME
  'fwknop-message-type', // a NAT message, or a command message for a stanza without ENABLE_CMD_EXEC: refused by name
  'fwknop-not-allowed', // address or ports beyond the stanza (REQUIRE_SOURCE_ADDRESS, OPEN_PORTS, RESTRICT_PORTS, the door's ports)
  'fwknop-command-not-allowed', // a command message the stanza's cmd_allow does not list (or of more than 28 words): nothing runs
  'fwknop-replay-store-full', // the replay store holds its maximum of live entries: refused, never forgotten
  'fwknop-replay-store-failed', // the record could not be made durable: refused (fail closed)
  'fwknop-replay-client-quota', // this stanza holds its quota of replay records: refused, other stanzas still admitted
  'fwknop-replay-high-water', // older, by the freshness window or more, than a packet already accepted for this stanza
] as const;
export type FwknopRejectReason = (typeof FWKNOP_REJECT_REASONS)[number];

/** Every reason an SPA-kind door (native or fwknop) can reject a datagram with. */
export type SpaDoorRejectReason = SpaRejectReason | FwknopRejectReason;

/**
 * Why a record of a firewall-log sensor (core/nflog-record.ts, core/netfilter-log-line.ts) was not
 * turned into a packet. A record's IP packet (NFLOG carries one) that does not parse is dropped
 * with the header parser's FrameDropReason instead. A kernel log line without the configured
 * prefix is not a record at all (the kernel log holds everything else the kernel says): not counted.
 */
export const SENSOR_RECORD_DROP_REASONS = [
  'nflog-truncated', // the record, or one of its TLVs, claims more bytes than arrived
  'nflog-malformed', // a version other than 0, a TLV shorter than its header, or a family neither IPv4 nor IPv6
  'nflog-no-payload', // no packet in the record (the log rule copies none)
  'log-line-too-long', // a line with the prefix, longer than MAX_KERNEL_LOG_LINE_BYTES
  'log-line-malformed', // a line with the prefix whose addresses or ports are missing or do not parse
  'log-line-not-tcp-udp', // a line with the prefix for another protocol (ICMP, a fragment without ports)
  'log-line-not-kernel', // a record with the prefix that the kernel did not write (a user's write to /dev/kmsg, a journal entry of another transport)
  'log-line-other-interface', // received on an interface that `interfaces:` does not list
] as const;
export type SensorRecordDropReason = (typeof SENSOR_RECORD_DROP_REASONS)[number];

/** Every reason a firewall-log sensor drops a record with: its own, then the header parser's. */
export type SensorDropReason = SensorRecordDropReason | FrameDropReason;
export const SENSOR_DROP_REASONS: readonly SensorDropReason[] = [...SENSOR_RECORD_DROP_REASONS, ...FRAME_DROP_REASONS];

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

/** Ways sequence state ends without a packet: the clock, or the memory cap. */
export const SEQUENCE_EXPIRIES = ['timeout', 'evicted'] as const;
export type SequenceExpiry = (typeof SEQUENCE_EXPIRIES)[number];

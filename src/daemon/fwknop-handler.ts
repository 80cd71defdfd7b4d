/**
 * fwknop-compatible SPA for one door, with fwknopd's semantics and knockgate's ladder:
 *
 *   1. length, prefix and alphabet checks;
 *   2. the stanzas whose SOURCE (and DESTINATION) match the packet (an index, not a scan:
 *      core/spa/fwknop-stanza-index.ts), then the work budget: a source that proved a key lately
 *      spends its own allowance (KnownSources), any other takes one token per distinct HMAC key it
 *      must be tried against from the budget shared by every fwknop door (`fwknop-overload` when
 *      spent); then the packet's SHA-256 digest looked up in the replay store before any HMAC
 *      (fwknopd's digest cache): a replayed capture costs one hash; then, in file order, HMAC
 *      (once per distinct key), decryption, the inner digest (core/spa/fwknop-wire.ts); the first
 *      stanza that opens wins;
 *   3. freshness (±freshness, fwknopd's 120 s by default), ACCESS_EXPIRE, REQUIRE_USERNAME;
 *   4. message type: access (1) and client-timeout access (3) are granted; NAT (2, 4, 5, 6) and
 *      command (0) messages are refused by name;
 *   5. the access message: the address (REQUIRE_SOURCE_ADDRESS: it must be the packet's source;
 *      0.0.0.0 means the source), ports within OPEN_PORTS, none in RESTRICT_PORTS, all protected
 *      by this door; the timeout (type 3: the client's, capped by MAX_FW_TIMEOUT and the door);
 *   6. the digest recorded durably, then the grant.
 * Every datagram ends in one logged, counted outcome; nothing is sent back.
 */

import { createHash } from 'node:crypto';
import { cidrSetContains } from '../core/cidr.js';
import type { Door, FwknopStanza } from '../core/door.js';
import { endpointKey, formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { formatIPAddress, parseIPAddress, sameIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import { fwknopFrameProblem, fwknopHmacHolds, fwknopReplayDigestHex, openFwknop, parseFwknopAccess, type FwknopKeys, type FwknopMessage } from '../core/spa/fwknop-wire.js';
import { FwknopStanzaIndex } from '../core/spa/fwknop-stanza-index.js';
import type { SpaHandlerDeps } from './spa-handler.js';
import { admitReplay } from './replay-admission.js';
import { checkFreshness, replayExpiryMs } from '../core/freshness.js';
import { rejectCounter } from './reject-counter.js';
import type { FwknopRejectReason } from '../core/reasons.js';

/**
 * The replay owner of a stanza (its high-water mark, core/replay-window.ts): a digest of where it
 * is defined, which names it across restarts without putting any key material in the journal.
 */
function stanzaOwnerId(stanza: FwknopStanza): string {
  return createHash('sha256').update(`fwknop-stanza\0${stanza.origin}`).digest('hex').slice(0, 32);
}

/** Outcomes beyond the codec's own reasons. */
export type FwknopDaemonReason =
  | 'fwknop-replayed'
  | 'fwknop-no-stanza'
  | 'fwknop-stale'
  | 'fwknop-expired'
  | 'fwknop-username'
  | 'fwknop-message-type'
  | 'fwknop-not-allowed'
  | 'fwknop-replay-store-full'
  | 'fwknop-replay-store-failed'
  | 'fwknop-overload' // the packet would cost HMACs, and neither its source's allowance nor the shared budget has them (a flood)
  | 'fwknop-replay-high-water'
  | 'fwknop-replay-client-quota';

/**
 * What a native SPA handler gets, less the server key (fwknop keys are per stanza); `budget` is
 * the fwknop doors' own, in HMACs (FWKNOP_UNPROVEN_HMACS_PER_S), not the native doors'.
 */
export type FwknopHandlerDeps = Omit<SpaHandlerDeps, 'keys'>;

type Reason = FwknopRejectReason | FwknopDaemonReason;

/** How far along the ladder a codec rejection is. */
const DEPTH: Readonly<Partial<Record<Reason, number>>> = { 'fwknop-no-stanza': 0, 'fwknop-malformed': 1, 'fwknop-hmac': 2, 'fwknop-decrypt': 3, 'fwknop-digest': 4 };

const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'command',
  2: 'NAT access',
  4: 'client-timeout NAT access',
  5: 'local NAT access',
  6: 'client-timeout local NAT access',
};

export class FwknopHandler {
  private readonly stanzaKeys = new WeakMap<FwknopStanza, FwknopKeys>();
  private readonly index: FwknopStanzaIndex;

  constructor(private readonly deps: FwknopHandlerDeps) {
    this.index = new FwknopStanzaIndex(deps.door.fwknop?.stanzas ?? []);
  }

  handle(payload: Uint8Array, sourceText: string, destinationText?: string): void {
    const { door } = this.deps;
    const fw = door.fwknop;
    if (fw === null) return;
    this.deps.count('fwknop_datagrams_total');
    const source = parseIPAddress(sourceText);
    if (source === null) return this.reject('fwknop-malformed', sourceText);
    const src = formatIPAddress(source);
    const frame = fwknopFrameProblem(payload);
    if (frame !== null) return this.reject(frame, src); // no key changes these
    const destination = destinationText === undefined ? null : parseIPAddress(destinationText);
    const stanzas = fw.stanzas;
    let candidates = this.index.candidates(source);
    // An unknown destination (a socket that could not say) matches only DESTINATION ANY: fail closed.
    candidates = candidates.filter((i) => {
      const d = (stanzas[i] as FwknopStanza).destinations;
      return d.any || (destination !== null && cidrSetContains(d, destination));
    });
    if (candidates.length === 0) return this.reject('fwknop-no-stanza', src);
    const hmacs = new Set<number>();
    for (const i of candidates) hmacs.add(this.index.groupOf(i));
    const now = this.deps.nowMs();
    if (!this.deps.knownSources.admit(src, now) && !this.deps.budget.take(now, hmacs.size)) return this.reject('fwknop-overload', src);
    // The replay check before any HMAC, as fwknopd does: one SHA-256 of the packet as received
    // (fwknopd's digest; the store keys on hex), so a flood of one captured packet costs no HMAC.
    // After the budget, so that junk shed by it costs no digest either (the digest is ~2 µs, half an HMAC).
    const digest = fwknopReplayDigestHex(payload);
    if (this.deps.replay.seen(digest)) return this.reject('fwknop-replayed', src);
    let lastReason: Reason = 'fwknop-no-stanza';
    let found: { stanza: FwknopStanza; message: FwknopMessage } | null = null;
    const held = new Map<number, boolean>(); // HMAC group → whether the packet's HMAC holds for it
    for (const i of candidates) {
      const stanza = stanzas[i] as FwknopStanza;
      const keys = this.keysOf(stanza);
      const g = this.index.groupOf(i);
      let holds = held.get(g);
      if (holds === undefined) held.set(g, (holds = fwknopHmacHolds(payload, keys)));
      const r = holds ? openFwknop(payload, keys) : ({ ok: false, reason: 'fwknop-hmac' } as const);
      if (r.ok) {
        found = { stanza, message: r.message };
        break;
      }
      // Report the rung the best stanza got to: a right HMAC with a wrong key says more than the
      // HMAC failures of the stanzas tried after it.
      if ((DEPTH[r.reason] ?? 0) >= (DEPTH[lastReason] ?? 0)) lastReason = r.reason;
    }
    if (found === null) return this.reject(lastReason, src);
    const { stanza, message } = found;

    const nowMs = this.deps.unixMs();
    const nowS = nowMs / 1000;
    const freshness = checkFreshness(message.timestamp * 1000, nowMs, this.deps.freshnessMs);
    if (!freshness.fresh) return this.reject('fwknop-stale', src, stanza, `clock skew ${Math.round(freshness.skewMs / 1000)}s`);
    if (stanza.expiresAtS !== null && nowS > stanza.expiresAtS) return this.reject('fwknop-expired', src, stanza);
    if (stanza.requireUsername !== null && message.username !== stanza.requireUsername) return this.reject('fwknop-username', src, stanza, `user ${JSON.stringify(message.username)}`);
    if (message.messageType !== 1 && message.messageType !== 3) {
      return this.reject('fwknop-message-type', src, stanza, `${MESSAGE_TYPE_NAMES[message.messageType] ?? `type ${message.messageType}`} messages are not supported by this door`);
    }
    const access = parseFwknopAccess(message.message);
    if (access === null) return this.reject('fwknop-malformed', src, stanza, 'access message');
    const decision = this.decide(stanza, access, source, message);
    if (typeof decision === 'string') return this.reject('fwknop-not-allowed', src, stanza, decision);
    void this.recordAndGrant(digest, message.timestamp, src, stanza, decision);
  }

  private decide(
    stanza: FwknopStanza,
    access: { address: string; ports: Endpoint[] },
    source: IPAddressBytes,
    message: FwknopMessage,
  ): string | { address: IPAddressBytes; endpoints: Endpoint[]; durationS: number } {
    const door = this.deps.door;
    const fw = door.fwknop as NonNullable<Door['fwknop']>;
    const asked = parseIPAddress(access.address);
    if (asked === null) return `address ${JSON.stringify(access.address)}`;
    const unspecified = asked.bytes.every((b) => b === 0);
    if (stanza.requireSourceAddress && (unspecified || !sameIPAddress(asked, source))) return 'REQUIRE_SOURCE_ADDRESS: the packet must name its own source address';
    // Without REQUIRE_SOURCE_ADDRESS fwknopd grants the address the message names (the client may
    // know its NAT address better than the packet does); so do we.
    const address = unspecified ? source : asked;
    const protectedKeys = new Set(door.open.map((e) => endpointKey(e.proto, e.port)));
    const openKeys = stanza.openPorts ? new Set(stanza.openPorts.map((e) => endpointKey(e.proto, e.port))) : null;
    const restricted = new Set(stanza.restrictPorts.map((e) => endpointKey(e.proto, e.port)));
    for (const e of access.ports) {
      const k = endpointKey(e.proto, e.port);
      if (restricted.has(k)) return `${formatEndpoint(e)} is in RESTRICT_PORTS`;
      if (openKeys !== null && !openKeys.has(k)) return `${formatEndpoint(e)} is not in OPEN_PORTS`;
      if (!protectedKeys.has(k)) return `${formatEndpoint(e)} is not a port this door opens`;
    }
    let durationS = stanza.accessTimeoutS;
    if (message.messageType === 3 && message.clientTimeout !== null && message.clientTimeout > 0) {
      durationS = Math.min(message.clientTimeout, stanza.maxTimeoutS ?? fw.maxDurationS, fw.maxDurationS);
    }
    return { address, endpoints: access.ports, durationS: Math.max(1, Math.floor(durationS)) };
  }

  private async recordAndGrant(
    digest: string,
    timestampS: number,
    src: string,
    stanza: FwknopStanza,
    d: { address: IPAddressBytes; endpoints: Endpoint[]; durationS: number },
  ): Promise<void> {
    const owner = { id: stanzaOwnerId(stanza), timestampMs: timestampS * 1000 };
    const admission = await admitReplay(this.deps.replay, digest, replayExpiryMs(timestampS * 1000, this.deps.freshnessMs), this.deps.log, owner);
    if (admission !== 'fresh') return this.reject(`fwknop-${admission}`, src, stanza);
    this.deps.count('fwknop_accepted');
    this.deps.knownSources.remember(src, this.deps.nowMs());
    this.deps.log.info({ event: 'fwknop', door: this.deps.door.name, source: src, stanza: stanza.origin, verdict: 'accepted' }, 'fwknop accepted');
    await this.deps.grant(this.deps.door, { source: formatIPAddress(d.address), family: d.address.family, endpoints: d.endpoints, durationS: d.durationS, client: stanza.origin });
  }

  /** One keys object per stanza, so that the prepared HMAC key (fwknop-wire.ts) is reused. */
  private keysOf(stanza: FwknopStanza): FwknopKeys {
    let k = this.stanzaKeys.get(stanza);
    if (k === undefined) {
      k = { key: stanza.key, hmacKey: stanza.hmacKey, hmacType: stanza.hmacType, encryptionMode: stanza.encryptionMode };
      this.stanzaKeys.set(stanza, k);
    }
    return k;
  }

  private reject(reason: Reason, source: string, stanza?: FwknopStanza, detail?: string): void {
    this.deps.count(rejectCounter(reason));
    const suppressed = this.deps.limiter.admit(reason);
    if (suppressed === null) return;
    this.deps.log.info(
      { event: 'fwknop', door: this.deps.door.name, source, stanza: stanza?.origin, verdict: 'rejected', reason, detail, suppressed: suppressed || undefined },
      'fwknop rejected',
    );
  }
}

/**
 * A token bucket for work that a sender can make us do before we know who it is: for native SPA,
 * the X25519 agreement and the signature check that follow a valid MAC1 (60-140 µs each, against
 * 2 µs for MAC1 itself). Only a holder of the server's public key gets that far; the budget caps
 * what such an insider, spoofing sources at will, can make the daemon spend.
 *
 * For fwknop doors the unit is one HMAC: a datagram that must be tried against k distinct keys
 * takes k tokens at once (take(nowMs, k)), or none.
 *
 * Contract: take(nowMs) is true at most `burst` times at once, and at most `ratePerS` times per
 * second on average after that; take(nowMs, cost) takes `cost` tokens or none (a cost above
 * `burst` counts as `burst`, so that no request is refused forever). Pure: the caller supplies a
 * monotonic clock.
 */

export class WorkBudget {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError('rate and burst must be positive');
    this.tokens = burst;
  }

  take(nowMs: number, cost = 1): boolean {
    const need = Math.min(Math.max(1, cost), this.burst);
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerS) / 1000);
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
    if (this.tokens < need) return false;
    this.tokens -= need;
    return true;
  }
}

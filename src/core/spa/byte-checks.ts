/**
 * Two byte-level checks the native SPA format needs on both sides: an input of exactly the stated
 * length (sealing throws on anything else), and the all-zero X25519 result of a low-order point
 * (RFC 7748 §6.1), which must never key an AEAD.
 */

/** Throws unless `b` is a Uint8Array of exactly `n` bytes; `what` names it in the message. */
export function requireBytes(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`${what} must be ${n} bytes`);
}

/** True when every byte is zero; reads every byte whatever it finds (no early exit on a secret). */
export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

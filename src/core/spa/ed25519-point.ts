/**
 * Which Ed25519 public keys knockgate accepts for a client: canonically encoded points of the
 * curve that are not of small order (RFC 8032 §5.1.3 decoding, done strictly).
 *
 * Why: node:crypto (OpenSSL) verifies against any encoding that decodes. With a small-order point
 * as the public key, signatures that do not depend on the message verify: with the identity as
 * the key, (R = identity, S = 0) verifies for every message, so anyone could sign for that client.
 * Non-canonical encodings (y >= p, or x = 0 with the sign bit set) are refused too, so that a key
 * has exactly one spelling. The check is eight-torsion: [8]P = identity means small order.
 *
 * Pure BigInt arithmetic on public data, run once per key at configuration load (not per packet,
 * so constant time does not matter here).
 */

const P = 2n ** 255n - 19n;
// The two constants as literals (RFC 8032 §5.1): computing them is two 255-bit exponentiations,
// ~0.5 ms at module load, which every knock would pay (the client bundle includes this module).
// test/unit/ed25519-point.test.ts checks both against their definitions.
/** d = -121665 / 121666 mod p. */
export const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
/** sqrt(-1) mod p = 2^((p-1)/4). */
export const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;

export type Ed25519KeyProblem = 'not-32-bytes' | 'non-canonical' | 'not-on-curve' | 'small-order';

/** null when `raw` is an acceptable client public key, else what is wrong with it. */
export function ed25519PublicKeyProblem(raw: Uint8Array): Ed25519KeyProblem | null {
  if (raw.length !== 32) return 'not-32-bytes';
  const sign = (raw[31] as number) >> 7;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? (raw[i] as number) & 0x7f : (raw[i] as number));
  if (y >= P) return 'non-canonical';
  // x^2 = (y^2 - 1) / (d y^2 + 1)
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * inverse(v));
  x = squareRoot(x) ?? -1n;
  if (x < 0n) return 'not-on-curve';
  if (x === 0n && sign === 1) return 'non-canonical';
  if ((x & 1n) !== BigInt(sign)) x = P - x;
  let point: [bigint, bigint] = [x, y];
  for (let i = 0; i < 3; i++) point = add(point, point);
  return point[0] === 0n && point[1] === 1n ? 'small-order' : null;
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** base^exp mod p (square and multiply). */
export function power(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}

/** A square root of a mod p, or null (p ≡ 5 mod 8: candidate a^((p+3)/8), times sqrt(-1) if needed). */
function squareRoot(a: bigint): bigint | null {
  const candidate = power(a, (P + 3n) / 8n);
  if (mod(candidate * candidate) === mod(a)) return candidate;
  const other = mod(candidate * SQRT_M1);
  return mod(other * other) === mod(a) ? other : null;
}

/** Affine twisted-Edwards addition (a = -1); complete for Ed25519, so doubling needs no special case. */
function add([x1, y1]: [bigint, bigint], [x2, y2]: [bigint, bigint]): [bigint, bigint] {
  const t = mod(D * x1 * x2 * y1 * y2);
  return [mod((x1 * y2 + y1 * x2) * inverse(1n + t)), mod((y1 * y2 + x1 * x2) * inverse(1n - t + P))];
}

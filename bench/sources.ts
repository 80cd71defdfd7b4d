/**
 * Where the benchmark's spoofed source addresses come from: the one place that names them.
 *
 * Contract: every range here lies inside 198.18.0.0/15 (RFC 2544) or 2001:db8::/32 (RFC 3849), the
 * only addresses this project's tests and benchmarks may use, and outside every testbed's own
 * addresses (test/support/netns.ts: 198.18.N.1/.2 and 198.19.N.1/.2 with N < 128, 2001:db8:1:N::/64
 * and 2001:db8:2:N::/64), so a spoofed source is never a host of the testbed. The ranges are
 * pairwise disjoint, so grants from bursts and from sustained streams are told apart.
 * burstSource(range, i) is the i-th address of a range (.1 to .250 of each /24, in order); it throws a RangeError past the
 * range's end. (The integration tests' own spoofedV4() uses 198.19.128.0/17 too, in their own
 * namespaces; bench and tests never share a testbed.)
 */

/** Junk floods (bench/scenarios.ts) and bench/flood-check.ts: 32,768 IPv4 addresses. */
export const JUNK_SOURCES = '198.18.128.0/17';

/**
 * The storm of spoofed first knocks: 2^80 IPv6 addresses, so 1,000,000 random draws are distinct
 * (expected collisions ~4e-13). IPv4 inside 198.18.0.0/15 minus the testbeds holds at most 65,536
 * addresses, fewer than the 100,000 sequences knockgate tracks by default; the storm is sent over
 * IPv6 to reach that cap. knockd 0.8 and knockgate both track IPv6 sources.
 */
export const STORM_SOURCES = '2001:db8:ffff::/48';

/** A /18 of IPv4 addresses; numbered as before this file existed, 250 a /24 (.1 to .250). */
export interface SourceRange {
  readonly cidr: string;
  /** The first two octets and the third octet's base, e.g. [198, 19, 128]. */
  readonly base: readonly [number, number, number];
  readonly size: number;
}

const slash18 = (a: number, b: number, c: number): SourceRange => ({
  cidr: `${a}.${b}.${c}.0/18`,
  base: [a, b, c],
  size: 64 * 250,
});

/** Bursts of valid SPA packets, one per source: 198.19.128.0/18 (16,000 used). */
export const BURST_SOURCES = slash18(198, 19, 128);
/** Sustained streams of valid SPA packets, one per source: 198.19.192.0/18 (16,000 used). */
export const SUSTAINED_SOURCES = slash18(198, 19, 192);

/** The i-th address of a range (0-based): the /24s in order, .1 to .250 in each. */
export function burstSource(range: SourceRange, i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= range.size)
    throw new RangeError(`source ${i} is outside ${range.cidr} (${range.size} addresses)`);
  const [a, b, c] = range.base;
  return `${a}.${b}.${c + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

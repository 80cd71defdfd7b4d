/**
 * The client's own address as the Internet sees it, from a resolver URL the user configured (as
 * fwknop -R does): one HTTP(S) GET whose whole body is that address, so that the SPA request can be
 * bound to it. Strict: http: or https: only, no redirects, status 200, a body of at most
 * MAX_RESOLVER_BODY_BYTES that is exactly one IPv4 or IPv6 address (surrounding whitespace aside),
 * within a timeout. Any failure throws a KnockgateError (KG_RESOLVE_FAILED) and nothing is sent:
 * a knock the user asked to bind never goes out unbound.
 */

import { KnockgateError } from '../core/errors.js';
import { parseIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import { DEFAULT_RESOLVER_TIMEOUT_MS, MAX_RESOLVER_BODY_BYTES } from '../core/limits.js';

const fail = (url: string, why: string): never => {
  throw new KnockgateError(
    'KG_RESOLVE_FAILED',
    `cannot learn this host's address from ${url}: ${why}; nothing was sent`,
  );
};

/** Throws unless `text` is an absolute http: or https: URL. */
export function checkResolverUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KnockgateError('KG_USAGE', `resolver URL: not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new KnockgateError('KG_USAGE', `resolver URL: only http: and https: are allowed, got ${url.protocol}`);
  return url;
}

/** The body of one GET to `urlText`, parsed as exactly one address; `family` restricts it. */
export async function resolveOwnAddress(
  urlText: string,
  o: { timeoutMs?: number; family?: 4 | 6 } = {},
): Promise<IPAddressBytes> {
  const url = checkResolverUrl(urlText);
  const shown = url.origin + url.pathname;
  let res: Response;
  const signal = AbortSignal.timeout(o.timeoutMs ?? DEFAULT_RESOLVER_TIMEOUT_MS);
  try {
    res = await fetch(url, { redirect: 'error', signal, headers: { accept: 'text/plain' } });
  } catch (err) {
    return fail(
      shown,
      signal.aborted
        ? `no answer within ${o.timeoutMs ?? DEFAULT_RESOLVER_TIMEOUT_MS} ms`
        : `request failed (${(err as Error).message})`,
    );
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return fail(shown, `HTTP status ${res.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > MAX_RESOLVER_BODY_BYTES) break; // leaving the loop cancels the stream
      chunks.push(chunk as Uint8Array);
    }
  } catch (err) {
    return fail(
      shown,
      signal.aborted
        ? `no complete answer within ${o.timeoutMs ?? DEFAULT_RESOLVER_TIMEOUT_MS} ms`
        : `reading the answer failed (${(err as Error).message})`,
    );
  }
  if (size > MAX_RESOLVER_BODY_BYTES) return fail(shown, `the answer is longer than ${MAX_RESOLVER_BODY_BYTES} bytes`);
  const text = Buffer.concat(chunks).toString('latin1').trim();
  const address = /^[0-9A-Fa-f.:]{2,45}$/.test(text) ? parseIPAddress(text) : null;
  if (address === null)
    return fail(shown, `the answer is not exactly one IP address: ${JSON.stringify(text.slice(0, 64))}`);
  if (o.family !== undefined && address.family !== o.family)
    return fail(shown, `it gave an IPv${address.family} address, but the knock goes over IPv${o.family}`);
  return address;
}

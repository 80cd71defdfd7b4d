/**
 * src/client/address-resolver.ts against a local HTTP server on 127.0.0.1 (never the Internet):
 * an answer that is exactly one address is used; anything else (other status, a redirect, two
 * addresses, junk, too long, too slow, the wrong family, a non-HTTP URL) is a clear error.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import { formatIPAddress } from '../../src/core/ip-address.js';
import { resolveOwnAddress } from '../../src/client/address-resolver.js';
import { MAX_RESOLVER_BODY_BYTES } from '../../src/core/limits.js';

describe('resolveOwnAddress', () => {
  let server: Server;
  let base = '';
  const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/v4': (r) => r.end('198.51.100.7\n'),
    '/v6': (r) => r.end('  2001:db8::42 \r\n'),
    '/two': (r) => r.end('198.51.100.7 198.51.100.8'),
    '/html': (r) => r.end('<html>198.51.100.7</html>'),
    '/empty': (r) => r.end(''),
    '/500': (r) => {
      r.statusCode = 500;
      r.end('198.51.100.7');
    },
    '/redirect': (r) => {
      r.writeHead(302, { location: '/v4' });
      r.end();
    },
    '/long': (r) => r.end(`198.51.100.7${' '.repeat(MAX_RESOLVER_BODY_BYTES)}`),
    '/slow': () => undefined, // never answers
  };

  before(async () => {
    server = createServer((req, res) =>
      (
        routes[req.url ?? ''] ??
        ((r) => {
          r.statusCode = 404;
          r.end();
        })
      )(res),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const fails = async (
    url: string,
    detail: RegExp,
    code = 'KG_RESOLVE_FAILED',
    o: { timeoutMs?: number; family?: 4 | 6 } = {},
  ): Promise<void> => {
    await assert.rejects(resolveOwnAddress(url, o), (err: unknown) => {
      assert.ok(err instanceof KnockgateError, String(err));
      assert.equal(err.code, code);
      assert.match(err.message, detail);
      return true;
    });
  };

  it('an answer that is exactly one address (whitespace aside) is that address', async () => {
    assert.equal(formatIPAddress(await resolveOwnAddress(`${base}/v4`)), '198.51.100.7');
    assert.equal(formatIPAddress(await resolveOwnAddress(`${base}/v6`, { family: 6 })), '2001:db8::42');
  });

  it('anything else is an error that says nothing was sent', async () => {
    await fails(`${base}/two`, /not exactly one IP address.*nothing was sent/);
    await fails(`${base}/html`, /not exactly one IP address/);
    await fails(`${base}/empty`, /not exactly one IP address/);
    await fails(`${base}/500`, /HTTP status 500/);
    await fails(`${base}/nosuch`, /HTTP status 404/);
    await fails(`${base}/redirect`, /request failed/);
    await fails(`${base}/long`, /longer than 256 bytes/);
    await fails(`${base}/v4`, /IPv4 address, but the knock goes over IPv6/, 'KG_RESOLVE_FAILED', { family: 6 });
  });

  it('a resolver that does not answer fails within the timeout', async () => {
    const t0 = Date.now();
    await fails(`${base}/slow`, /no answer within 300 ms/, 'KG_RESOLVE_FAILED', { timeoutMs: 300 });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('only http: and https: URLs are accepted (a usage error)', async () => {
    await fails('file:///etc/hostname', /only http: and https:/, 'KG_USAGE');
    await fails('not a url', /not a URL/, 'KG_USAGE');
  });
});

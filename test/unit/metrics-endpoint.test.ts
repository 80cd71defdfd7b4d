/**
 * The Prometheus exposition (metrics/prometheus-text.ts) and the endpoint that serves it
 * (metrics/http-endpoint.ts), on a real loopback socket: what a scraper receives.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import { openMetricsEndpoint } from '../../src/metrics/http-endpoint.js';
import { prometheusText } from '../../src/metrics/prometheus-text.js';
import { MetricRegistry } from '../../src/metrics/registry.js';
import { MemoryLogger } from '../../src/ports/logger.js';

const BUILD = { version: '9.9.9', node: 'v20.0.0' };

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('prometheusText', () => {
  it('writes HELP and TYPE per family, one line per sample, build_info first, label values escaped', () => {
    const r = new MetricRegistry();
    const c = r.counter({ name: 'knockgate_x_total', help: 'Line one\nback\\slash', labels: { door: ['a"b\\c\nd'] } });
    c.with({ door: 'a"b\\c\nd' }).inc(3);
    r.collect({ name: 'knockgate_live', help: 'Live.', labels: {} }, 'gauge', () => [{ labels: {}, value: 2 }]);
    assert.equal(
      prometheusText(r.snapshot(), BUILD),
      [
        '# HELP knockgate_build_info Always 1; the labels say which knockgated runs.',
        '# TYPE knockgate_build_info gauge',
        'knockgate_build_info{version="9.9.9",node="v20.0.0"} 1',
        '# HELP knockgate_x_total Line one\\nback\\\\slash',
        '# TYPE knockgate_x_total counter',
        'knockgate_x_total{door="a\\"b\\\\c\\nd"} 3',
        '# HELP knockgate_live Live.',
        '# TYPE knockgate_live gauge',
        'knockgate_live 2',
        '',
      ].join('\n'),
    );
  });
});

describe('prometheusText: histograms', () => {
  it('writes cumulative buckets with le, +Inf, _sum and _count, per combination of labels', () => {
    const r = new MetricRegistry();
    const h = r.histogram({
      name: 'knockgate_t_seconds',
      help: 'T.',
      labels: { outcome: ['ok'] },
      buckets: [0.001, 0.01],
    });
    const ok = h.with({ outcome: 'ok' });
    for (const v of [0.0005, 0.002, 0.003, 5]) ok.observe(v);
    assert.equal(
      prometheusText(r.snapshot(), BUILD).split('\n').slice(3).join('\n'),
      [
        '# HELP knockgate_t_seconds T.',
        '# TYPE knockgate_t_seconds histogram',
        'knockgate_t_seconds_bucket{outcome="ok",le="0.001"} 1',
        'knockgate_t_seconds_bucket{outcome="ok",le="0.01"} 3',
        'knockgate_t_seconds_bucket{outcome="ok",le="+Inf"} 4',
        'knockgate_t_seconds_sum{outcome="ok"} 5.0055',
        'knockgate_t_seconds_count{outcome="ok"} 4',
        '',
      ].join('\n'),
    );
  });

  it('refuses buckets out of order and a label named le', () => {
    const r = new MetricRegistry();
    assert.throws(() => r.histogram({ name: 'a_seconds', help: 'h', labels: {}, buckets: [1, 0.5] }), /increasing/);
    assert.throws(() => r.histogram({ name: 'b_seconds', help: 'h', labels: {}, buckets: [] }), /increasing/);
    assert.throws(() => r.histogram({ name: 'c_seconds', help: 'h', labels: { le: ['1'] }, buckets: [1] }), /le is/);
  });
});

describe('metrics endpoint', () => {
  it('serves GET /metrics in the text format with fresh figures; 404 elsewhere, 405 for other methods', async () => {
    const r = new MetricRegistry();
    const hits = r.counter({ name: 'knockgate_hits_total', help: 'h', labels: {} }).with({});
    const log = new MemoryLogger();
    const e = await openMetricsEndpoint({ address: '127.0.0.1', port: 0 }, r, BUILD, log);
    try {
      assert.equal(e.address, '127.0.0.1');
      const first = await get(e.port, '/metrics');
      assert.equal(first.status, 200);
      assert.equal(first.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(first.body, /^knockgate_hits_total 0$/m);
      hits.inc();
      assert.match((await get(e.port, '/metrics?x=1')).body, /^knockgate_hits_total 1$/m, 'no cached copy');
      assert.equal((await get(e.port, '/')).status, 404);
      assert.equal((await get(e.port, '/metrics', 'POST')).status, 405);
      const head = await get(e.port, '/metrics', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(log.lines.filter((l) => l.fields.event === 'metrics-listening').length, 1);
    } finally {
      await e.close();
    }
    await assert.rejects(get(e.port, '/metrics'), /ECONNREFUSED/, 'closed');
  });

  it('a port already taken is KG_METRICS_FAILED (exit 69), naming the address and port', async () => {
    const r = new MetricRegistry();
    const log = new MemoryLogger();
    const first = await openMetricsEndpoint({ address: '127.0.0.1', port: 0 }, r, BUILD, log);
    try {
      await assert.rejects(
        openMetricsEndpoint({ address: '127.0.0.1', port: first.port }, r, BUILD, log),
        (err: unknown) =>
          err instanceof KnockgateError &&
          err.code === 'KG_METRICS_FAILED' &&
          err.exitCode === 69 &&
          err.message.includes(`127.0.0.1 port ${first.port}: EADDRINUSE`),
      );
    } finally {
      await first.close();
    }
  });
});

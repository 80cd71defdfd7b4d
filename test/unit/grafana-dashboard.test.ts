/**
 * contrib/grafana/knockgate.json reads only series knockgated exports, by labels they have: a
 * metric renamed or a label dropped breaks this test rather than a user's dashboard.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { daemonMetricSpecs, FIREWALL_BATCH_SECONDS } from '../../src/metrics/daemon-metrics.js';
import { REPO_ROOT } from '../support/daemon-process.js';

interface Panel {
  readonly title: string;
  readonly targets: readonly { readonly expr: string }[];
}

describe('the Grafana dashboard in contrib/', () => {
  const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'contrib', 'grafana', 'knockgate.json'), 'utf8')) as {
    panels: Panel[];
  };
  const labels = new Map<string, readonly string[]>([['knockgate_build_info', ['version', 'node']]]);
  for (const spec of Object.values(daemonMetricSpecs(['ssh']))) labels.set(spec.name, Object.keys(spec.labels));
  const histogram = Object.keys(FIREWALL_BATCH_SECONDS.labels);
  for (const suffix of ['_bucket', '_sum', '_count'])
    labels.set(`${FIREWALL_BATCH_SECONDS.name}${suffix}`, suffix === '_bucket' ? [...histogram, 'le'] : histogram);

  it('every expression names exported series, filtered and grouped by labels they have', () => {
    let exprs = 0;
    for (const panel of dashboard.panels)
      for (const { expr } of panel.targets) {
        exprs++;
        const names = [...expr.matchAll(/\b(knockgate_[a-z_]+)\b/g)].map((m) => m[1] as string);
        assert.ok(names.length > 0, `${panel.title}: ${expr} reads no knockgate series`);
        for (const name of names) {
          const has = labels.get(name);
          assert.ok(has, `${panel.title}: ${name} is not a series knockgated exports`);
          const used = [...expr.matchAll(new RegExp(`${name}\\{([^}]*)\\}`, 'g'))].flatMap((m) =>
            (m[1] ?? '').split(',').map((kv) => kv.split(/=~|=/)[0]?.trim() ?? ''),
          );
          for (const label of used)
            if (label !== 'instance' && label !== '')
              assert.ok(has.includes(label), `${panel.title}: ${name} has no label ${label}`);
        }
        for (const m of expr.matchAll(/by \(([^)]*)\)/g))
          for (const label of (m[1] ?? '').split(',').map((l) => l.trim()))
            assert.ok(
              names.some((n) => labels.get(n)?.includes(label)),
              `${panel.title}: grouped by ${label}, which none of ${names.join(', ')} has`,
            );
      }
    assert.ok(exprs >= 10, `${exprs} expressions`);
  });
});

/**
 * A metrics snapshot in the Prometheus text exposition format (version 0.0.4): for each family a
 * `# HELP` and a `# TYPE` line, then one line per sample, plus `knockgate_build_info`.
 *
 * Written here rather than with prom-client: the registry (metrics/registry.ts) already holds the
 * model, the format is a few escaping rules, and the daemon then has no dependency that keeps its
 * own copy of every series.
 */

import type { MetricFamilySnapshot } from '../ports/metrics.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

export function prometheusText(families: readonly MetricFamilySnapshot[], build: BuildInfo): string {
  const out: string[] = [];
  const all: readonly MetricFamilySnapshot[] = [
    {
      name: 'knockgate_build_info',
      help: 'Always 1; the labels say which knockgated runs.',
      type: 'gauge',
      samples: [{ labels: { version: build.version, node: build.node }, value: 1 }],
    },
    ...families,
  ];
  for (const f of all) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(`${f.name}${s.suffix ?? ''}${labelSet(s.labels)} ${formatValue(s.value)}`);
  }
  return `${out.join('\n')}\n`;
}

function labelSet(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Label values escape backslash, double quote and line feed. */
function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

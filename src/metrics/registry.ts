/**
 * The in-memory metrics registry (ports/metrics.ts): the daemon's only implementation, which every
 * exporter reads through snapshot(). It holds numbers and nothing else; it does no I/O.
 *
 * A label value outside its declared list throws MetricLabelError where the child is resolved.
 * The parts resolve their children at construction or from values the core produced (a reason of
 * core/reasons.ts, a configured door's name), so a throw means a wiring bug, found by the unit
 * tests that build the daemon; it never depends on what a packet carries.
 */

import type {
  Counter,
  CounterChild,
  Histogram,
  HistogramChild,
  HistogramSpec,
  LabelSpec,
  LabelValues,
  MetricFamilySnapshot,
  Metrics,
  MetricSpec,
  MetricType,
  Sample,
} from '../ports/metrics.js';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricLabelError extends Error {
  override readonly name = 'MetricLabelError';
}

interface Family {
  snapshot(): MetricFamilySnapshot;
}

class CounterFamily<L extends LabelSpec> implements Counter<L>, Family {
  private readonly children = new Map<string, { labels: Record<string, string>; value: number }>();
  private allowed: AllowedLabels;

  constructor(private readonly spec: MetricSpec<L>) {
    this.allowed = allowedLabels(spec);
  }

  /** True when `other` declares this family again: same name, help and label names, in order. */
  sameShape(other: MetricSpec<LabelSpec>): boolean {
    return (
      other.name === this.spec.name &&
      other.help === this.spec.help &&
      Object.keys(other.labels).join(',') === Object.keys(this.spec.labels).join(',')
    );
  }

  /** Lets each label also take `other`'s values (a reload adds doors); none is taken away. */
  widen(other: MetricSpec<LabelSpec>): void {
    this.allowed = this.allowed.map(([k, set]) => [k, new Set([...set, ...(other.labels[k] ?? [])])] as const);
  }

  with(values: LabelValues<L>): CounterChild {
    const labels = checkedLabels(this.spec, this.allowed, values as Record<string, string>);
    const key = JSON.stringify(labels);
    let child = this.children.get(key);
    if (child === undefined) {
      child = { labels, value: 0 };
      this.children.set(key, child);
    }
    const c = child;
    return {
      inc(by = 1): void {
        c.value += by;
      },
    };
  }

  snapshot(): MetricFamilySnapshot {
    const samples: Sample[] = [...this.children.values()].map((c) => ({ labels: c.labels, value: c.value }));
    return { name: this.spec.name, help: this.spec.help, type: 'counter', samples };
  }
}

class HistogramFamily<L extends LabelSpec> implements Histogram<L>, Family {
  private readonly children = new Map<
    string,
    { labels: Record<string, string>; buckets: number[]; sum: number; count: number }
  >();
  private readonly allowed: AllowedLabels;

  constructor(private readonly spec: HistogramSpec<L>) {
    this.allowed = allowedLabels(spec);
  }

  with(values: LabelValues<L>): HistogramChild {
    const labels = checkedLabels(this.spec, this.allowed, values as Record<string, string>);
    const key = JSON.stringify(labels);
    let child = this.children.get(key);
    if (child === undefined) {
      child = { labels, buckets: this.spec.buckets.map(() => 0), sum: 0, count: 0 };
      this.children.set(key, child);
    }
    const c = child;
    const bounds = this.spec.buckets;
    return {
      observe(value: number): void {
        for (let i = 0; i < bounds.length; i++) if (value <= (bounds[i] as number)) (c.buckets[i] as number)++;
        c.sum += value;
        c.count++;
      },
    };
  }

  snapshot(): MetricFamilySnapshot {
    const samples: Sample[] = [];
    for (const c of this.children.values()) {
      this.spec.buckets.forEach((le, i) => {
        samples.push({ labels: { ...c.labels, le: String(le) }, value: c.buckets[i] as number, suffix: '_bucket' });
      });
      samples.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, suffix: '_bucket' });
      samples.push({ labels: c.labels, value: c.sum, suffix: '_sum' });
      samples.push({ labels: c.labels, value: c.count, suffix: '_count' });
    }
    return { name: this.spec.name, help: this.spec.help, type: 'histogram', samples };
  }
}

class CollectedFamily<L extends LabelSpec> implements Family {
  private readonly allowed: AllowedLabels;

  constructor(
    private readonly spec: MetricSpec<L>,
    private readonly type: MetricType,
    private readonly read: () => readonly { readonly labels: LabelValues<L>; readonly value: number }[],
  ) {
    this.allowed = allowedLabels(spec);
  }

  snapshot(): MetricFamilySnapshot {
    const samples = this.read().map((s) => ({
      labels: checkedLabels(this.spec, this.allowed, s.labels as Record<string, string>),
      value: s.value,
    }));
    return { name: this.spec.name, help: this.spec.help, type: this.type, samples };
  }
}

/** Each label with the set of values it may take, in the spec's order. */
type AllowedLabels = readonly (readonly [string, ReadonlySet<string>])[];

function allowedLabels(spec: MetricSpec<LabelSpec>): AllowedLabels {
  return Object.entries(spec.labels).map(([k, vs]) => [k, new Set(vs)] as const);
}

function checkedLabels(
  spec: MetricSpec<LabelSpec>,
  allowed: AllowedLabels,
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [label, set] of allowed) {
    const v = values[label];
    if (v === undefined || !set.has(v))
      throw new MetricLabelError(`${spec.name}: label ${label}=${JSON.stringify(v)} is not one of its declared values`);
    out[label] = v;
  }
  if (Object.keys(values).length !== allowed.length)
    throw new MetricLabelError(`${spec.name}: labels ${Object.keys(values).join(',')} are not its declared labels`);
  return out;
}

export class MetricRegistry implements Metrics {
  private readonly families: Family[] = [];
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, CounterFamily<LabelSpec>>();

  /**
   * Declares a counter family. Declaring one again with the same name, help and label names (a
   * reload, whose doors differ) returns the same family with its label values widened: counts
   * already made are kept, as a Prometheus counter must never go back. Anything else declared
   * twice throws.
   */
  counter<L extends LabelSpec>(spec: MetricSpec<L>): Counter<L> {
    const known = this.counters.get(spec.name);
    if (known?.sameShape(spec)) {
      known.widen(spec);
      return known as unknown as Counter<L>;
    }
    const f = new CounterFamily(this.declare(spec));
    this.families.push(f);
    this.counters.set(spec.name, f as unknown as CounterFamily<LabelSpec>);
    return f;
  }

  histogram<L extends LabelSpec>(spec: HistogramSpec<L>): Histogram<L> {
    const sorted = spec.buckets.every((b, i) => i === 0 || b > (spec.buckets[i - 1] as number));
    if (spec.buckets.length === 0 || !sorted)
      throw new MetricLabelError(`${spec.name}: buckets must be given in increasing order`);
    if ('le' in spec.labels) throw new MetricLabelError(`${spec.name}: le is the buckets' own label`);
    const f = new HistogramFamily(this.declare(spec) as HistogramSpec<L>);
    this.families.push(f);
    return f;
  }

  collect<L extends LabelSpec>(
    spec: MetricSpec<L>,
    type: MetricType,
    read: () => readonly { readonly labels: LabelValues<L>; readonly value: number }[],
  ): void {
    this.families.push(new CollectedFamily(this.declare(spec), type, read));
  }

  snapshot(): readonly MetricFamilySnapshot[] {
    return this.families.map((f) => f.snapshot());
  }

  private declare<L extends LabelSpec>(spec: MetricSpec<L>): MetricSpec<L> {
    if (!NAME.test(spec.name)) throw new MetricLabelError(`${spec.name}: not a metric name`);
    if (this.names.has(spec.name)) throw new MetricLabelError(`${spec.name}: declared twice`);
    for (const label of Object.keys(spec.labels))
      if (!LABEL.test(label)) throw new MetricLabelError(`${spec.name}: ${label} is not a label name`);
    this.names.add(spec.name);
    return spec;
  }
}

/**
 * The metrics port: what the daemon's parts count, and what every exporter (the `stats` log line
 * today, a Prometheus endpoint and `knockgate status` next) reads, in one model.
 *
 * Contracts:
 * - Every label of a family takes its values from a closed list declared with the family (a reason
 *   list of core/reasons.ts, the configured door names, a fixed set of verdicts). No value outside
 *   it is ever recorded, so no label can carry a source address or anything else a sender chooses,
 *   and the number of series is known when the family is declared.
 * - A counter only goes up, from zero, for the registry's lifetime. A child (one combination of
 *   label values) is resolved once, off the hot path, and then incremented without any lookup.
 * - Collected families are read from their owner when the samples are taken (the kernel's capture
 *   figures, the tracker's table, the grant book): the registry never keeps a copy that could lag.
 */

/** For each label, the values it may take. */
export type LabelSpec = Readonly<Record<string, readonly string[]>>;

/** One value per label, each from its list. */
export type LabelValues<L extends LabelSpec> = { readonly [K in keyof L]: L[K][number] };

export interface MetricSpec<L extends LabelSpec> {
  /** Prometheus conventions: `knockgate_` prefix, base units, `_total` for counters. */
  readonly name: string;
  readonly help: string;
  readonly labels: L;
}

export interface CounterChild {
  inc(by?: number): void;
}

export interface Counter<L extends LabelSpec> {
  /** The child for these label values (throws if a value is not in its list: a programming error). */
  with(values: LabelValues<L>): CounterChild;
}

/** Observations of one combination of labels, counted into buckets (base units: seconds, bytes). */
export interface HistogramChild {
  observe(value: number): void;
}

export interface Histogram<L extends LabelSpec> {
  with(values: LabelValues<L>): HistogramChild;
}

export interface HistogramSpec<L extends LabelSpec> extends MetricSpec<L> {
  /** Upper bounds, increasing; `+Inf` is added. */
  readonly buckets: readonly number[];
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** A histogram's series: `_bucket` (with an `le` label), `_sum`, `_count`; none for other families. */
  readonly suffix?: '_bucket' | '_sum' | '_count';
}

/** A family as the exporters see it: its spec, its type, its samples now. */
export interface MetricFamilySnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

export interface Metrics {
  counter<L extends LabelSpec>(spec: MetricSpec<L>): Counter<L>;
  /** A histogram: cumulative buckets, a sum and a count per combination of labels. */
  histogram<L extends LabelSpec>(spec: HistogramSpec<L>): Histogram<L>;
  /**
   * A family whose samples its owner reports when they are read: a gauge (live grants), or a
   * counter kept elsewhere (what the kernel delivered to a capture). `read` returns one value per
   * combination it has; each combination must come from the spec's lists.
   */
  collect<L extends LabelSpec>(
    spec: MetricSpec<L>,
    type: MetricType,
    read: () => readonly { readonly labels: LabelValues<L>; readonly value: number }[],
  ): void;
  /** Every family, in the order they were declared. */
  snapshot(): readonly MetricFamilySnapshot[];
}

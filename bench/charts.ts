/**
 * The benchmark's charts, as dependency-free SVG text: a horizontal bar chart of latency (median,
 * with a p10–p90 whisker, on a log scale so that 1 ms and 100 ms both read) and line charts of a
 * value against flood rate (open rate, CPU%).
 *
 * Contract: pure functions from numbers to a complete standalone SVG document; labels are
 * XML-escaped; a missing value (null) is drawn as a gap (lines) or "n/a" (bars), never as zero.
 */

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
export const PALETTE = [
  '#1b7f3b',
  '#2f9e5a',
  '#6cc08b',
  '#c0392b',
  '#2c6fbb',
  '#5b8fd1',
  '#8e44ad',
  '#d68910',
  '#7f8c8d',
];

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

const fmt = (v: number): string =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
/** Axis ticks: no trailing zeros (0.1, 1, 10, 2.5). */
const tick = (v: number): string => String(Number(v.toPrecision(6)));

export interface LatencyBar {
  readonly label: string;
  readonly median: number | null;
  readonly p10: number | null;
  readonly p90: number | null;
  readonly color?: string;
  readonly note?: string;
}

/** Horizontal bars, log-scale ms axis, with a dashed line at `targetMs` if given. */
export function latencyChart(title: string, bars: readonly LatencyBar[], targetMs?: number): string {
  const left = 290;
  const right = 80;
  const width = 900;
  const top = 56;
  const rowH = 34;
  const plotW = width - left - right;
  const height = top + bars.length * rowH + 52;
  const values = bars.flatMap((b) => [b.median, b.p90, b.p10]).filter((v): v is number => v !== null && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.1, ...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...values, targetMs ?? 0)));
  const x = (v: number): number =>
    left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(title)}</text>`,
  );
  const axisY = top + bars.length * rowH + 6;
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const gx = x(d);
    out.push(`<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${axisY}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${gx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${tick(d)}</text>`);
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${axisY + 36}" text-anchor="middle" fill="#333">milliseconds, last packet → port answers (log scale; bar = median, whisker = p10–p90)</text>`,
  );
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const color = b.color ?? PALETTE[i % PALETTE.length];
    out.push(`<text x="${left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${escapeXml(b.label)}</text>`);
    if (b.median === null) {
      out.push(`<text x="${left + 6}" y="${y + rowH / 2 + 4}" fill="#a00">${escapeXml(b.note ?? 'n/a')}</text>`);
      return;
    }
    const bx = x(b.median);
    out.push(
      `<rect x="${left}" y="${y + 6}" width="${Math.max(1, bx - left).toFixed(1)}" height="${rowH - 12}" fill="${color}" rx="2"/>`,
    );
    if (b.p10 !== null && b.p90 !== null) {
      const cy = y + rowH / 2;
      out.push(
        `<line x1="${x(b.p10).toFixed(1)}" y1="${cy}" x2="${x(b.p90).toFixed(1)}" y2="${cy}" stroke="#222" stroke-width="1.5"/>`,
      );
      for (const v of [b.p10, b.p90])
        out.push(
          `<line x1="${x(v).toFixed(1)}" y1="${cy - 6}" x2="${x(v).toFixed(1)}" y2="${cy + 6}" stroke="#222" stroke-width="1.5"/>`,
        );
    }
    const labelX = Math.max(bx, b.p90 !== null ? x(b.p90) : bx) + 6;
    out.push(
      `<text x="${labelX.toFixed(1)}" y="${y + rowH / 2 + 4}" fill="#222">${fmt(b.median)} ms${b.note ? ` ${escapeXml(b.note)}` : ''}</text>`,
    );
  });
  if (targetMs !== undefined) {
    const tx = x(targetMs);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${top - 6}" x2="${tx.toFixed(1)}" y2="${axisY}" stroke="#c0392b" stroke-dasharray="5,4" stroke-width="1.5"/>`,
    );
    out.push(
      `<text x="${tx.toFixed(1)}" y="${top - 12}" text-anchor="middle" fill="#c0392b">target ${tick(targetMs)} ms</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface Series {
  readonly name: string;
  readonly values: readonly (number | null)[];
  readonly color?: string;
  readonly dashed?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** The x positions (e.g. flood rates); drawn evenly spaced, labelled with xTick. */
  readonly xs: readonly number[];
  readonly xTick: (x: number) => string;
  readonly series: readonly Series[];
  /** Fixed y maximum (e.g. 100 for percentages); otherwise from the data. */
  readonly yMax?: number;
  readonly ySuffix?: string;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Lines with markers over evenly spaced x categories; legend on the right. */
export function lineChart(o: LineChartOptions): string {
  const width = 900;
  const height = 440;
  const left = 70;
  const right = 280;
  const top = 50;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = o.series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  const yMax = o.yMax ?? niceMax(Math.max(1, ...all) * 1.05);
  const n = o.xs.length;
  const pad = 40;
  const x = (i: number): number => left + pad + (n === 1 ? (plotW - 2 * pad) / 2 : (i / (n - 1)) * (plotW - 2 * pad));
  const y = (v: number): number => top + plotH - (Math.min(v, yMax) / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(
    `<text x="${left + plotW / 2}" y="26" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(o.title)}</text>`,
  );
  for (let k = 0; k <= 5; k++) {
    const v = (yMax * k) / 5;
    const gy = y(v);
    out.push(`<line x1="${left}" y1="${gy.toFixed(1)}" x2="${left + plotW}" y2="${gy.toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(
      `<text x="${left - 8}" y="${(gy + 4).toFixed(1)}" text-anchor="end" fill="#555">${tick(v)}${o.ySuffix ?? ''}</text>`,
    );
  }
  o.xs.forEach((xv, i) => {
    out.push(
      `<line x1="${x(i).toFixed(1)}" y1="${top}" x2="${x(i).toFixed(1)}" y2="${top + plotH}" stroke="#f0f0f0"/>`,
    );
    out.push(
      `<text x="${x(i).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" fill="#555">${escapeXml(o.xTick(xv))}</text>`,
    );
  });
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#888"/>`);
  out.push(
    `<text x="${left + plotW / 2}" y="${height - 18}" text-anchor="middle" fill="#333">${escapeXml(o.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(o.yLabel)}</text>`,
  );
  o.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length];
    // A small vertical offset per series keeps identical lines (e.g. several at 100%) visible.
    const jitter = (si - (o.series.length - 1) / 2) * 1.5;
    const segments: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (v === null) segments.push([]);
      else (segments[segments.length - 1] as string[]).push(`${x(i).toFixed(1)},${(y(v) + jitter).toFixed(1)}`);
    });
    for (const seg of segments) {
      if (seg.length < 2) continue;
      out.push(
        `<path d="M${seg.join(' L')}" fill="none" stroke="${color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
      );
    }
    s.values.forEach((v, i) => {
      if (v !== null)
        out.push(`<circle cx="${x(i).toFixed(1)}" cy="${(y(v) + jitter).toFixed(1)}" r="4" fill="${color}"/>`);
    });
    const ly = top + 10 + si * 22;
    out.push(
      `<line x1="${left + plotW + 20}" y1="${ly}" x2="${left + plotW + 44}" y2="${ly}" stroke="${color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
    );
    out.push(`<circle cx="${left + plotW + 32}" cy="${ly}" r="4" fill="${color}"/>`);
    out.push(`<text x="${left + plotW + 52}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

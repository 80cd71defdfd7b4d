/**
 * "did you mean" for an unknown key: the known key nearest to the one written, by edit distance
 * (insertions, deletions, substitutions and swaps of neighbours), when it is near enough to be a
 * typo: at most 1 edit for keys up to 4 characters, 2 up to 8, 3 beyond. Case and '-' for '_' are
 * forgiven first (`Duration`, `max-duration`). Pure; keys are short, so the quadratic table is fine.
 */

export function didYouMean(written: string, known: readonly string[]): string | null {
  const norm = (k: string): string => k.toLowerCase().replace(/-/g, '_');
  const w = norm(written);
  const budget = w.length <= 4 ? 1 : w.length <= 8 ? 2 : 3;
  let best: string | null = null;
  let bestDistance = budget + 1;
  for (const k of known) {
    const d = editDistance(w, norm(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one substring). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const up = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** "Did you mean": the known word nearest to a typo. Pure. */

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known word nearest to `typo` (same letters ignoring case, or at most `max` edits away), if any; ties: the first. */
export function closest(typo: string, known: readonly string[], max = 2): string | undefined {
  let best: [string, number] | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === typo.toLowerCase() ? 0 : editDistance(typo, k);
    if (d <= max && (!best || d < best[1])) best = [k, d];
  }
  return best?.[0];
}

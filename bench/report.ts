/** Small helpers the benchmarks share: median, goal lines and a plain-text table. */
import { table as textTable } from "../lib/table";

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Goal {
  readonly name: string;
  readonly measured: string;
  readonly limit: string;
  readonly met: boolean;
  readonly value: number;
}

/** A goal "value ≤ limit"; `unit` "≤×" prints as a ratio, "≤" as a count, "≤ms" as milliseconds. */
export function goalLine(name: string, value: number, limit: number, unit: "≤" | "≤×" | "≤ms"): Goal {
  const fmt = (v: number) => (unit === "≤×" ? `${v.toFixed(2)}×` : unit === "≤ms" ? `${v.toFixed(1)} ms` : v.toFixed(2));
  return { name, value, measured: fmt(value), limit: `≤ ${fmt(limit)}`, met: value <= limit };
}

/** Left-aligned text table with a header rule. */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return textTable([head, ...rows], { rule: true });
}

/** Plain-text tables for terminals and logs. Pure. */

export interface TableOptions {
  /** A rule of dashes under the first row (the header). */
  readonly rule?: boolean;
  /** Indexes of the columns aligned right (numbers). */
  readonly right?: readonly number[];
}

/** Columns two spaces apart, padded to the widest cell (widths by code point), no trailing blanks. */
export function table(rows: readonly (readonly (string | number)[])[], opts: TableOptions = {}): string {
  const cells = rows.map((r) => r.map(String));
  const len = (s: string) => [...s].length;
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => len(r[c]))));
  const pad = (s: string, c: number) => {
    const fill = " ".repeat(widths[c] - len(s));
    return opts.right?.includes(c) ? fill + s : s + fill;
  };
  const lines = cells.map((r) => r.map(pad).join("  ").trimEnd());
  if (opts.rule) lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n");
}

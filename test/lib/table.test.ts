/** The one text table: column widths by code point, a header rule, right-aligned columns, no trailing blanks. */
import { table } from "../../lib/table";

describe("table", () => {
  test("left-aligned columns two spaces apart, sized by code points, lines trimmed", () => {
    expect(table([["key", "value", ""], ["≤ limit", "1", ""], ["a", "longer", "x"]])).toBe(["key      value", "≤ limit  1", "a        longer  x"].join("\n"));
  });

  test("a rule under the header and a right-aligned column", () => {
    expect(table([["name", "n"], ["udp", 5], ["tcp", 1234]], { rule: true, right: [1] })).toBe(["name     n", "----  ----", "udp      5", "tcp   1234"].join("\n"));
  });

  test("a header alone still gets its rule", () => {
    expect(table([["goal", "met"]], { rule: true })).toBe("goal  met\n----  ---");
  });
});

/** The SVG chart and the text/markdown reports built from capacity reports. */
import { capacityChart, CHARTED } from "../../sizing/chart";
import { num, pct } from "../../sizing/format";
import { compareTable, reportMarkdown, reportTable } from "../../sizing/report";
import { reportOf } from "./helpers";

const reports = ["minimal", "prod", "full"].map((s) => reportOf(s));

describe("capacityChart", () => {
  const svg = capacityChart(reports);
  const bars = [...svg.matchAll(/<rect x="120" y="\d+" width="([\d.]+)" height="12" fill="(#[0-9a-f]{6})"><title>([^<]*)<\/title><\/rect>/g)];

  test("one coloured bar per charted resource and stack, titled with its share and status", () => {
    expect(bars).toHaveLength(CHARTED.length * 3);
    expect(bars.map((b) => b[3])).toContain("prod RAM (expected): 174 % (warn)");
    expect(bars.map((b) => b[3])).toContain("minimal CPU: 19 % (ok)");
  });
  test("bar width is share × 240 px (360 px = 150 %), capped at 150 %; colour follows the status", () => {
    const bar = (title: string) => bars.find((b) => b[3].startsWith(title))!;
    // prod RAM floors: 292.4375 / 384 of 240 px
    expect(Number(bar("prod RAM (floors)")[1])).toBeCloseTo(((292.4375 / 384) * 360) / 1.5, 1);
    expect(bar("prod RAM (floors)")[2]).toBe("#2e7d32");
    expect(bar("prod RAM (ceiling)")[1]).toBe("360.0");
    expect(bar("prod RAM (ceiling)")[2]).toBe("#f9a825");
  });
  test("a failing resource is red", () => {
    const failing = reportOf("prod", (c) => (c.hardware = { ramGb: 256 }));
    expect(capacityChart([failing])).toContain('fill="#c62828"><title>prod RAM (floors): 114 % (fail)</title>');
  });
  test("well-formed: one root, every opened element closed, text escaped", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
    // A tag stack: every element closes in order and the svg root closes last.
    const stack: string[] = [];
    let roots = 0;
    for (const [, slash, name, self] of svg.matchAll(/<(\/?)([a-z]+)\b[^>]*?(\/?)>/g)) {
      if (slash) expect(stack.pop()).toBe(name);
      else if (!self) {
        if (stack.length === 0) roots++;
        stack.push(name);
      }
    }
    expect([stack, roots]).toEqual([[], 1]);
    const odd = { ...reports[0], stack: "a<b&c" };
    expect(capacityChart([odd])).toContain("a&lt;b&amp;c");
  });
});

describe("reports", () => {
  test("terminal table lists every line, every assumption with its value, and the findings", () => {
    const t = reportTable(reports[1]);
    expect(t.split("\n")[0]).toBe('capacity of stack "prod" (profile optimal, 500 tenants): WARN');
    expect(t).toMatch(/^WARN {4}public IPs {7}504 {6}506 {8}addresses {2}100 %$/m);
    for (const a of reports[1].assumptions) expect(t).toMatch(new RegExp(`^  ${a.key.replace(".", "\\.")} +${String(a.value).replace(".", "\\.")} `, "m"));
    expect(t).toContain('  payback: seed says "ROI: <2 meses"\n    recomputed: 18,000 EUR / (10,000 − 2,800 = 7,200 EUR/month) = 2.5 months, not < 2');
    expect(t).toMatch(/^ {2}hardware\.ramGb +384 +stack$/m);
    expect(t).toMatch(/^ {2}hardware\.threadsPerCore +2 +assumed: the seed gives cores only/m);
  });
  test("compare: one row per resource, one column per stack, payback row", () => {
    const lines = compareTable(reports).split("\n");
    expect(lines).toHaveLength(1 + 17 + 2);
    expect(lines[0]).toMatch(/^resource +minimal \(minimal, 50\) +prod \(optimal, 500\) +full \(full, 500\)$/);
    expect(lines.at(-1)).toMatch(/^payback +30\.0 months +2\.5 months +6\.2 months$/);
  });
  test("markdown embeds the SVG, bars, and the shortfalls of a failing stack", () => {
    const failing = reportOf("prod", (c) => (c.hardware = { ramGb: 256 }));
    const md = reportMarkdown([reports[0], failing]);
    expect(md).toContain(capacityChart([reports[0], failing]));
    expect(md).toContain("**prod** (optimal, 500 tenants): **FAIL**");
    expect(md).toContain("| RAM (floors) | `███░░░░░░░` 39.8/128.0 GiB 31 % | `██████████` 292.4/256.0 GiB 114 % FAIL |");
    expect(md).toContain("- `hardware.ramGb`: RAM: balloon floors 250.0 GiB");
    expect(md).toContain("| `assumptions.cloudStorageEurPerTbMonth` | 8.5 | EUR/TB/month | default |");
  });
});

describe("format", () => {
  test.each([
    [18000, 0, "18,000"],
    [292.4375, 1, "292.4"],
    [-200, 0, "-200"],
    [1234567.891, 2, "1,234,567.89"],
    [Infinity, 0, "∞"],
  ])("num(%d, %d) = %s", (n, d, s) => expect(num(n, d)).toBe(s));
  test("pct", () => expect([pct(0.7615), pct(1.74), pct(Infinity)]).toEqual(["76 %", "174 %", "∞ %"]));
});

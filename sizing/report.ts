/** Capacity reports as text: a terminal table, a side-by-side comparison and the PR-comment markdown. Pure. */
import { table } from "../lib/table";
import type { CapacityLine, CapacityReport } from "./capacity";
import { capacityChart, CHARTED } from "./chart";
import { num, pct } from "./format";

const DIGITS: Record<string, number> = { GiB: 1, GB: 1, TB: 2 };

/** A line's figure with the precision its unit deserves. */
export function value(v: number, unit: string): string {
  return num(v, DIGITS[unit] ?? 0);
}

const mark = (s: CapacityLine["status"]) => s.toUpperCase();

/** The assumption list, every value shown, with where it came from. */
function assumptionRows(r: CapacityReport): string[][] {
  return r.assumptions.map((a) => [a.key, `${a.value}`, a.unit, a.source, a.rationale]);
}

function hardwareRows(r: CapacityReport): string[][] {
  return Object.entries(r.hardware).map(([k, v]) => {
    const from = r.hardwareOverridden.includes(k) ? "stack" : r.hardwareAssumed[k] ? `assumed: ${r.hardwareAssumed[k]}` : "seed";
    return [`hardware.${k}`, `${v}`, from];
  });
}

/** A cluster's nodes: what each runs and what its RAM and threads hold (the per-node lines check them). */
function nodeRows(r: CapacityReport): string[] {
  const rows = [
    ["  node", "tenants", "infra VMs", "OSDs", "Ceph RAM", "RAM floors", "RAM", "vCPUs", "vCPU limit"],
    ...(r.nodes ?? []).map((n) => [`  ${n.name}`, `${n.tenants}`, n.infra.join(", ") || "-", `${n.osds}`, `${num(n.cephRamGb, 1)} GiB`, `${num(n.floorsGb, 1)} GiB`, `${num(n.ramGb)} GiB`, `${n.vcpus}`, `${num(n.vcpuAvailable)}`]),
  ];
  return ["nodes:", table(rows)];
}

/** One stack's report for a terminal. */
export function reportTable(r: CapacityReport): string {
  const head = `capacity of stack "${r.stack}" (profile ${r.profile}, ${r.tenants} tenants): ${mark(r.verdict)}`;
  const rows = [["status", "resource", "needed", "available", "unit", "use"], ...r.lines.map((l) => [mark(l.status), l.resource, value(l.needed, l.unit), value(l.available, l.unit), l.unit, pct(l.utilisation)])];
  return [
    head,
    "",
    table(rows),
    "",
    ...(r.nodes ? [...nodeRows(r), ""] : []),
    "how the figures add up:",
    ...r.lines.map((l) => `  ${l.resource}: ${l.note}`),
    "",
    "hardware:",
    table(hardwareRows(r).map((x) => ["  " + x[0], ...x.slice(1)])),
    "",
    "assumptions:",
    table(assumptionRows(r).map((x) => ["  " + x[0], ...x.slice(1)])),
    "",
    `seed findings (figures of the seed's ${r.profile} profile that do not follow from its inputs):`,
    ...(r.findings.length ? r.findings.flatMap((f) => [`  ${f.topic}: seed says "${f.seed}"`, `    recomputed: ${f.recomputed}`]) : ["  none"]),
  ].join("\n");
}

/** Several stacks side by side: one row per resource, one column per stack. */
export function compareTable(reports: readonly CapacityReport[]): string {
  const rows = [
    ["resource", ...reports.map((r) => `${r.stack} (${r.profile}, ${r.tenants})`)],
    ...reports[0].lines.map((l, i) => [l.resource, ...reports.map((r) => cell(r.lines[i]))]),
    ["verdict", ...reports.map((r) => mark(r.verdict))],
    ["payback", ...reports.map((r) => (r.money.paybackMonths === null ? "never" : `${num(r.money.paybackMonths, 1)} months`))],
  ];
  return table(rows);
}

function cell(l: CapacityLine): string {
  return `${value(l.needed, l.unit)}/${value(l.available, l.unit)} ${l.unit} ${pct(l.utilisation)}${l.status === "ok" ? "" : ` ${mark(l.status)}`}`;
}

/** A text bar for markdown that renders everywhere (PR comments strip inline SVG on some hosts). */
function bar(u: number): string {
  const n = Math.max(0, Math.min(10, Math.round((Number.isFinite(u) ? u : 10) * 10)));
  return `${"█".repeat(n)}${"░".repeat(10 - n)}`;
}

const md = (s: string) => s.replace(/\|/g, "\\|");

/** The PR comment: verdicts, a resource × stack table with bars, the SVG chart, notes, assumptions and findings. */
export function reportMarkdown(reports: readonly CapacityReport[], svg: string = capacityChart(reports)): string {
  const out: string[] = ["## Capacity", ""];
  out.push(reports.map((r) => `**${r.stack}** (${r.profile}, ${r.tenants} tenants): **${mark(r.verdict)}**`).join(" · "), "");
  out.push(`| resource | ${reports.map((r) => r.stack).join(" | ")} |`, `| --- | ${reports.map(() => "---").join(" | ")} |`);
  reports[0].lines.forEach((l, i) => {
    out.push(`| ${l.resource} | ${reports.map((r) => { const x = r.lines[i]; return `${CHARTED.includes(x.resource) ? `\`${bar(x.utilisation)}\` ` : ""}${md(cell(x))}`; }).join(" | ")} |`);
  });
  out.push("", "<details><summary>Chart (SVG)</summary>", "", svg, "", "</details>", "");
  for (const r of reports) {
    const fails = r.lines.filter((l) => l.status === "fail");
    out.push(`### ${r.stack}`, "");
    if (fails.length) out.push("**Does not fit:**", "", ...fails.map((l) => `- \`${l.key}\`: ${md(l.note)}`), "");
    out.push("<details><summary>How the figures add up</summary>", "", ...r.lines.map((l) => `- **${l.resource}** (${l.status}): ${md(l.note)}`), "", "</details>", "");
    out.push("<details><summary>Hardware and assumptions</summary>", "", "| key | value | unit | source | why |", "| --- | --- | --- | --- | --- |");
    out.push(...hardwareRows(r).map(([k, v, from]) => `| \`${k}\` | ${md(v)} | | ${md(from)} | |`));
    out.push(...assumptionRows(r).map(([k, v, unit, src, why]) => `| \`${k}\` | ${md(v)} | ${unit} | ${src} | ${md(why)} |`), "", "</details>", "");
    if (r.findings.length) {
      out.push(`**Seed findings** (${r.profile} profile):`, "", ...r.findings.map((f) => `- ${f.topic}: seed says “${md(f.seed)}”; recomputed: ${md(f.recomputed)}`), "");
    }
  }
  return out.join("\n");
}

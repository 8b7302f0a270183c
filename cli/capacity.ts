/**
 * `npm run capacity -- --stack <name> | --compare [--format table|markdown|json] [--svg <path>] [--dir <d>]`:
 * does the hardware hold the tenants? Exit 1 naming each shortfall when a stack does not fit.
 */
import { writeFileSync } from "node:fs";
import { formatIssues } from "../config/errors";
import { readStackFile } from "../config/load";
import { capacityIssues, stackCapacity } from "../stack/compile";
import { capacityChart } from "../sizing/chart";
import { compareTable, reportMarkdown, reportTable } from "../sizing/report";
import { parseCommon, runCli } from "./args";

const USAGE = `usage: npm run capacity -- [--stack minimal|prod|full|cluster | --compare] [--format table|markdown|json] [--svg <file>] [--dir <dir>]`;
const COMPARED = ["minimal", "prod", "full"];

runCli(USAGE, () => {
  const { common, values } = parseCommon(process.argv.slice(2), ["table", "markdown", "json"], {
    compare: { type: "boolean", default: false },
    svg: { type: "string" },
  });
  if (common.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const stacks = values.compare ? COMPARED : [common.stack];
  // Build every plan first: a bad config is a ConfigError (exit 1, message only) before anything prints.
  const reports = stacks.map((s) => stackCapacity(readStackFile(common.dir, s), s).capacity);
  const svg = capacityChart(reports);
  if (typeof values.svg === "string") writeFileSync(values.svg, `${svg}\n`);
  const text =
    common.format === "json"
      ? JSON.stringify(values.compare ? { reports } : reports[0], null, 2)
      : common.format === "markdown"
        ? reportMarkdown(reports, svg)
        : values.compare
          ? [compareTable(reports), ...reports.map(reportTable)].join("\n\n")
          : reportTable(reports[0]);
  process.stdout.write(`${text}\n`);
  const failing = reports.filter((r) => r.verdict === "fail");
  for (const r of failing) process.stderr.write(`${formatIssues(capacityIssues(r), r.stack)}\n`);
  return failing.length ? 1 : 0;
});

/** `npm run plan -- --stack <name> [--dir <d>] [--format table|json]`: the tenant plan and capacity verdict. */
import { readStackFile } from "../config/load";
import { compileStack } from "../stack/compile";
import { parseCommon, runCli } from "./args";
import { planJson, planTable } from "./plan-table";

const USAGE = `usage: npm run plan -- [--stack minimal|prod|full] [--dir <dir with Pulumi.<stack>.yaml>] [--format table|json]`;

runCli(USAGE, () => {
  const { common } = parseCommon(process.argv.slice(2), ["table", "json"], {});
  if (common.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const compiled = compileStack(readStackFile(common.dir, common.stack), common.stack);
  process.stdout.write(`${common.format === "json" ? planJson(compiled) : planTable(compiled)}\n`);
  return 0;
});

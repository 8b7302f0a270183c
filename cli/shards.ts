/**
 * `npm run shards -- --stack <core> [--dir <d>] [--check]`: writes or updates the shard stacks' files of a sharded
 * core stack (stack/shard-files.ts), one `Pulumi.<core>-sNN.yaml` per shard with a tenant. `--check` writes nothing
 * and exits 1 when a file is missing or stale (CI). Shard files of shards that no longer hold a tenant are named,
 * never deleted: their stack may still hold resources.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stacksIn } from "../config/load";
import { shardFiles } from "../stack/shard-files";
import { parseCommon, runCli } from "./args";

const USAGE = "usage: npm run shards -- --stack <core stack> [--dir <dir with Pulumi.<stack>.yaml>] [--check]";

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

runCli(USAGE, () => {
  const { common, values } = parseCommon(process.argv.slice(2), ["table"], { check: { type: "boolean", default: false } });
  if (common.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const core = common.stack;
  const coreText = read(join(common.dir, `Pulumi.${core}.yaml`));
  if (coreText === undefined) throw new Error(`no file Pulumi.${core}.yaml in ${common.dir}; pass the core stack with --stack`);
  const files = shardFiles(core, coreText, (f) => read(join(common.dir, f)));
  const stale = Object.entries(files).filter(([f, text]) => read(join(common.dir, f)) !== text);
  const orphans = stacksIn(common.dir).filter((s) => /-s[0-9]{2,}$/.test(s) && s.startsWith(`${core}-`) && !Object.hasOwn(files, `Pulumi.${s}.yaml`));
  for (const s of orphans) process.stderr.write(`note: Pulumi.${s}.yaml is no longer a shard of ${core} (no tenant's slot in it): empty its stack (pulumi state move / destroy) before deleting the file\n`);
  if (values.check) {
    for (const [f] of stale) process.stderr.write(`${f} is missing or stale: run npm run shards -- --stack ${core}\n`);
    return stale.length ? 1 : 0;
  }
  for (const [f, text] of stale) writeFileSync(join(common.dir, f), text);
  process.stdout.write(`${Object.keys(files).length} shard stacks of ${core}: ${stale.length} written, ${Object.keys(files).length - stale.length} unchanged\n`);
  return 0;
});

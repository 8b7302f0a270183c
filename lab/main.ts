/**
 * `npm run lab [-- --tenants N] [--keep] [--only id,id]`: brings up the real data plane in network
 * namespaces from the embedded lab stack, runs every check, prints a result table, and always cleans up
 * (also on a failed step and on Ctrl-C). Exits non-zero if any step or check fails. Needs root.
 */
import { parseOptions } from "../lib/args";
import { table } from "../lib/table";
import { bringUp } from "./bringup";
import { CHECKS } from "./checks";
import { Lab, secs } from "./lab";

interface Args {
  tenants: number;
  keep: boolean;
  only?: Set<string>;
}

function usage(): string {
  return `usage: npm run lab -- [--tenants N] [--keep] [--only ${CHECKS.map((c) => c.id).join(",")}]`;
}

function parseArgs(argv: string[]): Args {
  let v;
  try {
    v = parseOptions(argv, { tenants: { type: "string", default: "2" }, keep: { type: "boolean", default: false }, only: { type: "string" }, help: { type: "boolean", short: "h", default: false } });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${usage()}`);
  }
  if (v.help) {
    console.log(usage());
    process.exit(0);
  }
  const a: Args = { tenants: Number(v.tenants), keep: v.keep, ...(v.only === undefined ? {} : { only: new Set(v.only.split(",")) }) };
  if (!Number.isInteger(a.tenants) || a.tenants < 2 || a.tenants > 200) throw new Error(`--tenants must be 2…200 (the checks need two tenants)\n${usage()}`);
  for (const id of a.only ?? []) if (!CHECKS.some((c) => c.id === id)) throw new Error(`unknown check ${id}\n${usage()}`);
  return a;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error("npm run lab needs root (network namespaces, /dev/net/tun): sudo ./scripts/lab.sh");
    return 2;
  }
  const args = parseArgs(process.argv.slice(2));
  const lab = new Lab({ tenants: args.tenants });
  const t0 = Date.now();
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[lab] ${sig}: tearing down`);
    void lab.teardown().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => lab.teardownSync());

  const rows: [string, string, string, string][] = [["check", "result", "seconds", "detail"]];
  let failed = 0;
  try {
    console.log(`[lab] run ${lab.netns.prefix}, files in ${lab.dir}`);
    const tb = Date.now();
    await bringUp(lab);
    rows.push(["bring-up", "PASS", secs(Date.now() - tb), `${lab.plan.tenants.length} tenants, 4 OpenVPN instances, ${lab.plan.tenants.length} consoles`]);
    for (const c of CHECKS) {
      if (args.only && !args.only.has(c.id)) continue;
      const tc = Date.now();
      try {
        const detail = await c.run(lab);
        rows.push([c.id, "PASS", secs(Date.now() - tc), detail]);
        console.log(`[lab] ${c.id} PASS ${secs(Date.now() - tc)}`);
      } catch (e) {
        failed++;
        const msg = (e as Error).message;
        rows.push([c.id, "FAIL", secs(Date.now() - tc), msg.split("\n")[0]]);
        console.log(`[lab] ${c.id} FAIL ${secs(Date.now() - tc)}\n${msg}`);
      }
    }
  } catch (e) {
    if (stopping) {
      await lab.teardown();
      return 130;
    }
    failed++;
    rows.push(["bring-up", "FAIL", secs(Date.now() - t0), (e as Error).message.split("\n")[0]]);
    console.error(`[lab] bring-up failed: ${(e as Error).stack ?? e}`);
  }
  rows.push(["total", failed ? "FAIL" : "PASS", secs(Date.now() - t0), `${rows.length - 1} rows, ${failed} failed`]);
  console.log(`\n${table(rows, { right: [2] })}\n`);

  if (args.keep && !stopping) {
    console.log(`[lab] kept running. Enter a namespace with: ip netns exec <ns> bash   (Ctrl-C here tears everything down)`);
    for (const ns of lab.netns.created) console.log(`  ${ns}`);
    console.log(`  logs: ${lab.dir}/logs`);
    // A pending promise alone does not keep Node alive: hold the event loop until the signal handler exits.
    setInterval(() => undefined, 1 << 30);
    await new Promise<never>(() => undefined);
  }
  await lab.teardown();
  if (stopping) return 130;
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.message);
    process.exit(2);
  },
);

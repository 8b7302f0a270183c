/**
 * `npm run lab [-- --mode fixed|distinct] [--tenants N] [--hosts 1|2] [--keep] [--only id,id] [--screenshots DIR]`: brings up the
 * real data plane in network namespaces from the embedded lab stack (tenantNetwork.mode `fixed` by default: the
 * LibreRouter image as shipped), runs every check that applies to the mode (the others are listed as n/a, with the
 * reason), prints a result table, and always cleans up (also on a failed step and on Ctrl-C). Exits non-zero if any
 * step or check fails. `--screenshots DIR`: where the console-browser check writes console-screen.png and
 * console-text.png (with their .json sidecars; default: the run directory, removed at the end). `--hosts 2`: two
 * Proxmox nodes over a VXLAN zone (./hosts.ts), every check plus the cluster's (./check-cluster.ts), node-failure
 * last. Needs root.
 */
import { parseOptions } from "../lib/args";
import { table } from "../lib/table";
import { bringUp } from "./bringup";
import { CHECKS, notApplicable } from "./checks";
import { CLUSTER_CHECKS } from "./check-cluster";
import { Lab, secs } from "./lab";
import { DEFAULT_LAB_MODE, LAB_CLUSTER_DEFAULT_TENANTS, LAB_CLUSTER_MIN_TENANTS, LAB_MODES, type LabHosts, type LabMode } from "./stack";

interface Args {
  mode: LabMode;
  tenants: number;
  hosts: LabHosts;
  keep: boolean;
  only?: Set<string>;
  screenshots?: string;
}

function usage(): string {
  return `usage: npm run lab -- [--mode ${LAB_MODES.join("|")}] (default ${DEFAULT_LAB_MODE}) [--tenants N] [--hosts 1|2] [--keep] [--only ${[...CHECKS, ...CLUSTER_CHECKS].map((c) => c.id).join(",")}] [--screenshots DIR]`;
}

function parseArgs(argv: string[]): Args {
  let v;
  try {
    v = parseOptions(argv, { mode: { type: "string", default: DEFAULT_LAB_MODE }, tenants: { type: "string" }, hosts: { type: "string", default: "1" }, keep: { type: "boolean", default: false }, only: { type: "string" }, screenshots: { type: "string" }, help: { type: "boolean", short: "h", default: false } });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${usage()}`);
  }
  if (v.help) {
    console.log(usage());
    process.exit(0);
  }
  if (!(LAB_MODES as readonly string[]).includes(v.mode)) throw new Error(`--mode must be ${LAB_MODES.join(" or ")}, got ${JSON.stringify(v.mode)}\n${usage()}`);
  if (v.hosts !== "1" && v.hosts !== "2") throw new Error(`--hosts must be 1 or 2, got ${JSON.stringify(v.hosts)}\n${usage()}`);
  const hosts: LabHosts = v.hosts === "2" ? 2 : 1;
  const a: Args = { mode: v.mode as LabMode, tenants: Number(v.tenants ?? (hosts === 2 ? LAB_CLUSTER_DEFAULT_TENANTS : 2)), hosts, keep: v.keep, ...(v.only === undefined ? {} : { only: new Set(v.only.split(",")) }), ...(v.screenshots === undefined ? {} : { screenshots: v.screenshots }) };
  if (!Number.isInteger(a.tenants) || a.tenants < 2 || a.tenants > 200) throw new Error(`--tenants must be 2…200 (the checks need two tenants)\n${usage()}`);
  if (hosts === 2 && a.tenants < LAB_CLUSTER_MIN_TENANTS) throw new Error(`--hosts 2 needs --tenants ${LAB_CLUSTER_MIN_TENANTS} or more (tenants on both nodes; the checks' first two and last tenant on hostA)\n${usage()}`);
  for (const id of a.only ?? []) if (!CHECKS.some((c) => c.id === id) && !(hosts === 2 && CLUSTER_CHECKS.some((c) => c.id === id))) throw new Error(`unknown check ${id}${CLUSTER_CHECKS.some((c) => c.id === id) ? " (only with --hosts 2)" : ""}\n${usage()}`);
  if (a.screenshots === "") throw new Error(`--screenshots needs a directory\n${usage()}`);
  return a;
}

/** `hostA: vpn1, 3 tenants; hostB: vpn2, 1 tenant (VXLAN)`: what runs where in the cluster lab. */
function nodesSummary(lab: Lab): string {
  const each = lab.plan.nodes.map((n) => {
    const n1 = lab.plan.tenants.filter((t) => t.node === n.name).length;
    return `${n.name}: ${[...lab.plan.servers.filter((s) => s.node === n.name).map((s) => s.name), `${n1} tenant${n1 === 1 ? "" : "s"}`].join(", ")}`;
  });
  return `${each.join("; ")} (VXLAN)`;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error("npm run lab needs root (network namespaces, /dev/net/tun): sudo ./scripts/lab.sh");
    return 2;
  }
  const args = parseArgs(process.argv.slice(2));
  const lab = new Lab({ tenants: args.tenants, mode: args.mode, hosts: args.hosts, ...(args.screenshots === undefined ? {} : { screenshotsDir: args.screenshots }) });
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
  let skipped = 0;
  try {
    console.log(`[lab] run ${lab.netns.prefix}, files in ${lab.dir} (${lab.mode} mode${args.hosts > 1 ? `, ${args.hosts} hosts` : ""})`);
    const tb = Date.now();
    await bringUp(lab);
    rows.push(["bring-up", "PASS", secs(Date.now() - tb), `${lab.mode} mode: ${lab.plan.tenants.length} tenants${lab.mode === "fixed" ? " (public addresses by DHCP)" : ""}, 4 OpenVPN instances, ${lab.plan.tenants.length} consoles${args.hosts > 1 ? `; ${nodesSummary(lab)}` : ""}`]);
    // The cluster lab's checks last: node-failure leaves its node dead.
    for (const c of args.hosts > 1 ? [...CHECKS, ...CLUSTER_CHECKS] : CHECKS) {
      if (args.only && !args.only.has(c.id)) continue;
      const na = notApplicable(c, lab);
      if (na) {
        skipped++;
        rows.push([c.id, "n/a", "-", na]);
        console.log(`[lab] ${c.id} n/a: ${na}`);
        continue;
      }
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
  rows.push(["total", failed ? "FAIL" : "PASS", secs(Date.now() - t0), `${lab.mode} mode: ${rows.length - 1} rows, ${failed} failed, ${skipped} n/a`]);
  console.log(`\n${table(rows, { right: [2] })}\n`);

  if (args.keep && !stopping) {
    console.log(`[lab] kept running. Enter a namespace with: ip netns exec <ns> bash   (Ctrl-C here tears everything down)`);
    for (const ns of lab.netns.created) console.log(`  ${ns}`);
    console.log(`  logs: ${lab.dir}/logs`);
    if (lab.monitoring) console.log(`  npm run status against it: ip netns exec ${lab.ns.svc} npx tsx cli/status.ts --stack lab --dir ${lab.stackDir} --via direct`);
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

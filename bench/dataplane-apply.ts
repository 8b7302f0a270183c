/**
 * `sudo npm run bench:dataplane-apply`: how long `lr-dataplane` takes to install and change a VPN server's
 * data plane at N tenants (default 500 and 2,000; BENCH_TENANTS=…), in each tenant-network mode (default fixed,
 * then distinct; BENCH_MODES=…). Per mode and N, in a throwaway network namespace: the rendered tool for a plan of
 * N+1 tenants (Pulumi.full.yaml with numberedTenants.count = N+1, vlanBase 1, one /20 public pool, the mode), the
 * env files of the first N, and veth pairs standing in for the VLAN links (no 8021q
 * here; the tool only addresses an existing link) — created first and timed apart. Then, timed one by one:
 *   base → apply-all (cold: links bare) → apply-all (warm: nothing to do) → apply/apply again/delete of the
 *   extra tenant → flush rules, tenant routes and iptables (a reboot) → apply-all.
 * Each step's resulting state (ip rules, routes, iptables-save without counters, addresses, the lr_lan table with
 * its elements sorted) is hashed, and the bench
 * fails if the warm, re-apply, delete and reboot states differ from what they must equal. A benchmark, not a
 * test: prints a table and writes bench/out/dataplane-apply.json. The namespace is deleted even on failure.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readStackFile } from "../config/load";
import { buildPlan } from "../plan/build";
import type { Plan } from "../plan/types";
import { dataplaneToolPath, renderDataplaneTool } from "../render/dataplane";
import { renderTenantEnv, tenantEnvPath } from "../render/dataplane-env";
import type { ServerLayout } from "../render/layout";

const SIZES = (process.env.BENCH_TENANTS ?? "500,2000").split(",").map(Number);
type Mode = Plan["tenantNetwork"]["mode"];
const MODES = (process.env.BENCH_MODES ?? "fixed,distinct").split(",") as Mode[];
for (const m of MODES) if (m !== "distinct" && m !== "fixed") throw new Error(`BENCH_MODES: ${JSON.stringify(m)} is no mode (distinct, fixed)`);
const ROOT = join(__dirname, "..");

/** Pulumi.full.yaml with `count` numbered tenants in `mode`, VLANs from 1 and a public pool large enough for 2,000. */
function benchPlan(count: number, mode: Mode): Plan {
  const raw = readStackFile(ROOT, "full") as Record<string, unknown> & { network: Record<string, unknown>; tenantNetwork?: Record<string, unknown> };
  const input = {
    ...raw,
    network: { ...raw.network, vlanBase: 1, publicPools: [{ cidr: "100.64.0.0/20", gateway: "100.64.0.1" }] },
    tenantNetwork: { ...raw.tenantNetwork, mode },
    numberedTenants: { count },
  };
  return buildPlan(input, `bench${count}`);
}

function run(args: readonly string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(args[0], args.slice(1), { input, encoding: "utf8", maxBuffer: 1 << 28, timeout: 900_000 });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

function must(args: readonly string[], input?: string): string {
  const r = run(args, input);
  if (r.code !== 0) throw new Error(`${args.join(" ").slice(0, 120)} → ${r.code}\n${r.err.slice(-2000)}`);
  return r.out;
}

/** Seconds `fn` takes. */
function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface Row {
  readonly mode: Mode;
  readonly tenants: number;
  readonly links: number;
  readonly seconds: Record<string, number>;
  readonly ipRules: number;
  readonly dnatRules: number;
  readonly stateSha: string;
}

const STEPS = ["base", "apply-all (cold)", "apply-all (warm)", "apply +1", "apply +1 again", "delete +1", "status", "reboot: apply-all"] as const;

function scenario(mode: Mode, n: number, ns: string, dir: string): Row {
  const plan = benchPlan(n + 1, mode);
  const server = plan.servers[0];
  const [udp, tcp] = server.instances;
  const layout: ServerLayout = { openvpnDir: `${dir}/openvpn`, runDir: `${dir}/run`, stateDir: `${dir}/state`, confDir: `${dir}/conf`, systemdDir: `${dir}/systemd`, networkLinkDir: `${dir}/systemd-network`, ifupdownDir: `${dir}/interfaces.d`, ifaces: { public: "eth0", trunk: "eth1", mgmt: "eth2" } };
  const tenants = plan.tenants.slice(0, n);
  const extra = plan.tenants[n];
  const exec = (...args: string[]) => must(["ip", "netns", "exec", ns, ...args]);
  const tool = (...args: string[]) => exec(dataplaneToolPath(layout), ...args);

  must(["ip", "netns", "add", ns]);
  const etc = `/etc/netns/${ns}/iproute2`;
  mkdirSync(etc, { recursive: true });
  if (existsSync("/etc/iproute2")) cpSync("/etc/iproute2", etc, { recursive: true });
  mkdirSync(`${etc}/rt_tables.d`, { recursive: true });
  const infra = ["link set lo up"];
  for (const [dev, peer] of [[udp.dev, "tunp-udp"], [tcp.dev, "tunp-tcp"], ["eth1", "eth1p"], ["eth2", "eth2p"]]) infra.push(`link add ${dev} type veth peer name ${peer}`, `link set ${dev} up`, `link set ${peer} up`);
  infra.push(`addr add ${udp.gateway}/${udp.prefix} dev ${udp.dev}`, `addr add ${tcp.gateway}/${tcp.prefix} dev ${tcp.dev}`, `addr add ${plan.host.mgmtIp.replace(/\.\d+$/, ".250")}/24 dev eth2`);
  must(["ip", "-n", ns, "-batch", "-"], infra.join("\n") + "\n");
  const links = plan.tenants.map((t) => `link add ${t.link} type veth peer name p${t.slot}\nlink set p${t.slot} up\n`).join("");
  const linkS = timed(() => must(["ip", "-n", ns, "-batch", "-"], links));

  mkdirSync(`${layout.confDir}/tenants`, { recursive: true });
  writeFileSync(dataplaneToolPath(layout), renderDataplaneTool(plan, server, layout), { mode: 0o755 });
  for (const t of tenants) writeFileSync(tenantEnvPath(layout, t), renderTenantEnv(plan.stack, server, t), { mode: 0o640 });

  /** The lr_lan table with its element lists sorted (nft lists a hash set in no fixed order); "" without it. */
  const lanTable = () => {
    const r = run(["ip", "netns", "exec", ns, "nft", "list", "table", "ip", "lr_lan"]);
    if (r.code !== 0) return "";
    return r.out.replace(/elements = \{([^}]*)\}/g, (_m, els: string) => `elements = { ${els.split(",").map((e) => e.trim()).sort().join(", ")} }`);
  };
  /** Rules, routes, iptables without counters, addresses, lr_lan: what apply, delete and apply-all must leave identical. */
  const state = () =>
    [
      exec("ip", "-N", "rule", "show"),
      exec("ip", "-4", "route", "show", "table", "all"),
      exec("iptables-save").replace(/^#.*\n/gm, "").replace(/\[\d+:\d+\]/g, "[0:0]"),
      exec("ip", "-4", "-o", "addr", "show"),
      lanTable(),
    ].join("\n--\n");
  const expectSame = (what: string, got: string, want: string) => {
    if (got === want) return;
    writeFileSync(`/tmp/${ns}.want`, want);
    writeFileSync(`/tmp/${ns}.got`, got);
    throw new Error(`${what}: state differs (diff /tmp/${ns}.want /tmp/${ns}.got)`);
  };
  const s: Record<string, number> = {};
  const step = (name: (typeof STEPS)[number], ...args: string[]) => {
    s[name] = timed(() => tool(...args));
    console.log(`[bench] ${mode}, ${n} tenants: ${name} ${s[name].toFixed(3)}s`);
  };
  step("base", "base");
  step("apply-all (cold)", "apply-all");
  const applied = state();
  step("apply-all (warm)", "apply-all");
  expectSame("apply-all twice", state(), applied);
  writeFileSync(tenantEnvPath(layout, extra), renderTenantEnv(plan.stack, server, extra), { mode: 0o640 });
  step("apply +1", "apply", extra.key);
  const withExtra = state();
  if (withExtra === applied) throw new Error("apply +1 changed nothing");
  step("apply +1 again", "apply", extra.key);
  expectSame("apply +1 twice", state(), withExtra);
  step("delete +1", "delete", extra.key);
  // The veth stays (not ours to delete); everything the tool added to it is gone, so the state is as before.
  expectSame("delete +1", state(), applied);
  step("status", "status");
  // A reboot: no rules but the kernel's (one `ip rule flush` leaves some behind when there are thousands), no tenant routes, no iptables rules.
  const flush = ["for i in $(seq 20); do [ \"$(ip rule show | wc -l)\" -le 3 ] && break; ip rule flush; done", "ip rule add pref 32766 lookup main 2>/dev/null || true", "ip rule add pref 32767 lookup default 2>/dev/null || true", ...tenants.map((t) => `ip route flush table ${t.table.id}`)];
  exec("bash", "-c", `${flush.join("; ")}; iptables -F; iptables -X; iptables -t nat -F; iptables -t nat -X; iptables -P FORWARD ACCEPT`);
  if (exec("ip", "rule", "show").trim().split("\n").length !== 3) throw new Error("could not flush the ip rules");
  step("reboot: apply-all", "apply-all");
  expectSame("flush + apply-all", state(), applied);
  const ipRules = exec("ip", "rule", "show").trim().split("\n").length;
  const dnatRules = exec("iptables", "-t", "nat", "-S", "LR-DNAT").split("\n").filter((l) => l.startsWith("-A")).length;
  if (mode === "fixed" && lanTable().split("\n").filter((l) => l.includes("elements =")).length !== 4) throw new Error("fixed mode: lr_lan does not hold its four element lists");
  return { mode, tenants: n, links: linkS, seconds: s, ipRules, dnatRules, stateSha: createHash("sha256").update(applied).digest("hex") };
}

function cleanup(ns: string, dir: string): void {
  run(["ip", "netns", "del", ns]);
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error("bench/dataplane-apply.ts needs root (network namespaces)");
  const rows: Row[] = [];
  for (const mode of MODES) for (const n of SIZES) {
    const ns = `lrb-dpa-${process.pid.toString(36)}-${randomBytes(3).toString("hex")}`;
    const dir = `/tmp/${ns}`;
    mkdirSync(dir, { recursive: true });
    const onSignal = () => {
      cleanup(ns, dir);
      process.exit(130);
    };
    process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
    try {
      rows.push(scenario(mode, n, ns, dir));
    } finally {
      cleanup(ns, dir);
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    }
    const r = rows[rows.length - 1];
    console.log(`[bench] ${mode}, ${n} tenants: ${r.ipRules} ip rules, ${r.dnatRules} DNAT rules, veth setup ${r.links.toFixed(1)}s (excluded)`);
  }
  const table = [["step", ...rows.map((r) => `${r.mode} ${r.tenants} (s)`)], ...STEPS.map((st) => [st, ...rows.map((r) => r.seconds[st].toFixed(3))])];
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  console.log("\nlr-dataplane wall time per command (ip netns exec included; veth creation excluded)");
  for (const r of table) console.log(r.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  "));
  const out = join(ROOT, "bench", "out");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "dataplane-apply.json"), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + "\n");
  console.log("\nwrote bench/out/dataplane-apply.json");
}

try {
  main();
} catch (e) {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
}

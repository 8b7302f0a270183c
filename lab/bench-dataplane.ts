/**
 * `npm run bench:dataplane` (root): forwarding rate through a VPN-server namespace that carries the rendered
 * data plane (`lr-dataplane` from the rendered setup script: `base`, then `apply-all` over N tenants' env files,
 * i.e. the routing tree of render/routing.ts plus the real firewall/NAT), for 1, 500 and 2,000 tenants, and the
 * seed's linear layout (one `from <tunnel ip> lookup <table>` rule per tenant and instance) as the baseline.
 * src (stands in for the tun side, with the LAST tenant's UDP tunnel IP, or the first with BENCH_TARGET=first) → gw → sink (that tenant's router,
 * serving 198.18.0.1). Offloads off (tun-like), iperf3 TCP and 64-byte UDP packet rate, median of 3.
 * A benchmark, not a test: prints ratios and writes bench/out/dataplane.json.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StackInput } from "../config/schema";
import { buildPlan } from "../plan/build";
import type { Plan } from "../plan/types";
import { dataplaneToolPath } from "../render/dataplane";
import { renderTenantEnv, tenantEnvPath } from "../render/dataplane-env";
import { renderServerSetupScript } from "../render/server-setup";
import { must, run } from "./exec";
import { LAB_TRUNK, labServerLayout, labTrunkLines } from "./layout";
import { Netns, runPrefix } from "./netns";
import { Procs } from "./procs";
import { startReaper } from "./reaper";

const SINK_IP = "198.18.0.1";
const RUNS = 3;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SIZES = (process.env.BENCH_TENANTS ?? "1,500,2000").split(",").map(Number);
/** Which tenant sends: `last` (longest rule walk, the default) or `first` (shortest: isolates costs other than the walk). */
const TARGET = process.env.BENCH_TARGET === "first" ? "first" : "last";

/** A stack with `n` numbered tenants and a public pool large enough for them. */
function benchStack(n: number): StackInput {
  return {
    profile: "full",
    proxmox: { endpoint: "https://pve-bench.invalid:8006/", node: "bench" },
    network: { publicPools: [{ cidr: "100.64.0.0/20", gateway: "100.64.0.1" }] },
    numberedTenants: { count: n },
  };
}

interface Sample {
  readonly tcpGbps: number;
  readonly udpKpps: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function iperf(ns: string, udp: boolean): Promise<number> {
  const args = ["iperf3", "-c", SINK_IP, "-t", String(SECONDS), "-J", ...(udp ? ["-u", "-l", "64", "-b", "0"] : [])];
  const r = await run(args, { ns, timeoutMs: (SECONDS + 15) * 1000 });
  if (r.code !== 0) throw new Error(`iperf3 failed: ${r.stdout.slice(-500)} ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { end: { sum_received?: { bits_per_second: number }; sum?: { packets: number; lost_packets: number; seconds: number } } };
  if (!udp) return (j.end.sum_received?.bits_per_second ?? 0) / 1e9;
  const s = j.end.sum!;
  return (s.packets - s.lost_packets) / s.seconds / 1000;
}

async function measure(src: string): Promise<Sample> {
  const tcp: number[] = [];
  const udp: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    tcp.push(await iperf(src, false));
    udp.push(await iperf(src, true));
  }
  return { tcpGbps: median(tcp), udpKpps: median(udp) };
}

/** Replaces every ip rule with the seed's linear list: per tenant, its UDP then its TCP rule, all at pref 10000. */
async function linearRules(gw: string, plan: Plan): Promise<void> {
  const server = plan.servers[0];
  for (let i = 0; i < 20 && (await must(["ip", "rule", "show"], { ns: gw })).trim().split("\n").length > 1; i++) await run(["ip", "rule", "flush"], { ns: gw });
  const lines = ["rule add pref 32766 lookup main", "rule add pref 32767 lookup default"];
  for (const t of plan.tenants) for (const inst of server.instances) lines.push(`rule add pref 10000 from ${t.tunnelIps[inst.id]} lookup ${t.table.id}`);
  await must(["ip", "-n", gw, "-batch", "-"], { input: lines.join("\n") + "\n" });
}

async function scenario(n: number, base: string): Promise<Record<string, Sample & { rules: number }>> {
  const plan = buildPlan(benchStack(n), `bench${n}`);
  const server = plan.servers[0];
  const target = TARGET === "first" ? plan.tenants[0] : plan.tenants[plan.tenants.length - 1];
  const udp = server.instances[0];
  const netns = new Netns(runPrefix());
  const procs = new Procs();
  const dir = join(base, netns.prefix);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stopReaper = startReaper(netns.prefix, dir);
  try {
    const [src, gw, sink] = await netns.addMany(["src", "gw", "sink"]);
    const layout = labServerLayout(dir, "vpn1");
    // Links: tun stand-in, the target tenant's link to its router, and a veth pair inside gw for every other tenant.
    const veths = [`link add name ${udp.dev} netns ${gw} type veth peer name eth0 netns ${src}`, `link add name ${target.link} netns ${gw} type veth peer name eth0 netns ${sink}`];
    const gwLines = [...labTrunkLines("vpn1"), `link set lo up`, `link set ${udp.dev} up`, `addr add ${udp.gateway}/${udp.prefix} dev ${udp.dev}`];
    for (const t of plan.tenants) if (t !== target) gwLines.push(`link add ${t.link} type veth peer name p${t.slot}`, `link set p${t.slot} up`);
    await netns.batch(undefined, veths);
    await netns.batch(gw, gwLines);
    await netns.batch(src, ["link set lo up", "link set eth0 up", `addr add ${target.tunnelIps[udp.id]}/${udp.prefix} dev eth0`, `route add default via ${udp.gateway}`]);
    await netns.batch(sink, ["link set lo up", "link set eth0 up", `addr add ${target.routerIp}/24 dev eth0`, `addr add ${SINK_IP}/32 dev lo`]);
    for (const [ns, devs] of [[gw, [udp.dev, target.link]], [src, ["eth0"]], [sink, ["eth0"]]] as const) {
      for (const d of devs) await must(["ethtool", "-K", d, "tso", "off", "gso", "off", "gro", "off"], { ns });
    }
    const t0 = Date.now();
    const setup = join(dir, "setup.sh");
    writeFileSync(setup, renderServerSetupScript(plan, server, layout, [], { trunkMac: LAB_TRUNK.mac.vpn1 }), { mode: 0o700 });
    await must(["env", "LR_SERVICES=none", "bash", setup], { ns: gw });
    for (const t of plan.tenants) {
      const f = tenantEnvPath(layout, t);
      mkdirSync(join(f, ".."), { recursive: true });
      writeFileSync(f, renderTenantEnv(plan.stack, server, t), { mode: 0o640 });
    }
    await must([dataplaneToolPath(layout), "apply-all"], { ns: gw });
    const applyS = (Date.now() - t0) / 1000;
    await procs.start("iperf3-server", sink, ["iperf3", "-s", "-B", SINK_IP, "--forceflush"], join(dir, "iperf3.log"), { ready: /Server listening/ });
    const rules = async () => (await must(["ip", "rule", "show"], { ns: gw })).trim().split("\n").length;
    const treeRules = await rules();
    console.log(`[bench] ${n} tenants: setup + apply-all ${applyS.toFixed(1)}s, ${treeRules} ip rules (tree)`);
    const tree = { ...(await measure(src)), rules: treeRules };
    await linearRules(gw, plan);
    const linRules = await rules();
    const linear = { ...(await measure(src)), rules: linRules };
    return { tree, linear };
  } finally {
    await procs.stopAll();
    await netns.cleanup();
    rmSync(dir, { recursive: true, force: true });
    stopReaper();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:dataplane needs root (network namespaces)");
  const base = join(__dirname, "..", ".lab");
  const results: Record<string, Record<string, Sample & { rules: number }>> = {};
  for (const n of SIZES) results[n] = await scenario(n, base);
  const ref = results[SIZES[0]].tree;
  const rows = [["tenants", "layout", "ip rules", "TCP Gb/s", "x", "UDP-64 kpps", "x"]];
  for (const n of SIZES) {
    for (const layout of ["tree", "linear"]) {
      const r = results[n][layout];
      rows.push([String(n), layout === "tree" ? "goto tree (rendered)" : "linear (seed)", String(r.rules), r.tcpGbps.toFixed(2), (r.tcpGbps / ref.tcpGbps).toFixed(2), r.udpKpps.toFixed(0), (r.udpKpps / ref.udpKpps).toFixed(2)]);
    }
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\nforwarding through the VPN-server namespace, offloads off, median of ${RUNS} × ${SECONDS}s; x = ratio to ${SIZES[0]} tenant(s) with the tree`);
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
  const out = join(__dirname, "..", "bench", "out");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "dataplane.json"), JSON.stringify({ date: new Date().toISOString(), runs: RUNS, seconds: SECONDS, reference: `${SIZES[0]} tenants, tree`, results }, null, 2) + "\n");
  console.log(`\nwrote bench/out/dataplane.json`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});

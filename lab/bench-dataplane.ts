/**
 * `npm run bench:dataplane` (root): forwarding rate through a VPN-server namespace that carries the rendered
 * data plane (`lr-dataplane` from the rendered setup script: `base`, then `apply-all` over N tenants' env files,
 * i.e. the routing tree of render/routing.ts plus the real firewall/NAT), for 1, 500 and 2,000 tenants, in both
 * tenant-network modes: `distinct` (a /24 per tenant) and `fixed` (the same 10.0.0.0/24 on every tenant link, with
 * the nft table lr_lan: a conntrack zone per tenant, isolation by link). The seed's linear layout (one
 * `from <tunnel ip> lookup <table>` rule per tenant and instance) is the baseline in each mode.
 * Per size, both modes are set up side by side and measured interleaved (distinct, fixed, distinct, …), so a drift
 * of the machine hits both alike. src (stands in for the tun side, with the LAST tenant's UDP tunnel IP, or the
 * first with BENCH_TARGET=first) → gw → sink (that tenant's router, serving 198.18.0.1 behind it). Offloads off
 * (tun-like), iperf3 TCP and 64-byte UDP packet rate, median of 3. BENCH_MODES=distinct or =fixed runs one mode.
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
type Mode = Plan["tenantNetwork"]["mode"];
const MODES = (process.env.BENCH_MODES ?? "distinct,fixed").split(",") as Mode[];
for (const m of MODES) if (m !== "distinct" && m !== "fixed") throw new Error(`BENCH_MODES: ${JSON.stringify(m)} is no mode (distinct, fixed)`);
const LAYOUTS = ["tree", "linear"] as const;
type Layout = (typeof LAYOUTS)[number];
/** Which tenant sends: `last` (longest rule walk, the default) or `first` (shortest: isolates costs other than the walk). */
const TARGET = process.env.BENCH_TARGET === "first" ? "first" : "last";

/** A stack with `n` numbered tenants in `mode` and a public pool large enough for them. */
function benchStack(n: number, mode: Mode): StackInput {
  return {
    profile: "full",
    proxmox: { endpoint: "https://pve-bench.invalid:8006/", node: "bench" },
    network: { publicPools: [{ cidr: "100.64.0.0/20", gateway: "100.64.0.1" }] },
    tenantNetwork: { mode },
    numberedTenants: { count: n },
  };
}

interface Sample {
  readonly tcpGbps: number;
  readonly udpKpps: number;
}
type Result = Sample & { rules: number };

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

/** RUNS rounds; in each, every gateway in turn (TCP, then UDP): the medians per gateway. */
async function measureInterleaved(srcs: readonly string[]): Promise<Sample[]> {
  const tcp: number[][] = srcs.map(() => []);
  const udp: number[][] = srcs.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, src] of srcs.entries()) {
      tcp[k].push(await iperf(src, false));
      udp[k].push(await iperf(src, true));
    }
  }
  return srcs.map((_, k) => ({ tcpGbps: median(tcp[k]), udpKpps: median(udp[k]) }));
}

/** Replaces every ip rule with the seed's linear list: per tenant, its UDP then its TCP rule, all at pref 10000. */
async function linearRules(gw: string, plan: Plan): Promise<void> {
  const server = plan.servers[0];
  for (let i = 0; i < 20 && (await must(["ip", "rule", "show"], { ns: gw })).trim().split("\n").length > 1; i++) await run(["ip", "rule", "flush"], { ns: gw });
  const lines = ["rule add pref 32766 lookup main", "rule add pref 32767 lookup default"];
  for (const t of plan.tenants) for (const inst of server.instances) lines.push(`rule add pref 10000 from ${t.tunnelIps[inst.id]} lookup ${t.table.id}`);
  await must(["ip", "-n", gw, "-batch", "-"], { input: lines.join("\n") + "\n" });
}

const ruleCount = async (gw: string) => (await must(["ip", "rule", "show"], { ns: gw })).trim().split("\n").length;

/** One mode's src → gw → sink, the gateway set up by the rendered setup script and `apply-all` over `n` tenants. */
interface Rig {
  readonly mode: Mode;
  readonly plan: Plan;
  readonly src: string;
  readonly gw: string;
}

async function rig(n: number, mode: Mode, netns: Netns, procs: Procs, dir: string): Promise<Rig> {
  const plan = buildPlan(benchStack(n, mode), `bench${n}`);
  const server = plan.servers[0];
  const target = TARGET === "first" ? plan.tenants[0] : plan.tenants[plan.tenants.length - 1];
  const udp = server.instances[0];
  const m = mode[0];
  const [src, gw, sink] = await netns.addMany([`${m}-src`, `${m}-gw`, `${m}-sink`]);
  const base = join(dir, mode);
  const layout = labServerLayout(base, "vpn1");
  // Links: tun stand-in, the target tenant's link to its router, and a veth pair inside gw for every other tenant.
  // The public side: a veth pair holding the default route (fixed mode: loose rp_filter checks the router's ARP against it).
  const veths = [`link add name ${udp.dev} netns ${gw} type veth peer name eth0 netns ${src}`, `link add name ${target.link} netns ${gw} type veth peer name eth0 netns ${sink}`];
  const gwLines = [...labTrunkLines("vpn1"), "link set lo up", `link set ${udp.dev} up`, `addr add ${udp.gateway}/${udp.prefix} dev ${udp.dev}`];
  gwLines.push("link add pub0 type veth peer name pub0p", "link set pub0p up", "link set pub0 up", "addr add 198.51.100.2/24 dev pub0", "route add default via 198.51.100.1 dev pub0");
  for (const t of plan.tenants) if (t !== target) gwLines.push(`link add ${t.link} type veth peer name p${t.slot}`, `link set p${t.slot} up`);
  await netns.batch(undefined, veths);
  await netns.batch(gw, gwLines);
  await netns.batch(src, ["link set lo up", "link set eth0 up", `addr add ${target.tunnelIps[udp.id]}/${udp.prefix} dev eth0`, `route add default via ${udp.gateway}`]);
  await netns.batch(sink, ["link set lo up", "link set eth0 up", `addr add ${target.routerIp}/${target.privateCidr.split("/")[1]} dev eth0`, `addr add ${SINK_IP}/32 dev lo`]);
  for (const [ns, devs] of [[gw, [udp.dev, target.link]], [src, ["eth0"]], [sink, ["eth0"]]] as const) {
    for (const d of devs) await must(["ethtool", "-K", d, "tso", "off", "gso", "off", "gro", "off"], { ns });
  }
  const t0 = Date.now();
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const setup = join(base, "setup.sh");
  writeFileSync(setup, renderServerSetupScript(plan, server, layout, [], { trunkMac: LAB_TRUNK.mac.vpn1 }), { mode: 0o700 });
  await must(["env", "LR_SERVICES=none", "bash", setup], { ns: gw });
  for (const t of plan.tenants) {
    const f = tenantEnvPath(layout, t);
    mkdirSync(join(f, ".."), { recursive: true });
    writeFileSync(f, renderTenantEnv(plan.stack, server, t), { mode: 0o640 });
  }
  await must([dataplaneToolPath(layout), "apply-all"], { ns: gw });
  const applyS = (Date.now() - t0) / 1000;
  await procs.start(`iperf3-server-${mode}`, sink, ["iperf3", "-s", "-B", SINK_IP, "--forceflush"], join(base, "iperf3.log"), { ready: /Server listening/ });
  console.log(`[bench] ${n} tenants, ${mode}: setup + apply-all ${applyS.toFixed(1)}s, ${await ruleCount(gw)} ip rules (tree)`);
  return { mode, plan, src, gw };
}

/** Both modes for `n` tenants, side by side: the tree measured interleaved, then the linear rules likewise. */
async function scenario(n: number, base: string): Promise<Record<Mode, Record<Layout, Result>>> {
  const netns = new Netns(runPrefix());
  const procs = new Procs();
  const dir = join(base, netns.prefix);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stopReaper = startReaper(netns.prefix, dir);
  try {
    const rigs: Rig[] = [];
    for (const mode of MODES) rigs.push(await rig(n, mode, netns, procs, dir));
    const out = {} as Record<Mode, Record<Layout, Result>>;
    for (const layout of LAYOUTS) {
      if (layout === "linear") for (const r of rigs) await linearRules(r.gw, r.plan);
      const rules = await Promise.all(rigs.map((r) => ruleCount(r.gw)));
      const samples = await measureInterleaved(rigs.map((r) => r.src));
      rigs.forEach((r, k) => ((out[r.mode] ??= {} as Record<Layout, Result>)[layout] = { ...samples[k], rules: rules[k] }));
    }
    return out;
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
  const results: Record<string, Record<Mode, Record<Layout, Result>>> = {};
  for (const n of SIZES) results[n] = await scenario(n, base);
  const refMode = MODES[0];
  const ref = results[SIZES[0]][refMode].tree;
  const rows = [["tenants", "mode", "layout", "ip rules", "TCP Gb/s", "x", "UDP-64 kpps", "x"]];
  for (const n of SIZES) {
    for (const layout of LAYOUTS) {
      for (const mode of MODES) {
        const r = results[n][mode][layout];
        rows.push([String(n), mode, layout === "tree" ? "goto tree (rendered)" : "linear (seed)", String(r.rules), r.tcpGbps.toFixed(2), (r.tcpGbps / ref.tcpGbps).toFixed(2), r.udpKpps.toFixed(0), (r.udpKpps / ref.udpKpps).toFixed(2)]);
      }
    }
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\nforwarding through the VPN-server namespace, offloads off, median of ${RUNS} × ${SECONDS}s, modes interleaved; x = ratio to ${SIZES[0]} tenant(s), ${refMode}, with the tree`);
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
  const out = join(__dirname, "..", "bench", "out");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "dataplane.json"), JSON.stringify({ date: new Date().toISOString(), runs: RUNS, seconds: SECONDS, modes: MODES, reference: `${SIZES[0]} tenants, ${refMode}, tree`, results }, null, 2) + "\n");
  console.log(`\nwrote bench/out/dataplane.json`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});

/**
 * `npm run bench:dataplane` (root, under /tmp/lab.lock): forwarding rate through a VPN-server namespace that carries
 * the rendered data plane (`lr-dataplane` from the rendered setup script: `base`, then `apply-all` over N tenants'
 * env files: the routing tree of render/routing.ts plus the real firewall/NAT), for 1, 2,000 and 4,000 tenants
 * (BENCH_TENANTS), in both tenant-network modes (BENCH_MODES=fixed,distinct): `fixed` (the same 10.0.0.0/24 on every
 * tenant link, nft table lr_lan) and `distinct` (a /24 per tenant); tenant links (BENCH_NETS=vlan,vxlan) as
 * VLAN links (veth stand-ins) or the rendered SDN vxlan devices. The seed's linear layout (one
 * `from <tunnel ip> lookup <table>` rule per tenant and instance) is the baseline (BENCH_LAYOUTS=tree,linear).
 * The sender is the tenant whose packets walk the most rules (BENCH_TARGET=longest; or first, last).
 * Every rig (lab/bench-dataplane-rig.ts) is set up first, then measured interleaved: BENCH_ROUNDS rounds (default 5),
 * each visiting every rig (the order rotated per round) with a TCP and a 64-byte UDP iperf3 --bidir of
 * BENCH_SECONDS (default 3), so a drift of the noisy machine hits all rigs alike; x is the median over rounds of
 * the rate over the same round's 1-tenant rate in the same mode and links. Next to each rate: CPU ns per forwarded packet
 * (softirq, and user+system, from /proc/stat). BENCH_QUICK=1: 1 and 20 tenants, 1 round of 2 s (a smoke run).
 * A benchmark, not a test: prints tables and writes bench/out/dataplane.json (quick: dataplane-quick.json; BENCH_OUT=…).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sample, type Proto, type Sample } from "./bench-dataplane-measure";
import { linearRules, type Mode, type Net, rig, type Rig, ruleCount, type Target } from "./bench-dataplane-rig";
import { roundOrder, summarize, type Summary } from "./bench-dataplane-stats";
import { Netns, runPrefix } from "./netns";
import { Procs } from "./procs";
import { startReaper } from "./reaper";

const QUICK = process.env.BENCH_QUICK === "1";
const env = (k: string, dflt: string): string => process.env[k] ?? dflt;
const ROUNDS = Number(env("BENCH_ROUNDS", QUICK ? "1" : "5"));
const SECONDS = Number(env("BENCH_SECONDS", QUICK ? "2" : "3"));
const SIZES = env("BENCH_TENANTS", QUICK ? "1,20" : "1,2000,4000").split(",").map(Number);
const MODES = env("BENCH_MODES", "fixed,distinct").split(",") as Mode[];
for (const m of MODES) if (m !== "distinct" && m !== "fixed") throw new Error(`BENCH_MODES: ${JSON.stringify(m)} is no mode (fixed, distinct)`);
const NETS = env("BENCH_NETS", "vlan,vxlan").split(",") as Net[];
for (const x of NETS) if (x !== "vlan" && x !== "vxlan") throw new Error(`BENCH_NETS: ${JSON.stringify(x)} is no tenant link kind (vlan, vxlan)`);
type Layout = "tree" | "linear";
const LAYOUTS = env("BENCH_LAYOUTS", "tree,linear").split(",") as Layout[];
for (const l of LAYOUTS) if (l !== "tree" && l !== "linear") throw new Error(`BENCH_LAYOUTS: ${JSON.stringify(l)} is no layout (tree, linear)`);
if (LAYOUTS[0] !== "tree" && LAYOUTS.includes("tree")) throw new Error("BENCH_LAYOUTS: tree must come first (linear replaces the rendered rules)");
if (!(ROUNDS >= 1) || !(SECONDS >= 2)) throw new Error(`BENCH_ROUNDS must be ≥ 1 (is ${ROUNDS}) and BENCH_SECONDS ≥ 2 (is ${SECONDS}): the window skips the first 0.5 s and the last 0.3 s`);
const TARGET = env("BENCH_TARGET", "longest") as Target;
if (!["longest", "first", "last"].includes(TARGET)) throw new Error(`BENCH_TARGET: ${JSON.stringify(TARGET)} is no sender (longest, first, last)`);
const PROTOS: readonly Proto[] = ["tcp", "udp64"];
const OUT_FILE = env("BENCH_OUT", QUICK ? "dataplane-quick.json" : "dataplane.json");
if (!/^dataplane[\w-]*\.json$/.test(OUT_FILE)) throw new Error(`BENCH_OUT: ${JSON.stringify(OUT_FILE)} is not a file name dataplane….json (it goes to bench/out/)`);

interface ProtoResult {
  readonly samples: readonly Sample[];
  readonly gbps: Summary;
  readonly kpps: Summary;
  /** Per round: this rig's rate over the same round's reference rig's (Gb/s for TCP, packets for UDP). */
  readonly ratio: Summary;
  readonly softirqNs: Summary;
  readonly userSysNs: Summary;
}
type RigResult = { rules: number } & Record<Proto, ProtoResult>;

/** ROUNDS rounds over every rig, TCP then UDP each; samples[rig][proto][round]. */
async function measure(rigs: readonly Rig[]): Promise<Record<Proto, Sample[]>[]> {
  const out = rigs.map(() => ({ tcp: [] as Sample[], udp64: [] as Sample[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of roundOrder(rigs.length, round)) for (const p of PROTOS) out[k][p].push(await sample(rigs[k], p, SECONDS));
    console.log(`[bench] round ${round + 1}/${ROUNDS} done`);
  }
  return out;
}

function results(rigs: readonly Rig[], raw: readonly Record<Proto, Sample[]>[], rules: readonly number[]): Record<string, RigResult> {
  const out: Record<string, RigResult> = {};
  rigs.forEach((r, k) => {
    const ref = rigs.findIndex((o) => o.mode === r.mode && o.net === r.net && o.n === SIZES[0]);
    const per = {} as Record<Proto, ProtoResult>;
    for (const p of PROTOS) {
      const s = raw[k][p];
      const rate = (x: Sample) => (p === "tcp" ? x.gbps : x.kpps);
      per[p] = {
        samples: s,
        gbps: summarize(s.map((x) => x.gbps)),
        kpps: summarize(s.map((x) => x.kpps)),
        ratio: summarize(s.map((x, i) => rate(x) / rate(raw[ref][p][i]))),
        softirqNs: summarize(s.map((x) => x.perPacket.softirqNs)),
        userSysNs: summarize(s.map((x) => x.perPacket.userSysNs)),
      };
    }
    out[r.id] = { rules: rules[k], ...per };
  });
  return out;
}

function printTable(rows: string[][]): void {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
}

const pct = (s: Summary) => `±${((s.spread * 100) / 2).toFixed(0)}%`;
const ns = (s: Summary) => s.median.toFixed(0);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:dataplane needs root (network namespaces)");
  const base = join(__dirname, "..", ".lab");
  const netns = new Netns(runPrefix());
  const procs = new Procs();
  const dir = join(base, netns.prefix);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stopReaper = startReaper(netns.prefix, dir);
  const byLayout: Partial<Record<Layout, Record<string, RigResult>>> = {};
  const rigs: Rig[] = [];
  let teardownS = NaN;
  const load = readFileSync("/proc/loadavg", "utf8").trim();
  try {
    for (const n of SIZES) for (const net of NETS) for (const mode of MODES) rigs.push(await rig(n, mode, net, TARGET, netns, procs, dir));
    for (const layout of LAYOUTS) {
      if (layout === "linear") for (const r of rigs) await linearRules(r);
      const rules = await Promise.all(rigs.map((r) => ruleCount(r.gw)));
      console.log(`[bench] ${layout}: ${ROUNDS} round(s) over ${rigs.length} rigs`);
      byLayout[layout] = results(rigs, await measure(rigs), rules);
    }
  } finally {
    const t0 = Date.now();
    await procs.stopAll();
    await netns.cleanup();
    teardownS = (Date.now() - t0) / 1000;
    rmSync(dir, { recursive: true, force: true });
    stopReaper();
  }

  console.log(`\nsetting up one VPN server's data plane (load average at start: ${load}); teardown of all rigs ${teardownS.toFixed(1)}s`);
  const setupRows = [["tenants", "mode", "links", "links s", "setup s", "apply-all s", "peak RSS MB", "apply-all again s", "MemAvailable drop MB", "ip rules", "sender", "rules walked"]];
  for (const r of rigs) {
    const f = r.setup;
    setupRows.push([String(r.n), r.mode, r.net, f.linksS.toFixed(1), f.setupS.toFixed(1), f.applyS.toFixed(1), f.applyRssMb.toFixed(0), f.reapplyS.toFixed(1), f.memMb.toFixed(0), String(f.ipRules), f.tenant, String(f.rulesWalked)]);
  }
  printTable(setupRows);

  console.log(
    `\nforwarding through the VPN-server namespace, iperf3 --bidir (tenant + return traffic), offloads off; median of ${ROUNDS} × ${SECONDS}s, ` +
      `rigs interleaved; ± half the spread; x = median per-round ratio to ${SIZES[0]} tenant(s) in the same mode, links and layout; ns/pkt: CPU per forwarded packet, softirq | user+sys`,
  );
  const rows = [["tenants", "mode", "links", "layout", "ip rules", "TCP Gb/s", "x", "ns/pkt", "UDP-64 kpps", "x", "ns/pkt"]];
  for (const layout of LAYOUTS) {
    for (const r of rigs) {
      const x = byLayout[layout]![r.id];
      rows.push([
        String(r.n), r.mode, r.net, layout === "tree" ? "goto tree (rendered)" : "linear (seed)", String(x.rules),
        `${x.tcp.gbps.median.toFixed(2)} ${pct(x.tcp.gbps)}`, x.tcp.ratio.median.toFixed(2), `${ns(x.tcp.softirqNs)} | ${ns(x.tcp.userSysNs)}`,
        `${x.udp64.kpps.median.toFixed(0)} ${pct(x.udp64.kpps)}`, x.udp64.ratio.median.toFixed(2), `${ns(x.udp64.softirqNs)} | ${ns(x.udp64.userSysNs)}`,
      ]);
    }
  }
  printTable(rows);
  const out = join(__dirname, "..", "bench", "out");
  mkdirSync(out, { recursive: true });
  const file = OUT_FILE;
  const setup = Object.fromEntries(rigs.map((r) => [r.id, r.setup]));
  writeFileSync(join(out, file), JSON.stringify({ date: new Date().toISOString(), loadAtStart: load, rounds: ROUNDS, seconds: SECONDS, target: TARGET, sizes: SIZES, modes: MODES, nets: NETS, teardownS, setup, results: byLayout }, null, 2) + "\n");
  console.log(`\nwrote bench/out/${file}`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});

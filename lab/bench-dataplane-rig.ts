/**
 * One rig of `npm run bench:dataplane`: src → gw → sink in three namespaces, the gateway a VPN server (vpn1) set up
 * by the rendered setup script and `lr-dataplane apply-all` over N tenants' env files. src stands in for the tun
 * side (the sending tenant's UDP tunnel IP), sink is its router (serving SINK_IP behind it). VLAN links: every other
 * tenant's link a veth pair from gw to a `far` namespace, made after `base` as the tool makes VLAN links (no 8021q
 * here). VXLAN links: the tool makes them all, sink is the tenant's node (its VTEP) and router.
 * Setting a rig up is timed step by step, with apply-all's peak RSS and the memory the rig takes from the machine.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StackInput } from "../config/schema";
import { buildPlan } from "../plan/build";
import type { Plan, TenantPlan } from "../plan/types";
import { dataplaneToolPath } from "../render/dataplane";
import { renderTenantEnv, tenantEnvPath } from "../render/dataplane-env";
import { renderServerSetupScript } from "../render/server-setup";
import { must, run } from "./exec";
import { longestWalk, serverRules, walk } from "./bench-dataplane-walk";
import { LAB_TRUNK, labServerLayout, labTrunkLines } from "./layout";
import type { Netns } from "./netns";
import type { Procs } from "./procs";

export const SINK_IP = "198.18.0.1";
export type Mode = Plan["tenantNetwork"]["mode"];
/**
 * The tenant links: `vlan` (one host: a VLAN sub-interface of the trunk, here a veth pair standing in for it) or
 * `vxlan` (a Proxmox SDN VXLAN zone: the rendered tool makes a vxlan device per tenant over the management NIC).
 */
export type Net = "vlan" | "vxlan";

/**
 * A stack with `n` numbered tenants in `mode`: VLANs from 1 and VNC displays from 2200 (so 4,000 slots fit under
 * 4094 and no console port lands on the Proxmox API's 8006), one /20 public pool.
 */
export function benchStack(n: number, mode: Mode, net: Net = "vlan"): StackInput {
  return {
    profile: "full",
    proxmox: { endpoint: "https://pve-bench.invalid:8006/", node: "bench" },
    network: { vlanBase: 1, vncDisplayBase: 2200, publicPools: [{ cidr: "100.64.0.0/20", gateway: "100.64.0.1" }] },
    ...(net === "vxlan" ? { sdn: { kind: "vxlan" as const } } : {}),
    tenantNetwork: { mode },
    numberedTenants: { count: n },
  };
}

/** Seconds and sizes of one rig's setup. */
export interface SetupFigures {
  /** Creating the namespaces, the tun and public stand-ins, and every tenant's veth pair (VLAN links' stand-ins). */
  readonly linksS: number;
  /** The rendered setup script (files, `lr-dataplane base`). */
  readonly setupS: number;
  /** `apply-all` on bare links (a boot). */
  readonly applyS: number;
  /** apply-all's peak resident memory (the largest process of its tree), MB. */
  readonly applyRssMb: number;
  /** `apply-all` again with nothing to do (the boot unit over a running server). */
  readonly reapplyS: number;
  /** What the machine's MemAvailable dropped by over links, setup and apply-all (kernel state and all), MB. */
  readonly memMb: number;
  readonly ipRules: number;
  /** The sending tenant: its key, and the ip rules its packets check (the kernel's `local` rule included). */
  readonly tenant: string;
  readonly rulesWalked: number;
}

export interface Rig {
  /** `fixed-4000`, `fixed-vxlan-4000`. */
  readonly id: string;
  readonly n: number;
  readonly mode: Mode;
  readonly net: Net;
  readonly plan: Plan;
  readonly src: string;
  readonly gw: string;
  /** gw's tun stand-in (return traffic leaves here) and the target tenant's link (forward traffic leaves here). */
  readonly tunDev: string;
  readonly tenantLink: string;
  readonly setup: SetupFigures;
}

/** Which tenant sends: the one with the longest rule walk (lab/bench-dataplane-walk.ts), the last or the first. */
export type Target = "longest" | "first" | "last";

const memAvailableMb = (): number => Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? NaN) / 1024;
const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

export const ruleCount = async (gw: string): Promise<number> => (await must(["ip", "rule", "show"], { ns: gw })).trim().split("\n").length;

/** Runs `argv` in `ns` under GNU time: seconds and peak RSS (MB). */
async function timedRss(argv: readonly string[], ns: string, out: string): Promise<{ s: number; rssMb: number }> {
  const t0 = process.hrtime.bigint();
  await must(["/usr/bin/time", "-f", "%M", "-o", out, ...argv], { ns });
  return { s: since(t0), rssMb: Number(readFileSync(out, "utf8").trim().split("\n").pop()) / 1024 };
}

/** Sets up the rig for `n` tenants in `mode` over `net` in namespaces of `netns`; its iperf3 server runs under `procs`. */
export async function rig(n: number, mode: Mode, net: Net, target: Target, netns: Netns, procs: Procs, dir: string): Promise<Rig> {
  const id = net === "vlan" ? `${mode}-${n}` : `${mode}-${net}-${n}`;
  const plan = buildPlan(benchStack(n, mode, net), `bench${n}`);
  const server = plan.servers[0];
  const t: TenantPlan = target === "longest" ? longestWalk(plan, server, SINK_IP).tenant : target === "first" ? plan.tenants[0] : plan.tenants[plan.tenants.length - 1];
  const udp = server.instances[0];
  const walked = walk(serverRules(plan, server), t.tunnelIps[udp.id], SINK_IP).checked;
  const mem0 = memAvailableMb();
  const t0 = process.hrtime.bigint();
  const role = `${mode[0]}${net === "vlan" ? "" : "x"}${n}`;
  const [src, gw, sink, far] = await netns.addMany([`${role}-src`, `${role}-gw`, `${role}-sink`, ...(net === "vlan" ? [`${role}-far`] : [])]);
  const base = join(dir, id);
  const layout = labServerLayout(base, "vpn1", plan);
  // The public side holds the default route (fixed mode: loose rp_filter checks the router's ARP against it).
  const gwLines = ["link set lo up", `link set ${udp.dev} up`, `addr add ${udp.gateway}/${udp.prefix} dev ${udp.dev}`];
  gwLines.push("link add pub0 type veth peer name pub0p", "link set pub0p up", "link set pub0 up", "addr add 198.51.100.2/24 dev pub0", "route add default via 198.51.100.1 dev pub0");
  const sinkLines = ["link set lo up", `addr add ${SINK_IP}/32 dev lo`];
  const lanPrefix = t.privateCidr.split("/")[1];
  const roots = [`link add name ${udp.dev} netns ${gw} type veth peer name eth0 netns ${src}`];
  if (net === "vlan") {
    gwLines.unshift(...labTrunkLines("vpn1"));
  } else {
    // sink is the tenant's node and router in one: the node's VTEP (Proxmox's vxlan_<vnet>) carries the router's LAN.
    const sdn = plan.sdn!;
    const nodeIp = plan.nodes.find((o) => o.name === t.node)!.mgmtIp;
    const mgmt = layout.ifaces.mgmt;
    roots.push(`link add name ${mgmt} netns ${gw} type veth peer name ${mgmt} netns ${sink}`);
    gwLines.push(`addr add ${server.mgmtIp}/${plan.mgmt.prefix} dev ${mgmt}`, `link set ${mgmt} up`);
    sinkLines.push(`addr add ${nodeIp}/${plan.mgmt.prefix} dev ${mgmt}`, `link set ${mgmt} up`);
    sinkLines.push(`link add vxlan0 mtu ${sdn.mtu} type vxlan id ${t.sdn!.vni} local ${nodeIp} dstport ${sdn.port} dev ${mgmt}`, "link set vxlan0 up", `addr add ${t.routerIp}/${lanPrefix} dev vxlan0`);
  }
  await netns.batch(undefined, roots);
  await netns.batch(gw, gwLines);
  await netns.batch(src, ["link set lo up", "link set eth0 up", `addr add ${t.tunnelIps[udp.id]}/${udp.prefix} dev eth0`, `route add default via ${udp.gateway}`]);
  await netns.batch(sink, sinkLines);
  if (net === "vxlan") await must(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vxlan0", "dst", server.mgmtIp], { ns: sink });
  let linksS = since(t0);

  const t1 = process.hrtime.bigint();
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const setup = join(base, "setup.sh");
  writeFileSync(setup, renderServerSetupScript(plan, server, layout, [], { trunkMac: LAB_TRUNK.mac.vpn1 }), { mode: 0o700 });
  await must(["env", "LR_SERVICES=none", "bash", setup], { ns: gw });
  for (const o of plan.tenants) {
    const f = tenantEnvPath(layout, o);
    mkdirSync(join(f, ".."), { recursive: true });
    writeFileSync(f, renderTenantEnv(plan.stack, server, o, plan.nodes), { mode: 0o640 });
  }
  const setupS = since(t1);
  if (far) {
    // The VLAN links' stand-ins, made after `base` as apply-all makes VLAN links on a server (so they inherit its
    // defaults: no IPv6, ARP limits); their far ends outside gw, which holds what a server holds.
    const t2 = process.hrtime.bigint();
    await must(["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"], { ns: far });
    const pairs = [`link add name ${t.link} netns ${gw} type veth peer name eth0 netns ${sink}`];
    for (const o of plan.tenants) if (o !== t) pairs.push(`link add name ${o.link} netns ${gw} type veth peer name p${o.slot} netns ${far}`);
    await netns.batch(undefined, pairs);
    await netns.batch(far, plan.tenants.filter((o) => o !== t).map((o) => `link set p${o.slot} up`));
    await netns.batch(sink, ["link set eth0 up", `addr add ${t.routerIp}/${lanPrefix} dev eth0`]);
    linksS += since(t2);
  }
  // Offloads off on the measured path: a tun device hands the kernel one packet at a time.
  const offloads = async (ns: string, devs: readonly string[]) => {
    for (const d of devs) await must(["ethtool", "-K", d, "tso", "off", "gso", "off", "gro", "off"], { ns });
  };
  await offloads(gw, net === "vlan" ? [udp.dev, t.link] : [udp.dev, layout.ifaces.mgmt]);
  await offloads(src, ["eth0"]);
  await offloads(sink, [net === "vlan" ? "eth0" : layout.ifaces.mgmt]);
  const tool = dataplaneToolPath(layout);
  const apply = await timedRss([tool, "apply-all"], gw, join(base, "apply.time"));
  const reapply = await timedRss([tool, "apply-all"], gw, join(base, "reapply.time"));
  // Under SDN the tool made the tenant's link itself.
  if (net === "vxlan") await offloads(gw, [t.link]);
  const memMb = mem0 - memAvailableMb();
  await procs.start(`iperf3-server-${id}`, sink, ["iperf3", "-s", "-B", SINK_IP, "--forceflush"], join(base, "iperf3.log"), { ready: /Server listening/ });
  const figures: SetupFigures = { linksS, setupS, applyS: apply.s, applyRssMb: apply.rssMb, reapplyS: reapply.s, memMb, ipRules: await ruleCount(gw), tenant: t.key, rulesWalked: walked };
  console.log(
    `[bench] ${id}: links ${linksS.toFixed(1)}s, setup ${setupS.toFixed(1)}s, apply-all ${apply.s.toFixed(1)}s (peak RSS ${apply.rssMb.toFixed(0)} MB), ` +
      `again ${reapply.s.toFixed(1)}s, ${figures.ipRules} ip rules (${t.key} walks ${walked}), MemAvailable drop ${memMb.toFixed(0)} MB`,
  );
  return { id, n, mode, net, plan, src, gw, tunDev: udp.dev, tenantLink: t.link, setup: figures };
}

/** Replaces every ip rule with the seed's linear list: per tenant, its UDP then its TCP rule, all at pref 10000. */
export async function linearRules(r: Rig): Promise<void> {
  const server = r.plan.servers[0];
  for (let i = 0; i < 20 && (await ruleCount(r.gw)) > 1; i++) await run(["ip", "rule", "flush"], { ns: r.gw });
  const lines = ["rule add pref 32766 lookup main", "rule add pref 32767 lookup default"];
  for (const t of r.plan.tenants) for (const inst of server.instances) lines.push(`rule add pref 10000 from ${t.tunnelIps[inst.id]} lookup ${t.table.id}`);
  await must(["ip", "-n", r.gw, "-batch", "-"], { input: lines.join("\n") + "\n" });
}

/**
 * The ban grid's plan: every value the CrowdSec, nftables and gateway renderers need, from the plan and `bans:`.
 * Pure. Protection is layered (agents' whitelist, the gateway's scope, and the real guarantee: each enforcement
 * point's nft `allow4` set, accepted before the ban set), so every layer takes its list from here.
 */
import { type BansConfig, durationSeconds } from "../config/bans-schema";
import { contains, isIpv4, parseCidr } from "../lib/ipv4";
import type { Plan } from "./types";

/** `host` is the API node (the one-host member's name, kept); every other Proxmox node of a cluster is `host-<node>`. */
export type BanMemberName = "vpn1" | "vpn2" | "host" | "services" | `host-${string}`;
/**
 * What an agent reads: the OpenVPN servers, the console gateway's wrong passwords, the kernel's log lines of LR-IN
 * (probes of closed public ports, UDP floods: render/bans/kernel-log.ts), sshd, the Proxmox API daemon, the resolver.
 */
export type BanSource = "openvpn" | "console" | "kernel" | "sshd" | "pvedaemon" | "named";

export interface BanMember {
  readonly name: BanMemberName;
  readonly mgmtIp: string;
  /** Absent for a node other than the API node: the config knows no public address of it. */
  readonly publicIp?: string;
  /** The logs its agent reads. */
  readonly sources: readonly BanSource[];
  /** Runs a bouncer: `inet` on the VPN servers, `bridge` on the host (covers every VM on its bridges); none on services. */
  readonly enforce?: "inet" | "bridge";
  /** The LAPI machine name of its agent, and the LAPI bouncer name of its bouncer. */
  readonly machine: string;
  readonly bouncer?: string;
}

export interface BansPlan {
  /** The decision store (CrowdSec LAPI) on the services VM's management address only. */
  readonly lapi: { readonly ip: string; readonly port: number; readonly url: string };
  readonly members: readonly BanMember[];
  /** The service's own addresses (/32) and the management network: never banned, not configurable. */
  readonly protected: readonly string[];
  /** `bans.allowlist`, normalised to CIDRs. */
  readonly allowlist: readonly string[];
  /** protected + allowlist without covered entries: the agents' whitelist and every enforcement point's `allow4`. */
  readonly neverBan: readonly string[];
  /** The OpenVPN scenario: a leaky bucket of `capacity` (retries − 1: the retries-th refusal overflows), one leak per `leakspeed`. */
  readonly scenario: {
    readonly capacity: number;
    readonly leakspeed: string;
    readonly retries: number;
    /** After an overflow the address's bucket is silent this long: half a first ban, at most 1 min, so a repeat offender is seen again once free. */
    readonly blackhole: string;
  };
  /** The n-th ban of an address within `window` lasts `durations[n-1]`, the last one for every later ban. */
  readonly profile: {
    readonly durations: readonly string[];
    readonly window: string;
    /** The LAPI keeps alerts this long (its flush max_age): the longer of window and the longest ban. */
    readonly keepFor: string;
  };
  readonly pollSeconds: number;
  /** The tenants' report gateway on the services VM's public address; absent when `bans.report.enabled` is false. */
  readonly report?: BanReportPlan;
}

export interface BanReportPlan {
  readonly listen: { readonly ip: string; readonly port: number };
  readonly quotaPerHour: number;
  /** Each tenant may report only from its own public address. */
  readonly tenants: readonly { readonly key: string; readonly source: string }[];
  /** What no tenant may report: neverBan, every public pool (the service and all tenants), tenant LANs, tunnels. */
  readonly scope: readonly string[];
  /** The LAPI machine the gateway raises its alerts as. */
  readonly machine: string;
}

export const LAPI_PORT = 8080;
export const REPORT_PORT = 8081;

/** `3725` → `1h2m5s`: the Go duration CrowdSec and the bouncer parse. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || seconds === 0 ? `${s}s` : ""}`;
}

/** banTime × factor^(n-1) for n = 1, 2, … until the cap (included once); one entry when factor is 1. */
export function banDurations(banSeconds: number, factor: number, capSeconds: number): number[] {
  const out = [Math.min(banSeconds, capSeconds)];
  while (factor > 1 && out[out.length - 1] < capSeconds) out.push(Math.min(out[out.length - 1] * factor, capSeconds));
  return out;
}

const host32 = (ip: string) => `${ip}/32`;
const asCidr = (s: string) => (isIpv4(s) ? host32(s) : s);
const uniq = (xs: readonly string[]) => [...new Set(xs)];

/** Without the networks another one covers (an nft interval set refuses overlapping elements), order kept. */
export function collapse(cidrs: readonly string[]): string[] {
  const nets = uniq(cidrs).map((c) => ({ c, n: parseCidr(c) }));
  const covers = (a: (typeof nets)[0], b: (typeof nets)[0]) => a.n.prefix < b.n.prefix && contains(a.n, b.n.base);
  return nets.filter((b) => !nets.some((a) => covers(a, b))).map((x) => x.c);
}

/**
 * The credentials the LAPI must know: every agent's machine but the services VM's own (made locally by its setup),
 * the report gateway's, and every bouncer. The program draws a secret for each; the lab too.
 */
export function banCredentials(bans: BansPlan): { readonly machines: string[]; readonly bouncers: string[] } {
  return {
    machines: [...bans.members.filter((m) => m.name !== "services").map((m) => m.machine), ...(bans.report ? [bans.report.machine] : [])],
    bouncers: bans.members.flatMap((m) => (m.bouncer ? [m.bouncer] : [])),
  };
}

/** The ban-grid member on Proxmox node `node`: `host` for the API node, `host-<node>` for every other. */
export function nodeMemberName(plan: Pick<Plan, "host">, node: string): BanMemberName {
  return node === plan.host.node ? "host" : `host-${node}`;
}

/** The grid's plan from the rest of the plan and the validated `bans:` block. */
export function planBans(plan: Omit<Plan, "bans" | "consoles" | "monitoring">, bans: BansConfig): BansPlan {
  const [vpn1, vpn2] = plan.servers;
  const members: BanMember[] = [
    { name: "vpn1", mgmtIp: vpn1.mgmtIp, publicIp: vpn1.publicIp, sources: ["openvpn", "console", "kernel"], enforce: "inet", machine: "vpn1", bouncer: "fw-vpn1" },
    { name: "vpn2", mgmtIp: vpn2.mgmtIp, publicIp: vpn2.publicIp, sources: ["openvpn", "console", "kernel"], enforce: "inet", machine: "vpn2", bouncer: "fw-vpn2" },
    { name: "host", mgmtIp: plan.host.mgmtIp, publicIp: plan.host.publicIp, sources: ["sshd", "pvedaemon"], enforce: "bridge", machine: "host", bouncer: "fw-host" },
    // Every other node of a cluster: its own agent, and its bridge table in front of the tenants that run on it.
    ...plan.nodes
      .filter((n) => n.name !== plan.host.node)
      .map((n): BanMember => {
        const name = nodeMemberName(plan, n.name);
        return { name, mgmtIp: n.mgmtIp, sources: ["sshd", "pvedaemon"], enforce: "bridge", machine: name, bouncer: `fw-${name}` };
      }),
    { name: "services", mgmtIp: plan.services.mgmtIp, publicIp: plan.services.publicIp, sources: ["named"], machine: "services" },
  ];
  // The pools' gateways too: a banned upstream router would drop its ICMP (PMTU) for everyone.
  const protectedList = uniq([
    plan.mgmt.cidr,
    ...members.flatMap((m) => [...(m.publicIp ? [host32(m.publicIp)] : []), host32(m.mgmtIp)]),
    ...plan.publicPools.map((p) => host32(p.gateway)),
  ]);
  const allowlist = uniq(bans.allowlist.map(asCidr));
  const neverBan = collapse([...protectedList, ...allowlist]);
  const findSeconds = durationSeconds(bans.findTime);
  const durations = banDurations(durationSeconds(bans.banTime), bans.repeat.factor, durationSeconds(bans.repeat.maxBanTime)).map(goDuration);
  const lapiIp = plan.services.mgmtIp;
  return {
    lapi: { ip: lapiIp, port: LAPI_PORT, url: `https://${lapiIp}:${LAPI_PORT}/` },
    members,
    protected: protectedList,
    allowlist,
    neverBan,
    scenario: {
      capacity: bans.retries - 1,
      leakspeed: goDuration(Math.floor(findSeconds / bans.retries)),
      retries: bans.retries,
      blackhole: goDuration(Math.min(60, Math.floor(durationSeconds(bans.banTime) / 2))),
    },
    profile: {
      durations,
      window: goDuration(durationSeconds(bans.repeat.window)),
      keepFor: goDuration(Math.max(durationSeconds(bans.repeat.window), durationSeconds(bans.repeat.maxBanTime))),
    },
    pollSeconds: bans.pollSeconds,
    ...(bans.report.enabled
      ? {
          report: {
            listen: { ip: plan.services.publicIp, port: REPORT_PORT },
            quotaPerHour: bans.report.quotaPerHour,
            tenants: plan.tenants.map((t) => ({ key: t.key, source: t.publicIp })),
            scope: collapse([...neverBan, ...plan.publicPools.map((p) => p.cidr), ...plan.tenants.map((t) => host32(t.publicIp)), plan.tenantNetwork.lan, plan.tunnelSupernet]),
            machine: "reportgw",
          },
        }
      : {}),
  };
}

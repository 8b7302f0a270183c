/** Snapshots of a VPN server's data-plane state, for "apply twice = same", "re-apply after reboot" and "delete = clean". */
import { existsSync } from "node:fs";
import type { InstancePlan, TenantPlan } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import { tenantFilePaths } from "../render/tenant-scripts";
import { LAN_TABLE } from "../render/lan-zones";
import { must, run } from "./exec";

export interface DataplaneState {
  readonly rules: string;
  readonly routes: string;
  readonly iptables: string;
  /** fixed mode's nft table (render/lan-zones.ts), one line per element; "" when there is none. */
  readonly nft: string;
}

const PARTS = ["rules", "routes", "iptables", "nft"] as const;

/**
 * `nft list table` with each set's and map's elements one per line, sorted (`<set> element <e>`): the listing's
 * order is the kernel's, not the order they were added in, and a change of one element is one line.
 */
export function normalizeNft(listing: string): string {
  const out: string[] = [];
  let set = "";
  let elems: string | undefined;
  for (const line of listing.split("\n")) {
    const t = line.trim();
    const head = /^(?:set|map) (\S+) \{$/.exec(t);
    if (head) set = head[1];
    if (elems === undefined && t.startsWith("elements = {")) elems = "";
    if (elems === undefined) {
      out.push(line);
      continue;
    }
    elems += ` ${t}`;
    if (!t.endsWith("}")) continue;
    const body = elems.replace(/^\s*elements = \{/, "").replace(/\}\s*$/, "");
    out.push(...body.split(",").map((e) => `${set} element ${e.trim()}`).filter((e) => !e.endsWith(" element ")).sort());
    elems = undefined;
  }
  return out.join("\n");
}

/** `ip rule`, `ip route show table all`, `iptables-save` (no counters or timestamps) and the lr_lan table, in namespace `ns`. */
export async function snapshot(ns: string): Promise<DataplaneState> {
  const [rules, routes, ipt, nft] = await Promise.all([
    must(["ip", "rule", "show"], { ns }),
    must(["ip", "route", "show", "table", "all"], { ns }),
    must(["iptables-save"], { ns }),
    run(["nft", "list", "table", "ip", LAN_TABLE], { ns }),
  ]);
  const iptables = ipt
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/\s*\[\d+:\d+\]$/, "").replace(/^(:\S+ \S+) \[\d+:\d+\]$/, "$1"))
    .join("\n");
  return { rules, routes, iptables, nft: nft.code === 0 ? normalizeNft(nft.stdout) : "" };
}

/** Lines of `a` missing from `b` and lines of `b` not in `a`, per part (empty when equal). */
export function diffState(a: DataplaneState, b: DataplaneState): string[] {
  const out: string[] = [];
  for (const k of PARTS) {
    const la = a[k].split("\n");
    const lb = b[k].split("\n");
    for (const l of la) if (!lb.includes(l)) out.push(`${k} -${l}`);
    for (const l of lb) if (!la.includes(l)) out.push(`${k} +${l}`);
    if (!out.length && a[k] !== b[k]) out.push(`${k}: same lines, different order`);
  }
  return out;
}

/**
 * Every trace of `tenant` left in a state snapshot or on disk (ccd files, env file, hardware and certificate pins).
 * Empty = clean. `sharedLan`: fixed mode, every tenant has the same LAN, so the LAN is no trace of this one (its
 * link and table are).
 */
export function tenantTraces(state: DataplaneState, layout: ServerLayout, tenant: TenantPlan, instances: readonly InstancePlan[], sharedLan = false): string[] {
  const found: string[] = [];
  const ips = Object.values(tenant.tunnelIps);
  const lan = sharedLan ? [] : [new RegExp(`\\b${tenant.privateCidr.replace(/[./]/g, "\\$&")}\\b`)];
  const needles = [...ips.map((ip) => new RegExp(`(^|[^\\d.])${ip.replace(/\./g, "\\.")}([^\\d.]|$)`)), new RegExp(`\\b${tenant.link}\\b`), new RegExp(`\\b(table|lookup) (${tenant.table.id}|${tenant.table.name})\\b`), ...lan];
  // The lab's veth stays after delete (in production the VLAN link goes), so the kernel's own IPv6
  // link-local and multicast routes on it are not the tenant's.
  const kernelV6 = /\b(fe80::|ff00::\/8)/;
  for (const k of PARTS) {
    for (const line of state[k].split("\n")) if (!kernelV6.test(line) && needles.some((n) => n.test(line))) found.push(`${k}: ${line.trim()}`);
  }
  const f = tenantFilePaths(layout, tenant);
  const files = [...instances.map((i) => f.ccd[i.proto]), f.pin, f.certPin, f.tc2Pin, f.env];
  for (const f of files) if (existsSync(f)) found.push(`file: ${f}`);
  return found;
}

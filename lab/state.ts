/** Snapshots of a VPN server's data-plane state, for "apply twice = same", "re-apply after reboot" and "delete = clean". */
import { existsSync } from "node:fs";
import type { InstancePlan, TenantPlan } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import { tenantFilePaths } from "../render/tenant-scripts";
import { must } from "./exec";

export interface DataplaneState {
  readonly rules: string;
  readonly routes: string;
  readonly iptables: string;
}

/** `ip rule`, `ip route show table all` and `iptables-save` without counters or timestamps, in namespace `ns`. */
export async function snapshot(ns: string): Promise<DataplaneState> {
  const [rules, routes, ipt] = await Promise.all([
    must(["ip", "rule", "show"], { ns }),
    must(["ip", "route", "show", "table", "all"], { ns }),
    must(["iptables-save"], { ns }),
  ]);
  const iptables = ipt
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/\s*\[\d+:\d+\]$/, "").replace(/^(:\S+ \S+) \[\d+:\d+\]$/, "$1"))
    .join("\n");
  return { rules, routes, iptables };
}

/** Lines of `a` missing from `b` and lines of `b` not in `a`, per part (empty when equal). */
export function diffState(a: DataplaneState, b: DataplaneState): string[] {
  const out: string[] = [];
  for (const k of ["rules", "routes", "iptables"] as const) {
    const la = a[k].split("\n");
    const lb = b[k].split("\n");
    for (const l of la) if (!lb.includes(l)) out.push(`${k} -${l}`);
    for (const l of lb) if (!la.includes(l)) out.push(`${k} +${l}`);
    if (!out.length && a[k] !== b[k]) out.push(`${k}: same lines, different order`);
  }
  return out;
}

/** Every trace of `tenant` left in a state snapshot or on disk (ccd files, env file, hardware and certificate pins). Empty = clean. */
export function tenantTraces(state: DataplaneState, layout: ServerLayout, tenant: TenantPlan, instances: readonly InstancePlan[]): string[] {
  const found: string[] = [];
  const ips = Object.values(tenant.tunnelIps);
  const needles = [...ips.map((ip) => new RegExp(`(^|[^\\d.])${ip.replace(/\./g, "\\.")}([^\\d.]|$)`)), new RegExp(`\\b${tenant.link}\\b`), new RegExp(`\\b(table|lookup) (${tenant.table.id}|${tenant.table.name})\\b`), new RegExp(`\\b${tenant.privateCidr.replace(/[./]/g, "\\$&")}\\b`)];
  // The lab's veth stays after delete (in production the VLAN link goes), so the kernel's own IPv6
  // link-local and multicast routes on it are not the tenant's.
  const kernelV6 = /\b(fe80::|ff00::\/8)/;
  for (const k of ["rules", "routes", "iptables"] as const) {
    for (const line of state[k].split("\n")) if (!kernelV6.test(line) && needles.some((n) => n.test(line))) found.push(`${k}: ${line.trim()}`);
  }
  const f = tenantFilePaths(layout, tenant);
  const files = [...instances.map((i) => f.ccd[i.proto]), f.pin, f.certPin, f.tc2Pin, f.env];
  for (const f of files) if (existsSync(f)) found.push(`file: ${f}`);
  return found;
}

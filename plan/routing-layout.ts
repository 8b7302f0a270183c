/**
 * The shape of a VPN server's `ip rule` goto tree: level widths, region sizes and where each instance's region
 * starts. It depends on the server's pools and on every tenant's tunnel IP, so the plan computes it once per
 * server; render/routing.ts turns it into rules. Pure.
 */
import { formatCidr, ipToInt } from "../lib/ipv4";
import type { InstanceId, InstancePlan, TenantPlan } from "./types";

/** Rule prefs of the fixed part of the tree (the kernel's own are 0, 32766 and 32767). */
export const PREF = { notFrom: 100, mgmt: 101, dispatch: 102, dispatchCatch: 104, tree: 1000, end: 32000, main: 32766, default: 32767 } as const;
/** Bits of the pool offset the tree covers: 2^13 addresses per instance (slots ≤ 8190, above any VLAN plan). */
export const MAX_TREE_BITS = 13;
/** The skeleton covers the planned offsets rounded up to whole blocks of this size. */
export const SKELETON_GRANULE = 64;
const FANOUT_BITS = 3;

/** The tree of one VPN server: level widths, regions and how far its skeleton reaches. */
export interface RoutingLayout {
  readonly supernet: string;
  readonly hostMgmtIp: string;
  /** Bits dispatched per level, top first; the last level is the leaf (hosts). */
  readonly widths: readonly number[];
  /** Prefs a node of each level takes (index as in widths). */
  readonly regionSizes: readonly number[];
  readonly instances: readonly { readonly id: InstanceId; readonly poolBase: number; readonly root: string; readonly region: number; readonly gateway: string }[];
  /** Highest pool offset whose dispatch path the skeleton installs. */
  readonly limit: number;
}

/** Level widths for `bits` covered offset bits: 3 per level from the leaf up, the remainder on top. */
function levelWidths(bits: number): number[] {
  const widths: number[] = [];
  let rest = bits;
  while (rest > FANOUT_BITS) {
    widths.unshift(FANOUT_BITS);
    rest -= FANOUT_BITS;
  }
  widths.unshift(rest);
  return widths;
}

/** The layout for a server with `instances` and these tenants. Throws if a tenant is outside what the tree covers. */
export function routingLayout(
  net: { readonly tunnelSupernet: string; readonly hostMgmtIp: string },
  instances: readonly InstancePlan[],
  tenants: readonly Pick<TenantPlan, "key" | "slot" | "tunnelIps">[],
): RoutingLayout {
  const bits = Math.min(32 - instances[0].prefix, MAX_TREE_BITS);
  const widths = levelWidths(bits);
  const sizes: number[] = new Array<number>(widths.length);
  for (let d = widths.length - 1; d >= 0; d--) {
    const f = 2 ** widths[d];
    sizes[d] = d === widths.length - 1 ? f + 2 : f + 1 + f * sizes[d + 1];
  }
  let maxOffset = 1;
  for (const t of tenants) {
    for (const inst of instances) {
      const offset = ipToInt(t.tunnelIps[inst.id]) - ipToInt(inst.network);
      if (offset >= 2 ** bits) throw new Error(`tenant "${t.key}" (slot ${t.slot}) has tunnel IP ${t.tunnelIps[inst.id]}: the routing tree covers pool offsets below ${2 ** bits} only (slots ≤ ${2 ** bits - 2})`);
      maxOffset = Math.max(maxOffset, offset);
    }
  }
  const limit = Math.min(Math.ceil((maxOffset + 1) / SKELETON_GRANULE) * SKELETON_GRANULE, 2 ** bits) - 1;
  const regions = instances.map((inst, i) => ({
    id: inst.id,
    poolBase: ipToInt(inst.network),
    root: formatCidr({ base: ipToInt(inst.network), prefix: 32 - bits }),
    region: PREF.tree + i * sizes[0],
    gateway: inst.gateway,
  }));
  if (PREF.tree + 2 * sizes[0] > PREF.end) throw new Error(`routing tree needs ${2 * sizes[0]} prefs, more than ${PREF.end - PREF.tree}`);
  return { supernet: net.tunnelSupernet, hostMgmtIp: net.hostMgmtIp, widths, regionSizes: sizes, instances: regions, limit };
}

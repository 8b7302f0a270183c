/**
 * The lab's embedded stack config: a small stack written against the real schema and planned by the
 * real `buildPlan`, so every address, port and name in the lab comes from the same code as production.
 */
import type { StackInput } from "../config/schema";
import { buildPlan } from "../plan/build";
import type { Plan } from "../plan/types";
import { OUTSIDER } from "./topology";

/** The tenant-network modes the lab runs (config tenantNetwork.mode). */
export type LabMode = "fixed" | "distinct";
export const LAB_MODES: readonly LabMode[] = ["fixed", "distinct"];
/** The lab's default: the LibreRouter image as shipped (the same 10.0.0.1 LAN in every tenant, WAN by DHCP). */
export const DEFAULT_LAB_MODE: LabMode = "fixed";

/** The lab's first ban (bans.banTime): short, so the lab sees bans end. */
export const LAB_BAN_TIME = "15s";

const NAMES = ["acme", "coop-sur", "delta", "echo", "foxtrot", "golf", "hotel", "india"];

/** Tenant key for lab slot `slot` (1-based): a few readable names, then `t<slot>`. */
export function labTenantKey(slot: number): string {
  return NAMES[slot - 1] ?? `t${slot}`;
}

/**
 * A lab stack with `tenants` tenants on slots 1…n. The first is pinned to `hardwareId` (what the rendered launcher
 * prints on this machine); the others enrol it on first use: all lab clients run on one machine, so they share
 * that ID, and the schema refuses one ID pinned for two tenants. The VPN timings
 * (keepalive, server-poll-timeout) are production's defaults, so the failover and fallback checks
 * measure what tenants will see. `mode` is the stack's tenantNetwork.mode (fixed: the appliance's LAN, 10.0.0.1/24 by
 * default, in every tenant; distinct: a /24 per slot).
 */
export function labStack(tenants: number, hardwareId: string, mode: LabMode = DEFAULT_LAB_MODE): StackInput {
  if (!Number.isInteger(tenants) || tenants < 1 || tenants > 500) throw new Error(`--tenants must be 1…500, got ${tenants}`);
  const entries = Array.from({ length: tenants }, (_, i) => {
    const key = labTenantKey(i + 1);
    return [key, { slot: i + 1, ...(i === 0 ? { hardwareId } : {}), description: `lab tenant ${i + 1}` }] as const;
  });
  return {
    profile: "minimal",
    proxmox: { endpoint: "https://pve-lab.invalid:8006/", node: "lab" },
    network: {
      publicPools: [
        { cidr: "192.0.2.0/24", gateway: "192.0.2.1" },
        { cidr: "198.51.100.0/24", gateway: "198.51.100.1" },
      ],
      reverseDnsDomain: "tenants.lab.invalid",
    },
    tenantNetwork: { mode },
    // The ban grid with production's defaults but a short first ban (ban-expiry waits for it), and the outsider
    // allowlisted: the refusal checks keep testing OpenVPN, not the grid, and ban-allowlist proves the list.
    bans: { banTime: LAB_BAN_TIME, allowlist: [OUTSIDER.ip] },
    tenants: Object.fromEntries(entries),
  };
}

/** The lab plan (stack name `lab`). */
export function labPlan(tenants: number, hardwareId: string, mode: LabMode = DEFAULT_LAB_MODE): Plan {
  return buildPlan(labStack(tenants, hardwareId, mode), "lab");
}

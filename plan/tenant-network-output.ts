/**
 * The contract between the program and the policy pack for the tenant-network mode (as sizing/capacity-output.ts is
 * for capacity): index.ts exports `tenantNetworkOutput(plan)` as the stack output named TENANT_NETWORK_OUTPUT, and
 * the pack's anti-spoofing check reads it back (policy/tenant-network-output.ts). Pure.
 */
import type { Plan } from "./types";

/** Name of the stack output. */
export const TENANT_NETWORK_OUTPUT = "tenantNetwork";

/**
 * What the output holds: the mode, and in fixed mode each tenant's planned public MAC by tenant key
 * (TenantPlan.publicMac), the MAC the services VM's DHCP reservation hands the public address to.
 */
export type TenantNetworkOutput = { readonly mode: "distinct" } | { readonly mode: "fixed"; readonly publicMacs: Readonly<Record<string, string>> };

export function tenantNetworkOutput(plan: Plan): TenantNetworkOutput {
  if (plan.tenantNetwork.mode !== "fixed") return { mode: "distinct" };
  return { mode: "fixed", publicMacs: Object.fromEntries(plan.tenants.map((t) => [t.key, t.publicMac])) };
}

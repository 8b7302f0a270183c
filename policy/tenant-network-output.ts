/**
 * The tenant-network mode as the pack learns it: like the capacity report, from a stack output the program exports
 * (index.ts `export const tenantNetwork`), read back from the stack resource. A policy sees resources one by one or
 * the stack's resources and outputs, never the config. Pure; no `@pulumi/*` import.
 */
import { STACK } from "./resource-types";

/** Name of the stack output. */
export const TENANT_NETWORK_OUTPUT = "tenantNetwork";

/**
 * What the output holds: the mode, and in fixed mode each tenant's planned public MAC by tenant key
 * (TenantPlan.publicMac), the MAC the services VM's DHCP reservation hands the public address to.
 */
export type TenantNetworkOutput = { readonly mode: "distinct" } | { readonly mode: "fixed"; readonly publicMacs: Readonly<Record<string, string>> };

/** The output read back from the stack resource, or the violation that says why it cannot be used. */
export function tenantNetworkOf(resources: readonly { readonly type: string; readonly props: Record<string, unknown> }[]): TenantNetworkOutput | string {
  const out = resources.find((r) => r.type === STACK)?.props[TENANT_NETWORK_OUTPUT] as Record<string, unknown> | undefined;
  if (out === undefined || out === null || typeof out !== "object") {
    return `the stack exports no "${TENANT_NETWORK_OUTPUT}" output; index.ts must export { mode, publicMacs } (tenantNetwork.mode, each tenant's planned public MAC in fixed mode) so the policy knows which anti-spoofing options the tenants need`;
  }
  if (out.mode === "distinct") return { mode: "distinct" };
  if (out.mode !== "fixed") return `the "${TENANT_NETWORK_OUTPUT}" output has mode ${JSON.stringify(out.mode) ?? "nothing"}; expected "distinct" or "fixed"`;
  const macs = out.publicMacs;
  if (macs === null || typeof macs !== "object" || Array.isArray(macs)) {
    return `the "${TENANT_NETWORK_OUTPUT}" output has mode "fixed" but no publicMacs (tenant key → planned MAC); index.ts must export them`;
  }
  return { mode: "fixed", publicMacs: macs as Record<string, string> };
}

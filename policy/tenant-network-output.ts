/**
 * The tenant-network mode as the pack learns it: like the capacity report, from a stack output the program exports
 * (index.ts `export const tenantNetwork`, built by plan/tenant-network-output.ts), read back from the stack resource. A policy sees resources one by one or
 * the stack's resources and outputs, never the config. Pure; no `@pulumi/*` import.
 */
import { TENANT_NETWORK_OUTPUT, type TenantNetworkOutput } from "../plan/tenant-network-output";
import { STACK } from "./resource-types";

export { TENANT_NETWORK_OUTPUT, type TenantNetworkOutput };

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

/** Per-tenant client-config-dir files: the tenant's fixed tunnel IP and its DNS. Pure: no `@pulumi/*`. */
import type { InstancePlan, TenantPlan } from "../plan/types";

/**
 * The ccd file of `tenant` on `instance`: its fixed address in that instance's pool and its LibreRouter as DNS.
 * Removing this file locks the tenant out of the instance (`ccd-exclusive`). Its path: tenantFilePaths().ccd.
 */
export function renderCcd(stack: string, tenant: TenantPlan, instance: InstancePlan): string {
  return [
    `# ${tenant.key} on ${instance.id} (stack ${stack}); rendered, do not edit.`,
    `ifconfig-push ${tenant.tunnelIps[instance.id]} ${instance.netmask}`,
    `push "dhcp-option DNS ${tenant.routerIp}"`,
    "",
  ].join("\n");
}

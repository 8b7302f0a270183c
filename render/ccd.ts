/** Per-tenant client-config-dir files: the tenant's fixed tunnel IP and its DNS. Pure: no `@pulumi/*`. */
import type { InstancePlan, Plan, TenantPlan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { clientCommonName } from "./pki-profile";

/** `<openvpnDir>/ccd-<proto>/<tenant key>`: OpenVPN looks the file up by the certificate CN, which is the tenant key. */
export function ccdPath(layout: ServerLayout, instance: InstancePlan, tenant: TenantPlan): string {
  return `${openvpnFilePaths(layout).ccdDirs[instance.proto]}/${clientCommonName(tenant)}`;
}

/**
 * The ccd file of `tenant` on `instance`: its fixed address in that instance's pool and its LibreRouter as DNS.
 * Removing this file locks the tenant out of the instance (`ccd-exclusive`).
 */
export function renderCcd(plan: Plan, tenant: TenantPlan, instance: InstancePlan): string {
  if (!plan.instances.some((i) => i.id === instance.id)) throw new Error(`instance ${instance.id} is not in the plan`);
  return [
    `# ${tenant.key} on ${instance.id} (stack ${plan.stack}); rendered, do not edit.`,
    `ifconfig-push ${tenant.tunnelIps[instance.id]} ${instance.netmask}`,
    `push "dhcp-option DNS ${tenant.routerIp}"`,
    "",
  ].join("\n");
}

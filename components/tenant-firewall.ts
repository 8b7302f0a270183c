/**
 * Anti-spoofing on the shared public bridge for one tenant VM: every tenant is root on his router, so
 * Proxmox's own per-VM firewall pins what his public NIC may send: only its own MAC (`macfilter`), only its own
 * public address, ARP included (`ipfilter` with the `ipfilter-net0` IP set), no router advertisements, no DHCP
 * server. Policies stay ACCEPT: this filters what the tenant may claim, not which traffic his router wants.
 * Takes effect only with the datacenter firewall on (ProxmoxHost) and `firewall: true` on the NIC (Tenant).
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import type { Plan, TenantPlan } from "../plan/types";

/** The IP set Proxmox's `ipfilter` reads for net0. */
export const IPFILTER_NET0 = "ipfilter-net0";

export function tenantPublicFirewall(name: string, plan: Plan, t: TenantPlan, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  const ipset = new proxmoxve.firewall.IpsetLegacy(
    `${name}-ipfilter`,
    { nodeName: plan.host.node, vmId: t.vmid, name: IPFILTER_NET0, comment: `tenant ${t.key}: its public address only`, cidrs: [{ name: t.publicIp }] },
    opts,
  );
  const options = new proxmoxve.firewall.OptionsLegacy(
    `${name}-firewall`,
    {
      nodeName: plan.host.node,
      vmId: t.vmid,
      enabled: true,
      macfilter: true,
      ipfilter: true,
      dhcp: false,
      ndp: false,
      radv: false,
      inputPolicy: "ACCEPT",
      outputPolicy: "ACCEPT",
    },
    // The IP set first: with ipfilter on and the set missing, Proxmox lets only link-local through.
    { ...opts, dependsOn: [ipset] },
  );
  return [ipset, options];
}

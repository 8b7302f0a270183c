/**
 * Anti-spoofing on the shared public bridge for one tenant VM: every tenant is root on his router, so
 * Proxmox's own per-VM firewall pins what his public NIC may send: only its own MAC (`macfilter`), only its own
 * public address, ARP included (`ipfilter` with the `ipfilter-net0` IP set), no router advertisements, no DHCP
 * server. Policies stay ACCEPT: this filters what the tenant may claim, not which traffic his router wants.
 * Takes effect only with the datacenter firewall on (ProxmoxHost) and `firewall: true` on the NIC (Tenant).
 *
 * Fixed tenant-network mode (the router takes its public address by DHCP): pve-firewall's `dhcp` option must be on,
 * since its ipfilter drops a DISCOVER from 0.0.0.0 otherwise (Firewall.pm ruleset_create_vm_chain: with dhcp on,
 * OUT udp 68→67 goes to the accept mark before the mac/ip filters; the ebtables MAC filter still applies). That
 * option does not stop a DHCP server, and none of the other filters does either (a rogue offer leaves from the
 * tenant's own MAC and address), so every tenant's net0 also gets the cluster security group that drops DHCP
 * server traffic: one shared group, one small rules resource per VM. Each VM's firewall is addressed on its own node
 * (the API reads the VM's config there).
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import type { Plan, TenantPlan } from "../plan/types";

/** The IP set Proxmox's `ipfilter` reads for net0. */
export const IPFILTER_NET0 = "ipfilter-net0";
/** The cluster security group every fixed-mode tenant's net0 jumps to (pve-firewall allows at most 18 characters). */
export const TENANT_WAN_GROUP = "lr-tenant-wan";

/**
 * The security group: a tenant's net0 may send no DHCP server traffic (from port 67, or to a client's port 68:
 * clients take an offer from any source port). Created only in fixed mode; undefined in distinct mode. One name
 * per cluster: the stack already owns the cluster-wide firewall switch (ProxmoxHost), so one stack per cluster.
 */
export function tenantWanGroup(name: string, plan: Plan, opts: pulumi.CustomResourceOptions): pulumi.Resource | undefined {
  if (plan.tenantNetwork.mode !== "fixed") return undefined;
  const drop = { type: "out", action: "DROP", proto: "udp" };
  return new proxmoxve.cluster.firewall.security.GroupLegacy(
    name,
    {
      name: TENANT_WAN_GROUP,
      comment: `librerouter-hosting ${plan.stack}: tenant WAN NICs (rogue DHCP offers)`,
      rules: [
        { ...drop, sport: "67", comment: "no DHCP server on the public bridge: from the server port" },
        { ...drop, dport: "68", comment: "no DHCP server on the public bridge: to a client" },
      ],
    },
    opts,
  );
}

export function tenantPublicFirewall(name: string, plan: Plan, t: TenantPlan, opts: pulumi.CustomResourceOptions, wanGroup?: pulumi.Resource): pulumi.Resource[] {
  const fixed = plan.tenantNetwork.mode === "fixed";
  // Protected like the VM: the engine deletes a removed tenant's resources dependents first and refuses the VM only
  // at its own step (DeleteStep), so unprotected filters would be gone while his router still runs on the public
  // bridge. Decommissioning unprotects the four together (README, "Adding and removing a tenant").
  opts = { ...opts, protect: true };
  if (fixed && !wanGroup) throw new Error(`tenant ${t.key}: fixed tenant-network mode needs the ${TENANT_WAN_GROUP} security group (tenantWanGroup)`);
  const ipset = new proxmoxve.firewall.IpsetLegacy(
    `${name}-ipfilter`,
    { nodeName: t.node, vmId: t.vmid, name: IPFILTER_NET0, comment: `tenant ${t.key}: its public address only`, cidrs: [{ name: t.publicIp }] },
    opts,
  );
  // The group's rule before the dhcp option opens anything.
  const rules = fixed
    ? [
        new proxmoxve.firewall.RulesLegacy(
          `${name}-firewall-rules`,
          { nodeName: t.node, vmId: t.vmid, rules: [{ securityGroup: TENANT_WAN_GROUP, iface: "net0", comment: `tenant ${t.key}: no DHCP server` }] },
          // After the IP set (so after the VM); a rule naming a missing group is skipped by pve-firewall (rule
          // errors), silently: the group first.
          { ...opts, dependsOn: [ipset, ...(wanGroup ? [wanGroup] : [])] },
        ),
      ]
    : [];
  const options = new proxmoxve.firewall.OptionsLegacy(
    `${name}-firewall`,
    {
      nodeName: t.node,
      vmId: t.vmid,
      enabled: true,
      macfilter: true,
      ipfilter: true,
      dhcp: fixed,
      ndp: false,
      radv: false,
      inputPolicy: "ACCEPT",
      outputPolicy: "ACCEPT",
    },
    // The IP set first: with ipfilter on and the set missing, Proxmox lets only link-local through.
    { ...opts, dependsOn: [ipset, ...rules] },
  );
  return [ipset, ...rules, options];
}

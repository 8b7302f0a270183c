/**
 * The Proxmox host's own API (8006) and SSH (22) on its public IP, as node firewall rules (Proxmox's firewall keeps
 * them across reboots): the ops networks and management are accepted, everyone else is dropped there. Only rendered
 * when `network.opsNetworks` is set: with none, Pulumi itself (which reaches the API from an ops network) would be
 * locked out. Pure data in the provider's rule shape; no `@pulumi/*`.
 */
import type { Plan } from "../plan/types";

/** Proxmox's management ports on the host: its API/web UI and SSH. */
export const HOST_ACCESS_PORTS = "22,8006";

export interface HostAccessRule {
  readonly type: string;
  readonly action: string;
  readonly proto: string;
  readonly dport: string;
  readonly source?: string;
  readonly dest?: string;
  readonly comment: string;
}

/** Accept from the ops networks and management first, then drop on the public IP. */
export function hostAccessRules(plan: Plan): HostAccessRule[] {
  return [
    { type: "in", action: "ACCEPT", proto: "tcp", dport: HOST_ACCESS_PORTS, source: [plan.mgmt.cidr, ...plan.opsNetworks].join(","), comment: "librerouter: API and SSH from ops networks and management" },
    { type: "in", action: "DROP", proto: "tcp", dport: HOST_ACCESS_PORTS, dest: plan.host.publicIp, comment: "librerouter: API and SSH closed to everyone else on the public IP" },
  ];
}

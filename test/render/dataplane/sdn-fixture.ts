/** A two-node plan under `sdn` (VXLAN zone) for the data-plane render tests and the VXLAN e2e test. */
import { buildPlan } from "../../../plan/build";
import type { Plan } from "../../../plan/types";

/**
 * Nodes pve-a (192.168.100.10, the API node) and pve-b (192.168.100.20), vpn1 on pve-a and vpn2 on pve-b, tenants acme
 * (slot 1) on pve-a and coop-sur (slot 2) on pve-b: one tenant per node, so each node's console address shows.
 */
export function sdnPlan(mode: "distinct" | "fixed" = "distinct"): Plan {
  return buildPlan(
    {
      profile: "minimal",
      tenantNetwork: { mode },
      proxmox: { endpoint: "https://pve-a.example.net:8006/", node: "pve-a" },
      nodes: [
        { name: "pve-a", mgmtIp: "192.168.100.10", hardware: { ramGb: 64, cpuCores: 16 } },
        { name: "pve-b", mgmtIp: "192.168.100.20", hardware: { ramGb: 64, cpuCores: 16 }, templates: { librerouter: 9010, debian: 9011 } },
      ],
      sdn: { kind: "vxlan" },
      network: {
        publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }],
        reverseDnsDomain: "tenants.example.net",
      },
      vpn: { hostnames: ["vpn1.example.net", "vpn2.example.net"] },
      tenants: { acme: { slot: 1, node: "pve-a" }, "coop-sur": { slot: 2, node: "pve-b" } },
    },
    "golden-sdn",
  );
}

/** The slot whose VNC port (5900 + 100 + slot) would be the Proxmox API's 8006: left out of a numbered range. */
const API_PORT_SLOT = 2006;

/** `count` numbered tenants on slots 1…count (past API_PORT_SLOT: one more, without it) over the same two nodes (placement by hashing), for apply timings. */
export function sdnNumberedPlan(count: number): Plan {
  return buildPlan(
    {
      profile: "optimal",
      proxmox: { endpoint: "https://pve-a.example.net:8006/", node: "pve-a" },
      nodes: [
        { name: "pve-a", mgmtIp: "192.168.100.10", hardware: { ramGb: 512, cpuCores: 64 } },
        { name: "pve-b", mgmtIp: "192.168.100.20", hardware: { ramGb: 512, cpuCores: 64 }, templates: { librerouter: 9010, debian: 9011 } },
      ],
      sdn: { kind: "vxlan" },
      network: { publicPools: [{ cidr: "100.64.0.0/20", gateway: "100.64.0.1" }] },
      numberedTenants: count >= API_PORT_SLOT ? { count: count + 1, exclude: [API_PORT_SLOT] } : { count },
    },
    `sdn${count}`,
  );
}

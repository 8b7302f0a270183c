/**
 * Small formatting of plan values into Proxmox VM network inputs. Pure (no `@pulumi/*`): the plan already
 * holds every address; these only shape them the way the provider wants them.
 */
import * as A from "../plan/alloc";
import type { Plan } from "../plan/types";

/**
 * Proxmox `trunks` for the tenants' VLANs, consecutive ids folded into ranges ("101-148;150"), so the VPN
 * server's trunk NIC carries exactly the tenant VLANs and nothing else on the private bridge.
 */
export function vlanTrunks(vlans: readonly number[]): string {
  const sorted = [...new Set(vlans)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(";");
}

/** cloud-init `ipv4` of an address in one of the public pools: `<ip>/<pool prefix>` and the pool's gateway. */
export function publicIpConfig(plan: Plan, ip: string): { address: string; gateway: string } {
  const pool = A.poolOf(plan.config, ip);
  if (!pool) throw new Error(`${ip} is in none of network.publicPools`);
  return { address: `${ip}/${pool.cidr.split("/")[1]}`, gateway: pool.gateway };
}

/** cloud-init `ipv4` of an address on a plan subnet (`10.0.1.1` on `10.0.1.0/24` → `10.0.1.1/24`). */
export function subnetIpConfig(ip: string, cidr: string): { address: string } {
  return { address: `${ip}/${cidr.split("/")[1]}` };
}

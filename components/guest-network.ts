/**
 * Small formatting of plan values into Proxmox VM network inputs. Pure (no `@pulumi/*`): the plan already
 * holds every address; these only shape them the way the provider wants them.
 */
import { contains, ipToInt, parseCidr } from "../lib/ipv4";
import type { Plan } from "../plan/types";

/** cloud-init `ipv4` of an address in one of the public pools: `<ip>/<pool prefix>` and the pool's gateway. */
export function publicIpConfig(plan: Pick<Plan, "publicPools">, ip: string): { address: string; gateway: string } {
  const pool = plan.publicPools.find((p) => contains(parseCidr(p.cidr), ipToInt(ip)));
  if (!pool) throw new Error(`${ip} is in none of network.publicPools`);
  return { address: `${ip}/${pool.prefix}`, gateway: pool.gateway };
}

/** cloud-init `ipv4` of an address on a plan subnet (`10.0.1.1` on `10.0.1.0/24` → `10.0.1.1/24`). */
export function subnetIpConfig(ip: string, cidr: string): { address: string } {
  return { address: `${ip}/${cidr.split("/")[1]}` };
}

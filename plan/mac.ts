/**
 * Each tenant VM's public NIC MAC, derived from the stack and the tenant key so that it is stable (the DHCP
 * reservation, Proxmox's macfilter and the ipfilter set all hang on it) and never depends on order or slot.
 * Locally administered unicast (first octet 02): never a vendor's. 40 bits of SHA-256: a clash is ~1e-7 at
 * 500 tenants, and the plan refuses one (`tenants.<key>.publicMac` then sets one by hand). Pure.
 */
import { createHash } from "node:crypto";

/** A unicast MAC in lowercase colon notation (the multicast bit of the first octet clear). */
export const UNICAST_MAC = /^[0-9a-f][02468ace](?::[0-9a-f]{2}){5}$/;

export function derivedPublicMac(stack: string, key: string): string {
  const h = createHash("sha256").update(`librerouter-hosting/public-mac/${stack}/${key}`).digest();
  return ["02", ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}

/** Error messages for MACs used by more than one tenant, naming the tenants and the fix. */
export function macClashes(tenants: readonly { readonly key: string; readonly publicMac: string }[]): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const t of tenants) {
    const first = seen.get(t.publicMac);
    if (first === undefined) seen.set(t.publicMac, t.key);
    else out.push(`tenants.${t.key}.publicMac: ${t.publicMac} is also tenant "${first}"'s MAC; set tenants.${t.key}.publicMac to another locally administered MAC (02:…)`);
  }
  return out;
}

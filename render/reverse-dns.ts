/**
 * BIND reverse zones for the public pools (one per /24; RFC 2317 `<first>/<prefix>` zones for pools smaller
 * than a /24): a PTR per tenant address → `<key>.<reverseDnsDomain>.`, plus the host, the VPN servers and the
 * common services. The serial is a hash of the zone's records: the same plan always gives the same zone text.
 * Pure: no `@pulumi/*` import.
 */
import { createHash } from "node:crypto";
import { intToIp, ipToInt, parseCidr } from "../lib/ipv4";
import type { Plan } from "../plan/types";

export interface ReverseZone {
  /** `2.0.192.in-addr.arpa` (or `0/26.2.0.192.in-addr.arpa`). */
  readonly name: string;
  /** File name for the zone (slashes replaced). */
  readonly fileName: string;
  readonly content: string;
}

const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`);
const isDnsName = (s: string) => /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i.test(s);

/** Every public address the plan names, → its PTR target. */
export function ptrRecords(plan: Plan): Map<string, string> {
  const domain = plan.reverseDnsDomain;
  const map = new Map<string, string>();
  map.set(plan.host.publicIp, `host.${domain}.`);
  for (const s of plan.servers) map.set(s.publicIp, isDnsName(s.hostname) ? fqdn(s.hostname) : `${s.name}.${domain}.`);
  map.set(plan.services.publicIp, `services.${domain}.`);
  for (const t of plan.tenants) map.set(t.publicIp, `${t.key}.${domain}.`);
  return map;
}

/** The zones covering `cidr`: /24s for prefixes ≤ 24, one RFC 2317 zone otherwise. */
function zonesOf(cidr: string): { name: string; base: number; size: number }[] {
  const c = parseCidr(cidr);
  const rev = (base: number) => intToIp(base).split(".").slice(0, 3).reverse().join(".");
  if (c.prefix > 24) return [{ name: `${c.base & 255}/${c.prefix}.${rev(c.base)}.in-addr.arpa`, base: c.base, size: 2 ** (32 - c.prefix) }];
  return Array.from({ length: 2 ** (24 - c.prefix) }, (_, i) => {
    const base = c.base + i * 256;
    return { name: `${rev(base)}.in-addr.arpa`, base, size: 256 };
  });
}

/** The reverse zones of the plan's public pools; name server `services.<domain>` (the common-services VM), TTL 3600. */
export function reverseZones(plan: Plan): ReverseZone[] {
  const domain = plan.reverseDnsDomain;
  const ns = [`services.${domain}`].map(fqdn);
  const rname = fqdn(`hostmaster.${domain}`);
  const ttl = 3600;
  const ptrs = ptrRecords(plan);
  return plan.publicPools.flatMap((pool) =>
    zonesOf(pool.cidr).map((z) => {
      const records = [...ptrs.entries()]
        .map(([ip, name]) => ({ n: ipToInt(ip), name }))
        .filter((r) => r.n >= z.base && r.n < z.base + z.size)
        .sort((a, b) => a.n - b.n)
        .map((r) => `${r.n & 255}\tIN\tPTR\t${r.name}`);
      const body = [...ns.map((n) => `@\tIN\tNS\t${n}`), ...records];
      const serial = (parseInt(createHash("sha256").update(`${z.name}\n${rname}\n${body.join("\n")}`).digest("hex").slice(0, 8), 16) % 4294967295) + 1;
      const content = [
        `; ${z.name} (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.`,
        `$TTL ${ttl}`,
        `$ORIGIN ${z.name}.`,
        `@\tIN\tSOA\t${ns[0]} ${rname} ( ${serial} 3600 900 1209600 300 )`,
        ...body,
        "",
      ].join("\n");
      return { name: z.name, fileName: `${z.name.replace(/\//g, "-")}.zone`, content };
    }),
  );
}

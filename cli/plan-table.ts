/** The tenant plan as a terminal table and as JSON (what `npm run plan` prints). Pure. */
import type { CompiledStack } from "../stack/compile";
import { INSTANCE_IDS } from "../plan/types";
import { pct } from "../sizing/format";
import { table } from "../lib/table";

/** One row per tenant: key, slot, VMID, VLAN, private /24, public IP, the 4 tunnel IPs, console port. */
export function planTable({ plan, capacity }: CompiledStack): string {
  const head = ["key", "slot", "vmid", "vlan", "private", "public ip", ...INSTANCE_IDS, "vnc port"];
  const rows = plan.tenants.map((t) => [t.key, `${t.slot}`, `${t.vmid}`, `${t.vlan}`, t.privateCidr, t.publicIp, ...INSTANCE_IDS.map((i) => t.tunnelIps[i]), `${t.vnc.port}`]);
  const notOk = capacity.lines.filter((l) => l.status !== "ok");
  return [
    `stack "${plan.stack}" (profile ${plan.profile}): ${plan.tenants.length} tenants; host ${plan.host.publicIp}, ${plan.servers.map((s) => `${s.name} ${s.publicIp}`).join(", ")}, services ${plan.services.publicIp}`,
    "",
    table([head, ...rows]),
    "",
    `capacity: ${capacity.verdict.toUpperCase()}${notOk.length ? "" : " (every resource fits)"}`,
    ...notOk.map((l) => `  ${l.status.toUpperCase()} ${l.resource} ${pct(l.utilisation)}: ${l.note}`),
  ].join("\n");
}

/** The plan's addressing and the capacity report as one JSON document (no secrets: the plan holds none). */
export function planJson({ plan, capacity }: CompiledStack): string {
  const { stack, profile, host, mgmt, publicPools, instances, tenants } = plan;
  const services = { vmid: plan.services.vmid, publicIp: plan.services.publicIp, mgmtIp: plan.services.mgmtIp };
  const servers = plan.servers.map(({ name, vmid, hostname, publicIp, mgmtIp, instances: own }) => ({ name, vmid, hostname, publicIp, mgmtIp, instances: own }));
  return JSON.stringify({ stack, profile, host, services, mgmt, publicPools, servers, instances, tenants, capacity }, null, 2);
}

/** The per-slot rules a tenant must meet (its /24, tunnel pool, VLAN, table, VMID, console port), and how their
 * failures are reported: one line per named tenant, one line per rule for the numbered range. */
import type { StackConfig } from "../config/schema";
import { formatCidr, overlaps, parseCidr } from "../lib/ipv4";
import * as alloc from "./alloc";
import type { Err, TenantSeed } from "./tenant-seeds";

/** VMIDs of the VMs that are not tenants, with the config key that sets each. */
export function infraVmids(cfg: StackConfig): [string, number][] {
  return [
    ["template.vmid", cfg.template.vmid],
    ["template.serverVmid", cfg.template.serverVmid],
    ["vpn.vmids.0", cfg.vpn.vmids[0]],
    ["vpn.vmids.1", cfg.vpn.vmids[1]],
    ["services.vmid", cfg.services.vmid],
  ];
}

export interface SlotReporter {
  report(t: TenantSeed, rule: string, message: string, fix?: string): void;
  flush(): void;
}

/** Slot problems: one line per named tenant; numbered tenants that break the same rule share one line
 * (a vlanBase that is too high would otherwise print hundreds). */
export function slotReporter(err: Err): SlotReporter {
  const groups = new Map<string, { first: TenantSeed; last: TenantSeed; count: number; message: string; fix?: string }>();
  return {
    report(t, rule, message, fix) {
      const also = fix ? `${fix}, or ` : "";
      if (!t.numbered) return err(`${t.configKey}.slot`, `got ${t.slot}; ${message}; ${also}choose another slot for tenant "${t.key}"`);
      const g = groups.get(rule);
      if (g) {
        g.last = t;
        g.count++;
      } else groups.set(rule, { first: t, last: t, count: 1, message, fix });
    },
    flush() {
      for (const g of groups.values()) {
        const who = g.count === 1 ? `tenant "${g.first.key}" (slot ${g.first.slot})` : `tenants "${g.first.key}" (slot ${g.first.slot}) to "${g.last.key}" (slot ${g.last.slot}), ${g.count} in all; at slot ${g.first.slot}`;
        err("numberedTenants", `${who}: ${g.message}; ${g.fix ? `${g.fix}, or ` : ""}leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)`);
      }
    },
  };
}

/** Every per-slot rule for tenant `t`, in a fixed order; failures go to `report`. */
export function checkSlot(cfg: StackConfig, t: TenantSeed, report: SlotReporter): void {
  const net = cfg.network;
  const bad = (rule: string, message: string, fix?: string) => report.report(t, rule, message, fix);
  const priv = alloc.privateNet(cfg, t.slot);
  const tunnel = parseCidr(net.tunnelSupernet);
  const mgmt = parseCidr(net.management.cidr);
  if (cfg.tenantNetwork.mode === "fixed") {
    // One LAN for every tenant (checkFixedLan): nothing per slot.
  } else if (t.slot >= alloc.privateSlots(cfg)) {
    bad("private", `network.tenantPrivate ${net.tenantPrivate} holds /24s for slots 1–${alloc.privateSlots(cfg) - 1} only`, "use a larger network.tenantPrivate");
  } else {
    if (overlaps(priv, tunnel)) bad("tunnel-overlap", `its private subnet ${formatCidr(priv)} overlaps network.tunnelSupernet ${net.tunnelSupernet}`, "move network.tunnelSupernet");
    if (overlaps(priv, mgmt)) bad("mgmt-overlap", `its private subnet ${formatCidr(priv)} overlaps network.management.cidr ${net.management.cidr}`, "move network.management.cidr out of network.tenantPrivate");
  }
  if (t.slot > alloc.maxTunnelSlot(cfg)) {
    bad("tunnel-pool", `each VPN instance pool (a quarter of network.tunnelSupernet ${net.tunnelSupernet}) holds slots 1–${alloc.maxTunnelSlot(cfg)} only`, "use a larger network.tunnelSupernet");
  }
  const vlan = alloc.vlan(cfg, t.slot);
  // Under SDN the tenant's network is a VXLAN vnet: no VLAN id is used (plan/cluster.ts checks the VNI instead).
  if (cfg.sdn.kind === "none" && vlan > 4094) bad("vlan", `VLAN id network.vlanBase + slot = ${vlan} is above 4094 (slots up to ${4094 - net.vlanBase} fit)`, `lower network.vlanBase (now ${net.vlanBase})`);
  const table = alloc.tableId(cfg, t.slot);
  if (alloc.RESERVED_TABLES.has(table)) {
    bad("table", `routing table id network.tableBase + slot = ${table} is reserved by the kernel (253 default, 254 main, 255 local)`, `set network.tableBase (now ${net.tableBase}) to 1000 or more`);
  }
  const vmid = alloc.vmid(cfg, t.slot);
  const clash = infraVmids(cfg).find(([, v]) => v === vmid);
  if (clash) bad("vmid", `VMID network.vmidBase + slot = ${vmid} is taken by ${clash[0]}`, `change network.vmidBase (now ${net.vmidBase}) or ${clash[0]}`);
  if (vmid > 999_999_999) bad("vmid-max", `VMID ${vmid} is above Proxmox's 999999999`, "lower network.vmidBase");
  const display = alloc.vncDisplay(cfg, t.slot);
  const port = 5900 + display;
  const reserved = alloc.RESERVED_PORTS.find(([lo, hi]) => port >= lo && port <= hi);
  if (port > 65535) {
    bad("vnc-max", `VNC port 5900 + network.vncDisplayBase + slot = ${port} is above 65535`, `lower network.vncDisplayBase (now ${net.vncDisplayBase})`);
  } else if (reserved) {
    bad(`vnc-${reserved[0]}`, `VNC display ${display} (port ${port}) collides with ${reserved[2]}`, `change network.vncDisplayBase (now ${net.vncDisplayBase})`);
  }
}

/** A tenant's balloon override against the defaults it falls back on. */
export function checkMemory(cfg: StackConfig, t: TenantSeed, err: Err): void {
  // With no override the defaults are checked once (tenantDefaults.memory), not once per tenant.
  if (!t.spec.memory) return;
  const memory = tenantMemory(cfg, t);
  if (memory.minMb > memory.maxMb) {
    const src = (f: "minMb" | "maxMb") => (t.spec.memory?.[f] === undefined ? ` (from tenantDefaults.memory.${f})` : "");
    err(`${t.configKey}.memory`, `balloon minimum ${memory.minMb} MiB${src("minMb")} is above maximum ${memory.maxMb} MiB${src("maxMb")}; set minMb ≤ maxMb`);
  }
}

/** The tenant's balloon range: its own figures, else the defaults. */
export function tenantMemory(cfg: StackConfig, t: TenantSeed): { minMb: number; maxMb: number } {
  return { minMb: t.spec.memory?.minMb ?? cfg.tenantDefaults.memory.minMb, maxMb: t.spec.memory?.maxMb ?? cfg.tenantDefaults.memory.maxMb };
}

/**
 * The per-tenant env file `lr-dataplane apply <key>` reads (`<confDir>/tenants/<key>.env`): everything the
 * tool needs about one tenant on one server, as `NAME=value` lines. The tool parses it field by field and
 * validates every value (it never sources it), so a damaged file fails closed. In `fixed` tenant-network mode
 * LR_LAN_ADDR, LR_LAN_NET and LR_ROUTER are the same in every tenant's file (LR_LINK and LR_TABLE keep them
 * apart) and LR_SLOT is also the tenant's conntrack zone (render/lan-zones.ts). Pure: no `@pulumi/*` import.
 */
import type { ServerPlan, TenantPlan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { tenantRules } from "./routing";

/** `<confDir>/tenants/<key>.env`. */
export function tenantEnvPath(layout: ServerLayout, tenant: TenantPlan): string {
  return `${layout.confDir}/tenants/${tenant.key}.env`;
}

/** The fields, in file order, with what the tool checks them against. */
export const ENV_FIELDS = [
  ["LR_KEY", "name"],
  ["LR_SLOT", "int"],
  ["LR_LINK", "ifname"],
  ["LR_VLAN", "int"],
  ["LR_LAN_ADDR", "cidr"],
  ["LR_LAN_NET", "cidr"],
  ["LR_ROUTER", "ip"],
  ["LR_TABLE", "int"],
  ["LR_TABLE_NAME", "name"],
  ["LR_TUN1", "ip"],
  ["LR_PREF1", "int"],
  ["LR_TUN2", "ip"],
  ["LR_PREF2", "int"],
  ["LR_VNC_PORT", "int"],
  // The browser console gateway (render/scripts/lr-console-web.py) attaches this VM's serial0 through the host's bridge.
  ["LR_VMID", "int"],
] as const;

export type EnvField = (typeof ENV_FIELDS)[number][0];
export type EnvKind = (typeof ENV_FIELDS)[number][1];

const IPV4 = "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/** What a value of each kind must match (POSIX ERE, whole value); the tool's `check` and LINE_RE are built from these. */
export const KIND_RE: Readonly<Record<EnvKind, string>> = {
  name: "[a-z][a-z0-9-]{0,31}",
  ifname: "[a-zA-Z0-9][a-zA-Z0-9._-]{0,14}",
  int: "[0-9]{1,10}",
  ip: IPV4,
  cidr: `${IPV4}/([0-9]|[12][0-9]|3[0-2])`,
};

/** The values of `tenant`'s env file on `server` (instance 1 = the server's UDP instance, 2 = TCP). */
export function tenantEnv(server: ServerPlan, tenant: TenantPlan): Record<EnvField, string> {
  const rules = tenantRules(server.routing, tenant);
  const lan = server.name === "vpn1" ? tenant.vpnLanIps[0] : tenant.vpnLanIps[1];
  const prefix = tenant.privateCidr.split("/")[1];
  return {
    LR_KEY: tenant.key,
    LR_SLOT: String(tenant.slot),
    LR_LINK: tenant.link,
    LR_VLAN: String(tenant.vlan),
    LR_LAN_ADDR: `${lan}/${prefix}`,
    LR_LAN_NET: tenant.privateCidr,
    LR_ROUTER: tenant.routerIp,
    LR_TABLE: String(tenant.table.id),
    LR_TABLE_NAME: tenant.table.name,
    LR_TUN1: tenant.tunnelIps[server.instances[0].id],
    LR_PREF1: String(rules[0].pref),
    LR_TUN2: tenant.tunnelIps[server.instances[1].id],
    LR_PREF2: String(rules[1].pref),
    LR_VNC_PORT: String(tenant.vnc.port),
    LR_VMID: String(tenant.vmid),
  };
}

/** The env file text. */
export function renderTenantEnv(stack: string, server: ServerPlan, tenant: TenantPlan): string {
  const env = tenantEnv(server, tenant);
  return [`# ${tenant.key} on ${server.name} (stack ${stack}); read by lr-dataplane, rendered, do not edit.`, ...ENV_FIELDS.map(([k]) => `${k}=${env[k]}`), ""].join("\n");
}

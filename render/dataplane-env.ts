/**
 * The per-tenant env file `lr-dataplane apply <key>` reads (`<confDir>/tenants/<key>.env`): everything the
 * tool needs about one tenant on one server, as `NAME=value` lines. The tool parses it field by field and
 * validates every value (it never sources it), so a damaged file fails closed. In `fixed` tenant-network mode
 * LR_LAN_ADDR, LR_LAN_NET and LR_ROUTER are the same in every tenant's file (LR_LINK and LR_TABLE keep them
 * apart) and LR_SLOT is also the tenant's conntrack zone (render/lan-zones.ts). Under `plan.sdn` the file has two
 * more fields (SDN_ENV_FIELDS): the tenant's VNI and its node's management address (its consoles live there).
 * Pure: no `@pulumi/*` import.
 */
import type { NodePlan } from "../plan/cluster";
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

/**
 * Appended under `plan.sdn` (a stack without it renders exactly ENV_FIELDS): LR_VNI makes `vx<slot>` a VXLAN link
 * (render/scripts/lr-dataplane-vxlan.sh), LR_CONSOLE_HOST is the tenant's node, where its VNC port and serial0 are
 * (the console DNAT and the browser console gateway go there).
 */
export const SDN_ENV_FIELDS = [
  ["LR_VNI", "int"],
  ["LR_CONSOLE_HOST", "ip"],
] as const;

export type SdnEnvField = (typeof SDN_ENV_FIELDS)[number][0];
export type EnvField = (typeof ENV_FIELDS)[number][0] | SdnEnvField;
export type EnvKind = (typeof ENV_FIELDS)[number][1] | (typeof SDN_ENV_FIELDS)[number][1];

/** The fields of an env file: SDN_ENV_FIELDS appended when the stack has a VXLAN zone. */
export function envFields(sdn: boolean): readonly (readonly [EnvField, EnvKind])[] {
  return sdn ? [...ENV_FIELDS, ...SDN_ENV_FIELDS] : ENV_FIELDS;
}

const IPV4 = "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/** What a value of each kind must match (POSIX ERE, whole value); the tool's `check` and LINE_RE are built from these. */
export const KIND_RE: Readonly<Record<EnvKind, string>> = {
  name: "[a-z][a-z0-9-]{0,31}",
  ifname: "[a-zA-Z0-9][a-zA-Z0-9._-]{0,14}",
  int: "[0-9]{1,10}",
  ip: IPV4,
  cidr: `${IPV4}/([0-9]|[12][0-9]|3[0-2])`,
};

/** The values of an env file: every field of ENV_FIELDS, and under SDN those of SDN_ENV_FIELDS. */
export type TenantEnv = Record<(typeof ENV_FIELDS)[number][0], string> & Partial<Record<SdnEnvField, string>>;

/** The management address of the node `tenant` runs on (its VNC and serial0), or an error naming the fix. */
export function consoleHost(tenant: TenantPlan, nodes: readonly Pick<NodePlan, "name" | "mgmtIp">[]): string {
  const node = nodes.find((n) => n.name === tenant.node);
  if (!node) throw new Error(`tenant ${tenant.key}: node ${JSON.stringify(tenant.node)} is not in plan.nodes (${nodes.map((n) => n.name).join(", ")}); set tenants.${tenant.key}.node to one of them`);
  return node.mgmtIp;
}

/**
 * The values of `tenant`'s env file on `server` (instance 1 = the server's UDP instance, 2 = TCP). Under SDN
 * (`tenant.sdn`) `nodes` (plan.nodes) must be given: LR_CONSOLE_HOST is the tenant's node's address.
 */
export function tenantEnv(server: ServerPlan, tenant: TenantPlan, nodes?: readonly Pick<NodePlan, "name" | "mgmtIp">[]): TenantEnv {
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
    ...(tenant.sdn ? sdnEnv(tenant, tenant.sdn, nodes) : {}),
  };
}

function sdnEnv(tenant: TenantPlan, sdn: NonNullable<TenantPlan["sdn"]>, nodes: readonly Pick<NodePlan, "name" | "mgmtIp">[] | undefined): Record<SdnEnvField, string> {
  if (!nodes) throw new Error(`tenant ${tenant.key} is on VXLAN vnet ${sdn.vnet}: its env file needs plan.nodes (its console host); pass them to renderTenantEnv`);
  return { LR_VNI: String(sdn.vni), LR_CONSOLE_HOST: consoleHost(tenant, nodes) };
}

/** The env file text (`nodes`: plan.nodes, needed under SDN). */
export function renderTenantEnv(stack: string, server: ServerPlan, tenant: TenantPlan, nodes?: readonly Pick<NodePlan, "name" | "mgmtIp">[]): string {
  const env: Partial<Record<EnvField, string>> = tenantEnv(server, tenant, nodes);
  return [`# ${tenant.key} on ${server.name} (stack ${stack}); read by lr-dataplane, rendered, do not edit.`, ...envFields(tenant.sdn !== undefined).map(([k]) => `${k}=${env[k]}`), ""].join("\n");
}

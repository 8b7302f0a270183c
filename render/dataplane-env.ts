/**
 * The per-tenant env file `lr-dataplane apply <key>` reads (`<confDir>/tenants/<key>.env`): everything the
 * tool needs about one tenant on one server, as `NAME=value` lines. The tool parses it field by field and
 * validates every value (it never sources it), so a damaged file fails closed. Pure: no `@pulumi/*` import.
 */
import type { Plan, ServerPlan, TenantPlan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { routingLayout, tenantRules } from "./routing";

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
] as const;

export type EnvField = (typeof ENV_FIELDS)[number][0];
export type EnvKind = (typeof ENV_FIELDS)[number][1];

const IPV4 = "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/** What a value of each kind must match (POSIX ERE, whole value); the tool's `check` and ENV_RE are built from these. */
export const KIND_RE: Readonly<Record<EnvKind, string>> = {
  name: "[a-z][a-z0-9-]{0,31}",
  ifname: "[a-zA-Z0-9][a-zA-Z0-9._-]{0,14}",
  int: "[0-9]{1,10}",
  ip: IPV4,
  cidr: `${IPV4}/([0-9]|[12][0-9]|3[0-2])`,
};

const groups = (re: string) => re.split("(").length - 1;

/**
 * One ERE matching an env file exactly as renderTenantEnv writes it (comment lines, then every field once, in
 * order), with `\n` standing for a newline, and the BASH_REMATCH index of each field's value. The tool checks a
 * file with this single match (a few µs, where checking field by field costs ~0.5 ms); any other shape is
 * checked field by field, so both accept exactly the same values.
 */
export function envFileRegex(): { regex: string; index: Record<EnvField, number> } {
  let regex = "^(#[^\\n]*\\n)*";
  let next = 2;
  const index = {} as Record<EnvField, number>;
  for (const [field, kind] of ENV_FIELDS) {
    regex += `${field}=(${KIND_RE[kind]})\\n`;
    index[field] = next;
    next += 1 + groups(KIND_RE[kind]);
  }
  return { regex: `${regex}$`, index };
}

/** The values of `tenant`'s env file on `server` (instance 1 = the server's UDP instance, 2 = TCP). */
export function tenantEnv(plan: Plan, server: ServerPlan, tenant: TenantPlan): Record<EnvField, string> {
  const rules = tenantRules(routingLayout(plan, server), tenant);
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
  };
}

/** The env file text. */
export function renderTenantEnv(plan: Plan, server: ServerPlan, tenant: TenantPlan): string {
  const env = tenantEnv(plan, server, tenant);
  return [`# ${tenant.key} on ${server.name} (stack ${plan.stack}); read by lr-dataplane, rendered, do not edit.`, ...ENV_FIELDS.map(([k]) => `${k}=${env[k]}`), ""].join("\n");
}

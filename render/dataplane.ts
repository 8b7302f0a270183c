/**
 * `lr-dataplane`, the one root tool on a VPN server that owns the data plane: sysctls, the policy-routing
 * tree (routing.ts), the tenant links and tables, the iptables chains LR-IN, LR-FWD, LR-DNAT, LR-NAT and, in
 * `fixed` tenant-network mode, the nftables table `lr_lan` (lan-zones.ts: a conntrack zone per tenant, link
 * isolation). The mode is rendered in: one tool per server. OpenVPN runs as nobody and never calls it; the tenant
 * commands and the boot unit do. Pure: no `@pulumi/*`.
 */
import { isCidr, isIpv4 } from "../lib/ipv4";
import type { Plan, ServerPlan } from "../plan/types";
import { enrolPeers } from "../plan/enrolment";
import { ENV_FIELDS, KIND_RE } from "./dataplane-env";
import { LAN_TABLE, renderLanZoneTable } from "./lan-zones";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { scriptFile } from "./script-file";
import { PREF, ipRuleArgs, ipRuleShowLine, skeletonRules } from "./routing";

/** Interface group of every tenant link: the firewall matches the group, so it needs no rule per tenant. */
export const TENANT_LINK_GROUP = 0x4c52;
/** The boot unit (re-applies everything before OpenVPN starts). */
export const DATAPLANE_UNIT = "librerouter-dataplane.service";
/** Absolute paths: the tool also runs from places with no PATH. */
export const BIN = {
  ip: "/usr/sbin/ip",
  iptables: "/usr/sbin/iptables",
  iptablesRestore: "/usr/sbin/iptables-restore",
  iptablesSave: "/usr/sbin/iptables-save",
  sysctl: "/usr/sbin/sysctl",
  flock: "/usr/bin/flock",
  grep: "/usr/bin/grep",
  awk: "/usr/bin/awk",
  nft: "/usr/sbin/nft",
  socat: "/usr/bin/socat",
  timeout: "/usr/bin/timeout",
  systemctl: "/usr/bin/systemctl",
} as const;
/** Named routing tables (`ip netns exec` bind-mounts /etc/netns/<ns>/iproute2 over /etc/iproute2). */
export const RT_TABLES_FILE = "/etc/iproute2/rt_tables.d/librerouter.conf";

/**
 * The static part of the tool (render/scripts/lr-dataplane.sh): env parsing, the skeleton diff, the tenants' ip
 * batch, the firewall and names file, the `lr_lan` table, the subcommands. Cost model (what keeps apply-all linear
 * and apply/delete near-constant): every env file is read once, with no fork, all of them checked by one grep, then
 * split by the one parser (load_env) without a regex; ip, iptables and nft changes go out as one batch / one
 * restore / one `nft -f`, with one address listing; bash string appends, `$(…)` and regex matches in a loop are
 * avoided; large outputs are split in memory or handed to awk. A single tenant's apply/delete reads only its own
 * rules, addresses and routes, edits only its own DNAT rules, names-file line and `lr_lan` elements, and takes a lock.
 */
const TOOL_BODY = scriptFile("lr-dataplane.sh");

/** `<confDir>/lr-dataplane`. */
export function dataplaneToolPath(layout: ServerLayout): string {
  return `${layout.confDir}/lr-dataplane`;
}

const SAFE_WORD = /^[A-Za-z0-9._:/@-]+$/;

/** Throws unless every value is a plain word (no shell or iptables syntax can hide in it). */
export function assertWords(what: string, values: readonly string[]): void {
  for (const v of values) if (!SAFE_WORD.test(v)) throw new Error(`${what}: ${JSON.stringify(v)} is not a plain word`);
}

/** `<confDir>/.lr-dataplane.lock`: held by every lr-dataplane command that changes something. */
export function dataplaneLockPath(layout: ServerLayout): string {
  return `${layout.confDir}/.lr-dataplane.lock`;
}

/** The env file's fields and kinds, LINE_RE (what load_env and each_env check a file against) and clear_env. */
function envParsing(): string {
  for (const re of Object.values(KIND_RE)) if (/['"$`]/.test(re)) throw new Error(`a kind regex holds a quote or $: ${re}`);
  const lineRe = ["#.*", ...ENV_FIELDS.map(([k, kind]) => `${k}=(${KIND_RE[kind]})`)].join("|");
  return `declare -A ENV_KIND=(${ENV_FIELDS.map(([k, kind]) => `[${k}]=${kind}`).join(" ")})
declare -A KIND_RE=(${Object.entries(KIND_RE).map(([kind, re]) => `[${kind}]='^(${re})$'`).join(" ")})
# Any valid env file line (grep -x checks thousands of files in one pass; bash would compile a regex per check).
LINE_RE='${lineRe}'
# T_VMID is read by the console gateway (render/scripts/lr-console-web.py), not by this tool.
# shellcheck disable=SC2034
clear_env() { ${ENV_FIELDS.map(([k]) => `${k.replace(/^LR_/, "T_")}=''`).join(" ")}; }`;
}

/** Lines as one single-quoted bash word (they never hold a quote: rules and iptables lines only). */
function singleQuoted(lines: readonly string[]): string {
  const text = lines.join("\n");
  if (text.includes("'")) throw new Error("a rendered rule holds a single quote");
  return `'${text}'`;
}

/** The iptables-restore text of the static filter chains (LR-IN, LR-FWD); LR-DNAT is built from the env files. */
export function filterRules(plan: Plan, server: ServerPlan, layout: ServerLayout): string[] {
  const g = `0x${TENANT_LINK_GROUP.toString(16)}`;
  const devs = server.instances.map((i) => i.dev);
  const host = `${plan.host.mgmtIp}/32`;
  const pub = layout.ifaces.public;
  return [
    "*filter",
    ":LR-IN - [0:0]",
    ":LR-FWD - [0:0]",
    // Echo on the public side, rate-limited before the conntrack accept: a ping run is one ESTABLISHED flow (its id
    // is the conntrack key), so a limit after it would count only its first request.
    `-A LR-IN -i ${pub} -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -j ACCEPT`,
    `-A LR-IN -i ${pub} -p icmp -m icmp --icmp-type 8 -j DROP`,
    "-A LR-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    // The enrolment responder (render/enrol-peer.ts): from the peer VPN server's management address only.
    ...enrolRules(plan, server, layout),
    // Tenants may ping their own gateway (the tunnel) and the server's address on their own link, no other of the
    // server's addresses (another slot's LAN address, mgmt, public): nobody maps which slots are occupied.
    ...server.instances.map((i) => `-A LR-IN -d ${i.gateway}/32 -i ${i.dev} -p icmp -m icmp --icmp-type 8 -j ACCEPT`),
    `-A LR-IN -p icmp -m devgroup --src-group ${g} -m addrtype --dst-type LOCAL --limit-iface-in -m icmp --icmp-type 8 -j ACCEPT`,
    // The browser console page (render/console-web.ts): each instance's own gateway, from that instance's tunnel pool;
    // the gateway itself tells tenants apart by their tunnel address and refuses any other.
    ...server.instances.map((i) => `-A LR-IN -s ${i.cidr} -d ${i.gateway}/32 -i ${i.dev} -p tcp -m tcp --dport ${plan.consoles.webPort} -j ACCEPT`),
    // From anywhere else (the management network routing to a gateway address, a spoofed source): never.
    ...server.instances.map((i) => `-A LR-IN -d ${i.gateway}/32 -p tcp -m tcp --dport ${plan.consoles.webPort} -j DROP`),
    ...devs.map((d) => `-A LR-IN -i ${d} -j DROP`),
    `-A LR-IN -m devgroup --src-group ${g} -j DROP`,
    // The public side: only the OpenVPN instances' ports; sshd and anything else that listens stays closed (Pulumi
    // reaches the server on its mgmt address). Replies and ICMP errors (PMTU) are RELATED above.
    ...server.instances.map((i) => `-A LR-IN -d ${server.publicIp}/32 -i ${pub} -p ${i.proto} -m ${i.proto} --dport ${i.port} -j ACCEPT`),
    `-A LR-IN -i ${pub} -j DROP`,
    "-A LR-FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    // Routing picks WHICH tenant link (each tunnel IP's rule names one table holding one link).
    ...devs.map((d) => `-A LR-FWD -i ${d} -m devgroup --dst-group ${g} -j ACCEPT`),
    // The host only through the console DNAT (a rule to the mgmt IP would let one tenant reach all consoles): no tenant opens another tenant's console port directly.
    ...devs.map((d) => `-A LR-FWD -d ${host} -i ${d} -o ${layout.ifaces.mgmt} -p tcp -m conntrack --ctstate DNAT -j ACCEPT`),
    // Whatever else touches a tunnel or a tenant link is dropped here, even if a later FORWARD rule would accept it.
    ...devs.map((d) => `-A LR-FWD -i ${d} -j DROP`),
    ...devs.map((d) => `-A LR-FWD -o ${d} -j DROP`),
    `-A LR-FWD -m devgroup --src-group ${g} -j DROP`,
    `-A LR-FWD -m devgroup --dst-group ${g} -j DROP`,
    "COMMIT",
  ];
}

/** LR-IN lines for the enrolment port: the peer's management address on the management link, nobody else. */
function enrolRules(plan: Plan, server: ServerPlan, layout: ServerLayout): string[] {
  const e = enrolPeers(plan, server);
  const tcp = `-p tcp -m tcp --dport ${e.port}`;
  return [`-A LR-IN -s ${e.peerIp}/32 -d ${e.selfIp}/32 -i ${layout.ifaces.mgmt} ${tcp} -j ACCEPT`, `-A LR-IN ${tcp} -j DROP`];
}

/** LR-NAT: tunnel traffic leaves a tenant link or the management link from the server's own address. */
export function natRules(plan: Plan, layout: ServerLayout): string[] {
  const g = `0x${TENANT_LINK_GROUP.toString(16)}`;
  const sup = plan.tunnelSupernet;
  return [`-A LR-NAT -s ${sup} -m devgroup --dst-group ${g} -j MASQUERADE`, `-A LR-NAT -s ${sup} -o ${layout.ifaces.mgmt} -j MASQUERADE`];
}

/**
 * What the tenant-network mode changes in the tool. `fixed`: the same LAN on every tenant link, so its address has
 * no prefix route (the LAN lives only in the tenant's table), rp_filter on the links is loose (strict cannot tell
 * identical links apart; `lr_lan`'s isolate chain does) and `lr_lan` is loaded. `distinct`: strict, no `lr_lan`.
 */
function modeLines(plan: Plan, server: ServerPlan): string {
  const fixed = plan.tenantNetwork.mode === "fixed";
  const table = fixed ? singleQuoted(renderLanZoneTable(plan.tenantNetwork.lan, server.instances).trimEnd().split("\n")) : "''";
  return `LAN_MODE=${plan.tenantNetwork.mode}
LINK_RP=${fixed ? 2 : 1}
ADDR_FLAGS=${fixed ? "' noprefixroute'" : "''"}
NFT=${BIN.nft}
LAN_TABLE=${LAN_TABLE}
# fixed mode: the lr_lan table (render/lan-zones.ts), without elements; empty in distinct mode.
LAN_TABLE_TEXT=${table}`;
}

/** The tool's first comment lines, up to `apply <key>`: what it owns in this mode. */
function toolHeader(plan: Plan, server: ServerPlan, layout: ServerLayout): string {
  const { mode, lan } = plan.tenantNetwork;
  const fixed = mode === "fixed";
  return [
    `# lr-dataplane for ${server.name} (stack ${plan.stack}, tenant network ${mode}): tenant links, policy routing, firewall${fixed ? "," : "."}`,
    ...(fixed ? [`# conntrack zones (the same LAN ${lan} behind every tenant link: nft table ${LAN_TABLE}).`] : []),
    "# Rendered by librerouter-hosting, do not edit. Idempotent: every subcommand may run any number of times.",
    `#   base          the trunk up, sysctls, the routing skeleton, the firewall chains, ${fixed ? `${LAN_TABLE} with every tenant's elements` : `no ${LAN_TABLE} table`}`,
    `#   apply <key>   the tenant's link, address (no other), table, rules${fixed ? ` and ${LAN_TABLE} elements` : ""} from ${layout.confDir}/tenants/<key>.env`,
  ].join("\n");
}

/** `lr-dataplane` for `server`: subcommands base, apply <key>, delete <key>, kill <key>, apply-all, status. */
export function renderDataplaneTool(plan: Plan, server: ServerPlan, layout: ServerLayout): string {
  const routing = server.routing;
  const [i1, i2] = server.instances;
  const socks = openvpnFilePaths(layout).managementSockets;
  const words = [layout.confDir, layout.ifaces.trunk, layout.ifaces.mgmt, i1.dev, i2.dev, socks[i1.proto], socks[i2.proto]];
  assertWords(`server ${server.name} layout`, words);
  if (!isIpv4(plan.host.mgmtIp) || !isCidr(routing.supernet)) throw new Error("host mgmt IP / tunnel supernet are not IPv4");
  const skeleton = skeletonRules(routing).map((r) => `${r.pref}|${ipRuleArgs(r).replace(/^pref \d+ /, "")}|${ipRuleShowLine(r).split(":\t")[1]}`);
  return `#!/bin/bash
${toolHeader(plan, server, layout)}
#   delete <key>  removes exactly what apply added, kills the tenant's live sessions, removes the env file
#   kill <key>    kills the tenant's live sessions only (its certificate was re-issued)
#   apply-all     base + every tenant (the boot unit ${DATAPLANE_UNIT})
#   status        what is missing (exit 1 if anything is)
# shellcheck disable=SC2310 # predicates like \`check … || die\` are meant to run with set -e off
set -euo pipefail
export LC_ALL=C
umask 022

IP=${BIN.ip}
IPT=${BIN.iptables}
IPT_RESTORE=${BIN.iptablesRestore}
IPT_SAVE=${BIN.iptablesSave}
SYSCTL=${BIN.sysctl}
SOCAT=${BIN.socat}
TIMEOUT=${BIN.timeout}
SYSTEMCTL=${BIN.systemctl}
SERVER=${server.name}
TENANTS_DIR=${layout.confDir}/tenants
RT_TABLES=\${LR_RT_TABLES:-${RT_TABLES_FILE}}
TRUNK=${layout.ifaces.trunk}
HOST_MGMT=${plan.host.mgmtIp}
LINK_GROUP=${TENANT_LINK_GROUP}
DEV1=${i1.dev}
GW1=${i1.gateway}
SOCK1=${socks[i1.proto]}
UNIT1=openvpn-server@${i1.proto}.service
DEV2=${i2.dev}
GW2=${i2.gateway}
SOCK2=${socks[i2.proto]}
UNIT2=openvpn-server@${i2.proto}.service
PREF_MIN=${PREF.notFrom}
FLOCK=${BIN.flock}
GREP=${BIN.grep}
AWK=${BIN.awk}
LOCK=${dataplaneLockPath(layout)}
PREF_END=${PREF.end}
RT_HEADER="# librerouter tenant routing tables (lr-dataplane $SERVER); rendered, do not edit."
NL=$'\\n'
V6=/proc/sys/net/ipv6/conf
${modeLines(plan, server)}
${envParsing()}

# The routing skeleton (${skeleton.length} rules; pool offsets 0–${routing.limit} of ${server.instances.map((i) => i.cidr).join(" and ")}),
# in install order: END first, leaves before the rules that jump to them. "<pref>|<ip rule add args>|<ip -N rule show>".
SKELETON=${singleQuoted(skeleton)}

FILTER_RULES=${singleQuoted(filterRules(plan, server, layout))}

NAT_RULES=${singleQuoted(natRules(plan, layout))}

${TOOL_BODY}`;
}

/** The systemd unit that re-applies the data plane at boot, before either OpenVPN instance starts. */
export function renderDataplaneUnit(server: ServerPlan, layout: ServerLayout): string {
  const units = server.instances.map((i) => `openvpn-server@${i.proto}.service`).join(" ");
  return `# Rendered by librerouter-hosting, do not edit.
[Unit]
Description=LibreRouter data plane (tenant links, policy routing, firewall)
Wants=network-online.target
After=network-online.target
Before=${units}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${dataplaneToolPath(layout)} apply-all

[Install]
WantedBy=multi-user.target
RequiredBy=${units}
`;
}

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
import { floodLogRule, probeLogRule } from "./bans/kernel-log";
import { KIND_RE, envFields } from "./dataplane-env";
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
/** Under `plan.sdn`: the VXLAN functions (render/scripts/lr-dataplane-vxlan.sh), put in before the subcommands run. */
const VXLAN_PART = scriptFile("lr-dataplane-vxlan.sh");
/** Where VXLAN_PART goes: the body's last part, which declares the globals and runs the subcommand. */
const DISPATCH = "\ndeclare -A RULE_BODY=()";

/**
 * What the VLAN body does differently under `plan.sdn`, as exact lines of lr-dataplane.sh replaced (a stack without
 * SDN renders the body untouched, byte for byte). Each must be found as often as given: an edit of the body that
 * moves one fails every render under SDN, not silently.
 */
const VXLAN_EDITS: readonly { readonly what: string; readonly from: string; readonly to: string; readonly times: number }[] = [
  {
    what: "the tenant link is a vxlan device on the underlay, with its flood entries",
    from: '  [[ -d /proc/sys/net/ipv4/conf/$T_LINK ]] || B+=("link add link $TRUNK name $T_LINK type vlan id $T_VLAN")\n  B+=("link set dev $T_LINK group $LINK_GROUP up")\n',
    to:
      "  link_mtu\n  fdb_lines\n" +
      '  [[ -d /proc/sys/net/ipv4/conf/$T_LINK ]] || B+=("link add $T_LINK mtu $VXLAN_MTU type vxlan id $T_VNI local $VXLAN_LOCAL dstport $VXLAN_PORT")\n' +
      '  B+=("link set dev $T_LINK group $LINK_GROUP$LINK_MTU up")\n',
    times: 1,
  },
  { what: "the flood entries go out after the ip batch made the links", from: '  "$IP" -batch - <<<"$text"\n}\n', to: '  "$IP" -batch - <<<"$text"\n  run_fdb\n}\n', times: 1 },
  { what: "apply reads its own link's type and FDB", from: '  read_addrs "$T_LINK" "$T_TABLE"\n', to: '  read_addrs "$T_LINK" "$T_TABLE"\n  read_vxlan "$T_LINK"\n', times: 1 },
  { what: "apply-all reads every link's type and FDB", from: "  if [[ $LOAD_TENANTS == tenants ]]; then read_addrs; fi\n", to: "  if [[ $LOAD_TENANTS == tenants ]]; then read_addrs; read_vxlan; fi\n", times: 1 },
  { what: "the console DNAT goes to the tenant's node", from: '--to-destination $HOST_MGMT:$T_VNC_PORT"', to: '--to-destination $T_CONSOLE_HOST:$T_VNC_PORT"', times: 2 },
  { what: "delete removes a vxlan link (its FDB entries go with it)", from: '      if [[ $out == *" vlan protocol "* ]]; then\n', to: '      if [[ $out == *" vxlan id "* ]]; then\n', times: 1 },
  {
    what: "no trunk: base checks the underlay instead",
    from:
      "# trunk_up: the trunk carries every tenant VLAN (named by MAC: the setup script now, udev at boot); up before anything uses it.\n" +
      'trunk_up() {\n  "$IP" link set dev "$TRUNK" up 2>/dev/null || die "no trunk interface $TRUNK: the setup script names it by MAC (re-run it)"\n}\n',
    to: "# trunk_up: no trunk under SDN; the underlay (the management NIC) up with this VTEP's address instead.\ntrunk_up() {\n  underlay_up\n}\n",
    times: 1,
  },
  { what: "no trunk to keep IPv6 off", from: '  for name in "$TRUNK" "$DEV1" "$DEV2"; do\n', to: '  for name in "$DEV1" "$DEV2"; do\n', times: 1 },
  { what: "status reads every link's FDB", from: "  dnat_list || DNAT_NOW=''\n", to: "  read_vxlan\n  dnat_list || DNAT_NOW=''\n", times: 1 },
  { what: "status checks the flood entries", from: "  if [[ $LAN_MODE == fixed ]]; then lan_status; fi\n", to: "  vxlan_status\n  if [[ $LAN_MODE == fixed ]]; then lan_status; fi\n", times: 1 },
];

/** The body under `plan.sdn`: VXLAN_EDITS applied, VXLAN_PART before the subcommands. */
function vxlanBody(): string {
  let body = TOOL_BODY;
  for (const e of VXLAN_EDITS) {
    const n = body.split(e.from).length - 1;
    if (n !== e.times) throw new Error(`render/scripts/lr-dataplane.sh changed: ${e.what} (render/dataplane.ts VXLAN_EDITS) expects its line ${e.times} time(s), found ${n}`);
    body = body.split(e.from).join(e.to);
  }
  const at = body.indexOf(DISPATCH);
  if (at < 0 || body.indexOf(DISPATCH, at + 1) >= 0) throw new Error("render/scripts/lr-dataplane.sh changed: its globals line (render/dataplane.ts DISPATCH) is not there once");
  return `${body.slice(0, at)}\n${VXLAN_PART.trimEnd()}\n${body.slice(at)}`;
}

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
function envParsing(sdn: boolean): string {
  const fields = envFields(sdn);
  for (const re of Object.values(KIND_RE)) if (/['"$`]/.test(re)) throw new Error(`a kind regex holds a quote or $: ${re}`);
  const lineRe = ["#.*", ...fields.map(([k, kind]) => `${k}=(${KIND_RE[kind]})`)].join("|");
  return `declare -A ENV_KIND=(${fields.map(([k, kind]) => `[${k}]=${kind}`).join(" ")})
declare -A KIND_RE=(${Object.entries(KIND_RE).map(([kind, re]) => `[${kind}]='^(${re})$'`).join(" ")})
# Any valid env file line (grep -x checks thousands of files in one pass; bash would compile a regex per check).
LINE_RE='${lineRe}'
# T_VMID is read by the console gateway (render/scripts/lr-console-web.py), not by this tool.
# shellcheck disable=SC2034
clear_env() { ${fields.map(([k]) => `${k.replace(/^LR_/, "T_")}=''`).join(" ")}; }`;
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
  // The console DNAT's targets: the host, or under SDN every node (a tenant's console is on its own node).
  const hosts = plan.sdn ? [...new Set(plan.nodes.map((n) => n.mgmtIp))] : [plan.host.mgmtIp];
  const pub = layout.ifaces.public;
  return [
    "*filter",
    ":LR-IN - [0:0]",
    ":LR-FWD - [0:0]",
    // Echo on the public side, rate-limited before the conntrack accept: a ping run is one ESTABLISHED flow (its id
    // is the conntrack key), so a limit after it would count only its first request.
    `-A LR-IN -i ${pub} -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -j ACCEPT`,
    `-A LR-IN -i ${pub} -p icmp -m icmp --icmp-type 8 -j DROP`,
    ...vxlanRules(plan, server, layout),
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
    // reaches the server on its mgmt address). Replies and ICMP errors (PMTU) are RELATED above. The ban grid reads
    // two rate-limited kernel log lines (render/bans/kernel-log.ts), neither of which accepts or drops: a UDP flood
    // before its port's accept, and a probe of a closed port before the drop.
    ...server.instances.flatMap((i) => [
      ...(i.proto === "udp" ? [floodLogRule("LR-IN", server.publicIp, pub, i.port)] : []),
      `-A LR-IN -d ${server.publicIp}/32 -i ${pub} -p ${i.proto} -m ${i.proto} --dport ${i.port} -j ACCEPT`,
    ]),
    probeLogRule("LR-IN", server.publicIp, pub),
    `-A LR-IN -i ${pub} -j DROP`,
    "-A LR-FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    // Routing picks WHICH tenant link (each tunnel IP's rule names one table holding one link).
    ...devs.map((d) => `-A LR-FWD -i ${d} -m devgroup --dst-group ${g} -j ACCEPT`),
    // The host only through the console DNAT (a rule to the mgmt IP would let one tenant reach all consoles): no tenant opens another tenant's console port directly.
    ...devs.flatMap((d) => hosts.map((h) => `-A LR-FWD -d ${h}/32 -i ${d} -o ${layout.ifaces.mgmt} -p tcp -m conntrack --ctstate DNAT -j ACCEPT`)),
    // Whatever else touches a tunnel or a tenant link is dropped here, even if a later FORWARD rule would accept it.
    ...devs.map((d) => `-A LR-FWD -i ${d} -j DROP`),
    ...devs.map((d) => `-A LR-FWD -o ${d} -j DROP`),
    `-A LR-FWD -m devgroup --src-group ${g} -j DROP`,
    `-A LR-FWD -m devgroup --dst-group ${g} -j DROP`,
    "COMMIT",
  ];
}

/** The other VTEPs of the zone (plan.sdn.peers without this server's own address). */
export function vxlanPeers(plan: Plan, server: ServerPlan): string[] {
  const sdn = plan.sdn;
  if (!sdn) return [];
  if (!sdn.peers.includes(server.mgmtIp)) throw new Error(`sdn.peers ${sdn.peers.join(", ")} lack ${server.name}'s management address ${server.mgmtIp} (network.management.vpnIps): it is a VTEP of the zone`);
  const peers = [...new Set(sdn.peers.filter((p) => p !== server.mgmtIp))];
  if (!peers.every(isIpv4)) throw new Error(`sdn.peers: not IPv4 addresses: ${peers.join(", ")}`);
  return peers;
}

/**
 * LR-IN lines under SDN, before the conntrack accept: VXLAN (UDP sdn.port) only from the zone's other VTEPs to this
 * server's address on the management link; any other VXLAN is dropped (it would put frames on a tenant's link).
 */
function vxlanRules(plan: Plan, server: ServerPlan, layout: ServerLayout): string[] {
  if (!plan.sdn) return [];
  const udp = `-p udp -m udp --dport ${plan.sdn.port}`;
  return [...vxlanPeers(plan, server).map((p) => `-A LR-IN -s ${p}/32 -d ${server.mgmtIp}/32 -i ${layout.ifaces.mgmt} ${udp} -j ACCEPT`), `-A LR-IN ${udp} -j DROP`];
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

/** Under SDN, the VXLAN settings (render/scripts/lr-dataplane-vxlan.sh): the underlay NIC, this VTEP, the others. */
function vxlanLines(plan: Plan, server: ServerPlan, layout: ServerLayout): string {
  if (!plan.sdn) return "";
  if (!isIpv4(server.mgmtIp)) throw new Error(`${server.name}: management address ${server.mgmtIp} is not IPv4`);
  return `
# VXLAN (sdn): tenant links are vxlan devices over ${layout.ifaces.mgmt}; this server is a VTEP of zone ${plan.sdn.zone}.
BRIDGE=/usr/sbin/bridge
MGMT=${layout.ifaces.mgmt}
VXLAN_LOCAL=${server.mgmtIp}
VXLAN_PORT=${plan.sdn.port}
VXLAN_MTU=${plan.sdn.mtu}
VXLAN_PEERS=(${vxlanPeers(plan, server).join(" ")})`;
}

/** The tool's first comment lines, up to `apply <key>`: what it owns in this mode. */
function toolHeader(plan: Plan, server: ServerPlan, layout: ServerLayout): string {
  const { mode, lan } = plan.tenantNetwork;
  const fixed = mode === "fixed";
  return [
    `# lr-dataplane for ${server.name} (stack ${plan.stack}, tenant network ${mode}): tenant links, policy routing, firewall${fixed ? "," : "."}`,
    ...(fixed ? [`# conntrack zones (the same LAN ${lan} behind every tenant link: nft table ${LAN_TABLE}).`] : []),
    "# Rendered by librerouter-hosting, do not edit. Idempotent: every subcommand may run any number of times.",
    `#   base          ${plan.sdn ? `the underlay ${layout.ifaces.mgmt} checked` : "the trunk up"}, sysctls, the routing skeleton, the firewall chains, ${fixed ? `${LAN_TABLE} with every tenant's elements` : `no ${LAN_TABLE} table`}`,
    `#   apply <key>   the tenant's ${plan.sdn ? "vxlan link and flood entries" : "link"}, address (no other), table, rules${fixed ? ` and ${LAN_TABLE} elements` : ""} from ${layout.confDir}/tenants/<key>.env`,
  ].join("\n");
}

/**
 * The server's routing layout, with the skeleton's `to … lookup main` rule (the DNATed consoles leave by `main`, not
 * by the tenant's table) widened under SDN from the host to the management network: a tenant's console is on its
 * own node. LR-FWD still lets only DNATed connections through to the nodes' addresses.
 */
function consoleRouting(plan: Plan, server: ServerPlan): ServerPlan["routing"] {
  if (!plan.sdn) return server.routing;
  if (!isCidr(plan.mgmt.cidr)) throw new Error(`network.management.cidr ${plan.mgmt.cidr} is not an IPv4 CIDR`);
  return { ...server.routing, hostMgmtIp: plan.mgmt.cidr };
}

/** `lr-dataplane` for `server`: subcommands base, apply <key>, delete <key>, kill <key>, apply-all, status. */
export function renderDataplaneTool(plan: Plan, server: ServerPlan, layout: ServerLayout): string {
  const routing = consoleRouting(plan, server);
  const [i1, i2] = server.instances;
  const socks = openvpnFilePaths(layout).managementSockets;
  const words = [layout.confDir, ...(plan.sdn ? [] : [layout.ifaces.trunk]), layout.ifaces.mgmt, i1.dev, i2.dev, socks[i1.proto], socks[i2.proto]];
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
${plan.sdn ? "" : `TRUNK=${layout.ifaces.trunk}\nHOST_MGMT=${plan.host.mgmtIp}\n`}LINK_GROUP=${TENANT_LINK_GROUP}
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
${modeLines(plan, server)}${vxlanLines(plan, server, layout)}
${envParsing(plan.sdn !== undefined)}

# The routing skeleton (${skeleton.length} rules; pool offsets 0–${routing.limit} of ${server.instances.map((i) => i.cidr).join(" and ")}),
# in install order: END first, leaves before the rules that jump to them. "<pref>|<ip rule add args>|<ip -N rule show>".
SKELETON=${singleQuoted(skeleton)}

FILTER_RULES=${singleQuoted(filterRules(plan, server, layout))}

NAT_RULES=${singleQuoted(natRules(plan, layout))}

${plan.sdn ? vxlanBody() : TOOL_BODY}`;
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

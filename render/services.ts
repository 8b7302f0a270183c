/**
 * The common-services VM's apply/delete scripts: BIND as the tenants' resolver and as the authoritative server
 * of the reverse zones of the public pools (zone text from render/reverse-dns.ts). Pure text, no `@pulumi/*`;
 * rendered here so the lab and tests can run it like every other script.
 */
import type { Plan } from "../plan/types";
import { LR_WRITE_FN, scriptHead, shq, writeFile } from "./shell";
import { SERVICES_PACKAGES, ensurePackages } from "./guest-packages";
import { reverseZones } from "./reverse-dns";

export const BIND_DIR = "/etc/bind";
export const ZONE_DIR = `${BIND_DIR}/librerouter`;
export const ZONES_CONF = `${BIND_DIR}/named.conf.librerouter`;
export const OPTIONS_CONF = `${BIND_DIR}/named.conf.options`;
/** Debian's own options file, kept on first apply and put back by delete. */
export const OPTIONS_ORIG = `${OPTIONS_CONF}.debian`;
const INCLUDE = `include "${ZONES_CONF}";`;

/** named.conf.options: recursion only for the pools, the management network and localhost; zones answer anyone. */
export function renderBindOptions(plan: Plan): string {
  const clients = ["127.0.0.0/8", plan.mgmt.cidr, ...plan.publicPools.map((p) => p.cidr)];
  return [
    `// Rendered by librerouter-hosting (stack ${plan.stack}), do not edit.`,
    `acl librerouter_clients { ${clients.map((c) => `${c};`).join(" ")} };`,
    "options {",
    '\tdirectory "/var/cache/bind";',
    "\trecursion yes;",
    "\tallow-recursion { librerouter_clients; };",
    "\tallow-query-cache { librerouter_clients; };",
    "\tallow-query { any; };",
    "\tallow-transfer { none; };",
    "\tdnssec-validation auto;",
    // BIND's default is 90 % of RAM: the ban grid shares this VM (sizing's servicesBaseMb counts 192 MiB of cache).
    "\tmax-cache-size 192m;",
    "\tlisten-on { any; };",
    "\tlisten-on-v6 { none; };",
    "};",
    "",
  ].join("\n");
}

/** The services VM's public interface (net0: Proxmox's cloud-init names it eth0 by its MAC). */
export const SERVICES_PUBLIC_IF = "eth0";
/** The chain the public side's INPUT jumps to, its loader (also the boot unit's ExecStart) and that unit. */
export const SERVICES_CHAIN = "LR-PUB";
export const SERVICES_FIREWALL = "/etc/librerouter/services-firewall";
export const SERVICES_FIREWALL_UNIT = "librerouter-services-firewall.service";
const JUMP = `-i ${SERVICES_PUBLIC_IF} -j ${SERVICES_CHAIN}`;

/**
 * The public side's INPUT policy: DNS (53 udp/tcp) on the VM's public address, replies to its own queries, a
 * rate-limited echo, the ban grid's report gateway from the public pools, and in fixed tenant-network mode the tenant
 * routers' DHCP (render/dhcp.ts); every other new
 * connection from the internet or a tenant VM is dropped (SSH is on mgmt).
 */
export function servicesFirewallRules(plan: Plan): string[] {
  const d = `-d ${plan.services.publicIp}/32`;
  const report = plan.bans.report;
  return [
    "*filter",
    `:${SERVICES_CHAIN} - [0:0]`,
    // Before the conntrack accept: a ping run is one ESTABLISHED flow, a limit after it would count its first request only.
    `-A ${SERVICES_CHAIN} -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -j ACCEPT`,
    `-A ${SERVICES_CHAIN} -p icmp -m icmp --icmp-type 8 -j DROP`,
    `-A ${SERVICES_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${SERVICES_CHAIN} ${d} -p udp -m udp --dport 53 -j ACCEPT`,
    `-A ${SERVICES_CHAIN} ${d} -p tcp -m tcp --dport 53 -j ACCEPT`,
    // A DHCP client's requests: from port 68 (RFC 2131 4.1), to the broadcast address while it has none, to ours
    // when it renews, so no destination match. dnsmasq answers only reserved MACs.
    ...(plan.tenantNetwork.mode === "fixed" ? [`-A ${SERVICES_CHAIN} -p udp -m udp --sport 68 --dport 67 -j ACCEPT`] : []),
    // The ban grid's report gateway: the public pools only (every tenant address is in one; the gateway itself
    // checks each report's token against the tenant's own address).
    ...(report ? plan.publicPools.map((p) => `-A ${SERVICES_CHAIN} -s ${p.cidr} ${d} -p tcp -m tcp --dport ${report.listen.port} -j ACCEPT`) : []),
    `-A ${SERVICES_CHAIN} -j DROP`,
    "COMMIT",
  ];
}

/** The loader: the chain in one iptables-restore (it flushes only LR-PUB), then the jump first in INPUT, once. */
export function servicesFirewallScript(plan: Plan): string {
  return `#!/bin/bash
# Public-side INPUT policy of the common services (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.
set -euo pipefail
/usr/sbin/iptables-restore --noflush <<'LR_RULES'
${servicesFirewallRules(plan).join("\n")}
LR_RULES
/usr/sbin/iptables -C INPUT ${JUMP} 2>/dev/null || /usr/sbin/iptables -I INPUT 1 ${JUMP}
`;
}

/** Loads the policy at boot before the network comes up, so the public side is never open. */
function servicesFirewallUnit(plan: Plan): string {
  return `# Rendered by librerouter-hosting, do not edit.
[Unit]
Description=LibreRouter services: public-side INPUT policy (${plan.tenantNetwork.mode === "fixed" ? "DNS, tenant DHCP" : "DNS only"})
DefaultDependencies=no
After=local-fs.target
Before=network-pre.target named.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SERVICES_FIREWALL}

[Install]
WantedBy=multi-user.target
`;
}

/** Apply and delete scripts for the services VM; both idempotent. */
export function servicesScripts(plan: Plan): { apply: string; delete: string } {
  const zones = reverseZones(plan);
  const zoneConf = [
    `// Reverse zones of the public pools (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.`,
    ...zones.map((z) => `zone "${z.name}" { type primary; file "${ZONE_DIR}/${z.fileName}"; };`),
    "",
  ].join("\n");
  const head = (what: string) => scriptHead(`${what} of the common services (stack ${plan.stack}): BIND resolver and reverse zones`);
  const apply = `${head("Setup")}${ensurePackages(SERVICES_PACKAGES)}
${LR_WRITE_FN}

if [[ ! -e ${shq(OPTIONS_ORIG)} ]]; then cp -p ${shq(OPTIONS_CONF)} ${shq(OPTIONS_ORIG)}; fi
${[...zones.map((z) => ({ path: `${ZONE_DIR}/${z.fileName}`, mode: "0644", content: z.content })), { path: ZONES_CONF, mode: "0644", content: zoneConf }, { path: OPTIONS_CONF, mode: "0644", content: renderBindOptions(plan) }]
  .map((f) => writeFile(f, "root:bind"))
  .join("\n")}
${writeFile({ path: SERVICES_FIREWALL, mode: "0755", content: servicesFirewallScript(plan) }, "root:root")}
${writeFile({ path: `/etc/systemd/system/${SERVICES_FIREWALL_UNIT}`, mode: "0644", content: servicesFirewallUnit(plan) }, "root:root")}
systemctl daemon-reload
systemctl enable ${SERVICES_FIREWALL_UNIT}
${shq(SERVICES_FIREWALL)}
if ! grep -qxF ${shq(INCLUDE)} ${shq(`${BIND_DIR}/named.conf.local`)}; then
  printf '%s\\n' ${shq(INCLUDE)} >>${shq(`${BIND_DIR}/named.conf.local`)}
fi
named-checkconf
${zones.map((z) => `named-checkzone -q ${shq(z.name)} ${shq(`${ZONE_DIR}/${z.fileName}`)}`).join("\n")}
systemctl enable named
systemctl reload-or-restart named
printf 'services: %s zones, %s files changed\\n' ${zones.length} "\${#CHANGED[@]}"
`;
  const del = `${head("Removal")}
if [[ -e ${shq(`${BIND_DIR}/named.conf.local`)} ]]; then
  grep -vxF ${shq(INCLUDE)} ${shq(`${BIND_DIR}/named.conf.local`)} >${shq(`${BIND_DIR}/named.conf.local.lrtmp`)} || true
  mv -f ${shq(`${BIND_DIR}/named.conf.local.lrtmp`)} ${shq(`${BIND_DIR}/named.conf.local`)}
fi
rm -rf ${shq(ZONE_DIR)} ${shq(ZONES_CONF)}
if command -v iptables >/dev/null 2>&1; then
  while iptables -D INPUT ${JUMP} 2>/dev/null; do :; done
  if iptables -F ${SERVICES_CHAIN} 2>/dev/null; then iptables -X ${SERVICES_CHAIN}; fi
fi
if [[ -e ${shq(`/etc/systemd/system/${SERVICES_FIREWALL_UNIT}`)} ]]; then systemctl disable ${SERVICES_FIREWALL_UNIT} >/dev/null 2>&1 || true; fi
rm -f ${shq(SERVICES_FIREWALL)} ${shq(`/etc/systemd/system/${SERVICES_FIREWALL_UNIT}`)}
if [[ -e ${shq(OPTIONS_ORIG)} ]]; then mv -f ${shq(OPTIONS_ORIG)} ${shq(OPTIONS_CONF)}; fi
if command -v named >/dev/null 2>&1; then systemctl reload-or-restart named; fi
printf 'services: reverse zones removed\\n'
`;
  return { apply, delete: del };
}

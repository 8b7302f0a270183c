/**
 * Public addresses without cloud-init: a reservation-only DHCP server on the common-services VM hands each
 * tenant VM's public MAC (plan/mac.ts) its public IP, the pool's gateway and the service's resolver. dnsmasq
 * (Debian `dnsmasq-base`: the binary without Debian's DNS service, which would fight BIND for port 53), run by
 * our own unit with `port=0` (DHCP only):
 * - `dhcp-range=<pool>,static` + `dhcp-ignore=tag:!known`: only a reserved MAC gets an answer, an unknown MAC
 *   gets nothing (no dynamic pool exists to hand out);
 * - one reservation file per tenant in `dhcp-hostsdir`, which dnsmasq re-reads by inotify: adding a tenant
 *   changes one file and restarts nothing (removing one sends SIGHUP, which keeps the leases);
 * - pools other than the services VM's own are served on the same bridge through `shared-network`;
 * - leases in a file under /var/lib that survives restarts (and the reservation gives the same address anyway).
 * Listening on the services VM's public address only: the management side never sees DHCP. Pure text.
 */
import { contains, intToIp, ipToInt, netmask, parseCidr } from "../lib/ipv4";
import type { Plan, TenantPlan } from "../plan/types";
import { LR_WRITE_FN, scriptHead, shq, writeFile } from "./shell";
import { ensurePackages } from "./guest-packages";

export interface DhcpLayout {
  /** dnsmasq's config file. */
  readonly conf: string;
  /** One reservation file per tenant (`<key>`), re-read by inotify. */
  readonly hostsDir: string;
  /** The lease database (kept across restarts). */
  readonly leaseFile: string;
  /** The unit's pid file. */
  readonly pidFile: string;
  readonly systemdDir: string;
}

export const PRODUCTION_DHCP_LAYOUT: DhcpLayout = {
  conf: "/etc/librerouter/dhcp/dnsmasq.conf",
  hostsDir: "/etc/librerouter/dhcp/hosts",
  leaseFile: "/var/lib/librerouter/dhcp.leases",
  pidFile: "/run/librerouter-dhcp.pid",
  systemdDir: "/etc/systemd/system",
};

export const DHCP_UNIT = "librerouter-dhcp.service";
export const DHCP_PACKAGES = ["dnsmasq-base"] as const;
/** Seconds a lease lasts: a changed reservation reaches the tenant's router within this. */
export const LEASE_SECONDS = 3600;

/** dnsmasq.conf: DHCP only, reservations only, on the services VM's public address. */
export function renderDhcpConfig(plan: Plan, layout: DhcpLayout): string {
  const own = plan.publicPools.find((p) => contains(parseCidr(p.cidr), ipToInt(plan.services.publicIp)));
  if (!own) throw new Error(`the services VM's public address ${plan.services.publicIp} is in no public pool`);
  const lines = [
    `# DHCP for the tenant VMs' public addresses (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.`,
    "# DHCP only: BIND answers DNS on this VM.",
    "port=0",
    `listen-address=${plan.services.publicIp}`,
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    "dhcp-authoritative",
    // Without a tag from a reservation, a request is ignored: no dynamic addresses exist.
    "dhcp-ignore=tag:!known",
    `dhcp-hostsdir=${layout.hostsDir}`,
    `dhcp-leasefile=${layout.leaseFile}`,
    "log-dhcp",
  ];
  plan.publicPools.forEach((p, i) => {
    const c = parseCidr(p.cidr);
    // The other pools share the bridge (and the services VM has no address in them).
    if (p !== own) lines.push(`shared-network=${plan.services.publicIp},${intToIp(c.base)}`);
    lines.push(`dhcp-range=set:pool${i},${intToIp(c.base)},static,${netmask(c.prefix)},${LEASE_SECONDS}`);
    lines.push(`dhcp-option=tag:pool${i},option:router,${p.gateway}`);
  });
  lines.push(`dhcp-option=option:dns-server,${plan.services.publicIp}`, "");
  return lines.join("\n");
}

/** A tenant's reservation line: `<mac>,<ip>,<hostname>,<lease>`; the key is its host name (DHCP option 12). */
export function renderReservation(t: TenantPlan): string {
  if (!/^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/.test(t.publicMac)) throw new Error(`tenant ${t.key}: not a MAC: ${JSON.stringify(t.publicMac)}`);
  return `${t.publicMac},${t.publicIp},${t.key},${LEASE_SECONDS}\n`;
}

export function renderDhcpUnit(plan: Plan, layout: DhcpLayout): string {
  return `# Rendered by librerouter-hosting (stack ${plan.stack}), do not edit.
[Unit]
Description=LibreRouter DHCP for the tenant VMs' public addresses (reservations only)
After=network-online.target
Wants=network-online.target

[Service]
Type=forking
PIDFile=${layout.pidFile}
ExecStartPre=/usr/sbin/dnsmasq --test --conf-file=${layout.conf}
ExecStart=/usr/sbin/dnsmasq --conf-file=${layout.conf} --pid-file=${layout.pidFile} --user=dnsmasq --group=nogroup
# SIGHUP re-reads the reservations (a removed file is forgotten only then) and keeps every lease.
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Apply / delete for the services VM. Apply writes the config, one reservation per tenant (stale ones removed),
 * the unit; it restarts dnsmasq only when the config or the unit changed. A new or changed reservation is picked
 * up by inotify; a removed one only by SIGHUP (dnsmasq(8), --dhcp-hostsdir), so a removal reloads.
 * Env `LR_SERVICES=systemd|none` (`none` = tests: files only).
 */
export function dhcpScripts(plan: Plan, layout: DhcpLayout = PRODUCTION_DHCP_LAYOUT): { apply: string; delete: string } {
  const unitPath = `${layout.systemdDir}/${DHCP_UNIT}`;
  const keep = plan.tenants.map((t) => t.key);
  const head = (what: string) => scriptHead(`${what} of the tenant DHCP (stack ${plan.stack})`, true);
  const apply = `${head("Setup")}${ensurePackages(DHCP_PACKAGES)}
${LR_WRITE_FN}

mkdir -p ${shq(layout.hostsDir)} ${shq(layout.leaseFile.replace(/\/[^/]+$/, ""))}
${writeFile({ path: layout.conf, mode: "0644", content: renderDhcpConfig(plan, layout) }, "root:root")}
${writeFile({ path: unitPath, mode: "0644", content: renderDhcpUnit(plan, layout) }, "root:root")}
restart=no
reload=no
if ((\${#CHANGED[@]})); then restart=yes; fi
${plan.tenants.map((t) => writeFile({ path: `${layout.hostsDir}/${t.key}`, mode: "0644", content: renderReservation(t) }, "root:root")).join("\n")}
KEEP=(${keep.join(" ")})
for f in ${shq(layout.hostsDir)}/*; do
  [[ -e $f ]] || continue
  name=\${f##*/}
  if [[ " \${KEEP[*]} " != *" $name "* ]]; then rm -f -- "$f"; CHANGED+=("$f"); reload=yes; fi
done
/usr/sbin/dnsmasq --test --conf-file=${shq(layout.conf)} >/dev/null 2>&1 || { echo "dhcp: dnsmasq refuses ${layout.conf}" >&2; exit 1; }
if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  systemctl enable ${DHCP_UNIT}
  if [[ $restart == yes ]]; then systemctl restart ${DHCP_UNIT}; else systemctl start ${DHCP_UNIT}; fi
  if [[ $restart == no && $reload == yes ]]; then systemctl reload ${DHCP_UNIT}; fi
fi
printf 'dhcp: %s reservations, %s files changed, restart: %s, reload: %s\\n' ${plan.tenants.length} "\${#CHANGED[@]}" "$restart" "$reload"
`;
  const del = `${head("Removal")}
if [[ $LR_SERVICES == systemd && -e ${shq(unitPath)} ]]; then systemctl disable --now ${DHCP_UNIT}; fi
rm -f ${shq(unitPath)}
if [[ $LR_SERVICES == systemd ]]; then systemctl daemon-reload; fi
rm -rf ${shq(layout.hostsDir)} ${shq(layout.conf)}
printf 'dhcp: removed (leases kept in %s)\\n' ${shq(layout.leaseFile)}
`;
  return { apply, delete: del };
}

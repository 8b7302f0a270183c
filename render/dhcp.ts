/**
 * Public addresses without cloud-init: a reservation-only DHCP server on the common-services VM hands each
 * tenant VM's public MAC (plan/mac.ts) its public IP, the pool's gateway and the service's resolver. dnsmasq
 * (Debian `dnsmasq-base`: the binary without Debian's DNS service, which would fight BIND for port 53), run by
 * our own unit with `port=0` (DHCP only):
 * - `dhcp-range=<pool>,static` + `dhcp-ignore=tag:!known`: only a reserved MAC gets an answer, an unknown MAC
 *   gets nothing (no dynamic pool exists to hand out);
 * - one reservation file per tenant in `dhcp-hostsdir`, which dnsmasq re-reads by inotify: adding a tenant
 *   changes one file and restarts nothing (removing one sends SIGHUP, which keeps the leases). The server's
 *   setup and each tenant's reservation are separate scripts (the program runs each as its own command), so the
 *   server's text never depends on the tenants;
 * - pools other than the services VM's own are served on the same bridge through `shared-network`;
 * - leases in a file under /var/lib that survives restarts (and the reservation gives the same address anyway).
 * Listening on the services VM's public address only: the management side never sees DHCP. Pure text.
 */
import { contains, intToIp, ipToInt, netmask, parseCidr } from "../lib/ipv4";
import type { Plan, TenantPlan } from "../plan/types";
import { LR_WRITE_FN, scriptHead, shq, writeFile } from "./shell";
import { ensurePackages } from "./guest-packages";
import { SERVICES_PUBLIC_IF } from "./services";

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
/** dnsmasq-utils: `dhcp_release`, to drop a lease a changed reservation leaves behind. */
export const DHCP_PACKAGES = ["dnsmasq-base", "dnsmasq-utils"] as const;
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

/** The reservation's file name in `dhcp-hostsdir`: the tenant key (a plain name, never a dotfile). */
export function reservationPath(layout: DhcpLayout, t: Pick<TenantPlan, "key">): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(t.key)) throw new Error(`tenant ${JSON.stringify(t.key)}: not a tenant key, cannot name its DHCP reservation file`);
  return `${layout.hostsDir}/${t.key}`;
}

/**
 * The shared DHCP server on the services VM: dnsmasq-base, the config, the unit, the (empty) reservation directory
 * and the lease directory; dnsmasq is restarted only when the config or the unit changed. It carries no tenant: each
 * tenant's reservation is its own script (`dhcpReservationScripts`), so adding or removing a tenant leaves this text
 * byte for byte the same. Delete stops the server and removes config, unit and reservations; the leases stay.
 * Env `LR_SERVICES=systemd|none` (`none` = tests and the lab: files only).
 */
export function dhcpSetupScripts(plan: Plan, layout: DhcpLayout = PRODUCTION_DHCP_LAYOUT): { apply: string; delete: string } {
  const unitPath = `${layout.systemdDir}/${DHCP_UNIT}`;
  const head = (what: string) => scriptHead(`${what} of the tenant DHCP server (stack ${plan.stack})`, true);
  const apply = `${head("Setup")}${ensurePackages(DHCP_PACKAGES)}
${LR_WRITE_FN}

mkdir -p ${shq(layout.hostsDir)} ${shq(layout.leaseFile.replace(/\/[^/]+$/, ""))}
${writeFile({ path: layout.conf, mode: "0644", content: renderDhcpConfig(plan, layout) }, "root:root")}
${writeFile({ path: unitPath, mode: "0644", content: renderDhcpUnit(plan, layout) }, "root:root")}
restart=no
if ((\${#CHANGED[@]})); then restart=yes; fi
/usr/sbin/dnsmasq --test --conf-file=${shq(layout.conf)} >/dev/null 2>&1 || { echo "dhcp: dnsmasq refuses ${layout.conf}" >&2; exit 1; }
if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  systemctl enable ${DHCP_UNIT}
  if [[ $restart == yes ]]; then systemctl restart ${DHCP_UNIT}; else systemctl start ${DHCP_UNIT}; fi
fi
printf 'dhcp: server, %s files changed, restart: %s\\n' "\${#CHANGED[@]}" "$restart"
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

/**
 * One tenant's reservation on the services VM: its own file in `dhcp-hostsdir`. dnsmasq reads a new or changed
 * file by inotify (IN_CLOSE_WRITE / IN_MOVED_TO) but forgets a record only on SIGHUP (dnsmasq(8), --dhcp-hostsdir),
 * so apply reloads only when it changed an existing file and delete reloads when it removed one; a reload keeps the
 * leases. The new text is staged as a dotfile in the same directory (dnsmasq's inotify skips dotfiles; a
 * `<key>.tmp` name would be read, too) and renamed over the old one. A changed MAC also releases the old MAC's
 * lease: dnsmasq hands no address leased to another MAC ("not using configured address … leased to …") until that
 * lease ends, up to LEASE_SECONDS of no WAN for the router. Delete keeps the lease: the removed tenant's VM may still
 * run with the address (its VM is protected), and the lease then ends on its own. Env `LR_SERVICES=systemd|none`.
 */
export function dhcpReservationScripts(plan: Plan, t: TenantPlan, layout: DhcpLayout = PRODUCTION_DHCP_LAYOUT): { apply: string; delete: string } {
  const file = reservationPath(layout, t);
  const staged = `${layout.hostsDir}/.${t.key}.lrnew`;
  const head = (what: string) => scriptHead(`${what} of tenant ${t.key}'s DHCP reservation (stack ${plan.stack})`, true);
  // try-reload-or-restart: SIGHUP when the server runs; when it does not, its next start reads the directory anyway
  // (and with no unit, after the server's own removal, there is no server to tell).
  const unitPath = `${layout.systemdDir}/${DHCP_UNIT}`;
  const reload = `if [[ $LR_SERVICES == systemd && $reload == yes && -e ${shq(unitPath)} ]]; then systemctl try-reload-or-restart ${DHCP_UNIT}; fi`;
  const apply = `${head("Apply")}f=${shq(file)}
new=${shq(staged)}
mac=${shq(t.publicMac)}
mkdir -p ${shq(layout.hostsDir)}
printf '%s\\n' ${shq(renderReservation(t).trimEnd())} >"$new"
chmod 0644 "$new"
reload=no
old_mac=''
old_ip=''
if cmp -s "$new" "$f"; then
  rm -f -- "$new"
  state=unchanged
elif [[ -e $f ]]; then
  IFS=, read -r old_mac old_ip _ <"$f" || true
  mv -f -- "$new" "$f"
  state=changed
  reload=yes
else
  mv -f -- "$new" "$f"
  state=added
fi
${reload}
release=no
if [[ $state == changed && -n $old_ip && $old_mac != "$mac" ]]; then
  /usr/bin/dhcp_release ${SERVICES_PUBLIC_IF} "$old_ip" "$old_mac"
  release=yes
fi
printf 'dhcp: %s %s, reload: %s, old lease released: %s\\n' ${shq(t.key)} "$state" "$reload" "$release"
`;
  const del = `${head("Removal")}f=${shq(file)}
reload=no
rm -f -- ${shq(staged)}
if [[ -e $f ]]; then
  rm -f -- "$f"
  reload=yes
fi
${reload}
printf 'dhcp: %s removed, reload: %s\\n' ${shq(t.key)} "$reload"
`;
  return { apply, delete: del };
}

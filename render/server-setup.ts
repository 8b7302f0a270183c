/**
 * The script the server-level command runs on a VPN server (via stdin): the packages a stock Debian 12 cloud
 * image lacks, OpenVPN's own account, directories with the owners OpenVPN needs after its privilege drop, every given file written
 * atomically, the data-plane tool and its boot unit, the trunk NIC named by MAC and up, `lr-dataplane base`,
 * and (with systemd) the two OpenVPN instances. Pure: no `@pulumi/*` import.
 */
import type { Plan, ServerPlan } from "../plan/types";
import { DATAPLANE_UNIT, dataplaneToolPath, renderDataplaneTool, renderDataplaneUnit } from "./dataplane";
import { type SetupFile, LR_WRITE_FN, SERVICES_MODE, assertPath, shq, writeFile } from "./shell";
import { VPN_PACKAGES, ensurePackages } from "./guest-packages";
import { enrolPeers } from "../plan/enrolment";
import { ENROL_UNIT, enrolResponderPath, renderEnrolResponder, renderEnrolUnit } from "./enrol-peer";
import { CONSOLE_READ_GROUP, OPENVPN_GROUP, OPENVPN_USER, ensureConsoleGroup, ensureServiceUser } from "./service-user";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { type ServerNics, TRUNK_IFUPDOWN_FILE, TRUNK_LINK_FILE, trunkMac, trunkNicFiles, trunkRenameLines } from "./trunk-nic";

export type { SetupFile } from "./shell";
export type { ServerNics } from "./trunk-nic";

/**
 * Keeps systemd's `rp_filter=2` (its default for every new interface) from loosening the tool's strict mode. No
 * `ip_forward`: the server boots not forwarding, and `lr-dataplane` turns it on only after its firewall is loaded.
 * IPv6 (the server is IPv4-only): no router advertisement or autoconfiguration accepted on any interface, and
 * links made after boot (tenant VLAN links, tun devices) come up with no IPv6 at all, so no link-local address.
 * fixed mode: the tenant links' own glob comes after the catch-all one, and systemd-sysctl (like `sysctl -p`)
 * writes the options in file order, so a link udev announces gets 2 last.
 */
export function sysctlDropin(mode: "distinct" | "fixed", linkGlob: string = TENANT_LINK_GLOB): { readonly path: string; readonly content: string } {
  return {
    path: "/etc/sysctl.d/90-librerouter.conf",
    content:
      "# librerouter-hosting: strict reverse-path filtering on every interface (see lr-dataplane).\n# No ip_forward here: lr-dataplane enables forwarding once its firewall is loaded.\nnet.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.default.rp_filter = 1\nnet.ipv4.conf.*.rp_filter = 1\n" +
      "# No IPv6 path from tenant links or tunnels: no RA accepted anywhere, no IPv6 on links made later.\n" +
      "net.ipv6.conf.all.accept_ra = 0\nnet.ipv6.conf.default.accept_ra = 0\nnet.ipv6.conf.*.accept_ra = 0\n" +
      "net.ipv6.conf.all.autoconf = 0\nnet.ipv6.conf.default.autoconf = 0\nnet.ipv6.conf.*.autoconf = 0\n" +
      "net.ipv6.conf.default.disable_ipv6 = 1\n" +
      "# Tenant VLAN links made later answer ARP only for their own address (lr-dataplane sets each link too).\n" +
      "net.ipv4.conf.default.arp_ignore = 1\nnet.ipv4.conf.default.arp_announce = 2\n" +
      (mode === "fixed"
        ? "# fixed tenant-network mode: the same LAN address on every tenant link, so strict mode cannot tell them apart; the\n" +
          "# links are loose (lr_lan's isolate chain keeps tenants apart), and udev must not make a new one strict again.\n" +
          `net.ipv4.conf.${linkGlob}.rp_filter = 2\n`
        : ""),
  };
}

/** Every tenant link's name (TenantPlan.link is `vl<vlan>`), as a sysctl.d glob. */
export const TENANT_LINK_GLOB = "vl*";
/** Under SDN TenantPlan.link is `vx<slot>`. */
export const SDN_TENANT_LINK_GLOB = "vx*";

/** The distinct-mode drop-in (the lab's fail-closed check and tests use it). */
export const SYSCTL_DROPIN = sysctlDropin("distinct");

/**
 * RLIMIT_NPROC for both OpenVPN instances. Debian's unit sets 10, and the limit counts every process of the real
 * uid on the machine: 2 instances, one synchronous auth hook each (sh plus its children: up to 4 with a `$(… | tr)`,
 * 2 with a socat to the peer), the enrolment responder sharing the uid (a listener plus 2 × socat+sh) — 9 to 15 at
 * a failover storm's peak, so 10 turns a fork into EAGAIN and the client waits without any answer (the lab's
 * reconnect-storm check shows that at a starving limit). 64 leaves room for all of them and for more.
 */
export const OPENVPN_NPROC = 64;

/** The drop-in that raises it for every `openvpn-server@` instance (the lab applies the same figure with prlimit). */
export function openvpnUnitDropin(layout: ServerLayout): { path: string; content: string } {
  return {
    path: `${layout.systemdDir}/openvpn-server@.service.d/librerouter.conf`,
    content: [
      "# librerouter-hosting: Debian's LimitNPROC=10 forks the auth hook into EAGAIN under load (see render/server-setup.ts).",
      "# The status file made readable by the console gateway's group before OpenVPN opens it (OpenVPN truncates an",
      "# existing file and keeps its mode; a file it creates is 0600): the gateway reports wrong passwords with the client's address.",
      "[Service]",
      `LimitNPROC=${OPENVPN_NPROC}`,
      `ExecStartPre=+/usr/bin/install -m 0640 -o root -g ${CONSOLE_READ_GROUP} /dev/null ${layout.runDir}/status-%i.log`,
      "",
    ].join("\n"),
  };
}

/** Directories with mode and owner: what the OpenVPN user must read (ccd, pins, certificate and tls-crypt-v2 pins, hooks) or write (state) after OpenVPN drops to it. */
export function serverDirs(layout: ServerLayout): { path: string; mode: string; owner: string }[] {
  const p = openvpnFilePaths(layout);
  return [
    { path: p.dir, mode: "0755", owner: "root:root" },
    { path: p.ccdDirs.udp, mode: "0750", owner: `root:${OPENVPN_GROUP}` },
    { path: p.ccdDirs.tcp, mode: "0750", owner: `root:${OPENVPN_GROUP}` },
    { path: p.pinsDir, mode: "0750", owner: `root:${OPENVPN_GROUP}` },
    { path: p.certPinsDir, mode: "0750", owner: `root:${OPENVPN_GROUP}` },
    { path: p.tc2PinsDir, mode: "0750", owner: `root:${OPENVPN_GROUP}` },
    { path: p.hooksDir, mode: "0750", owner: `root:${OPENVPN_GROUP}` },
    { path: p.pkiDir, mode: "0700", owner: "root:root" },
    // Debian's tmpfiles mode: the status files list every tenant's real IP; nobody needs nothing here after the drop.
    // The console gateway's group may pass (not list) to read the status files: who is connected from where.
    { path: layout.runDir, mode: "0710", owner: `root:${CONSOLE_READ_GROUP}` },
    { path: layout.stateDir, mode: "0750", owner: `${OPENVPN_USER}:${OPENVPN_GROUP}` },
    { path: p.enrolledDir, mode: "0700", owner: `${OPENVPN_USER}:${OPENVPN_GROUP}` },
    { path: layout.confDir, mode: "0755", owner: "root:root" },
    { path: `${layout.confDir}/tenants`, mode: "0750", owner: `root:${CONSOLE_READ_GROUP}` },
  ];
}

/** Files the OpenVPN user must read are in its group; everything else is root's. */
function ownerOf(layout: ServerLayout, path: string): string {
  const p = openvpnFilePaths(layout);
  const nobodyReads = [p.ccdDirs.udp, p.ccdDirs.tcp, p.pinsDir, p.hooksDir].some((d) => path.startsWith(`${d}/`));
  return nobodyReads ? `root:${OPENVPN_GROUP}` : "root:root";
}

/**
 * The runtime directory's mode across reboots. Debian's /usr/lib/tmpfiles.d/openvpn.conf makes it 0710 root:root at
 * every boot; for a path named in several tmpfiles.d files the lexicographically first file name wins, and
 * `librerouter-openvpn.conf` sorts before `openvpn.conf`: the same mode, with the console gateway's group.
 */
export function runDirTmpfiles(layout: ServerLayout): SetupFile {
  const m = /^(.*)\/systemd\/system$/.exec(layout.systemdDir);
  const dir = m ? `${m[1]}/tmpfiles.d` : `${layout.systemdDir}/tmpfiles.d`;
  return { path: `${dir}/librerouter-openvpn.conf`, mode: "0644", content: `# Rendered by librerouter-hosting: Debian's mode, with the console gateway's group (it reads the status files).\nd ${layout.runDir} 0710 root ${CONSOLE_READ_GROUP} -\n` };
}

/** The initramfs carries the .link files: a stale copy there would name the trunk before the real root does (or, under SDN, at all). */
function initramfsLines(layout: ServerLayout): string {
  return `  # The initramfs carries the .link files: a stale copy there would name the trunk before the real root does.
  if [[ " \${CHANGED[*]} " == *${shq(` ${layout.networkLinkDir}/${TRUNK_LINK_FILE} `)}* ]] && command -v update-initramfs >/dev/null 2>&1; then update-initramfs -u >/dev/null; fi
`;
}

/**
 * Under SDN: the trunk's `.link` file and ifupdown stanza a one-node release left are removed (counted as changed, so
 * the initramfs copy goes too). They would claim eth1 for the trunk, and eth1 is now the management NIC.
 */
function staleTrunkLines(layout: ServerLayout): string {
  const files = [`${layout.networkLinkDir}/${TRUNK_LINK_FILE}`, `${layout.ifupdownDir}/${TRUNK_IFUPDOWN_FILE}`];
  for (const f of files) assertPath(f);
  return `# No trunk NIC under SDN: what a one-node release wrote for it would claim eth1, the management NIC now.
for f in ${files.map(shq).join(" ")}; do
  if [[ -e $f ]]; then
    rm -f "$f"
    CHANGED+=("$f")
    printf 'trunk: removed %s (no trunk under SDN)\\n' "$f"
  fi
done`;
}

/**
 * The setup script for `server`. `files` are written as given (the OpenVPN configs, hooks and PKI from the
 * other renderers); the tool, the boot unit and the trunk NIC's `.link` file and ifupdown stanza are added
 * here. `nics.trunkMac` is net1's MAC (validated; any case). Missing packages are installed first (none in the
 * lab, which has them). Env `LR_SERVICES=systemd|none` (default systemd): `none` (the lab) installs the unit
 * file but starts nothing and leaves /etc/sysctl.d and the initramfs alone. OpenVPN is restarted only when a
 * file under the OpenVPN directory changed (a new tool or unit does not drop the tenants' sessions). Prints
 * counts and interface names only, never content. Under `plan.sdn` the server has no trunk NIC (the tenant links
 * are vxlan devices over the management NIC, eth1 by cloud-init): no `.link` file, stanza or rename (those of a
 * one-node release are removed), and `nics` is not needed.
 */
export function renderServerSetupScript(plan: Plan, server: ServerPlan, layout: ServerLayout, files: readonly SetupFile[], nics?: ServerNics): string {
  const p = openvpnFilePaths(layout);
  const mac = plan.sdn ? undefined : trunkMac(server.name, nics as ServerNics);
  const own: SetupFile[] = [
    { path: dataplaneToolPath(layout), mode: "0755", content: renderDataplaneTool(plan, server, layout) },
    { path: `${layout.systemdDir}/${DATAPLANE_UNIT}`, mode: "0644", content: renderDataplaneUnit(server, layout) },
    { path: enrolResponderPath(layout), mode: "0755", content: renderEnrolResponder(plan.stack, enrolPeers(plan, server), layout) },
    { path: `${layout.systemdDir}/${ENROL_UNIT}`, mode: "0644", content: renderEnrolUnit(enrolPeers(plan, server), layout) },
    { ...openvpnUnitDropin(layout), mode: "0644" },
    ...(mac ? trunkNicFiles(layout, mac) : []),
    runDirTmpfiles(layout),
  ];
  const all = [...files, ...own];
  const seen = new Set<string>();
  for (const f of all) {
    if (seen.has(f.path)) throw new Error(`setup for ${server.name}: ${f.path} is given twice`);
    seen.add(f.path);
  }
  const dirs = serverDirs(layout);
  for (const d of dirs) assertPath(d.path);
  const units = server.instances.map((i) => `openvpn-server@${i.proto}.service`);
  return `#!/bin/bash
# Setup of VPN server ${server.name} (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.
# Carries private keys: it never prints a file's content, and runs without xtrace.
set -euo pipefail
set +x
umask 077
export LC_ALL=C
${SERVICES_MODE}
${ensurePackages(VPN_PACKAGES)}
# OpenVPN's own account (not the shared nobody): it owns the enrolment store and runs the enrolment responder.
${ensureServiceUser()}
# The browser console gateway's group: it reads the tenants' env files and the status files.
${ensureConsoleGroup()}

${LR_WRITE_FN}

${dirs.map((d) => `install -d -m ${d.mode} -o ${d.owner.split(":")[0]} -g ${d.owner.split(":")[1]} ${shq(d.path)}`).join("\n")}
# Records enrolled by a release that ran OpenVPN as nobody.
chown -R ${OPENVPN_USER}:${OPENVPN_GROUP} ${shq(p.enrolledDir)}

${all.map((f) => writeFile(f, ownerOf(layout, f.path))).join("\n")}

restart=no
for f in "\${CHANGED[@]}"; do
  case $f in
    ${shq(`${p.ccdDirs.udp}/`)}* | ${shq(`${p.ccdDirs.tcp}/`)}* | ${shq(`${p.pinsDir}/`)}*) ;;
    ${shq(`${p.dir}/`)}* | ${shq(openvpnUnitDropin(layout).path)}) restart=yes ;;
    *) ;;
  esac
done

${mac ? trunkRenameLines(layout, mac) : staleTrunkLines(layout)}

${shq(dataplaneToolPath(layout))} base

if [[ $LR_SERVICES == systemd ]]; then
${writeFile({ ...sysctlDropin(plan.tenantNetwork.mode, plan.sdn ? SDN_TENANT_LINK_GLOB : TENANT_LINK_GLOB), mode: "0644" }, "root:root", "  ")}
${initramfsLines(layout)}  systemctl daemon-reload
  systemctl enable ${DATAPLANE_UNIT} ${units.join(" ")}
  if [[ $restart == yes ]]; then
    systemctl restart ${units.join(" ")}
  else
    systemctl start ${units.join(" ")}
  fi
  systemctl enable ${ENROL_UNIT}
  if [[ " \${CHANGED[*]} " == *${shq(` ${enrolResponderPath(layout)} `)}* || " \${CHANGED[*]} " == *${shq(` ${layout.systemdDir}/${ENROL_UNIT} `)}* ]]; then
    systemctl restart ${ENROL_UNIT}
  else
    systemctl start ${ENROL_UNIT}
  fi
fi
printf '%s: %s files, %s changed, openvpn restart: %s (%s)\\n' ${server.name} ${all.length} "\${#CHANGED[@]}" "$restart" "$LR_SERVICES"
`;
}

/** The lab's layouts: production's shape (render/layout.ts) with every directory under the run directory. */
import type { Plan, ServerName } from "../plan/types";
import { CONSOLE_WEB_PATHS, type ConsoleWebPaths } from "../render/console-web";
import type { SerialBridgePaths } from "../render/host-serial";
import { HostLayout, ServerLayout, serverLayoutFor } from "../render/layout";

/**
 * A VPN server's layout under `<runDir>/<server>/`; interface names as production's for `plan` (they are per
 * namespace; under SDN the management NIC is eth1 and there is no trunk).
 */
export function labServerLayout(runDir: string, server: ServerName, plan: Pick<Plan, "sdn"> = {}): ServerLayout {
  const base = `${runDir}/${server}`;
  return {
    openvpnDir: `${base}/openvpn`,
    runDir: `${base}/run`,
    stateDir: `${base}/state`,
    confDir: `${base}/conf`,
    systemdDir: `${base}/systemd`,
    networkLinkDir: `${base}/systemd-network`,
    ifupdownDir: `${base}/interfaces.d`,
    ifaces: serverLayoutFor(plan).ifaces,
  };
}

/**
 * The trunk NIC as a fresh VPN VM has it: a predictable name (not the layout's), down, with the MAC the lab
 * hands the setup script, so the setup's rename-by-MAC runs for real. Locally administered MACs.
 */
export const LAB_TRUNK = { name: "ens19", peer: "trunkp", mac: { vpn1: "02:4c:52:00:00:01", vpn2: "02:4c:52:00:00:02" } } as const;

/** ip -batch lines (inside the server's namespace) that create the trunk NIC as a fresh VM has it. */
export function labTrunkLines(server: ServerName): string[] {
  return [`link add ${LAB_TRUNK.name} address ${LAB_TRUNK.mac[server]} type veth peer name ${LAB_TRUNK.peer}`, `link set ${LAB_TRUNK.peer} up`];
}

/** The Proxmox host's layout under `<runDir>/host/`. */
export function labHostLayout(runDir: string): HostLayout {
  return { snippetsDir: `${runDir}/host/snippets`, confDir: `${runDir}/host/conf`, systemdDir: `${runDir}/host/systemd` };
}

/** The lab host's qemu-server run directory (production's /var/run/qemu-server): `<vmid>.vnc`, `.serial0`, `.qmp`. */
export function labQemuServerDir(runDir: string): string {
  return `${runDir}/host/run`;
}

/** The serial bridge's files on the lab host (production: /usr/local/lib/librerouter, /etc/librerouter, /etc/systemd/system). */
export function labSerialBridgePaths(runDir: string): SerialBridgePaths {
  return { libDir: `${runDir}/host/lib`, confDir: `${runDir}/host/conf`, systemdDir: `${runDir}/host/systemd` };
}

/**
 * The console gateway's files on a lab VPN server: under its directory in the run, except the two its unit owns
 * (RuntimeDirectory=, LogsDirectory=), which must keep their shape `/run/<name>` and `/var/log/<dir>/<file>`: a name of
 * this run's (`<prefix>-console-<server>`), removed at teardown.
 */
export function labConsoleWebPaths(runDir: string, prefix: string, server: ServerName): ConsoleWebPaths {
  const base = `${runDir}/${server}`;
  const own = `${prefix}-console-${server}`;
  return {
    ...CONSOLE_WEB_PATHS,
    libDir: `${base}/console-web`,
    configFile: `${base}/conf/console-web.json`,
    systemdDir: `${base}/systemd`,
    certFile: `${base}/conf/console-web/cert.pem`,
    keyFile: `${base}/conf/console-web/key.pem`,
    stateDir: `/run/${own}`,
    authLog: `/var/log/${own}/auth.log`,
  };
}

/** The lab's layouts: production's shape (render/layout.ts) with every directory under the run directory. */
import type { ServerName } from "../plan/types";
import { HostLayout, PRODUCTION_SERVER_LAYOUT, ServerLayout } from "../render/layout";

/** A VPN server's layout under `<runDir>/<server>/`; interface names as in production (they are per namespace). */
export function labServerLayout(runDir: string, server: ServerName): ServerLayout {
  const base = `${runDir}/${server}`;
  return {
    openvpnDir: `${base}/openvpn`,
    runDir: `${base}/run`,
    stateDir: `${base}/state`,
    confDir: `${base}/conf`,
    systemdDir: `${base}/systemd`,
    networkLinkDir: `${base}/systemd-network`,
    ifupdownDir: `${base}/interfaces.d`,
    ifaces: PRODUCTION_SERVER_LAYOUT.ifaces,
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

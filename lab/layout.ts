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
    ifaces: PRODUCTION_SERVER_LAYOUT.ifaces,
  };
}

/** The Proxmox host's layout under `<runDir>/host/`. */
export function labHostLayout(runDir: string): HostLayout {
  return { snippetsDir: `${runDir}/host/snippets`, confDir: `${runDir}/host/conf` };
}

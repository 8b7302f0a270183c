/**
 * Where rendered files live on a VPN server and on the Proxmox host, and what the interfaces are called.
 * Production uses PRODUCTION_LAYOUT; the lab passes the same shape with per-namespace directories, so the
 * same rendered scripts run in both places; serverLayoutFor gives the one a plan's servers have. Pure: no `@pulumi/*`
 * import.
 */
import type { Plan } from "../plan/types";

export interface ServerLayout {
  /** OpenVPN server directory: `<name>.conf` per instance (udp, tcp), `ccd-udp/`, `ccd-tcp/`, `pki/`, `hooks/`, `pins/`. */
  readonly openvpnDir: string;
  /** Runtime files: management sockets `<instance>.sock`, status files. */
  readonly runDir: string;
  /** State written by the hooks as `nobody` (hardware-ID enrolment). */
  readonly stateDir: string;
  /** The data-plane tool, its per-tenant env files (`tenants/<key>.env`) and the boot unit's input. */
  readonly confDir: string;
  /** Where the systemd units go (the boot unit that re-applies every tenant). */
  readonly systemdDir: string;
  /** systemd `.link` files (udev names the trunk NIC by MAC at every boot). */
  readonly networkLinkDir: string;
  /** ifupdown drop-ins, sourced by /etc/network/interfaces (brings the trunk up at boot). */
  readonly ifupdownDir: string;
  /** Interface names inside the VPN server. */
  readonly ifaces: {
    /** Public side (clients arrive here). */
    readonly public: string;
    /** Trunk carrying the tenant VLANs (sub-interfaces are named by TenantPlan.link). Under `plan.sdn` none: "" (nothing renders it). */
    readonly trunk: string;
    /** Management network towards the Proxmox host (VNC consoles). */
    readonly mgmt: string;
  };
}

export interface HostLayout {
  /** Directory of the `snippets` storage (VNC password files). */
  readonly snippetsDir: string;
  /** Host-side config dir for the console firewall script. */
  readonly confDir: string;
  /** Where the console firewall's boot unit goes. */
  readonly systemdDir: string;
}

export const PRODUCTION_SERVER_LAYOUT: ServerLayout = {
  openvpnDir: "/etc/openvpn/server",
  runDir: "/run/openvpn-server",
  stateDir: "/var/lib/librerouter",
  confDir: "/etc/librerouter",
  systemdDir: "/etc/systemd/system",
  networkLinkDir: "/etc/systemd/network",
  ifupdownDir: "/etc/network/interfaces.d",
  ifaces: { public: "eth0", trunk: "eth1", mgmt: "eth2" },
};

export const PRODUCTION_HOST_LAYOUT: HostLayout = {
  snippetsDir: "/var/lib/vz/snippets",
  confDir: "/etc/librerouter",
  systemdDir: "/etc/systemd/system",
};

/**
 * The production layout of a plan's VPN servers. Proxmox's cloud-init names each NIC that has an ipconfig eth<N> after
 * its netN index, by MAC (the trunk has none: render/trunk-nic.ts names it), so the names follow OpenVpnServer's NIC
 * order: net0 public, net1 trunk, net2 management. Under `plan.sdn` there is no trunk NIC (the tenant links are vxlan
 * devices over the management NIC): net1 is the management NIC, eth1.
 */
export function serverLayoutFor(plan: Pick<Plan, "sdn">): ServerLayout {
  return plan.sdn ? { ...PRODUCTION_SERVER_LAYOUT, ifaces: { public: "eth0", trunk: "", mgmt: "eth1" } } : PRODUCTION_SERVER_LAYOUT;
}

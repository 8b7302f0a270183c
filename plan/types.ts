/** The tenant and network plan: every address, id and name the service uses, derived from config. */
import type { StackConfig } from "../config/schema";

export type ServerName = "vpn1" | "vpn2";
export type Proto = "udp" | "tcp";
export type InstanceId = `${ServerName}-${Proto}`;
export const INSTANCE_IDS: readonly InstanceId[] = ["vpn1-udp", "vpn1-tcp", "vpn2-udp", "vpn2-tcp"];

/** One OpenVPN server process: its own port, tun device and tunnel pool. */
export interface InstancePlan {
  readonly id: InstanceId;
  readonly server: ServerName;
  readonly proto: Proto;
  readonly port: number;
  /** tun device name on the server (`tun-udp` / `tun-tcp`). */
  readonly dev: string;
  /** The tunnel pool, e.g. 10.255.0.0/18. */
  readonly cidr: string;
  readonly network: string;
  readonly netmask: string;
  readonly prefix: number;
  /** The server's own tunnel address (first host of the pool): tenants reach their console here. */
  readonly gateway: string;
  readonly mtu: number;
  readonly mssfix: number;
}

export interface ServerPlan {
  readonly name: ServerName;
  readonly vmid: number;
  /** Name clients dial (falls back to the public IP). */
  readonly hostname: string;
  readonly publicIp: string;
  readonly mgmtIp: string;
  readonly instances: readonly [InstancePlan, InstancePlan];
}

export interface TenantPlan {
  readonly key: string;
  readonly slot: number;
  /** Proxmox VM name. */
  readonly vmName: string;
  readonly vmid: number;
  readonly vlan: number;
  /** Name of the tenant's link on each VPN server (VLAN sub-interface; a veth in the lab). */
  readonly link: string;
  readonly privateCidr: string;
  /** The tenant's LibreRouter on its private /24 (.1). */
  readonly routerIp: string;
  /** vpn1 (.2) and vpn2 (.3) on the tenant's private /24. */
  readonly vpnLanIps: readonly [string, string];
  readonly publicIp: string;
  readonly publicPrefix: number;
  readonly publicGateway: string;
  readonly tunnelIps: Readonly<Record<InstanceId, string>>;
  readonly table: { readonly id: number; readonly name: string };
  readonly vnc: { readonly display: number; readonly port: number };
  readonly memory: { readonly minMb: number; readonly maxMb: number };
  readonly diskGb: number;
  readonly cores: number;
  readonly hardwareId?: string;
  /** True for tenants from `numberedTenants` (placeholders until sold). */
  readonly numbered: boolean;
}

export interface Plan {
  readonly stack: string;
  readonly config: StackConfig;
  readonly host: { readonly node: string; readonly publicIp: string; readonly mgmtIp: string };
  readonly services: { readonly vmid: number; readonly publicIp: string; readonly mgmtIp: string };
  readonly mgmt: { readonly cidr: string; readonly prefix: number };
  readonly publicPools: readonly { readonly cidr: string; readonly prefix: number; readonly gateway: string }[];
  readonly servers: readonly [ServerPlan, ServerPlan];
  readonly instances: readonly InstancePlan[];
  /** Sorted by slot. */
  readonly tenants: readonly TenantPlan[];
}

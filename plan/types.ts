/** The tenant and network plan: every address, id and name the service uses, derived from config. */
import type { StackConfig } from "../config/schema";
import type { ConsolesPlan } from "./consoles";
import type { AssumptionOverrides, HardwareOverrides } from "../config/sizing-schema";
import type { BansPlan } from "./bans";
import type { MonitoringPlan } from "./monitoring";
import type { HaPlan, NodePlan, SdnPlan, ShardsPlan } from "./cluster";
import type { RoutingLayout } from "./routing-layout";

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
  /** The Proxmox node it runs on (vpn1 and vpn2 on different nodes in a cluster). */
  readonly node: string;
  /** Name clients dial (falls back to the public IP). */
  readonly hostname: string;
  readonly publicIp: string;
  readonly mgmtIp: string;
  readonly instances: readonly [InstancePlan, InstancePlan];
  readonly vm: VmSize;
  /** OpenVPN `keepalive` (seconds). */
  readonly keepalive: { readonly interval: number; readonly timeout: number };
  /** Seconds a client waits on one remote of this server before the next (`server-poll-timeout`). */
  readonly pollTimeout: number;
  readonly ports: { readonly udp: number; readonly tcp: number };
  /** This server's `ip rule` tree over its two instance pools. */
  readonly routing: RoutingLayout;
}

export interface VmSize {
  readonly cores: number;
  readonly memoryMb: number;
}

/** A certificate's lifetime: valid for `validityHours`, renewed `renewHours` before it ends. */
export interface CertLifetime {
  readonly validityHours: number;
  readonly renewHours: number;
}

export interface TenantPlan {
  readonly key: string;
  readonly slot: number;
  /** Proxmox VM name. */
  readonly vmName: string;
  readonly vmid: number;
  /** VLAN id on the private bridge (unused under SDN, where the tenant's network is its own vnet). */
  readonly vlan: number;
  /** Name of the tenant's link on each VPN server (VLAN sub-interface `vl<vlan>`, or VXLAN device `vx<slot>` under SDN; a veth in the lab). */
  readonly link: string;
  /** The Proxmox node it runs on (plan/placement.ts). */
  readonly node: string;
  /** Under SDN: its vnet (the bridge its private NIC is on, on every node) and VXLAN network identifier. */
  readonly sdn?: { readonly vnet: string; readonly vni: number };
  /** Its shard stack (shards mode only). */
  readonly shard?: string;
  /** The tenant's LAN: its slot's /24 (distinct mode) or the appliance's own, the same for all (fixed mode). */
  readonly privateCidr: string;
  /** The tenant's LibreRouter on its LAN (.1 in distinct mode; tenantNetwork.lan.router in fixed mode). */
  readonly routerIp: string;
  /** vpn1 and vpn2 on the tenant's LAN (.2 and .3 in distinct mode; tenantNetwork.lan.vpnIps in fixed mode). */
  readonly vpnLanIps: readonly [string, string];
  readonly publicIp: string;
  /** The public NIC's MAC: `tenants.<key>.publicMac`, else derived from stack and key (plan/mac.ts). */
  readonly publicMac: string;
  /** Prefix length and gateway of the public pool `publicIp` is in. */
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
  readonly profile: StackConfig["profile"];
  /** The API node (proxmox.node): the provider's endpoint, the templates' home in a one-node stack. */
  readonly host: { readonly node: string; readonly publicIp: string; readonly mgmtIp: string };
  /** Every node, the API node first (plan/cluster.ts); one entry on a one-node stack. */
  readonly nodes: readonly NodePlan[];
  /** The tenants' networks as a VXLAN zone (absent: VLANs on the private bridge of the one node). */
  readonly sdn?: SdnPlan;
  readonly ha: HaPlan;
  /** Core + shard stacks (absent: one stack). */
  readonly shards?: ShardsPlan;
  readonly services: { readonly node: string; readonly vmid: number; readonly publicIp: string; readonly mgmtIp: string; readonly vm: VmSize };
  readonly proxmox: ProxmoxPlan;
  readonly templates: TemplatePlan;
  readonly bridges: { readonly public: string; readonly private: string; readonly management: string };
  readonly tunnelSupernet: string;
  /**
   * `distinct`: each tenant its own /24 of `lan` (network.tenantPrivate), set by cloud-init; `fixed`: every tenant the
   * same `lan` (tenantNetwork.lan.cidr), the image as shipped, its public address by DHCP (plan/tenant-lan.ts).
   */
  readonly tenantNetwork: { readonly mode: "distinct" | "fixed"; readonly lan: string };
  /** Forward zone the PTR records point into. */
  readonly reverseDnsDomain: string;
  /** Besides management, the networks that may reach the host's API and SSH; empty: no host rule for them. */
  readonly opsNetworks: readonly string[];
  /** What the auth hook does for a tenant without a hardware pin. */
  readonly unpinnedPolicy: "enrol" | "refuse";
  readonly pki: { readonly client: CertLifetime; readonly server: CertLifetime };
  /** Every port a tenant console can ever take under this config (inclusive ranges), tenants present or not. */
  readonly consolePorts: readonly { readonly lo: number; readonly hi: number }[];
  /** Addresses in the public pools: all of them, and those usable for VMs (no network, broadcast, gateway, reserved). */
  readonly publicAddresses: { readonly total: number; readonly usable: number };
  readonly mgmt: { readonly cidr: string; readonly prefix: number };
  readonly publicPools: readonly { readonly cidr: string; readonly prefix: number; readonly gateway: string }[];
  readonly servers: readonly [ServerPlan, ServerPlan];
  readonly instances: readonly InstancePlan[];
  /** Sorted by slot. */
  readonly tenants: readonly TenantPlan[];
  /** What the capacity check takes from the stack beyond the tenants: the overrides of the profile's figures. */
  readonly sizing: SizingInputs;
  /** The ban grid: members, protected addresses, durations, the report gateway (plan/bans.ts). */
  readonly bans: BansPlan;
  /** The text and browser consoles: serial bridge, HTTPS gateway, login limits (plan/consoles.ts). */
  readonly consoles: ConsolesPlan;
  /** Node exporters, lr-metrics, Prometheus and Alertmanager: targets, ports, alert thresholds (plan/monitoring.ts). */
  readonly monitoring: MonitoringPlan;
}

/** The stack's own sizing figures (sizing/ resolves them against the profile's). */
export interface SizingInputs {
  readonly hardware?: HardwareOverrides;
  readonly assumptions?: AssumptionOverrides;
  /** The template's disk is sized like a tenant's default disk (tenantDefaults.diskGb), GiB. */
  readonly templateDiskGb: number;
  /** VLAN id = vlanBase + slot must stay ≤ 4094. */
  readonly vlanBase: number;
}

export interface ProxmoxPlan {
  readonly endpoint: string;
  readonly node: string;
  readonly username: string;
  readonly insecure: boolean;
  readonly datastore: string;
  readonly snippetsDatastore: string;
  /** The snippets storage's directory on the host, where QEMU reads the VNC password files. */
  readonly snippetsPath: string;
  readonly sshUser: string;
  /** The host's pinned SSH key; absent when not pinned (a real `up` refuses that). */
  readonly sshHostKey?: string;
}

export interface TemplatePlan {
  /** The LibreRouter template the tenants are linked clones of. */
  readonly vmid: number;
  /** The Debian template the VPN servers and the services VM are full clones of. */
  readonly serverVmid: number;
  /** Present when the LibreRouter template is built here from a cloud image (`template.createFromImage`). */
  readonly image?: {
    readonly url: string;
    /** The name Proxmox stores it under (`import` content), already checked. */
    readonly fileName: string;
  };
}

/**
 * The lab's embedded stack config: a small stack written against the real schema and planned by the
 * real `buildPlan`, so every address, port and name in the lab comes from the same code as production.
 */
import { stringify } from "yaml";
import { NAMESPACE } from "../config/load";
import type { StackInput } from "../config/schema";
import { buildPlan } from "../plan/build";
import type { Plan } from "../plan/types";
import { OUTSIDER } from "./topology";

/** The tenant-network modes the lab runs (config tenantNetwork.mode). */
export type LabMode = "fixed" | "distinct";
export const LAB_MODES: readonly LabMode[] = ["fixed", "distinct"];
/** The lab's default: the LibreRouter image as shipped (the same 10.0.0.1 LAN in every tenant, WAN by DHCP). */
export const DEFAULT_LAB_MODE: LabMode = "fixed";

/** The lab's monitoring block: every period short, so the alert checks take seconds (the rules are the same text). */
export const LAB_MONITORING_INPUT = {
  scrapeInterval: "2s",
  metricsInterval: "2s",
  for: { instanceDown: "5s", serverDown: "5s", metricsStale: "5s" },
  retention: "1h",
} as const;

/** The lab's first ban (bans.banTime): short, so the lab sees bans end. */
export const LAB_BAN_TIME = "15s";

const NAMES = ["acme", "coop-sur", "delta", "echo", "foxtrot", "golf", "hotel", "india"];

/** Tenant key for lab slot `slot` (1-based): a few readable names, then `t<slot>`. */
export function labTenantKey(slot: number): string {
  return NAMES[slot - 1] ?? `t${slot}`;
}

/**
 * A lab stack with `tenants` tenants on slots 1…n. The first is pinned to `hardwareId` (what the rendered launcher
 * prints on this machine); the others enrol it on first use: all lab clients run on one machine, so they share
 * that ID, and the schema refuses one ID pinned for two tenants. The VPN timings
 * (keepalive, server-poll-timeout) are production's defaults, so the failover and fallback checks
 * measure what tenants will see. `mode` is the stack's tenantNetwork.mode (fixed: the appliance's LAN, 10.0.0.1/24 by
 * default, in every tenant; distinct: a /24 per slot).
 */
export function labStack(tenants: number, hardwareId: string, mode: LabMode = DEFAULT_LAB_MODE, hosts: LabHosts = 1): StackInput {
  if (!Number.isInteger(tenants) || tenants < 1 || tenants > 500) throw new Error(`--tenants must be 1…500, got ${tenants}`);
  if (hosts === 2 && tenants < LAB_CLUSTER_MIN_TENANTS) throw new Error(`--hosts 2 needs --tenants ${LAB_CLUSTER_MIN_TENANTS} or more (tenants on both nodes, and the checks' first two and last tenant on ${LAB_NODES[0].name}), got ${tenants}`);
  const entries = Array.from({ length: tenants }, (_, i) => {
    const key = labTenantKey(i + 1);
    const node = hosts === 2 ? { node: labTenantNodeName(i + 1, tenants) } : {};
    return [key, { slot: i + 1, ...(i === 0 ? { hardwareId } : {}), description: `lab tenant ${i + 1}`, ...node }] as const;
  });
  return {
    profile: "minimal",
    proxmox: { endpoint: "https://pve-lab.invalid:8006/", node: hosts === 2 ? LAB_NODES[0].name : "lab" },
    ...(hosts === 2 ? clusterPart() : {}),
    network: {
      publicPools: [
        { cidr: "192.0.2.0/24", gateway: "192.0.2.1" },
        { cidr: "198.51.100.0/24", gateway: "198.51.100.1" },
      ],
      reverseDnsDomain: "tenants.lab.invalid",
    },
    tenantNetwork: { mode },
    // The ban grid with production's defaults but a short first ban (ban-expiry waits for it), and the outsider
    // allowlisted: the refusal checks keep testing OpenVPN, not the grid, and ban-allowlist proves the list.
    bans: { banTime: LAB_BAN_TIME, allowlist: [OUTSIDER.ip] },
    monitoring: LAB_MONITORING_INPUT,
    tenants: Object.fromEntries(entries),
  };
}

/**
 * `Pulumi.lab.yaml` for `stack`: what `npm run status -- --stack lab --dir <run dir>/stack` reads, so the CLI plans
 * the lab's stack exactly as the lab did (no secret in it: the lab has none in its config).
 */
export function labStackFile(stack: StackInput): string {
  const config = Object.fromEntries(Object.entries(stack).map(([k, v]) => [`${NAMESPACE}:${k}`, v]));
  return `# The lab's stack, written by lab/lab.ts for npm run status; removed with the run.\n${stringify({ config })}`;
}

/** The lab plan (stack name `lab`). */
export function labPlan(tenants: number, hardwareId: string, mode: LabMode = DEFAULT_LAB_MODE, hosts: LabHosts = 1): Plan {
  return buildPlan(labStack(tenants, hardwareId, mode, hosts), "lab");
}

/** How many Proxmox nodes the lab runs: one (the classic lab) or two (`--hosts 2`: a cluster over a VXLAN zone). */
export type LabHosts = 1 | 2;

/** `--hosts 2`: the two nodes (hostA is the API node, at network.management.hostIp's default). */
export const LAB_NODES = [
  { name: "hostA", mgmtIp: "192.168.100.10" },
  { name: "hostB", mgmtIp: "192.168.100.20" },
] as const;

/**
 * `--hosts 2` needs four tenants: the checks use the first two and the last (console, ban-report's pair, the API
 * node's ban victim) on hostA, where the serial bridge the console gateways name (plan.host) is; slot 3 (and every
 * odd slot after it but the last) runs on hostB, behind hostB's own ban-grid bridge table (its ban victim).
 */
export const LAB_CLUSTER_MIN_TENANTS = 4;
export const LAB_CLUSTER_DEFAULT_TENANTS = 4;

/** The node tenant slot `slot` of `tenants` is pinned to under `--hosts 2`. */
export function labTenantNodeName(slot: number, tenants: number): string {
  return slot >= 3 && slot < tenants && slot % 2 === 1 ? LAB_NODES[1].name : LAB_NODES[0].name;
}

/** The cluster keys of the `--hosts 2` stack: two nodes, a VXLAN zone, vpn1 on hostA and vpn2 on hostB. */
function clusterPart(): Pick<StackInput, "nodes" | "sdn" | "placement"> {
  const hardware = { ramGb: 64, cpuCores: 16, threadsPerCore: 2 };
  return {
    nodes: [
      { ...LAB_NODES[0], hardware },
      // A node other than the API node names its own copies of the templates (the defaults' VMIDs + 10).
      { ...LAB_NODES[1], hardware, templates: { librerouter: 9010, debian: 9011 } },
    ],
    sdn: { kind: "vxlan" },
    // The services VM with vpn1 on hostA: node-failure takes it down too, so it runs last.
    placement: { vpn1: LAB_NODES[0].name, vpn2: LAB_NODES[1].name, services: LAB_NODES[0].name },
  };
}

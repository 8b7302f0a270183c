/**
 * "No tenant NIC on the shared public bridge without Proxmox's anti-spoofing" (review-security.md H1), as pure
 * checks on plain resource inputs. Every tenant is root on his router: an untagged NIC (the public bridge) must
 * have `firewall: true`, be net0 (the `ipfilter-net0` set filters net0 only), and the VM must have firewall
 * options with macfilter + ipfilter on, DHCP (distinct mode) and router advertisements off, an `ipfilter-net0` set that
 * holds an address, with the datacenter and node firewalls enabled (without them no per-VM rule is loaded).
 * A VLAN-tagged NIC is the tenant's own segment: what he claims there reaches only his VPN gateways.
 * In tenantNetwork.mode fixed the router takes its public address by DHCP from the services VM: its firewall options
 * then need `dhcp: true`, net0 its planned MAC (the reservation's key), and net0 a rule set that puts it in a security
 * group dropping DHCP server traffic (with dhcp on, nothing else stops a tenant's own DHCP server answering the
 * other tenants' broadcasts); the mode comes from the stack output.
 */
import { isTenantVm } from "./rules";
import { CLUSTER_FIREWALL, FW_GROUP, FW_IPSET, FW_OPTIONS, FW_RULES, NODE_FIREWALL, VM } from "./resource-types";
import { TENANT_NETWORK_OUTPUT, type TenantNetworkOutput, tenantNetworkOf } from "./tenant-network-output";

export const IPFILTER_NET0 = "ipfilter-net0";

interface Nic {
  readonly bridge?: unknown;
  readonly vlanId?: unknown;
  readonly firewall?: unknown;
  readonly macAddress?: unknown;
}

const untagged = (n: Nic) => n.vlanId === undefined || n.vlanId === null || n.vlanId === 0;

/** Per tenant VM: every untagged NIC has the firewall on, and the only untagged NIC is net0. */
export function tenantNicViolations(vm: { readonly name?: unknown; readonly networkDevices?: unknown }, urn: string): string[] {
  if (!isTenantVm(vm.name, urn)) return [];
  const nics = (Array.isArray(vm.networkDevices) ? vm.networkDevices : []) as Nic[];
  const out: string[] = [];
  nics.forEach((n, i) => {
    if (!untagged(n)) return;
    if (n.firewall !== true) out.push(`tenant VM "${String(vm.name)}" net${i} (bridge ${String(n.bridge)}, untagged) must have firewall: true: without it Proxmox's macfilter/ipfilter do not apply and the tenant can spoof the shared bridge`);
    if (i !== 0) out.push(`tenant VM "${String(vm.name)}" net${i} is untagged: only net0 may sit on the public bridge (the ipfilter-net0 IP set filters net0); tag it or move it to net0`);
  });
  return out;
}

export interface StackResource {
  readonly type: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
}

type OptionRule = readonly [field: string, want: boolean, why: string];

/** The options every tenant needs whatever the mode, in report order around `dhcp`. */
const BEFORE_DHCP: readonly OptionRule[] = [
  ["enabled", true, "the VM firewall is off"],
  ["macfilter", true, "the tenant can send with any MAC"],
  ["ipfilter", true, "the tenant can claim any address, ARP included"],
];
const AFTER_DHCP: readonly OptionRule[] = [["radv", false, "the tenant may send router advertisements"]];
/**
 * `dhcp` per mode. On, pve-firewall accepts udp 68→67 out and 67→68 in ahead of macfilter and ipfilter
 * (Firewall.pm ruleset_create_vm_chain): without it a DHCPDISCOVER from 0.0.0.0 is not in ipfilter-net0 and dropped.
 */
const DHCP_RULE: Readonly<Record<TenantNetworkOutput["mode"], OptionRule>> = {
  distinct: ["dhcp", false, "tenantNetwork.mode distinct: the router's address is static, and dhcp would let DHCP client traffic from 0.0.0.0 past ipfilter for nothing"],
  fixed: ["dhcp", true, "tenantNetwork.mode fixed: the router takes its public address by DHCP, and with ipfilter on pve-firewall drops its DHCPDISCOVER from 0.0.0.0 unless dhcp lets it through"],
};

/** Fixed mode: net0 carries the tenant's planned MAC (compared as Proxmox does, case-insensitively). */
function plannedMacViolations(vm: StackResource, publicMacs: Readonly<Record<string, string>>): string[] {
  const name = String(vm.props.name);
  const key = name.slice("lr-".length);
  const planned = publicMacs[key];
  if (typeof planned !== "string") {
    return [`tenant VM "${name}": the "${TENANT_NETWORK_OUTPUT}" output has no planned MAC for tenant "${key}" (publicMacs.${key}); index.ts must export every tenant's TenantPlan.publicMac`];
  }
  const nics = Array.isArray(vm.props.networkDevices) ? (vm.props.networkDevices as Nic[]) : [];
  const got = nics[0]?.macAddress;
  if (typeof got === "string" && got.toLowerCase() === planned.toLowerCase()) return [];
  return [
    `tenant VM "${name}" net0 must have macAddress ${planned}, its planned MAC (tenantNetwork.mode fixed: the services VM's DHCP reservation hands the public address to that MAC, and macfilter admits only the NIC's MAC); got ${JSON.stringify(got) ?? "nothing"}`,
  ];
}

interface Rule {
  readonly type?: unknown;
  readonly action?: unknown;
  readonly proto?: unknown;
  readonly sport?: unknown;
  readonly dport?: unknown;
  readonly securityGroup?: unknown;
  readonly iface?: unknown;
  readonly enabled?: unknown;
}
const rulesOf = (r: StackResource): Rule[] => (Array.isArray(r.props.rules) ? (r.props.rules as Rule[]) : []);
const on = (x: Rule) => x.enabled === undefined || x.enabled === true;

/** Names of the security groups that drop outgoing DHCP server traffic both ways a rogue offer goes (from 67, to 68). */
function dhcpBlockGroups(resources: readonly StackResource[]): Set<string> {
  const drops = (rs: Rule[], field: "sport" | "dport", port: string) =>
    rs.some((x) => on(x) && x.type === "out" && x.action === "DROP" && x.proto === "udp" && String(x[field]) === port);
  return new Set(
    resources
      .filter((r) => r.type === FW_GROUP && drops(rulesOf(r), "sport", "67") && drops(rulesOf(r), "dport", "68"))
      .map((r) => String(r.props.name)),
  );
}

/** Fixed mode: the VM's rule set puts net0 in a group that blocks DHCP server traffic. */
function dhcpBlockViolations(vm: StackResource, resources: readonly StackResource[], groups: ReadonlySet<string>): string[] {
  const sets = resources.filter((r) => r.type === FW_RULES && r.props.vmId === vm.props.vmId);
  const blocked = sets.some((r) => rulesOf(r).some((x) => on(x) && typeof x.securityGroup === "string" && groups.has(x.securityGroup) && (x.iface === undefined || x.iface === "net0")));
  if (blocked) return [];
  return [
    `tenant VM "${String(vm.props.name)}" net0 sends DHCP server traffic unfiltered (tenantNetwork.mode fixed: dhcp is on, so nothing stops the tenant's own DHCP server answering the other tenants): add a firewall RulesLegacy for vmId ${String(vm.props.vmId)} with a securityGroup rule on net0 naming a group that drops out udp sport 67 and dport 68`,
  ];
}

/**
 * Stack-wide: each tenant VM (by vmId) has its options and IP set, and the datacenter and node firewalls are on;
 * in fixed mode also DHCP allowed and the planned MAC on net0. Without a readable mode only the mode-free checks run.
 */
export function antiSpoofViolations(resources: readonly StackResource[]): string[] {
  const tenants = resources.filter((r) => r.type === VM && isTenantVm(r.props.name, r.urn));
  if (tenants.length === 0) return [];
  const out: string[] = [];
  const network = tenantNetworkOf(resources);
  if (typeof network === "string") out.push(network);
  const optionRules = typeof network === "string" ? [...BEFORE_DHCP, ...AFTER_DHCP] : [...BEFORE_DHCP, DHCP_RULE[network.mode], ...AFTER_DHCP];
  for (const [type, what] of [
    [CLUSTER_FIREWALL, "datacenter"],
    [NODE_FIREWALL, "node"],
  ] as const) {
    const sw = resources.filter((r) => r.type === type);
    if (!sw.some((r) => r.props.enabled === true)) out.push(`the ${what} firewall is not enabled (${type} with enabled: true): no tenant's anti-spoofing rules are loaded without it`);
  }
  const groups = dhcpBlockGroups(resources);
  const byVm = (type: string, vmId: unknown) => resources.filter((r) => r.type === type && r.props.vmId === vmId);
  for (const vm of tenants) {
    const name = String(vm.props.name);
    const opts = byVm(FW_OPTIONS, vm.props.vmId);
    if (opts.length === 0) out.push(`tenant VM "${name}" (vmId ${String(vm.props.vmId)}) has no firewall options resource: add OptionsLegacy with macfilter, ipfilter on and dhcp, radv off`);
    for (const o of opts) {
      for (const [field, want, why] of optionRules) {
        if (o.props[field] !== want) out.push(`tenant VM "${name}" firewall options: ${field} must be ${String(want)} (${why}); got ${JSON.stringify(o.props[field]) ?? "nothing"}`);
      }
    }
    const sets = byVm(FW_IPSET, vm.props.vmId).filter((r) => r.props.name === IPFILTER_NET0);
    const cidrs = sets.flatMap((s) => (Array.isArray(s.props.cidrs) ? s.props.cidrs : []));
    if (cidrs.length === 0) out.push(`tenant VM "${name}" has no ${IPFILTER_NET0} IP set with its public address: with ipfilter on and no set Proxmox lets only link-local through, and without ipfilter any address goes`);
    if (typeof network !== "string" && network.mode === "fixed") out.push(...plannedMacViolations(vm, network.publicMacs), ...dhcpBlockViolations(vm, resources, groups));
  }
  return out;
}

/**
 * The type tokens of the resources the pack checks, as the engine reports them (the provider SDKs' own
 * `__pulumiType`; test/policy/policies.test.ts compares them). proxmoxve v8 names its VM and file classes *Legacy.
 */
export const VM = "proxmoxve:index/vmLegacy:VmLegacy";
export const FILE = "proxmoxve:index/fileLegacy:FileLegacy";
export const REMOTE_COMMAND = "command:remote:Command";
export const LOCAL_COMMAND = "command:local:Command";
export const STACK = "pulumi:pulumi:Stack";
/** Proxmox firewall: per-VM options and IP sets, the datacenter (cluster) and node switches. */
export const FW_OPTIONS = "proxmoxve:firewall/optionsLegacy:OptionsLegacy";
export const FW_IPSET = "proxmoxve:firewall/ipsetLegacy:IpsetLegacy";
/** A VM's rule set, and a cluster security group (the fixed mode's rogue-DHCP block). */
export const FW_RULES = "proxmoxve:firewall/rulesLegacy:RulesLegacy";
export const FW_GROUP = "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy";
export const CLUSTER_FIREWALL = "proxmoxve:cluster/firewallLegacy:FirewallLegacy";
export const NODE_FIREWALL = "proxmoxve:node/firewallLegacy:FirewallLegacy";

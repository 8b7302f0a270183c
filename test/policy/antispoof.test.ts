/** H1 policies: a tenant NIC on the public bridge without Proxmox's anti-spoofing is refused, with the fix named. */
import { antiSpoofViolations, tenantNicViolations, type StackResource } from "../../policy/antispoof";
import { CLUSTER_FIREWALL, FW_GROUP, FW_IPSET, FW_OPTIONS, FW_RULES, NODE_FIREWALL, STACK, VM } from "../../policy/resource-types";

const URN = (type: string, name: string, parent = "librerouter:tenant:Tenant") => `urn:pulumi:prod::librerouter-hosting::${parent}$${type}::${name}`;
const PUBLIC = { bridge: "vmbr0", model: "virtio", firewall: true };
const PRIVATE = { bridge: "vmbr1", model: "virtio", vlanId: 101 };

describe("tenant-nic-firewalled", () => {
  const vm = (nics: object[]) => tenantNicViolations({ name: "lr-acme", networkDevices: nics }, URN(VM, "tenant-acme-vm"));
  test("the program's layout passes: firewalled net0 on the public bridge, tagged net1", () => {
    expect(vm([PUBLIC, PRIVATE])).toEqual([]);
  });
  test("a public NIC without firewall is refused", () => {
    expect(vm([{ ...PUBLIC, firewall: false }, PRIVATE])).toEqual([expect.stringMatching(/^tenant VM "lr-acme" net0 \(bridge vmbr0, untagged\) must have firewall: true/)]);
    expect(vm([{ bridge: "vmbr0" }, PRIVATE])).toHaveLength(1);
  });
  test("an untagged NIC other than net0 is refused even with firewall on (ipfilter-net0 filters net0 only)", () => {
    expect(vm([PRIVATE, PUBLIC])).toEqual([expect.stringContaining("net1 is untagged: only net0 may sit on the public bridge")]);
  });
  test("infrastructure VMs are not tenant NICs", () => {
    expect(tenantNicViolations({ name: "lr-vpn1-prod", networkDevices: [{ bridge: "vmbr0" }] }, URN(VM, "vpn1-vm", "librerouter:vpn:OpenVpnServer"))).toEqual([]);
  });
});

describe("tenant-anti-spoofing", () => {
  const good: StackResource[] = [
    { type: STACK, urn: `urn:pulumi:prod::librerouter-hosting::${STACK}::librerouter-hosting-prod`, props: { tenantNetwork: { mode: "distinct" } } },
    { type: CLUSTER_FIREWALL, urn: URN(CLUSTER_FIREWALL, "dc", "librerouter:host:ProxmoxHost"), props: { enabled: true } },
    { type: NODE_FIREWALL, urn: URN(NODE_FIREWALL, "node", "librerouter:host:ProxmoxHost"), props: { enabled: true, nodeName: "pve1" } },
    { type: VM, urn: URN(VM, "tenant-acme-vm"), props: { name: "lr-acme", vmId: 1001 } },
    { type: FW_OPTIONS, urn: URN(FW_OPTIONS, "tenant-acme-firewall"), props: { vmId: 1001, enabled: true, macfilter: true, ipfilter: true, dhcp: false, radv: false } },
    { type: FW_IPSET, urn: URN(FW_IPSET, "tenant-acme-ipfilter"), props: { vmId: 1001, name: "ipfilter-net0", cidrs: [{ name: "192.0.2.10" }] } },
  ];
  const without = (type: string) => good.filter((r) => r.type !== type);
  const patch = (type: string, props: Record<string, unknown>) => good.map((r) => (r.type === type ? { ...r, props: { ...r.props, ...props } } : r));

  test("a complete tenant passes", () => expect(antiSpoofViolations(good)).toEqual([]));
  test("no tenant VM, nothing to check (not even the mode output)", () => expect(antiSpoofViolations(without(VM).filter((r) => r.type !== CLUSTER_FIREWALL && r.type !== STACK))).toEqual([]));
  test("datacenter or node firewall off or missing", () => {
    expect(antiSpoofViolations(without(CLUSTER_FIREWALL))).toEqual([expect.stringMatching(/^the datacenter firewall is not enabled/)]);
    expect(antiSpoofViolations(patch(NODE_FIREWALL, { enabled: false }))).toEqual([expect.stringMatching(/^the node firewall is not enabled/)]);
  });
  test("missing options, and each weak option by name", () => {
    expect(antiSpoofViolations(without(FW_OPTIONS))).toEqual([expect.stringContaining('tenant VM "lr-acme" (vmId 1001) has no firewall options resource')]);
    expect(antiSpoofViolations(patch(FW_OPTIONS, { macfilter: false, radv: true, dhcp: undefined }))).toEqual([
      'tenant VM "lr-acme" firewall options: macfilter must be true (the tenant can send with any MAC); got false',
      'tenant VM "lr-acme" firewall options: dhcp must be false (tenantNetwork.mode distinct: the router\'s address is static, and dhcp would let DHCP client traffic from 0.0.0.0 past ipfilter for nothing); got nothing',
      'tenant VM "lr-acme" firewall options: radv must be false (the tenant may send router advertisements); got true',
    ]);
  });
  test("an IP set with another name, another VM's, or an empty one does not count", () => {
    for (const bad of [patch(FW_IPSET, { name: "ipfilter-net1" }), patch(FW_IPSET, { vmId: 1002 }), patch(FW_IPSET, { cidrs: [] })]) {
      expect(antiSpoofViolations(bad)).toEqual([expect.stringContaining('tenant VM "lr-acme" has no ipfilter-net0 IP set')]);
    }
  });
});

describe("tenant-anti-spoofing per tenantNetwork.mode", () => {
  const MAC = "02:1a:2b:3c:4d:5e";
  const stackWith = (tenantNetwork: unknown): StackResource => ({
    type: STACK,
    urn: `urn:pulumi:prod::librerouter-hosting::${STACK}::librerouter-hosting-prod`,
    props: tenantNetwork === undefined ? { capacityReport: {} } : { tenantNetwork },
  });
  /** A fixed-mode tenant as the program should register it: net0 with the planned MAC, DHCP allowed. */
  const fixedTenant = (opts: { mac?: string; dhcp?: unknown; stack?: StackResource; noBlock?: boolean; group?: StackResource[] } = {}): StackResource[] => [
    opts.stack ?? stackWith({ mode: "fixed", publicMacs: { acme: MAC } }),
    { type: CLUSTER_FIREWALL, urn: URN(CLUSTER_FIREWALL, "dc", "librerouter:host:ProxmoxHost"), props: { enabled: true } },
    { type: NODE_FIREWALL, urn: URN(NODE_FIREWALL, "node", "librerouter:host:ProxmoxHost"), props: { enabled: true, nodeName: "pve1" } },
    {
      type: VM,
      urn: URN(VM, "tenant-acme-vm"),
      props: { name: "lr-acme", vmId: 1001, networkDevices: [{ ...PUBLIC, ...("mac" in opts ? (opts.mac === undefined ? {} : { macAddress: opts.mac }) : { macAddress: MAC }) }, PRIVATE] },
    },
    { type: FW_OPTIONS, urn: URN(FW_OPTIONS, "tenant-acme-firewall"), props: { vmId: 1001, enabled: true, macfilter: true, ipfilter: true, dhcp: "dhcp" in opts ? opts.dhcp : true, radv: false } },
    { type: FW_IPSET, urn: URN(FW_IPSET, "tenant-acme-ipfilter"), props: { vmId: 1001, name: "ipfilter-net0", cidrs: [{ name: "192.0.2.10" }] } },
    ...(opts.noBlock ? [] : [...(opts.group ?? [GROUP]), { type: FW_RULES, urn: URN(FW_RULES, "tenant-acme-firewall-rules"), props: { vmId: 1001, rules: [{ securityGroup: "lr-tenant-wan", iface: "net0" }] } }]),
  ];
  const DROP = { type: "out", action: "DROP", proto: "udp" };
  const GROUP: StackResource = { type: FW_GROUP, urn: URN(FW_GROUP, "tenants-wan-group"), props: { name: "lr-tenant-wan", rules: [{ ...DROP, sport: "67" }, { ...DROP, dport: "68" }] } };
  const NO_BLOCK =
    'tenant VM "lr-acme" net0 sends DHCP server traffic unfiltered (tenantNetwork.mode fixed: dhcp is on, so nothing stops the tenant\'s own DHCP server answering the other tenants): add a firewall RulesLegacy for vmId 1001 with a securityGroup rule on net0 naming a group that drops out udp sport 67 and dport 68';
  test("fixed: no rule set putting net0 in the rogue-DHCP group is refused", () => expect(antiSpoofViolations(fixedTenant({ noBlock: true }))).toEqual([NO_BLOCK]));
  test("fixed: a group that drops only one of the two directions does not count", () => {
    const half = { ...GROUP, props: { ...GROUP.props, rules: [{ ...DROP, sport: "67" }] } };
    expect(antiSpoofViolations(fixedTenant({ group: [half] }))).toEqual([NO_BLOCK]);
  });
  test("fixed: the rule set naming the group on another NIC does not count", () => {
    const rs = fixedTenant().map((r) => (r.type === FW_RULES ? { ...r, props: { ...r.props, rules: [{ securityGroup: "lr-tenant-wan", iface: "net1" }] } } : r));
    expect(antiSpoofViolations(rs)).toEqual([NO_BLOCK]);
  });
  const DHCP_OFF_IN_FIXED =
    'tenant VM "lr-acme" firewall options: dhcp must be true (tenantNetwork.mode fixed: the router takes its public address by DHCP, and with ipfilter on pve-firewall drops its DHCPDISCOVER from 0.0.0.0 unless dhcp lets it through); got false';
  const wrongMac = (got: string) =>
    `tenant VM "lr-acme" net0 must have macAddress ${MAC}, its planned MAC (tenantNetwork.mode fixed: the services VM's DHCP reservation hands the public address to that MAC, and macfilter admits only the NIC's MAC); got ${got}`;

  test("fixed: the planned MAC on net0 and dhcp on pass", () => expect(antiSpoofViolations(fixedTenant())).toEqual([]));
  test("fixed: the MAC compares case-insensitively (Proxmox shows it upper-case)", () => expect(antiSpoofViolations(fixedTenant({ mac: MAC.toUpperCase() }))).toEqual([]));
  test("fixed: dhcp off is refused", () => expect(antiSpoofViolations(fixedTenant({ dhcp: false }))).toEqual([DHCP_OFF_IN_FIXED]));
  test("fixed: dhcp not set is refused (Proxmox's default is on, but the program must say it)", () => {
    expect(antiSpoofViolations(fixedTenant({ dhcp: undefined }))).toEqual([DHCP_OFF_IN_FIXED.replace(/got false$/, "got nothing")]);
  });
  test("fixed: net0 without a MAC (Proxmox would pick a random one) is refused", () => expect(antiSpoofViolations(fixedTenant({ mac: undefined }))).toEqual([wrongMac("nothing")]));
  test("fixed: another MAC on net0 is refused", () => expect(antiSpoofViolations(fixedTenant({ mac: "02:00:00:00:00:01" }))).toEqual([wrongMac('"02:00:00:00:00:01"')]));
  test("fixed: the planned MAC on net1 instead of net0 does not count", () => {
    const rs = fixedTenant({ mac: undefined }).map((r) => (r.type === VM ? { ...r, props: { ...r.props, networkDevices: [PUBLIC, { ...PRIVATE, macAddress: MAC }] } } : r));
    expect(antiSpoofViolations(rs)).toEqual([wrongMac("nothing")]);
  });
  test("fixed: a tenant the output has no MAC for is refused", () => {
    expect(antiSpoofViolations(fixedTenant({ stack: stackWith({ mode: "fixed", publicMacs: { beta: MAC } }) }))).toEqual([
      'tenant VM "lr-acme": the "tenantNetwork" output has no planned MAC for tenant "acme" (publicMacs.acme); index.ts must export every tenant\'s TenantPlan.publicMac',
    ]);
  });
  test("distinct: dhcp on is refused and net0's MAC is not checked (nothing changes in distinct mode)", () => {
    const distinct = stackWith({ mode: "distinct" });
    expect(antiSpoofViolations(fixedTenant({ stack: distinct, dhcp: false, mac: "02:00:00:00:00:01" }))).toEqual([]);
    expect(antiSpoofViolations(fixedTenant({ stack: distinct, mac: undefined }))).toEqual([
      'tenant VM "lr-acme" firewall options: dhcp must be false (tenantNetwork.mode distinct: the router\'s address is static, and dhcp would let DHCP client traffic from 0.0.0.0 past ipfilter for nothing); got true',
    ]);
  });
  test("no mode output fails closed; the mode-free checks still run", () => {
    expect(antiSpoofViolations(fixedTenant({ stack: stackWith(undefined), mac: undefined }).map((r) => (r.type === FW_OPTIONS ? { ...r, props: { ...r.props, macfilter: false } } : r)))).toEqual([
      'the stack exports no "tenantNetwork" output; index.ts must export { mode, publicMacs } (tenantNetwork.mode, each tenant\'s planned public MAC in fixed mode) so the policy knows which anti-spoofing options the tenants need',
      'tenant VM "lr-acme" firewall options: macfilter must be true (the tenant can send with any MAC); got false',
    ]);
    expect(antiSpoofViolations(fixedTenant().filter((r) => r.type !== STACK))).toEqual([expect.stringMatching(/^the stack exports no "tenantNetwork" output;/)]);
  });
  test("an output with an unknown mode, or fixed without MACs, is refused", () => {
    expect(antiSpoofViolations(fixedTenant({ stack: stackWith({ mode: "shared" }) }))).toEqual(['the "tenantNetwork" output has mode "shared"; expected "distinct" or "fixed"']);
    expect(antiSpoofViolations(fixedTenant({ stack: stackWith({ mode: "fixed" }) }))).toEqual([
      'the "tenantNetwork" output has mode "fixed" but no publicMacs (tenant key → planned MAC); index.ts must export them',
    ]);
  });
});

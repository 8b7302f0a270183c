/** H1 policies: a tenant NIC on the public bridge without Proxmox's anti-spoofing is refused, with the fix named. */
import { antiSpoofViolations, tenantNicViolations, type StackResource } from "../../policy/antispoof";
import { CLUSTER_FIREWALL, FW_IPSET, FW_OPTIONS, NODE_FIREWALL, VM } from "../../policy/resource-types";

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
    { type: CLUSTER_FIREWALL, urn: URN(CLUSTER_FIREWALL, "dc", "librerouter:host:ProxmoxHost"), props: { enabled: true } },
    { type: NODE_FIREWALL, urn: URN(NODE_FIREWALL, "node", "librerouter:host:ProxmoxHost"), props: { enabled: true, nodeName: "pve1" } },
    { type: VM, urn: URN(VM, "tenant-acme-vm"), props: { name: "lr-acme", vmId: 1001 } },
    { type: FW_OPTIONS, urn: URN(FW_OPTIONS, "tenant-acme-firewall"), props: { vmId: 1001, enabled: true, macfilter: true, ipfilter: true, dhcp: false, radv: false } },
    { type: FW_IPSET, urn: URN(FW_IPSET, "tenant-acme-ipfilter"), props: { vmId: 1001, name: "ipfilter-net0", cidrs: [{ name: "192.0.2.10" }] } },
  ];
  const without = (type: string) => good.filter((r) => r.type !== type);
  const patch = (type: string, props: Record<string, unknown>) => good.map((r) => (r.type === type ? { ...r, props: { ...r.props, ...props } } : r));

  test("a complete tenant passes", () => expect(antiSpoofViolations(good)).toEqual([]));
  test("no tenant VM, nothing to check", () => expect(antiSpoofViolations(without(VM).filter((r) => r.type !== CLUSTER_FIREWALL))).toEqual([]));
  test("datacenter or node firewall off or missing", () => {
    expect(antiSpoofViolations(without(CLUSTER_FIREWALL))).toEqual([expect.stringMatching(/^the datacenter firewall is not enabled/)]);
    expect(antiSpoofViolations(patch(NODE_FIREWALL, { enabled: false }))).toEqual([expect.stringMatching(/^the node firewall is not enabled/)]);
  });
  test("missing options, and each weak option by name", () => {
    expect(antiSpoofViolations(without(FW_OPTIONS))).toEqual([expect.stringContaining('tenant VM "lr-acme" (vmId 1001) has no firewall options resource')]);
    expect(antiSpoofViolations(patch(FW_OPTIONS, { macfilter: false, radv: true, dhcp: undefined }))).toEqual([
      'tenant VM "lr-acme" firewall options: macfilter must be true (the tenant can send with any MAC); got false',
      'tenant VM "lr-acme" firewall options: dhcp must be false (the tenant may run a DHCP server on the public bridge); got nothing',
      'tenant VM "lr-acme" firewall options: radv must be false (the tenant may send router advertisements); got true',
    ]);
  });
  test("an IP set with another name, another VM's, or an empty one does not count", () => {
    for (const bad of [patch(FW_IPSET, { name: "ipfilter-net1" }), patch(FW_IPSET, { vmId: 1002 }), patch(FW_IPSET, { cidrs: [] })]) {
      expect(antiSpoofViolations(bad)).toEqual([expect.stringContaining('tenant VM "lr-acme" has no ipfilter-net0 IP set')]);
    }
  });
});

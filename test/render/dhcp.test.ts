/** The tenant DHCP's rendered files: one reservation per tenant from its plan, nothing from outside the plan. */
import { buildPlan } from "../../plan/build";
import type { Plan } from "../../plan/types";
import { PRODUCTION_DHCP_LAYOUT, dhcpScripts, renderDhcpConfig, renderReservation } from "../../render/dhcp";
import { twoTenantPlan } from "./dataplane/fixture";

const plan = twoTenantPlan();

test("a reservation is the tenant's MAC, public IP, key as host name and the lease time", () => {
  const [acme] = plan.tenants;
  expect(renderReservation(acme)).toBe(`${acme.publicMac},${acme.publicIp},acme,3600\n`);
  expect(() => renderReservation({ ...acme, publicMac: "02:00:00:00:00:01\ndhcp-range=0.0.0.0" })).toThrow("tenant acme: not a MAC");
});

test("the config serves only the plan's pools, DHCP only, and hands out the services VM as resolver", () => {
  const conf = renderDhcpConfig(plan, PRODUCTION_DHCP_LAYOUT);
  expect(conf.split("\n").filter((l) => /^(?:dhcp-range|dhcp-option|shared-network|port|listen-address)=/.test(l))).toEqual([
    "port=0",
    `listen-address=${plan.services.publicIp}`,
    "dhcp-range=set:pool0,192.0.2.0,static,255.255.255.0,3600",
    "dhcp-option=tag:pool0,option:router,192.0.2.1",
    `dhcp-option=option:dns-server,${plan.services.publicIp}`,
  ]);
  const outside: Plan = { ...plan, services: { ...plan.services, publicIp: "203.0.113.9" } };
  expect(() => renderDhcpConfig(outside, PRODUCTION_DHCP_LAYOUT)).toThrow("the services VM's public address 203.0.113.9 is in no public pool");
});

test("adding a tenant adds its one reservation file and changes nothing else the script writes", () => {
  const more = buildPlan(
    {
      profile: "minimal",
      proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
      network: { publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }], reverseDnsDomain: "tenants.example.net" },
      vpn: { hostnames: ["vpn1.example.net", "vpn2.example.net"] },
      tenants: { acme: { slot: 1, hardwareId: plan.tenants[0].hardwareId }, "coop-sur": { slot: 2 }, zeta: { slot: 3 } },
    },
    "golden",
  );
  const lines = (p: Plan) => new Set(dhcpScripts(p).apply.split("\n"));
  const added = [...lines(more)].filter((l) => !lines(plan).has(l));
  const removed = [...lines(plan)].filter((l) => !lines(more).has(l));
  // The reservation's write (path line + base64 line), the keep list and the count in the summary line.
  expect(added.filter((l) => l.startsWith("lr_write "))).toEqual([`lr_write '/etc/librerouter/dhcp/hosts/zeta' 0644 root:root <<'LR_B64'`]);
  expect(removed.filter((l) => l.startsWith("lr_write "))).toEqual([]);
  expect(removed).toEqual(["KEEP=(acme coop-sur)", expect.stringMatching(/^printf 'dhcp: %s reservations/)]);
});

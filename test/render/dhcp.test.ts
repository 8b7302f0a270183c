/**
 * The tenant DHCP's rendered files: one reservation per tenant from its plan, nothing from outside the plan; the
 * server's setup carries no tenant, so adding or removing one leaves its text (the shared command's input) as it is.
 */
import { buildPlan } from "../../plan/build";
import type { Plan } from "../../plan/types";
import { PRODUCTION_DHCP_LAYOUT, dhcpReservationScripts, dhcpSetupScripts, renderDhcpConfig, renderReservation } from "../../render/dhcp";
import { shellcheck } from "../tools/shellcheck";
import { twoTenantPlan } from "./dataplane/fixture";

const plan = twoTenantPlan();
const [acme, coop] = plan.tenants;

/** The fixture with a third tenant, zeta (slot 3). */
const withZeta = (): Plan =>
  buildPlan(
    {
      profile: "minimal",
      proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
      network: { publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }], reverseDnsDomain: "tenants.example.net" },
      vpn: { hostnames: ["vpn1.example.net", "vpn2.example.net"] },
      tenants: { acme: { slot: 1, hardwareId: acme.hardwareId }, "coop-sur": { slot: 2 }, zeta: { slot: 3 } },
    },
    "golden",
  );

test("a reservation is the tenant's MAC, public IP, key as host name and the lease time", () => {
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

test("adding a tenant: the server's setup is byte for byte the same, the other tenants' reservations too; the new one writes its own line", () => {
  const more = withZeta();
  expect(dhcpSetupScripts(more)).toEqual(dhcpSetupScripts(plan));
  expect(dhcpSetupScripts(plan).apply).not.toContain(acme.publicMac);
  for (const t of plan.tenants) expect(dhcpReservationScripts(more, more.tenants.find((x) => x.key === t.key)!)).toEqual(dhcpReservationScripts(plan, t));
  const zeta = more.tenants[2];
  expect(dhcpReservationScripts(more, zeta).apply).toContain(`\nf='/etc/librerouter/dhcp/hosts/zeta'\nnew='/etc/librerouter/dhcp/hosts/.zeta.lrnew'\n`);
  expect(dhcpReservationScripts(more, zeta).apply).toContain(`\nprintf '%s\\n' '${zeta.publicMac},${zeta.publicIp},zeta,3600' >"$new"\n`);
  expect(dhcpReservationScripts(more, zeta).delete).toContain("\nf='/etc/librerouter/dhcp/hosts/zeta'\n");
});

test("the reservation is staged as a dotfile (dnsmasq's inotify skips those) and the server's setup writes no reservation", () => {
  const { apply } = dhcpReservationScripts(plan, coop);
  expect(apply.indexOf(`>"$new"`)).toBeLessThan(apply.indexOf(`mv -f -- "$new" "$f"`));
  expect(apply).not.toContain("lr_write");
  expect(dhcpSetupScripts(plan).apply).not.toContain(PRODUCTION_DHCP_LAYOUT.hostsDir + "/");
});

test("a key that could escape the reservation directory or hide as a dotfile is refused", () => {
  expect(() => dhcpReservationScripts(plan, { ...acme, key: "../x" })).toThrow('tenant "../x": not a tenant key, cannot name its DHCP reservation file');
  expect(() => dhcpReservationScripts(plan, { ...acme, key: ".x" })).toThrow('tenant ".x": not a tenant key');
});

test("every script (setup, reservation) is shellcheck-clean", () => {
  const s = dhcpSetupScripts(plan);
  const r = dhcpReservationScripts(plan, acme);
  for (const script of [s.apply, s.delete, r.apply, r.delete]) expect(shellcheck(script)).toEqual({ ok: true, report: "" });
});

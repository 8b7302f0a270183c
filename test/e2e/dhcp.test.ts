/**
 * The rendered tenant DHCP, run for real: the apply script, then dnsmasq exactly as the unit starts it, in a
 * services namespace on a bridge with client namespaces running busybox's udhcpc (OpenWrt's DHCP client, which
 * a LibreRouter runs on its WAN):
 *   srv 192.0.2.5 ─ sw (bridge) ─ acme (its MAC), beta (its MAC, second pool), stranger (unknown MAC)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { buildPlan } from "../../plan/build";
import { type Fixture, baseConfig, withChange } from "../config/fixture";
import type { TenantPlan } from "../../plan/types";
import { DHCP_UNIT, type DhcpLayout, dhcpScripts, renderDhcpConfig } from "../../render/dhcp";
import { must, sh } from "../tools/netns-shell";

const P = `lrt-dhcp-${process.pid}`;
const NS = { sw: `${P}-sw`, srv: `${P}-srv`, acme: `${P}-acme`, beta: `${P}-beta`, stranger: `${P}-x` };
const DIR = `/tmp/${P}`;
const layout: DhcpLayout = { conf: `${DIR}/etc/dnsmasq.conf`, hostsDir: `${DIR}/etc/hosts.d`, leaseFile: `${DIR}/lib/dhcp.leases`, pidFile: `${DIR}/dnsmasq.pid`, systemdDir: `${DIR}/systemd` };

/** The config fixture's two /24 pools with only `tenants`. */
const config = (tenants: Fixture["tenants"]) =>
  withChange(baseConfig(), (c) => {
    c.tenants = tenants;
    c.numberedTenants = { count: 0 };
  });
const plan = buildPlan(config({ acme: { slot: 1 }, beta: { slot: 2, publicIp: "198.51.100.20" } }), "dhcp");
const [acme, beta] = plan.tenants;

const host = (cmd: string) => {
  const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} → ${r.status}: ${r.stderr}`);
};

/** udhcpc's script: on `bound`, print what the server handed out; the client configures nothing. */
const UDHCPC_SCRIPT = `#!/bin/sh
[ "$1" = bound ] && printf 'ip=%s mask=%s router=%s dns=%s lease=%s\\n' "$ip" "$subnet" "$router" "$dns" "$lease"
exit 0
`;
/** One DHCP exchange from `ns` (3 discovers, 1 s apart); what the server offered, or "" when nothing answered. */
const lease = (ns: string) => sh(ns, `busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -A 1 -s ${DIR}/udhcpc.sh 2>/dev/null`).out.trim();
const expected = (t: TenantPlan) => `ip=${t.publicIp} mask=255.255.255.0 router=${t.publicGateway} dns=${plan.services.publicIp} lease=3600`;

/** dnsmasq as the unit's ExecStartPre and ExecStart run it (it daemonizes; its pid file is ours). */
function startServer(): void {
  const unit = readFileSync(`${layout.systemdDir}/${DHCP_UNIT}`, "utf8");
  for (const key of ["ExecStartPre=", "ExecStart="]) must(NS.srv, unit.split("\n").find((l) => l.startsWith(key))!.slice(key.length));
}
/** The unit's ExecReload, with systemd's $MAINPID. */
function reloadServer(): void {
  const unit = readFileSync(`${layout.systemdDir}/${DHCP_UNIT}`, "utf8");
  const cmd = unit.split("\n").find((l) => l.startsWith("ExecReload="))!.slice("ExecReload=".length);
  must(NS.srv, cmd.replace("$MAINPID", readFileSync(layout.pidFile, "utf8").trim()));
  spawnSync("sleep", ["0.3"]);
}
function stopServer(): void {
  must(NS.srv, `kill "$(cat ${layout.pidFile})"; while kill -0 "$(cat ${layout.pidFile})" 2>/dev/null; do sleep 0.1; done`);
}

beforeAll(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}/udhcpc.sh`, UDHCPC_SCRIPT, { mode: 0o755 });
  for (const ns of Object.values(NS)) host(`ip netns add ${ns}`);
  must(NS.sw, "ip link add br0 type bridge && ip link set br0 up");
  const clients: [string, string][] = [
    [NS.srv, "02:4c:52:00:00:05"],
    [NS.acme, acme.publicMac],
    [NS.beta, beta.publicMac],
    [NS.stranger, "02:4c:52:99:99:99"],
  ];
  clients.forEach(([ns, mac], i) => {
    host(`ip link add p${i}-${process.pid} netns ${NS.sw} type veth peer name eth0 netns ${ns}`);
    must(NS.sw, `ip link set p${i}-${process.pid} master br0 up`);
    must(ns, `ip link set eth0 address ${mac} && ip link set eth0 up && ip link set lo up`);
  });
  must(NS.srv, `ip addr add ${plan.services.publicIp}/24 dev eth0`);
}, 60_000);

afterAll(() => {
  sh(NS.srv, `[ -f ${layout.pidFile} ] && kill "$(cat ${layout.pidFile})"`);
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  rmSync(DIR, { recursive: true, force: true });
});

test("the config dnsmasq gets: DHCP only, on the services address, reservations only, both pools", () => {
  const conf = renderDhcpConfig(plan, layout);
  expect(conf).toContain("\nport=0\nlisten-address=192.0.2.5\nbind-interfaces\n");
  expect(conf).toContain("\ndhcp-ignore=tag:!known\n");
  expect(conf).toContain("\ndhcp-range=set:pool0,192.0.2.0,static,255.255.255.0,3600\ndhcp-option=tag:pool0,option:router,192.0.2.1\n");
  expect(conf).toContain("\nshared-network=192.0.2.5,198.51.100.0\ndhcp-range=set:pool1,198.51.100.0,static,255.255.255.0,3600\n");
  const script = dhcpScripts(plan, layout).apply;
  expect(spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" }).stdout).toBe("");
});

test("apply, start: each tenant's MAC gets its address, gateway and resolver, in either pool; an unknown MAC gets nothing", () => {
  expect(must(NS.srv, "LR_SERVICES=none bash -s", dhcpScripts(plan, layout).apply)).toBe("dhcp: 2 reservations, 4 files changed, restart: yes, reload: no\n");
  startServer();
  expect(lease(NS.acme)).toBe(expected(acme));
  expect(lease(NS.beta)).toBe(expected(beta));
  expect(lease(NS.stranger)).toBe("");
  expect(readFileSync(layout.leaseFile, "utf8")).toMatch(new RegExp(`^\\d+ ${acme.publicMac} ${acme.publicIp} acme `, "m"));
}, 60_000);

test("restarting the server keeps every lease, and the same address comes back", () => {
  const before = readFileSync(layout.leaseFile, "utf8");
  stopServer();
  startServer();
  expect(readFileSync(layout.leaseFile, "utf8")).toBe(before);
  expect(lease(NS.acme)).toBe(expected(acme));
}, 60_000);

test("a new tenant is served without a restart (inotify); a removed one gets nothing after the reload (SIGHUP, same process); apply twice changes nothing", () => {
  const pid = readFileSync(layout.pidFile, "utf8");
  const three = buildPlan(config({ acme: { slot: 1 }, beta: { slot: 2, publicIp: "198.51.100.20" }, gamma: { slot: 3, publicMac: "02:4c:52:99:99:99" } }), "dhcp");
  expect(must(NS.srv, "LR_SERVICES=none bash -s", dhcpScripts(three, layout).apply)).toBe("dhcp: 3 reservations, 1 files changed, restart: no, reload: no\n");
  const gamma = three.tenants[2];
  // The "stranger" namespace has gamma's MAC: it is a tenant now.
  expect(lease(NS.stranger)).toBe(`ip=${gamma.publicIp} mask=255.255.255.0 router=192.0.2.1 dns=192.0.2.5 lease=3600`);
  expect(must(NS.srv, "LR_SERVICES=none bash -s", dhcpScripts(plan, layout).apply)).toBe("dhcp: 2 reservations, 1 files changed, restart: no, reload: yes\n");
  reloadServer(); // what systemctl reload does
  expect(lease(NS.stranger)).toBe("");
  expect(lease(NS.acme)).toBe(expected(acme));
  expect(must(NS.srv, "LR_SERVICES=none bash -s", dhcpScripts(plan, layout).apply)).toBe("dhcp: 2 reservations, 0 files changed, restart: no, reload: no\n");
  expect(readFileSync(layout.pidFile, "utf8")).toBe(pid);
}, 60_000);

test("delete removes config, reservations and unit; the leases stay for a later re-apply", () => {
  stopServer();
  expect(must(NS.srv, "LR_SERVICES=none bash -s", dhcpScripts(plan, layout).delete)).toBe(`dhcp: removed (leases kept in ${layout.leaseFile})\n`);
  expect(sh(NS.srv, `ls ${layout.conf} ${layout.hostsDir} ${layout.systemdDir}/${DHCP_UNIT}`).code).not.toBe(0);
  expect(readFileSync(layout.leaseFile, "utf8")).toContain(acme.publicMac);
});

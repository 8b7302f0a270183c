/**
 * The rendered tenant DHCP, run for real as the program runs it: the server's setup script, then each tenant's own
 * reservation script (separate commands in the program), dnsmasq exactly as the unit starts it, in a services
 * namespace on a bridge with client namespaces running busybox's udhcpc (OpenWrt's DHCP client, which a
 * LibreRouter runs on its WAN):
 *   srv 192.0.2.5 ─ sw (bridge) ─ acme (its MAC), beta (its MAC, second pool), stranger (unknown MAC)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { buildPlan } from "../../plan/build";
import { type Fixture, baseConfig, withChange } from "../config/fixture";
import type { Plan, TenantPlan } from "../../plan/types";
import { DHCP_UNIT, type DhcpLayout, dhcpReservationScripts, dhcpSetupScripts, renderDhcpConfig } from "../../render/dhcp";
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
  const line = (key: string) => unit.split("\n").find((l) => l.startsWith(key))!.slice(key.length);
  must(NS.srv, line("ExecStartPre="));
  must(NS.srv, `${line("ExecStart=")} --log-facility=${LOG}`);
}
/** The unit's ExecReload, with systemd's $MAINPID. */
function reloadServer(): void {
  const unit = readFileSync(`${layout.systemdDir}/${DHCP_UNIT}`, "utf8");
  const cmd = unit.split("\n").find((l) => l.startsWith("ExecReload="))!.slice("ExecReload=".length);
  must(NS.srv, cmd.replace("$MAINPID", readFileSync(layout.pidFile, "utf8").trim()));
  spawnSync("sleep", ["0.3"]);
}
/** A script as the services VM's command runs it, files only (LR_SERVICES=none: the test plays systemd's part). */
const run = (script: string) => must(NS.srv, "LR_SERVICES=none bash -s", script);
const reservation = (p: Plan, t: TenantPlan) => dhcpReservationScripts(p, t, layout);
/** The stranger's MAC, which becomes gamma's; and gamma's next one. */
const OLD_MAC = "02:4c:52:99:99:99";
const NEW_MAC = "02:4c:52:99:99:98";
const setMac = (m: string) => must(NS.stranger, `ip link set eth0 down && ip link set eth0 address ${m} && ip link set eth0 up`);
/** dnsmasq's own log (the test's addition to the unit's command line): which files it read. */
const LOG = `${DIR}/dnsmasq.log`;

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
    [NS.stranger, OLD_MAC],
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
});

test("setup, each reservation, start: each tenant's MAC gets its address, gateway and resolver, in either pool; an unknown MAC gets nothing", () => {
  expect(run(dhcpSetupScripts(plan, layout).apply)).toBe("dhcp: server, 2 files changed, restart: yes\n");
  expect(run(reservation(plan, acme).apply)).toBe("dhcp: acme added, reload: no, old lease released: no\n");
  expect(run(reservation(plan, beta).apply)).toBe("dhcp: beta added, reload: no, old lease released: no\n");
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

test("a new tenant: its own script only, served without a restart (inotify), and dnsmasq never reads the staged dotfile; the setup with it is the same text", () => {
  const pid = readFileSync(layout.pidFile, "utf8");
  const three = buildPlan(config({ acme: { slot: 1 }, beta: { slot: 2, publicIp: "198.51.100.20" }, gamma: { slot: 3, publicMac: OLD_MAC } }), "dhcp");
  expect(dhcpSetupScripts(three, layout)).toEqual(dhcpSetupScripts(plan, layout));
  const gamma = three.tenants[2];
  expect(run(reservation(three, gamma).apply)).toBe("dhcp: gamma added, reload: no, old lease released: no\n");
  // The "stranger" namespace has gamma's MAC: it is a tenant now.
  expect(lease(NS.stranger)).toBe(`ip=${gamma.publicIp} mask=255.255.255.0 router=192.0.2.1 dns=192.0.2.5 lease=3600`);
  expect(readFileSync(LOG, "utf8")).toContain(`read ${layout.hostsDir}/gamma\n`);
  expect(readFileSync(LOG, "utf8")).not.toContain(".lrnew");
  expect(run(reservation(three, gamma).apply)).toBe("dhcp: gamma unchanged, reload: no, old lease released: no\n");
  expect(readFileSync(layout.pidFile, "utf8")).toBe(pid);
}, 60_000);

test("a changed MAC (gamma's router gets a new NIC): after the reload its apply asks for (SIGHUP, same process) the old MAC gets nothing and the new one the address at once, its old lease released", () => {
  const pid = readFileSync(layout.pidFile, "utf8");
  const withMac = (mac: string) => buildPlan(config({ acme: { slot: 1 }, beta: { slot: 2, publicIp: "198.51.100.20" }, gamma: { slot: 3, publicMac: mac } }), "dhcp");
  const [gamma, moved] = [withMac(OLD_MAC), withMac(NEW_MAC)].map((p) => p.tenants[2]);
  const served = `ip=${gamma.publicIp} mask=255.255.255.0 router=192.0.2.1 dns=192.0.2.5 lease=3600`;
  expect(run(reservation(plan, moved).apply)).toBe("dhcp: gamma changed, reload: yes, old lease released: yes\n");
  reloadServer(); // what systemctl try-reload-or-restart does with the running unit
  expect(lease(NS.stranger)).toBe("");
  setMac(NEW_MAC);
  expect(lease(NS.stranger)).toBe(served);
  // Control: the same change back, its release made a no-op: the new MAC gets nothing while the old one holds the lease.
  const noRelease = reservation(plan, gamma).apply.replace("\n  /usr/bin/dhcp_release ", "\n  : /usr/bin/dhcp_release ");
  expect(run(noRelease)).toBe("dhcp: gamma changed, reload: yes, old lease released: yes\n");
  reloadServer();
  setMac(OLD_MAC);
  expect(lease(NS.stranger)).toBe("");
  must(NS.srv, `/usr/bin/dhcp_release eth0 ${gamma.publicIp} ${NEW_MAC}`);
  expect(lease(NS.stranger)).toBe(served);
  expect(readFileSync(layout.pidFile, "utf8")).toBe(pid);
}, 60_000);

test("a removed tenant: its own delete and the reload it asks for; it gets nothing after, the others keep theirs", () => {
  const pid = readFileSync(layout.pidFile, "utf8");
  const moved = buildPlan(config({ acme: { slot: 1 }, beta: { slot: 2, publicIp: "198.51.100.20" }, gamma: { slot: 3, publicMac: OLD_MAC } }), "dhcp");
  expect(run(reservation(moved, moved.tenants[2]).delete)).toBe("dhcp: gamma removed, reload: yes\n");
  reloadServer();
  expect(lease(NS.stranger)).toBe("");
  expect(lease(NS.acme)).toBe(expected(acme));
  expect(lease(NS.beta)).toBe(expected(beta));
  expect(run(reservation(moved, moved.tenants[2]).delete)).toBe("dhcp: gamma removed, reload: no\n");
  expect(run(dhcpSetupScripts(plan, layout).apply)).toBe("dhcp: server, 0 files changed, restart: no\n");
  expect(readFileSync(layout.pidFile, "utf8")).toBe(pid);
}, 60_000);

test("delete of the server removes config, reservations and unit; the leases stay for a later re-apply", () => {
  stopServer();
  expect(run(dhcpSetupScripts(plan, layout).delete)).toBe(`dhcp: removed (leases kept in ${layout.leaseFile})\n`);
  expect(sh(NS.srv, `ls ${layout.conf} ${layout.hostsDir} ${layout.systemdDir}/${DHCP_UNIT}`).code).not.toBe(0);
  expect(readFileSync(layout.leaseFile, "utf8")).toContain(acme.publicMac);
});

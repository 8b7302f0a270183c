/**
 * The rendered setup script, tenant scripts and lr-dataplane, run for real (root) in network namespaces:
 *   ca, cb ─ sw (bridge) ─ tun-udp ┐            ┌ vl101 ─ lr1 (10.0.1.1, "internet" 10.99.99.99 → "lr1")
 *   ct ──────────────────── tun-tcp ┤   vpn    ├ vl102 ─ lr2 (10.0.2.1, same address → "lr2")
 *                                   └          └ eth2 ─ host vmbr2 192.168.100.10 (:6001 "vnc-acme", :6002 "vnc-coop", :22, :8006)
 *                                                            ├ svc 192.168.100.13 (the services VM)
 *                                       wan 203.0.113.2 ─ host eth0 203.0.113.1 (the public side)
 * Veths stand in for tun devices and VLAN links (no 8021q on this kernel); clients use /32 + onlink like a tun.
 * The trunk starts as a fresh VM has it: `ens19`, down, with the MAC the setup script is given.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dataplaneToolPath, filterRules } from "../../render/dataplane";
import { HOST_FIREWALL_UNIT, hostConsoleFirewallScripts, hostFirewallToolPath } from "../../render/host-console";
import type { ServerLayout } from "../../render/layout";
import { ipRuleShowLine } from "../../render/routing";
import { serverRules } from "../tools/routing-walk";
import { renderServerSetupScript } from "../../render/server-setup";
import { certFingerprint } from "../../render/pki-profile";
import { tenantServerScripts } from "../../render/tenant-scripts";
import { trunkNicFiles } from "../../render/trunk-nic";
import { twoTenantPlan } from "../render/dataplane/fixture";
import { must, sh } from "../tools/netns-shell";

const P = `lrt-dp-${process.pid}`;
const NS = { vpn: `${P}-vpn`, sw: `${P}-sw`, ca: `${P}-ca`, cb: `${P}-cb`, ct: `${P}-ct`, lr1: `${P}-lr1`, lr2: `${P}-lr2`, host: `${P}-host`, svc: `${P}-svc`, wan: `${P}-wan` };
const DIR = `/tmp/${P}`;
const layout: ServerLayout = {
  openvpnDir: `${DIR}/openvpn`,
  runDir: `${DIR}/run`,
  stateDir: `${DIR}/state`,
  confDir: `${DIR}/conf`,
  systemdDir: `${DIR}/systemd`,
  networkLinkDir: `${DIR}/systemd-network`,
  ifupdownDir: `${DIR}/interfaces.d`,
  ifaces: { public: "eth0", trunk: "eth1", mgmt: "eth2" },
};
const hostLayout = { snippetsDir: `${DIR}/snippets`, confDir: `${DIR}/hostconf`, systemdDir: `${DIR}/hostsystemd` };
const TRUNK_MAC = "02:4c:52:00:00:01";
const plan = twoTenantPlan();
const server = plan.servers[0];
const [acme, coop] = plan.tenants;
const procs: ChildProcess[] = [];
/** A placeholder certificate: the pin is the SHA-256 of its bytes; no OpenVPN runs in this suite. */
const CERT_PEM = "-----BEGIN CERTIFICATE-----\nRTJFQ0VSVA==\n-----END CERTIFICATE-----\n";
/** The tls-crypt-v2 key id the apply script pins (render/tls-crypt-v2.ts clientKeyId). */
const TC2_ID = "0123456789abcdef";
const scripts = (t: (typeof plan.tenants)[number]) => tenantServerScripts(plan, server, t, layout, CERT_PEM, TC2_ID);

function bg(ns: string, args: string[]): void {
  procs.push(spawn("ip", ["netns", "exec", ns, ...args], { stdio: "ignore" }));
}
/** One TCP exchange from `ns` bound to `src`; "" when it does not connect in 0.5 s. */
function probe(ns: string, src: string, dst: string, port: number): string {
  return sh(ns, `/usr/bin/socat -T1 - TCP:${dst}:${port},bind=${src},connect-timeout=0.5 </dev/null 2>/dev/null`).out.trim();
}
function state(): { rules: string; routes: string; ipt: string } {
  return {
    rules: must(NS.vpn, "ip -N rule show"),
    routes: must(NS.vpn, "ip -4 route show table all | grep -v 'table local' || true"),
    ipt: must(NS.vpn, "iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]/[0:0]/'"),
  };
}
const expectedRules = (tenants: typeof plan.tenants) => ["0:\tfrom all lookup 255", ...serverRules(server, tenants).map(ipRuleShowLine), ""].join("\n");
const tool = (args: string) => must(NS.vpn, `${dataplaneToolPath(layout)} ${args}`);
const setupScript = () =>
  renderServerSetupScript(plan, server, layout, [{ path: `${layout.openvpnDir}/pki/server.key`, mode: "0600", content: "-----BEGIN PRIVATE KEY-----\nE2ESECRET\n-----END PRIVATE KEY-----\n" }], { trunkMac: TRUNK_MAC.toUpperCase() });
let setupOut = "";

beforeAll(() => {
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "add", ns]);
  mkdirSync(`/etc/netns/${NS.vpn}/iproute2/rt_tables.d`, { recursive: true });
  const link = (a: string, ia: string, b: string, ib: string) => spawnSync("ip", ["link", "add", ia, "netns", a, "type", "veth", "peer", "name", ib, "netns", b]);
  link(NS.vpn, "tun-udp", NS.sw, "up0");
  link(NS.ca, "c0", NS.sw, "pa");
  link(NS.cb, "c0", NS.sw, "pb");
  link(NS.vpn, "tun-tcp", NS.ct, "c0");
  link(NS.vpn, "vl101", NS.lr1, "lan");
  link(NS.vpn, "vl102", NS.lr2, "lan");
  link(NS.vpn, "eth2", NS.host, "mgmt");
  must(NS.vpn, `ip link add ens19 address ${TRUNK_MAC} type veth peer name ens19p && for i in lo tun-udp tun-tcp ens19p eth2; do ip link set $i up; done; ip addr add 10.255.0.1/18 dev tun-udp; ip addr add 10.255.64.1/18 dev tun-tcp; ip addr add 192.168.100.11/24 dev eth2`);
  must(NS.sw, "ip link add br0 type bridge && for i in lo br0 up0 pa pb; do ip link set $i up; done; for i in up0 pa pb; do ip link set $i master br0; done");
  const client = (ns: string, ip: string, gw: string) => must(ns, `ip link set lo up; ip link set c0 up; ip addr add ${ip}/32 dev c0; ip route add ${gw} dev c0; ip route add default via ${gw} dev c0 onlink`);
  client(NS.ca, acme.tunnelIps["vpn1-udp"], "10.255.0.1");
  client(NS.cb, coop.tunnelIps["vpn1-udp"], "10.255.0.1");
  client(NS.ct, acme.tunnelIps["vpn1-tcp"], "10.255.64.1");
  for (const [ns, t, name] of [[NS.lr1, acme, "lr1"], [NS.lr2, coop, "lr2"]] as const) {
    must(ns, `ip link set lo up; ip link set lan up; ip addr add ${t.routerIp}/24 dev lan; ip addr add 10.99.99.99/32 dev lo`);
    bg(ns, ["/usr/bin/socat", "TCP-LISTEN:8080,fork,reuseaddr", `SYSTEM:echo ${name}`]);
  }
  link(NS.svc, "eth0", NS.host, "svc");
  link(NS.wan, "eth0", NS.host, "eth0");
  must(NS.host, "ip link set lo up; ip link add vmbr2 type bridge; for i in vmbr2 mgmt svc eth0; do ip link set $i up; done; ip link set mgmt master vmbr2; ip link set svc master vmbr2");
  must(NS.host, "ip addr add 192.168.100.10/24 dev vmbr2; ip addr add fd00:4c52::10/64 dev vmbr2 nodad; ip addr add 203.0.113.1/24 dev eth0; sysctl -qw net.ipv4.ip_forward=1");
  must(NS.svc, "ip link set lo up; ip link set eth0 up; ip addr add 192.168.100.13/24 dev eth0; ip addr add fd00:4c52::13/64 dev eth0 nodad");
  // A tenant VM on the public bridge that routes the management network via the host's public address.
  must(NS.wan, "ip link set lo up; ip link set eth0 up; ip addr add 203.0.113.2/24 dev eth0; ip route add 192.168.100.0/24 via 203.0.113.1");
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:6001,bind=192.168.100.10,fork,reuseaddr", "SYSTEM:echo vnc-acme"]);
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:6002,bind=192.168.100.10,fork,reuseaddr", "SYSTEM:echo vnc-coop"]);
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:22,fork,reuseaddr", "SYSTEM:echo ssh-host"]);
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:8006,fork,reuseaddr", "SYSTEM:echo api-host"]);
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:5899,fork,reuseaddr", "SYSTEM:echo serial-host"]);
  bg(NS.host, ["/usr/bin/socat", "TCP6-LISTEN:22,ipv6only=1,fork,reuseaddr", "SYSTEM:echo ssh-host6"]);
  bg(NS.vpn, ["/usr/bin/socat", "TCP-LISTEN:22,bind=192.168.100.11,fork,reuseaddr", "SYSTEM:echo ssh-vpn1"]);
  bg(NS.cb, ["/usr/bin/socat", `TCP-LISTEN:8080,bind=${coop.tunnelIps["vpn1-udp"]},fork,reuseaddr`, "SYSTEM:echo coop-client"]);
  mkdirSync(`${DIR}/run`, { recursive: true });
  bg(NS.vpn, ["/usr/bin/socat", "-u", `UNIX-LISTEN:${DIR}/run/udp.sock,fork`, `OPEN:${DIR}/mgmt-udp.log,creat,append`]);
  setupOut = must(NS.vpn, "LR_SERVICES=none bash -s", setupScript());
  if (setupOut.includes("E2ESECRET")) throw new Error("the setup script printed the key");
  for (const t of plan.tenants) must(NS.vpn, "bash -s", scripts(t).apply);
});

afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  rmSync(`/etc/netns/${NS.vpn}`, { recursive: true, force: true });
  rmSync(DIR, { recursive: true, force: true });
});

describe("the trunk NIC, pinned by MAC", () => {
  it("the setup script renamed ens19 (the given MAC) to the layout's eth1, brought it up, and wrote the boot files", () => {
    // Nothing else printed: no "installed: …" (the packages are here, so apt never ran), no file content.
    expect(setupOut).toBe("trunk: ens19 renamed eth1\nvpn1: 9 files, 9 changed, openvpn restart: yes (none)\n");
    expect(sh(NS.vpn, "ip link show dev ens19").code).not.toBe(0);
    const link = must(NS.vpn, "ip -o link show dev eth1");
    expect(link).toMatch(/^\d+: eth1@ens19p: <BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP /);
    expect(link).toContain(` link/ether ${TRUNK_MAC} `);
    for (const f of trunkNicFiles(layout, TRUNK_MAC)) expect(readFileSync(f.path, "utf8")).toBe(f.content);
  });

  it("a second setup run renames nothing; lr-dataplane base brings a downed trunk back up", () => {
    must(NS.vpn, "ip link set dev eth1 down");
    const again = must(NS.vpn, "LR_SERVICES=none bash -s", setupScript());
    expect(again).toBe("vpn1: 9 files, 0 changed, openvpn restart: no (none)\n");
    must(NS.vpn, "ip link set dev eth1 down");
    tool("base");
    expect(must(NS.vpn, "ip -o link show dev eth1")).toMatch(/<BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP /);
  });

  it("refuses an eth1 with another MAC, and a MAC no interface has, naming the check", () => {
    const ns = `${P}-nic`;
    spawnSync("ip", ["netns", "add", ns]);
    try {
      must(ns, "ip link add eth1 address 02:4c:52:00:00:99 type veth peer name p1");
      const wrong = sh(ns, "LR_SERVICES=none bash -s", setupScript());
      expect({ code: wrong.code, err: wrong.err }).toEqual({ code: 1, err: `interface eth1 exists but has not the trunk's MAC ${TRUNK_MAC} (check the VM's NIC order: net1 is the trunk)\n` });
      must(ns, "ip link del eth1");
      const none = sh(ns, "LR_SERVICES=none bash -s", setupScript());
      expect({ code: none.code, err: none.err }).toEqual({ code: 1, err: `no single interface with the trunk's MAC ${TRUNK_MAC} (found 0): is net1 attached?\n` });
    } finally {
      spawnSync("ip", ["netns", "del", ns]);
    }
  });
});

describe("lr-dataplane in a namespace", () => {
  let applied: ReturnType<typeof state>;

  it("installs exactly the planned rules, tables, names and chains", () => {
    applied = state();
    expect(applied.rules).toBe(expectedRules(plan.tenants));
    expect(must(NS.vpn, "ip -4 route show table 1001; ip -4 route show table 1002").split("\n").map((l) => l.trim())).toEqual([
      "default via 10.0.1.1 dev vl101",
      "10.0.1.0/24 dev vl101 scope link src 10.0.1.2",
      "default via 10.0.2.1 dev vl102",
      "10.0.2.0/24 dev vl102 scope link src 10.0.2.2",
      "",
    ]);
    expect(readFileSync(`/etc/netns/${NS.vpn}/iproute2/rt_tables.d/librerouter.conf`, "utf8")).toBe("# librerouter tenant routing tables (lr-dataplane vpn1); rendered, do not edit.\n1001 lb1\n1002 lb2\n");
    expect(applied.ipt.split("*nat")[1]).toBe(`
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:LR-DNAT - [0:0]
:LR-NAT - [0:0]
-A PREROUTING -i tun-tcp -p tcp -m tcp --dport 5900 -j LR-DNAT
-A PREROUTING -i tun-udp -p tcp -m tcp --dport 5900 -j LR-DNAT
-A POSTROUTING -j LR-NAT
-A LR-DNAT -s 10.255.0.2/32 -d 10.255.0.1/32 -i tun-udp -p tcp -m tcp --dport 5900 -m comment --comment "lr:acme" -j DNAT --to-destination 192.168.100.10:6001
-A LR-DNAT -s 10.255.64.2/32 -d 10.255.64.1/32 -i tun-tcp -p tcp -m tcp --dport 5900 -m comment --comment "lr:acme" -j DNAT --to-destination 192.168.100.10:6001
-A LR-DNAT -s 10.255.0.3/32 -d 10.255.0.1/32 -i tun-udp -p tcp -m tcp --dport 5900 -m comment --comment "lr:coop-sur" -j DNAT --to-destination 192.168.100.10:6002
-A LR-DNAT -s 10.255.64.3/32 -d 10.255.64.1/32 -i tun-tcp -p tcp -m tcp --dport 5900 -m comment --comment "lr:coop-sur" -j DNAT --to-destination 192.168.100.10:6002
-A LR-NAT -s 10.255.0.0/16 -m devgroup --dst-group 0x4c52 -j MASQUERADE
-A LR-NAT -s 10.255.0.0/16 -o eth2 -j MASQUERADE
COMMIT
`);
    expect(applied.ipt).toContain(":FORWARD DROP [0:0]\n");
    expect(applied.ipt).toContain("\n-A FORWARD -j LR-FWD\n-A LR-FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A LR-FWD -i tun-udp -m devgroup --dst-group 0x4c52 -j ACCEPT\n");
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
  });

  it("LR-IN as installed is the rendered chain line for line: iptables-save's own form (the ban grid's LOG lines with their hashlimit, limit and quoted prefix too)", () => {
    const lrIn = (lines: string[]) => lines.filter((l) => l.startsWith("-A LR-IN "));
    const want = lrIn(filterRules(plan, server, layout));
    expect(want.filter((l) => l.includes(" -j LOG "))).toHaveLength(2);
    expect(lrIn(applied.ipt.split("\n"))).toEqual(want);
  });

  it("routes each tenant to its own router only, and its console to its own VNC port only", () => {
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr1");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr2");
    expect(probe(NS.ct, acme.tunnelIps["vpn1-tcp"], "10.99.99.99", 8080)).toBe("lr1");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.255.0.1", 5900)).toBe("vnc-acme");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.255.0.1", 5900)).toBe("vnc-coop");
    expect(probe(NS.ct, acme.tunnelIps["vpn1-tcp"], "10.255.64.1", 5900)).toBe("vnc-acme");
    // Negative: another tenant's LAN, tunnel IP, console port, and the VPN server's address on its link.
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.0.2.1", 8080)).toBe("");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], coop.tunnelIps["vpn1-udp"], 8080)).toBe("");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "192.168.100.10", 6002)).toBe("");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.0.2.2", 22)).toBe("");
    // Control: the same listener answers when asked from its own namespace.
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], coop.tunnelIps["vpn1-udp"], 8080)).toBe("coop-client");
  });

  it("apply twice and base again change nothing", () => {
    for (const t of plan.tenants) must(NS.vpn, "bash -s", scripts(t).apply);
    tool("base");
    expect(state()).toEqual(applied);
  });

  it("after flushing rules, routes and iptables, apply-all restores the exact state", () => {
    must(NS.vpn, "ip rule flush; ip rule add pref 32766 lookup main; ip rule add pref 32767 lookup default; ip route flush table 1001; ip route flush table 1002; iptables -F; iptables -X; iptables -t nat -F; iptables -t nat -X; iptables -P FORWARD ACCEPT");
    expect(state().rules).toBe("0:\tfrom all lookup 255\n32766:\tfrom all lookup 254\n32767:\tfrom all lookup 253\n");
    tool("apply-all");
    expect(state()).toEqual(applied);
  });

  it("delete without socat while an instance's management socket is there fails loudly and removes nothing", () => {
    // The installed tool with socat moved away (a stock Debian image has none): the live session could not be ended.
    const copy = `${DIR}/lr-dataplane-nosocat`;
    writeFileSync(copy, readFileSync(dataplaneToolPath(layout), "utf8").replace(/^SOCAT=.*$/m, `SOCAT=${DIR}/no-such-socat`), { mode: 0o755 });
    const before = state();
    const r = sh(NS.vpn, `${copy} delete coop-sur`);
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `lr-dataplane: cannot end coop-sur's live sessions: no ${DIR}/no-such-socat to talk to ${DIR}/run/udp.sock (apt-get install socat, then run this again)\n` });
    expect(state()).toEqual(before);
    expect(readFileSync(`${DIR}/conf/tenants/coop-sur.env`, "utf8")).toContain("LR_KEY=coop-sur\n");
    // Control: the same copy with the socket gone (no instance running) has no session to end and deletes.
    expect(sh(NS.vpn, `mv ${DIR}/run/udp.sock ${DIR}/run/udp.sock.away && ${copy} delete coop-sur; rc=$?; mv ${DIR}/run/udp.sock.away ${DIR}/run/udp.sock; exit $rc`).code).toBe(0);
    expect(state().ipt).not.toContain("lr:coop-sur");
    must(NS.vpn, "bash -s", scripts(coop).apply);
    expect(state()).toEqual(before);
  });

  it("delete removes every trace of one tenant, kills its sessions, and leaves the other tenant exactly as it was", () => {
    const out = must(NS.vpn, "bash -s", scripts(coop).delete);
    expect(out).toBe("coop-sur on vpn1: deleted\n");
    const after = state();
    expect(after.rules).toBe(expectedRules([acme]));
    expect(after.routes).not.toMatch(/1002|vl102/);
    expect(after.ipt).not.toContain("coop-sur");
    expect(after.ipt.replace(/\n-A LR-DNAT [^\n]*lr:coop-sur[^\n]*/g, "")).toBe(applied.ipt.replace(/\n-A LR-DNAT [^\n]*lr:coop-sur[^\n]*/g, ""));
    expect(after.routes).toBe(applied.routes.split("\n").filter((l) => !/vl102/.test(l)).join("\n"));
    expect(must(NS.vpn, "ip -4 -o addr show dev vl102; ip -d link show dev vl102 | grep -o 'group [a-z0-9]*'")).toBe("group default\n");
    expect(readFileSync(`/etc/netns/${NS.vpn}/iproute2/rt_tables.d/librerouter.conf`, "utf8")).toBe("# librerouter tenant routing tables (lr-dataplane vpn1); rendered, do not edit.\n1001 lb1\n");
    expect(sh(NS.vpn, `ls ${DIR}/conf/tenants ${DIR}/openvpn/ccd-udp ${DIR}/openvpn/ccd-tcp ${DIR}/openvpn/pins`).out).toBe(
      `${DIR}/conf/tenants:\nacme.env\n\n${DIR}/openvpn/ccd-tcp:\nacme\n\n${DIR}/openvpn/ccd-udp:\nacme\n\n${DIR}/openvpn/pins:\nacme\n`,
    );
    expect(readFileSync(`${DIR}/mgmt-udp.log`, "utf8")).toBe("kill coop-sur\nquit\n");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr1");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("");
    expect(tool("status")).toBe("server vpn1: rules at 75 prefs, skeleton 70/70\nacme (slot 1): ok\n");
    // Deleting again is a no-op apart from the session kill.
    must(NS.vpn, "bash -s", scripts(coop).delete);
    expect(state()).toEqual(after);
  });

  it("apply/delete in any order, or at once, give the state apply-all gives (DNAT rules and names in place)", () => {
    const apply = (t: typeof acme) => must(NS.vpn, "bash -s", scripts(t).apply);
    apply(coop);
    expect(state()).toEqual(applied);
    // The first tenant out and back in: its DNAT rules go back before coop-sur's, its name line before lb2.
    must(NS.vpn, "bash -s", scripts(acme).delete);
    expect(state().ipt).not.toContain("lr:acme");
    expect(readFileSync(`/etc/netns/${NS.vpn}/iproute2/rt_tables.d/librerouter.conf`, "utf8")).toBe("# librerouter tenant routing tables (lr-dataplane vpn1); rendered, do not edit.\n1002 lb2\n");
    apply(acme);
    expect(state()).toEqual(applied);
    expect(readFileSync(`/etc/netns/${NS.vpn}/iproute2/rt_tables.d/librerouter.conf`, "utf8")).toBe("# librerouter tenant routing tables (lr-dataplane vpn1); rendered, do not edit.\n1001 lb1\n1002 lb2\n");
    // Both deleted, then both applied at the same time (the lock serialises them).
    for (const t of plan.tenants) must(NS.vpn, "bash -s", scripts(t).delete);
    expect(state().rules).toBe(expectedRules([]));
    for (const t of plan.tenants) must(NS.vpn, "bash -s", scripts(t).apply.replace(/^.*lr-dataplane' apply .*$/m, ""));
    tool(`apply coop-sur & ${dataplaneToolPath(layout)} apply acme & wait`);
    expect(state()).toEqual(applied);
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
  });

  it("apply with the firewall flushed builds all of it, as base does", () => {
    must(NS.vpn, "iptables -F; iptables -X; iptables -t nat -F; iptables -t nat -X; iptables -P FORWARD ACCEPT");
    expect(sh(NS.vpn, `${dataplaneToolPath(layout)} status`).out).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): missing dnat:tun-udp dnat:tun-tcp\ncoop-sur (slot 2): missing dnat:tun-udp dnat:tun-tcp\n");
    tool("apply coop-sur");
    expect(state()).toEqual(applied);
  });

  it("reads an env file in another shape field by field, and refuses a bad value with its reason, changing nothing", () => {
    const env = `${DIR}/conf/tenants/acme.env`;
    const text = readFileSync(env, "utf8");
    const reordered = text.replace(/^(LR_SLOT=.*\n)(LR_LINK=.*\n)/m, "$2\n# comment between fields\n$1").replace(/\n$/, "");
    expect(reordered).not.toBe(text);
    writeFileSync(env, reordered);
    tool("apply acme");
    expect(state()).toEqual(applied);
    writeFileSync(env, text.replace("LR_ROUTER=10.0.1.1", "LR_ROUTER=10.0.1.256"));
    const r = sh(NS.vpn, `${dataplaneToolPath(layout)} apply acme`);
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `lr-dataplane: ${env}: LR_ROUTER='10.0.1.256' is not a valid ip\n` });
    // apply-all checks every file with one grep, then sends the failing one through the same field-by-field reader.
    const all = sh(NS.vpn, `${dataplaneToolPath(layout)} apply-all`);
    expect({ code: all.code, err: all.err }).toEqual({ code: 1, err: `lr-dataplane: ${env}: LR_ROUTER='10.0.1.256' is not a valid ip\n` });
    writeFileSync(env, text.replace("LR_KEY=acme", "LR_KEY=coop-sur"));
    expect(sh(NS.vpn, `${dataplaneToolPath(layout)} apply acme`).err).toBe(`lr-dataplane: ${env}: LR_KEY coop-sur does not match the file name\n`);
    writeFileSync(env, text);
    expect(state()).toEqual(applied);
  });

  it("a re-issued certificate: apply writes the new pin and ends the tenant's live sessions; an unchanged one, or a first pin, ends nothing", () => {
    const mgmt = `${DIR}/mgmt-udp.log`;
    const pinFile = `${DIR}/openvpn/cert-pins/acme`;
    const since = (n: number) => readFileSync(mgmt, "utf8").slice(n);
    const reissued = "-----BEGIN CERTIFICATE-----\nUkVJU1NVRUQ=\n-----END CERTIFICATE-----\n";
    const n0 = readFileSync(mgmt, "utf8").length;
    expect(readFileSync(pinFile, "utf8")).toBe(`${certFingerprint(CERT_PEM)}\n`);
    expect(must(NS.vpn, `stat -c '%a %U:%G' ${pinFile}`)).toBe("640 root:lr-openvpn\n");
    must(NS.vpn, "bash -s", scripts(acme).apply);
    expect(since(n0)).toBe("");
    must(NS.vpn, "bash -s", tenantServerScripts(plan, server, acme, layout, reissued, TC2_ID).apply);
    expect(readFileSync(pinFile, "utf8")).toBe(`${certFingerprint(reissued)}\n`);
    expect(since(n0)).toBe("kill acme\nquit\n");
    // Back to the first certificate (another re-issue), then delete and a fresh apply: that first pin kills nothing.
    must(NS.vpn, "bash -s", scripts(acme).apply);
    expect(since(n0)).toBe("kill acme\nquit\n".repeat(2));
    must(NS.vpn, "bash -s", scripts(acme).delete);
    const n1 = readFileSync(mgmt, "utf8").length;
    must(NS.vpn, "bash -s", scripts(acme).apply);
    expect(since(n1)).toBe("");
    expect(state()).toEqual(applied);
  });

  it("a re-issued tls-crypt-v2 key: apply writes the new key id and ends the tenant's live sessions; delete removes the pin", () => {
    const mgmt = `${DIR}/mgmt-udp.log`;
    const pinFile = `${DIR}/openvpn/tc2-pins/acme`;
    const since = (n: number) => readFileSync(mgmt, "utf8").slice(n);
    const n0 = readFileSync(mgmt, "utf8").length;
    expect(readFileSync(pinFile, "utf8")).toBe(`${TC2_ID}\n`);
    expect(must(NS.vpn, `stat -c '%a %U:%G' ${pinFile}`)).toBe("640 root:lr-openvpn\n");
    must(NS.vpn, "bash -s", tenantServerScripts(plan, server, acme, layout, CERT_PEM, "fedcba9876543210").apply);
    expect(readFileSync(pinFile, "utf8")).toBe("fedcba9876543210\n");
    expect(since(n0)).toBe("kill acme\nquit\n");
    must(NS.vpn, "bash -s", scripts(acme).delete);
    expect(existsSync(pinFile)).toBe(false);
    // A fresh apply after the delete (its own kill is lr-dataplane delete's) is a first pin: it ends nothing.
    const n1 = readFileSync(mgmt, "utf8").length;
    must(NS.vpn, "bash -s", scripts(acme).apply);
    expect(since(n1)).toBe("");
    expect(readFileSync(pinFile, "utf8")).toBe(`${TC2_ID}\n`);
    expect(state()).toEqual(applied);
  });
});

describe("host firewall (install script, boot unit, removal)", () => {
  const scripts = hostConsoleFirewallScripts(plan, hostLayout);
  const hostState = () => must(NS.host, "{ iptables-save -t filter; ip6tables-save -t filter; } | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]/[0:0]/'");
  const probe6 = (ns: string, src: string, dst: string, port: number) => sh(ns, `/usr/bin/socat -T1 - 'TCP6:[${dst}]:${port},bind=[${src}],connect-timeout=0.5' </dev/null 2>/dev/null`).out.trim();
  /** Who reaches what on the host: the VPN servers only the consoles; the services VM and a non-VPN address nothing new. */
  const reach = () => ({
    vpnConsole: probe(NS.vpn, "192.168.100.11", "192.168.100.10", 6001),
    tenantConsole: probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.255.0.1", 5900),
    otherMgmtConsole: probe(NS.vpn, "192.168.100.50", "192.168.100.10", 6001),
    svcConsole: probe(NS.svc, "192.168.100.13", "192.168.100.10", 6002),
    svcSsh: probe(NS.svc, "192.168.100.13", "192.168.100.10", 22),
    svcApi: probe(NS.svc, "192.168.100.13", "192.168.100.10", 8006),
    svcSsh6: probe6(NS.svc, "fd00:4c52::13", "fd00:4c52::10", 22),
    vpnSsh: probe(NS.vpn, "192.168.100.11", "192.168.100.10", 22),
    vpnApi: probe(NS.vpn, "192.168.100.11", "192.168.100.10", 8006),
    // The serial bridge: the VPN servers' console gateways only.
    vpnSerial: probe(NS.vpn, "192.168.100.11", "192.168.100.10", 5899),
    svcSerial: probe(NS.svc, "192.168.100.13", "192.168.100.10", 5899),
    wanSerial: probe(NS.wan, "203.0.113.2", "192.168.100.10", 5899),
    wanConsole: probe(NS.wan, "203.0.113.2", "192.168.100.10", 6001),
    // A tenant VM routing to the management address via the host's public one (review H1): SSH and the API there.
    wanMgmtSsh: probe(NS.wan, "203.0.113.2", "192.168.100.10", 22),
    wanMgmtApi: probe(NS.wan, "203.0.113.2", "192.168.100.10", 8006),
    wanSsh: probe(NS.wan, "203.0.113.2", "203.0.113.1", 22),
    hostToGuestSsh: probe(NS.host, "192.168.100.10", "192.168.100.11", 22),
    hostToItself: probe(NS.host, "192.168.100.10", "192.168.100.10", 22),
  });
  const open = {
    vpnConsole: "vnc-acme",
    tenantConsole: "vnc-acme",
    otherMgmtConsole: "vnc-acme",
    svcConsole: "vnc-coop",
    svcSsh: "ssh-host",
    svcApi: "api-host",
    svcSsh6: "ssh-host6",
    vpnSsh: "ssh-host",
    vpnApi: "api-host",
    vpnSerial: "serial-host",
    svcSerial: "serial-host",
    wanSerial: "serial-host",
    wanConsole: "vnc-acme",
    wanMgmtSsh: "ssh-host",
    wanMgmtApi: "api-host",
    wanSsh: "ssh-host",
    hostToGuestSsh: "ssh-vpn1",
    hostToItself: "ssh-host",
  };
  const closed = { ...open, otherMgmtConsole: "", svcConsole: "", svcSsh: "", svcApi: "", svcSsh6: "", vpnSsh: "", vpnApi: "", svcSerial: "", wanSerial: "", wanConsole: "", wanMgmtSsh: "", wanMgmtApi: "" };
  let installed = "";

  it("without it, everything on the management bridge reaches the host (control)", () => {
    must(NS.vpn, "ip addr add 192.168.100.50/24 dev eth2");
    expect(reach()).toEqual(open);
  });

  it("install: script and unit written, chains and jumps first in INPUT; only the VPN servers reach the consoles, nothing on vmbr2 reaches :22/:8006, nothing reaches the management address from elsewhere", () => {
    expect(must(NS.host, "LR_SERVICES=none bash -s", scripts.apply)).toBe("host firewall: 2 files changed, applied (none)\n");
    expect(readFileSync(hostFirewallToolPath(hostLayout), "utf8")).toContain("JUMPS4=('-i vmbr2 -j LR-MGMT' '-d 192.168.100.10/32 -j LR-CONSOLE')\n");
    installed = hostState();
    const ports = "6001:8005,8007:9994";
    expect(installed).toContain(
      "\n:LR-CONSOLE - [0:0]\n:LR-MGMT - [0:0]\n-A INPUT -i vmbr2 -j LR-MGMT\n-A INPUT -d 192.168.100.10/32 -j LR-CONSOLE\n" +
        "-A LR-CONSOLE -i lo -j RETURN\n-A LR-CONSOLE -j DROP\n" +
        `-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.10/32 -p tcp -m multiport --dports ${ports} -j ACCEPT\n` +
        `-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.10/32 -p tcp -m multiport --dports ${ports} -j ACCEPT\n` +
        // The serial bridge (consoles.serialBridgePort): the VPN servers' console gateways only.
        "-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.10/32 -p tcp -m tcp --dport 5899 -j ACCEPT\n" +
        "-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.10/32 -p tcp -m tcp --dport 5899 -j ACCEPT\n" +
        // The services VM's Prometheus scrapes the host's node exporter (render/monitoring/firewall.ts).
        "-A LR-MGMT -s 192.168.100.13/32 -d 192.168.100.10/32 -p tcp -m tcp --dport 9100 -j ACCEPT\n-A LR-MGMT -j DROP\nCOMMIT\n",
    );
    expect(installed).toContain("\n:LR-MGMT - [0:0]\n-A INPUT -i vmbr2 -j LR-MGMT\n-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A LR-MGMT -j DROP\nCOMMIT\n");
    expect(reach()).toEqual(closed);
  });

  it("apply twice = same; a chain appended later (pve-firewall's way) stays below ours; one inserted above is moved under ours", () => {
    expect(must(NS.host, "LR_SERVICES=none bash -s", scripts.apply)).toBe("host firewall: 0 files changed, applied (none)\n");
    expect(hostState()).toBe(installed);
    // pve-firewall's host policy DROP (its chain, appended): it closes the public side too, our accepts still win.
    must(NS.host, "iptables -N PVEFW-INPUT; iptables -A PVEFW-INPUT -j DROP; iptables -A INPUT -j PVEFW-INPUT");
    expect(reach()).toEqual({ ...closed, wanSsh: "", hostToItself: "" }); // the stand-in drops lo too; pve-firewall does not
    must(NS.host, "iptables -I INPUT 1 -j PVEFW-INPUT");
    expect(probe(NS.vpn, "192.168.100.11", "192.168.100.10", 6001)).toBe("");
    must(NS.host, `${hostFirewallToolPath(hostLayout)} apply`);
    expect(must(NS.host, "iptables -S INPUT")).toBe(
      "-P INPUT ACCEPT\n-A INPUT -i vmbr2 -j LR-MGMT\n-A INPUT -d 192.168.100.10/32 -j LR-CONSOLE\n-A INPUT -j PVEFW-INPUT\n-A INPUT -j PVEFW-INPUT\n",
    );
    expect(probe(NS.vpn, "192.168.100.11", "192.168.100.10", 6001)).toBe("vnc-acme");
    must(NS.host, "iptables -D INPUT -j PVEFW-INPUT; iptables -D INPUT -j PVEFW-INPUT; iptables -F PVEFW-INPUT; iptables -X PVEFW-INPUT");
    expect(hostState()).toBe(installed);
  });

  it("reboot: with every rule gone the consoles are open; the boot unit's ExecStart closes them again to all but the VPN servers", () => {
    const unit = readFileSync(`${hostLayout.systemdDir}/${HOST_FIREWALL_UNIT}`, "utf8");
    expect(unit).toContain("\nType=oneshot\nRemainAfterExit=yes\n");
    expect(unit).toContain("\nAfter=network.target pve-firewall.service\nBefore=pve-guests.service\n");
    const exec = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? "";
    expect(exec).toBe(`${hostFirewallToolPath(hostLayout)} apply`);
    must(NS.host, "for t in iptables ip6tables; do $t -F; $t -X; done");
    expect(reach()).toEqual(open);
    must(NS.host, exec);
    expect(hostState()).toBe(installed);
    expect(reach()).toEqual(closed);
  });

  it("removal: unit and script gone, no chain or jump left (v4 and v6), the host reachable again; twice is fine", () => {
    expect(must(NS.host, "LR_SERVICES=none bash -s", scripts.delete)).toBe("host firewall: removed\n");
    expect(sh(NS.host, `ls ${hostFirewallToolPath(hostLayout)} ${hostLayout.systemdDir}/${HOST_FIREWALL_UNIT}`).code).not.toBe(0);
    expect(hostState()).not.toMatch(/LR-/);
    expect(reach()).toEqual(open);
    expect(must(NS.host, "LR_SERVICES=none bash -s", scripts.delete)).toBe("host firewall: removed\n");
  });
});

/**
 * `fixed` tenant-network mode, the rendered setup script, tenant scripts and lr-dataplane run for real (root) in
 * network namespaces: the very same LAN behind both tenant links of one VPN server.
 *   ca, cb ─ sw (bridge) ─ tun-udp ┐          ┌ vl101 ─ lr1 10.0.0.1/24 (lo 10.99.99.99: "behind the router")
 *   ct ──────────────────── tun-tcp ┤   vpn   ├ vl102 ─ lr2 10.0.0.1/24 (the same two addresses)
 *                                   │         ├ eth2 ─ host vmbr2 192.168.100.10 (:6001 "vnc-acme", :6002 "vnc-coop")
 *                                   └         └ eth0 198.51.100.2 ─ wan 198.51.100.1 (the default route)
 * ca and ct are acme's UDP and TCP tunnel IPs, cb coop-sur's UDP one. Veths stand in for tun devices and VLAN links
 * (no 8021q on this kernel); clients use /32 + onlink like a tun. Each router answers its name on TCP :8080 and
 * UDP :7000, on 10.0.0.1 and on 10.99.99.99.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dataplaneToolPath, renderDataplaneTool } from "../../render/dataplane";
import { renderTenantEnv, tenantEnvPath } from "../../render/dataplane-env";
import type { ServerLayout } from "../../render/layout";
import { LAN_TABLE } from "../../render/lan-zones";
import { renderServerSetupScript } from "../../render/server-setup";
import { tenantServerScripts } from "../../render/tenant-scripts";
import type { Plan, TenantPlan } from "../../plan/types";
import { twoTenantPlan } from "../render/dataplane/fixture";
import { must, sh } from "../tools/netns-shell";

const P = `lrt-dpf-${process.pid}`;
const NS = { vpn: `${P}-vpn`, sw: `${P}-sw`, ca: `${P}-ca`, cb: `${P}-cb`, ct: `${P}-ct`, lr1: `${P}-lr1`, lr2: `${P}-lr2`, host: `${P}-host`, wan: `${P}-wan` };
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
const TRUNK_MAC = "02:4c:52:00:00:02";
const fixed = twoTenantPlan("fixed");
const distinct = twoTenantPlan("distinct");
const server = fixed.servers[0];
const [acme, coop] = fixed.tenants;
const TA = acme.tunnelIps["vpn1-udp"];
const TB = coop.tunnelIps["vpn1-udp"];
const TT = acme.tunnelIps["vpn1-tcp"];
const CERT_PEM = "-----BEGIN CERTIFICATE-----\nRTJFQ0VSVA==\n-----END CERTIFICATE-----\n";
const TC2_ID = "0123456789abcdef";
const procs: ChildProcess[] = [];
const scripts = (t: TenantPlan) => tenantServerScripts(fixed, server, t, layout, CERT_PEM, TC2_ID);
const tool = (args: string) => must(NS.vpn, `${dataplaneToolPath(layout)} ${args}`);
const toolRun = (args: string) => sh(NS.vpn, `${dataplaneToolPath(layout)} ${args}`);

function bg(ns: string, args: string[]): void {
  procs.push(spawn("ip", ["netns", "exec", ns, ...args], { stdio: "ignore" }));
}
/** One TCP exchange from `ns` bound to `src`; "" when it does not connect in 0.5 s. */
function tcp(ns: string, src: string, dst: string, port: number): string {
  return sh(ns, `/usr/bin/socat -T1 - TCP:${dst}:${port},bind=${src},connect-timeout=0.5 </dev/null 2>/dev/null`).out.trim();
}
/** One datagram from `src:sport` to `dst:7000`; what came back within 2 s (a first exchange may wait for ARP). */
function udp(ns: string, src: string, sport: number, dst = "10.0.0.1"): string {
  return sh(ns, `echo hi | /usr/bin/socat -t2 -T2 - UDP4:${dst}:7000,bind=${src}:${sport} 2>/dev/null`).out.trim();
}
/**
 * acme's UDP client holds a flow to lr1's silent port 7001 for 2 s; meanwhile lr2 (coop-sur's router, the same
 * address) sends a forged reply from 10.0.0.1:7001 to the masqueraded source (10.0.0.2, the port kept). What
 * acme's client received.
 */
function injected(sport: number): string {
  const r = spawnSync(
    "bash",
    ["-c", `ip netns exec ${NS.ca} bash -c '(echo hi; sleep 2) | socat -T3 - UDP4:10.0.0.1:7001,bind=${TA}:${sport}' & sleep 0.7; ip netns exec ${NS.lr2} bash -c 'echo evil | socat -u - UDP4:10.0.0.2:${sport},bind=10.0.0.1:7001'; wait`],
    { encoding: "utf8", timeout: 10_000 },
  );
  return r.stdout.trim();
}

/** `nft list table ip lr_lan` with every element list sorted (nft lists a hash set in no fixed order); "" without the table. */
function lanTable(): string {
  const r = sh(NS.vpn, `nft list table ip ${LAN_TABLE}`);
  if (r.code !== 0) return "";
  return r.out.replace(/elements = \{([^}]*)\}/g, (_m, els: string) => `elements = { ${els.split(",").map((e) => e.trim()).sort().join(", ")} }`);
}
/** The elements of lr_lan as "<set> <element>" lines, sorted. */
function lanElements(): string[] {
  const out: string[] = [];
  for (const m of lanTable().matchAll(/(?:map|set) (\w+) \{[^}]*?elements = \{ ([^}]*) \}/g)) for (const e of m[2].split(", ")) out.push(`${m[1]} ${e}`);
  return out.sort();
}
const elementsOf = (t: TenantPlan) =>
  [`link_tun "${t.link}" . ${t.tunnelIps["vpn1-tcp"]}`, `link_tun "${t.link}" . ${t.tunnelIps["vpn1-udp"]}`, `link_zone "${t.link}" : ${t.slot}`, `links "${t.link}"`, `tun_zone ${t.tunnelIps["vpn1-tcp"]} : ${t.slot}`, `tun_zone ${t.tunnelIps["vpn1-udp"]} : ${t.slot}`].sort();

/** What apply, delete, apply-all and a mode switch must leave identical: rules, routes, addresses, iptables, lr_lan, link rp_filter. */
function state(): Record<string, string> {
  return {
    rules: must(NS.vpn, "ip -N rule show"),
    routes: must(NS.vpn, "ip -4 route show table all | grep -v 'table local' || true"),
    addrs: must(NS.vpn, "ip -4 -o addr show | sed 's/\\\\ .*//'"),
    ipt: must(NS.vpn, "iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]/[0:0]/'"),
    lan: lanTable(),
    rp: must(NS.vpn, "cat /proc/sys/net/ipv4/conf/vl101/rp_filter /proc/sys/net/ipv4/conf/vl102/rp_filter"),
  };
}
/** The link's IPv4 addresses, "<addr/prefix> <flags>" each. */
const addrsOn = (link: string) =>
  must(NS.vpn, `ip -4 -o addr show dev ${link}`)
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^.* inet (\S+) (.*?) ?\\.*$/, "$1 $2").replace(/ vl10\d$/, ""));
const table = (id: number) => must(NS.vpn, `ip -4 route show table ${id}`).split("\n").filter(Boolean).map((l) => l.trim());

/** Installs `plan`'s lr-dataplane and every tenant's env file the way setup and the tenant scripts write them (no run). */
function writeMode(plan: Plan, tenants: readonly TenantPlan[] = plan.tenants): void {
  writeFileSync(dataplaneToolPath(layout), renderDataplaneTool(plan, plan.servers[0], layout), { mode: 0o755 });
  for (const t of tenants) writeFileSync(tenantEnvPath(layout, t), renderTenantEnv(plan.stack, plan.servers[0], t), { mode: 0o640 });
}

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
  link(NS.vpn, "eth0", NS.wan, "pub");
  must(
    NS.vpn,
    `ip link add ens19 address ${TRUNK_MAC} type veth peer name ens19p && for i in lo tun-udp tun-tcp ens19p eth2 eth0; do ip link set $i up; done; ip addr add 10.255.0.1/18 dev tun-udp; ip addr add 10.255.64.1/18 dev tun-tcp; ip addr add 192.168.100.11/24 dev eth2; ip addr add 198.51.100.2/24 dev eth0; ip route add default via 198.51.100.1`,
  );
  must(NS.wan, "ip link set lo up; ip link set pub up; ip addr add 198.51.100.1/24 dev pub");
  must(NS.sw, "ip link add br0 type bridge && for i in lo br0 up0 pa pb; do ip link set $i up; done; for i in up0 pa pb; do ip link set $i master br0; done");
  const client = (ns: string, ip: string, gw: string) => must(ns, `ip link set lo up; ip link set c0 up; ip addr add ${ip}/32 dev c0; ip route add ${gw} dev c0; ip route add default via ${gw} dev c0 onlink`);
  client(NS.ca, TA, "10.255.0.1");
  client(NS.cb, TB, "10.255.0.1");
  client(NS.ct, TT, "10.255.64.1");
  // Each router answers its name on UDP :7000 of each address (a plain loop: socat's forking UDP listener misses a
  // datagram now and then; one socket per address, so the answer comes from the address asked) and TCP :8080.
  const answer = (name: string, ip: string) => `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(("${ip}", 7000))\nwhile True:\n    d, a = s.recvfrom(64)\n    s.sendto(b"${name}\\n", a)\n`;
  for (const [ns, name] of [[NS.lr1, "lr1"], [NS.lr2, "lr2"]] as const) {
    must(ns, "ip link set lo up; ip link set lan up; ip addr add 10.0.0.1/24 dev lan; ip addr add 10.99.99.99/32 dev lo");
    bg(ns, ["/usr/bin/socat", "TCP-LISTEN:8080,fork,reuseaddr", `SYSTEM:echo ${name}`]);
    for (const ip of ["10.0.0.1", "10.99.99.99"]) bg(ns, ["python3", "-c", answer(name, ip)]);
  }
  bg(NS.lr1, ["/usr/bin/socat", "-u", "UDP4-RECV:7001", "/dev/null"]);
  must(NS.host, "ip link set lo up; ip link add vmbr2 type bridge; for i in vmbr2 mgmt; do ip link set $i up; done; ip link set mgmt master vmbr2; ip addr add 192.168.100.10/24 dev vmbr2");
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:6001,bind=192.168.100.10,fork,reuseaddr", "SYSTEM:echo vnc-acme"]);
  bg(NS.host, ["/usr/bin/socat", "TCP-LISTEN:6002,bind=192.168.100.10,fork,reuseaddr", "SYSTEM:echo vnc-coop"]);
  must(NS.vpn, "LR_SERVICES=none bash -s", renderServerSetupScript(fixed, server, layout, [], { trunkMac: TRUNK_MAC }));
  for (const t of fixed.tenants) must(NS.vpn, "bash -s", scripts(t).apply);
  spawnSync("sleep", ["0.5"]); // the routers' listeners start
}, 60_000);

afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  rmSync(`/etc/netns/${NS.vpn}`, { recursive: true, force: true });
  rmSync(DIR, { recursive: true, force: true });
});

let applied: Record<string, string>;

describe("lr-dataplane, tenant network fixed", () => {
  it("puts the same LAN address on both links without a prefix route, each LAN in its tenant's table only, loose rp_filter on the links, every tenant's lr_lan elements", () => {
    applied = state();
    for (const t of [acme, coop]) {
      expect(addrsOn(t.link)).toEqual(["10.0.0.2/24 scope global noprefixroute"]);
      expect(table(t.table.id)).toEqual([`default via 10.0.0.1 dev ${t.link}`, `10.0.0.0/24 dev ${t.link} scope link src 10.0.0.2`]);
    }
    expect(must(NS.vpn, "ip -4 route show table main")).not.toContain("10.0.0.0/24");
    expect(applied.rp).toBe("2\n2\n");
    expect(must(NS.vpn, "cat /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/tun-udp/rp_filter /proc/sys/net/ipv4/conf/eth0/rp_filter")).toBe("1\n1\n1\n");
    expect(lanElements()).toEqual([...elementsOf(acme), ...elementsOf(coop)].sort());
    expect(applied.lan).toContain("type filter hook prerouting priority -450; policy accept;");
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
  });

  it("each tenant reaches its own 10.0.0.1 and what lies behind it, over UDP and TCP, never the other's identical addresses", () => {
    expect(tcp(NS.ca, TA, "10.0.0.1", 8080)).toBe("lr1");
    expect(tcp(NS.cb, TB, "10.0.0.1", 8080)).toBe("lr2");
    expect(tcp(NS.ct, TT, "10.0.0.1", 8080)).toBe("lr1");
    expect(tcp(NS.ca, TA, "10.99.99.99", 8080)).toBe("lr1");
    expect(tcp(NS.cb, TB, "10.99.99.99", 8080)).toBe("lr2");
    // The same source port from both tenants: masqueraded to the same 10.0.0.2:5000 on both links, apart by zone.
    expect(udp(NS.ca, TA, 5000)).toBe("lr1");
    expect(udp(NS.cb, TB, 5000)).toBe("lr2");
    expect(udp(NS.ca, TA, 5000, "10.99.99.99")).toBe("lr1");
    expect(udp(NS.ct, TT, 5001)).toBe("lr1");
    // Negative: the other tenant's tunnel IP, and the server's LAN address (LR-IN).
    expect(tcp(NS.ca, TA, TB, 8080)).toBe("");
    expect(tcp(NS.ca, TA, "10.0.0.2", 22)).toBe("");
  });

  it("the console DNAT reaches the tenant's own VNC port only", () => {
    expect(tcp(NS.ca, TA, "10.255.0.1", 5900)).toBe("vnc-acme");
    expect(tcp(NS.cb, TB, "10.255.0.1", 5900)).toBe("vnc-coop");
    expect(tcp(NS.ct, TT, "10.255.64.1", 5900)).toBe("vnc-acme");
    expect(tcp(NS.ca, TA, "192.168.100.10", 6002)).toBe("");
  });

  it("a forged reply from the other tenant's router is dropped (control: delivered without lr_lan)", () => {
    must(NS.vpn, `nft delete table ip ${LAN_TABLE}`);
    expect(injected(5101)).toBe("evil");
    tool("apply-all");
    expect(state()).toEqual(applied);
    expect(injected(5102)).toBe("");
    expect(udp(NS.ca, TA, 5103)).toBe("lr1");
  }, 30_000);

  it("the server's own packets to the LAN (an echo reply to a router) never leave by the default route (control: without the guard they do)", () => {
    must(NS.wan, "nft add table ip w; nft add chain ip w in '{ type filter hook prerouting priority 0; }'; nft add rule ip w in ip daddr 10.0.0.0/24 counter");
    const leaked = () => Number(/packets (\d+)/.exec(must(NS.wan, "nft list chain ip w in"))?.[1]);
    sh(NS.lr1, "ping -c 2 -i 0.2 -W 1 10.0.0.2");
    expect(leaked()).toBe(0);
    must(NS.vpn, `nft flush chain ip ${LAN_TABLE} guard`);
    sh(NS.lr1, "ping -c 2 -i 0.2 -W 1 10.0.0.2");
    expect(leaked()).toBeGreaterThan(0);
    tool("apply-all");
    expect(state()).toEqual(applied);
    must(NS.wan, "nft delete table ip w");
  });

  it("apply twice, base and apply-all change nothing", () => {
    for (const t of fixed.tenants) must(NS.vpn, "bash -s", scripts(t).apply);
    expect(state()).toEqual(applied);
    tool("base");
    expect(state()).toEqual(applied);
    tool("apply-all");
    expect(state()).toEqual(applied);
  });

  it("status flags a missing element, a strict link and a missing table; apply puts them back", () => {
    must(NS.vpn, `nft delete element ip ${LAN_TABLE} tun_zone '{ ${TB} }'; nft delete element ip ${LAN_TABLE} link_tun '{ "vl101" . ${TT} }'; echo 1 >/proc/sys/net/ipv4/conf/vl102/rp_filter`);
    const r = toolRun("status");
    expect({ code: r.code, out: r.out }).toEqual({
      code: 1,
      out: `server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): missing lan:link_tun:${TT}\ncoop-sur (slot 2): missing lan:tun_zone:${TB} rp_filter:vl102\n`,
    });
    tool("apply coop-sur");
    tool("apply acme");
    expect(state()).toEqual(applied);
    // No table at all: status says so, and a tenant's apply builds all of it, as base does.
    must(NS.vpn, `nft delete table ip ${LAN_TABLE}`);
    const gone = toolRun("status");
    expect({ code: gone.code, out: gone.out }).toEqual({
      code: 1,
      out: `server vpn1: rules at 77 prefs, skeleton 70/70\n${LAN_TABLE}: missing (lr-dataplane base loads it)\nacme (slot 1): missing lan:links lan:link_zone lan:tun_zone:${TA} lan:link_tun:${TA} lan:tun_zone:${TT} lan:link_tun:${TT}\ncoop-sur (slot 2): missing lan:links lan:link_zone lan:tun_zone:${TB} lan:link_tun:${TB} lan:tun_zone:${coop.tunnelIps["vpn1-tcp"]} lan:link_tun:${coop.tunnelIps["vpn1-tcp"]}\n`,
    });
    tool("apply acme");
    expect(state()).toEqual(applied);
  });

  it("delete removes exactly one tenant's elements, address and routes; the other tenant is untouched; apply brings it back", () => {
    expect(must(NS.vpn, "bash -s", scripts(coop).delete)).toBe("coop-sur on vpn1: deleted\n");
    expect(lanElements()).toEqual(elementsOf(acme));
    expect(addrsOn("vl102")).toEqual([]);
    expect(table(coop.table.id)).toEqual([]);
    expect(addrsOn("vl101")).toEqual(["10.0.0.2/24 scope global noprefixroute"]);
    expect(tcp(NS.ca, TA, "10.0.0.1", 8080)).toBe("lr1");
    expect(tcp(NS.cb, TB, "10.0.0.1", 8080)).toBe("");
    expect(tool("status")).toBe("server vpn1: rules at 75 prefs, skeleton 70/70\nacme (slot 1): ok\n");
    const after = state();
    must(NS.vpn, "bash -s", scripts(coop).delete);
    expect(state()).toEqual(after);
    must(NS.vpn, "bash -s", scripts(coop).apply);
    expect(state()).toEqual(applied);
  });

  it("an env file whose link changed: apply moves the tenant's elements to the new link and leaves none on the old one", () => {
    must(NS.vpn, "ip link add vl109 type veth peer name vl109p");
    const env = tenantEnvPath(layout, acme);
    writeFileSync(env, renderTenantEnv(fixed.stack, server, acme).replace("LR_LINK=vl101", "LR_LINK=vl109"));
    tool("apply acme");
    expect(lanElements()).toEqual([...elementsOf({ ...acme, link: "vl109" }), ...elementsOf(coop)].sort());
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
    writeFileSync(env, renderTenantEnv(fixed.stack, server, acme));
    tool("apply acme");
    expect(lanElements()).toEqual([...elementsOf(acme), ...elementsOf(coop)].sort());
    must(NS.vpn, "ip link del vl109");
    tool("apply-all");
    expect(state()).toEqual(applied);
  });

  it("fixed → distinct → fixed → distinct: each switch (one tenant's apply, then apply-all) leaves only the mode's addresses, routes and lr_lan (or none)", () => {
    // The routers take their distinct-mode addresses too (a cloud-init image would have only these).
    must(NS.lr1, "ip addr add 10.0.1.1/24 dev lan");
    must(NS.lr2, "ip addr add 10.0.2.1/24 dev lan");
    const [dAcme, dCoop] = distinct.tenants;
    // One tenant first: its link keeps only its new address, its table only its two routes (10.0.0.2 is still on vl102).
    writeMode(distinct, [dAcme]);
    tool("apply acme");
    expect(addrsOn("vl101")).toEqual(["10.0.1.2/24 scope global"]);
    expect(table(acme.table.id)).toEqual(["default via 10.0.1.1 dev vl101", "10.0.1.0/24 dev vl101 scope link src 10.0.1.2"]);
    expect(addrsOn("vl102")).toEqual(["10.0.0.2/24 scope global noprefixroute"]);
    writeMode(distinct, [dCoop]);
    tool("apply-all");
    const d1 = state();
    expect(d1.lan).toBe("");
    expect(must(NS.vpn, "nft list tables")).not.toContain(LAN_TABLE);
    expect(d1.rp).toBe("1\n1\n");
    expect(addrsOn("vl102")).toEqual(["10.0.2.2/24 scope global"]);
    expect(table(coop.table.id)).toEqual(["default via 10.0.2.1 dev vl102", "10.0.2.0/24 dev vl102 scope link src 10.0.2.2"]);
    expect(must(NS.vpn, "ip -4 route show table main")).toContain("10.0.1.0/24 dev vl101 proto kernel scope link src 10.0.1.2");
    expect(d1.routes).not.toContain("10.0.0.");
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
    expect(tcp(NS.ca, TA, "10.0.1.1", 8080)).toBe("lr1");
    expect(tcp(NS.cb, TB, "10.0.2.1", 8080)).toBe("lr2");
    // Back to fixed: exactly the state the fixed setup gave.
    writeMode(fixed);
    tool("apply-all");
    expect(state()).toEqual(applied);
    expect(tcp(NS.ca, TA, "10.0.0.1", 8080)).toBe("lr1");
    expect(tcp(NS.cb, TB, "10.0.0.1", 8080)).toBe("lr2");
    // And distinct again: exactly the distinct state, no lr_lan; a distinct-mode status flags a table left over.
    writeMode(distinct);
    tool("apply-all");
    expect(state()).toEqual(d1);
    must(NS.vpn, `nft add table ip ${LAN_TABLE}`);
    expect(toolRun("status").out).toContain(`\n${LAN_TABLE}: left from tenant network mode fixed (lr-dataplane base removes it)\n`);
    tool("base");
    expect(state()).toEqual(d1);
  }, 30_000);
});

/**
 * The data plane under `sdn` (issue 13) with real VXLAN: vpn1's rendered setup script, tenant scripts and
 * lr-dataplane in a namespace whose tenant links are vxlan devices over its management NIC, and two "nodes" laid
 * out as Proxmox's VXLAN zone lays them out (a bridge lr<slot> per tenant holding vxlan_lr<slot>, head-end
 * replication to every other peer), each tenant's router veth'd into the bridge of ITS node:
 *
 *   ca, cb ─ ts (bridge) ─ tun-udp ┐          ┌ eth1 192.168.100.11 ─┐
 *   ct ──────────────────── tun-tcp ┴── vpn ──┘                      │  sw (bridge: the management network)
 *     na 192.168.100.10 (pve-a): lr1[vxlan_lr1, tap ─ router acme], lr2[vxlan_lr2]; :6001 acme's VNC
 *     nb 192.168.100.20 (pve-b): lr1[vxlan_lr1], lr2[vxlan_lr2, tap ─ router coop-sur]; :6002 coop-sur's VNC
 *     rogue 192.168.100.99: not a peer of the zone
 *
 * Both tenant-network modes: distinct (10.0.1.1 / 10.0.2.1) and fixed (10.0.0.1 behind both links). The VPN server's
 * interface names are the program's (render/layout.ts serverLayoutFor: eth1 is the management NIC under SDN).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dataplaneToolPath } from "../../render/dataplane";
import { renderTenantEnv, tenantEnvPath } from "../../render/dataplane-env";
import { type ServerLayout, serverLayoutFor } from "../../render/layout";
import { renderServerSetupScript } from "../../render/server-setup";
import { tenantServerScripts } from "../../render/tenant-scripts";
import { TRUNK_IFUPDOWN_FILE, TRUNK_LINK_FILE } from "../../render/trunk-nic";
import type { Plan, TenantPlan } from "../../plan/types";
import { sdnNumberedPlan, sdnPlan } from "../render/dataplane/sdn-fixture";
import { must, sh } from "../tools/netns-shell";

const CERT_PEM = "-----BEGIN CERTIFICATE-----\nRTJFQ0VSVA==\n-----END CERTIFICATE-----\n";
const TC2_ID = "0123456789abcdef";
const NODE_IPS = { "pve-a": "192.168.100.10", "pve-b": "192.168.100.20" } as const;
const ZERO = "00:00:00:00:00:00";
/** The VPN server's management NIC, the VXLAN underlay: what the program names it under SDN. */
const MGMT = serverLayoutFor(sdnPlan()).ifaces.mgmt;

/** Production's layout (its interface names) with every directory under `dir`. */
function layoutIn(dir: string): ServerLayout {
  return {
    openvpnDir: `${dir}/openvpn`,
    runDir: `${dir}/run`,
    stateDir: `${dir}/state`,
    confDir: `${dir}/conf`,
    systemdDir: `${dir}/systemd`,
    networkLinkDir: `${dir}/systemd-network`,
    ifupdownDir: `${dir}/interfaces.d`,
    ifaces: serverLayoutFor(sdnPlan()).ifaces,
  };
}

/** Not a peer of the zone, on the management network; the source MAC of its frames. */
const ROGUE = "192.168.100.99";
const ROGUE_MAC = "02:52:47:00:00:01";
/** python3 -c: three VXLAN packets `<src> → <dst>:<port>`, source port <port>, VNI <vni>, each a broadcast frame from <mac>. */
const SEND_VXLAN = [
  "import socket, sys",
  "src, dst, port, vni, mac = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), bytes.fromhex(sys.argv[5].replace(\":\", \"\"))",
  "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
  "s.bind((src, port))",
  "pkt = bytes([8, 0, 0, 0]) + vni.to_bytes(3, \"big\") + bytes(1) + bytes([255] * 6) + mac + bytes([0x88, 0xB5]) + bytes(46)",
  "[s.sendto(pkt, (dst, port)) for _ in range(3)]",
].join("\n");
/** python3 -c: one UDP packet <port> → <dst>:<port> through a raw socket (the vxlan link holds the port). */
const SEND_UDP_RAW = [
  "import socket, struct, sys",
  "dst, port = sys.argv[1], int(sys.argv[2])",
  "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)",
  "s.sendto(struct.pack(\"!HHHH\", port, port, 12, 0) + bytes(4), (dst, 0))",
].join("\n");

/** IP fragments the namespace's stack has made (/proc/net/snmp Ip: FragCreates). */
function fragCreates(ns: string): number {
  const [head, vals] = must(ns, "grep '^Ip:' /proc/net/snmp").trim().split("\n").map((l) => l.split(/\s+/));
  return Number(vals[head.indexOf("FragCreates")]);
}

/** One TCP exchange from `ns` bound to `src`; "" when it does not connect in 0.5 s. */
function probe(ns: string, src: string, dst: string, port: number): string {
  return sh(ns, `/usr/bin/socat -T1 - TCP:${dst}:${port},bind=${src},connect-timeout=0.5 </dev/null 2>/dev/null`).out.trim();
}

/** The vxlan links (name, mtu, group, VNI, local, port) and every all-zero FDB entry in `ns`, sorted: what apply owns. */
function vxlanState(ns: string): { links: string[]; fdb: string[] } {
  // Cut down in the namespace: thousands of full `ip -d` lines would not fit spawnSync's output buffer.
  const re = "^[0-9]+: ([^:@]+)[^ ]*: <([^>]*)> mtu ([0-9]+) .* group ([^ ]+) .* vxlan id ([0-9]+) local ([^ ]+) .* dstport ([0-9]+) .*$";
  const links = must(ns, `ip -d -o link show type vxlan | sed -E 's/${re}/\\1 <\\2> mtu \\3 group \\4 vni \\5 local \\6 port \\7/'`)
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      if (!/^\S+ <[^>]*> mtu \d+ group \S+ vni \d+ local \S+ port \d+$/.test(l)) throw new Error(`unexpected vxlan line: ${l}`);
      return l;
    })
    .sort();
  const fdb = must(ns, `bridge fdb show | grep '^${ZERO} ' || true`).split("\n").filter(Boolean).sort();
  return { links, fdb };
}

/** Every learned (non-zero) FDB entry that points at `dst`, removed (a control run may have left one). */
function forgetLearned(ns: string, link: string, dst: string): void {
  must(ns, `bridge fdb show dev ${link} | awk '$1 != "${ZERO}" && / dst ${dst} / {print $1}' | while read -r mac; do bridge fdb del "$mac" dev ${link} dst ${dst}; done`);
}

function suite(mode: "distinct" | "fixed"): void {
  const P = `lrt-vx${mode[0]}-${process.pid}`;
  const NS = { vpn: `${P}-vpn`, sw: `${P}-sw`, ts: `${P}-ts`, ca: `${P}-ca`, cb: `${P}-cb`, ct: `${P}-ct`, na: `${P}-na`, nb: `${P}-nb`, lr1: `${P}-lr1`, lr2: `${P}-lr2`, rogue: `${P}-rg` };
  const DIR = `/tmp/${P}`;
  const layout = layoutIn(DIR);
  const plan = sdnPlan(mode);
  const server = plan.servers[0];
  const [acme, coop] = plan.tenants;
  const sdn = plan.sdn!;
  const procs: ChildProcess[] = [];
  const scripts = (t: TenantPlan) => tenantServerScripts(plan, server, t, layout, CERT_PEM, TC2_ID);
  const tool = (args: string) => must(NS.vpn, `${dataplaneToolPath(layout)} ${args}`);
  const bg = (ns: string, args: string[]) => procs.push(spawn("ip", ["netns", "exec", ns, ...args], { stdio: "ignore" }));
  const state = () => ({
    ...vxlanState(NS.vpn),
    rules: must(NS.vpn, "ip -N rule show"),
    routes: must(NS.vpn, "ip -4 route show table all | grep -v 'table local' || true"),
    addrs: must(NS.vpn, "ip -4 -o addr show | awk '{print $2, $4}' | sort"),
    ipt: must(NS.vpn, "iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]/[0:0]/'"),
  });
  /** The zone's peers but `self`: the flood list Proxmox's ifupdown2 gives vxlan_lr<slot> on a node. */
  const others = (self: string) => sdn.peers.filter((p) => p !== self);
  let setupOut = "";
  const stale = [`${layout.networkLinkDir}/${TRUNK_LINK_FILE}`, `${layout.ifupdownDir}/${TRUNK_IFUPDOWN_FILE}`];
  let applied: ReturnType<typeof state>;

  beforeAll(() => {
    for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "add", ns]);
    mkdirSync(`/etc/netns/${NS.vpn}/iproute2/rt_tables.d`, { recursive: true });
    // No IPv6 chatter from the nodes' bridges or the routers: the VPN server learns only the routers' MACs.
    for (const ns of [NS.na, NS.nb, NS.lr1, NS.lr2, NS.rogue]) must(ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
    const link = (a: string, ia: string, b: string, ib: string) => must(a, `ip link add ${ia} type veth peer name ${ib} netns ${b}`);
    must(NS.sw, "ip link set lo up; ip link add br0 type bridge; ip link set br0 up");
    const mgmt = (ns: string, dev: string, port: string, ip: string) => {
      link(ns, dev, NS.sw, port);
      must(NS.sw, `ip link set ${port} master br0; ip link set ${port} up`);
      must(ns, `ip link set lo up; ip link set ${dev} up; ip addr add ${ip}/24 dev ${dev}`);
    };
    mgmt(NS.vpn, MGMT, "m-vpn", server.mgmtIp);
    mgmt(NS.na, "mgmt0", "m-na", NODE_IPS["pve-a"]);
    mgmt(NS.nb, "mgmt0", "m-nb", NODE_IPS["pve-b"]);
    mgmt(NS.rogue, "mgmt0", "m-rg", ROGUE);
    // The tunnels, as in dataplane-scripts.test.ts: veths standing in for tun devices, /32 + onlink clients.
    link(NS.vpn, "tun-udp", NS.ts, "up0");
    link(NS.ca, "c0", NS.ts, "pa");
    link(NS.cb, "c0", NS.ts, "pb");
    link(NS.vpn, "tun-tcp", NS.ct, "c0");
    must(NS.ts, "ip link add br0 type bridge && for i in lo br0 up0 pa pb; do ip link set $i up; done; for i in up0 pa pb; do ip link set $i master br0; done");
    must(NS.vpn, "ip link set tun-udp up; ip link set tun-tcp up; ip addr add 10.255.0.1/18 dev tun-udp; ip addr add 10.255.64.1/18 dev tun-tcp");
    const client = (ns: string, ip: string, gw: string) => must(ns, `ip link set lo up; ip link set c0 up; ip addr add ${ip}/32 dev c0; ip route add ${gw} dev c0; ip route add default via ${gw} dev c0 onlink`);
    client(NS.ca, acme.tunnelIps["vpn1-udp"], "10.255.0.1");
    client(NS.cb, coop.tunnelIps["vpn1-udp"], "10.255.0.1");
    client(NS.ct, acme.tunnelIps["vpn1-tcp"], "10.255.64.1");
    // Each node: every tenant's vnet (Proxmox lays out every vnet on every node of the zone).
    for (const [node, ns] of [["pve-a", NS.na], ["pve-b", NS.nb]] as const) {
      const self = NODE_IPS[node];
      for (const t of plan.tenants) {
        const { vnet, vni } = t.sdn!;
        const flood = others(self).map((p) => `fdb append ${ZERO} dev vxlan_${vnet} dst ${p}`).join("\n");
        must(ns, `ip link add ${vnet} type bridge; ip link add vxlan_${vnet} mtu ${sdn.mtu} type vxlan id ${vni} local ${self} dstport ${sdn.port}; ip link set vxlan_${vnet} master ${vnet}; ip link set vxlan_${vnet} up; ip link set ${vnet} up; bridge -batch - <<'EOF'\n${flood}\nEOF`);
      }
    }
    // Each tenant's router on its own node's bridge: fixed mode gives both the same address.
    for (const [t, ns, name] of [[acme, NS.lr1, "lr1"], [coop, NS.lr2, "lr2"]] as const) {
      const node = t.node === "pve-a" ? NS.na : NS.nb;
      link(ns, "lan", node, `tap${t.slot}`);
      must(node, `ip link set tap${t.slot} master ${t.sdn!.vnet}; ip link set tap${t.slot} up`);
      must(ns, `ip link set lo up; ip link set lan mtu ${sdn.mtu}; ip link set lan up; ip addr add ${t.routerIp}/24 dev lan; ip addr add 10.99.99.99/32 dev lo`);
      bg(ns, ["/usr/bin/socat", "TCP-LISTEN:8080,fork,reuseaddr", `SYSTEM:echo ${name}`]);
    }
    // Each node's VNC ports: the tenant's own console on its node, a decoy under the other tenant's port.
    bg(NS.na, ["/usr/bin/socat", `TCP-LISTEN:${acme.vnc.port},bind=${NODE_IPS["pve-a"]},fork,reuseaddr`, "SYSTEM:echo vnc-acme@pve-a"]);
    bg(NS.na, ["/usr/bin/socat", `TCP-LISTEN:${coop.vnc.port},bind=${NODE_IPS["pve-a"]},fork,reuseaddr`, "SYSTEM:echo decoy@pve-a"]);
    bg(NS.nb, ["/usr/bin/socat", `TCP-LISTEN:${coop.vnc.port},bind=${NODE_IPS["pve-b"]},fork,reuseaddr`, "SYSTEM:echo vnc-coop@pve-b"]);
    bg(NS.nb, ["/usr/bin/socat", `TCP-LISTEN:${acme.vnc.port},bind=${NODE_IPS["pve-b"]},fork,reuseaddr`, "SYSTEM:echo decoy@pve-b"]);
    mkdirSync(`${DIR}/run`, { recursive: true });
    bg(NS.vpn, ["/usr/bin/socat", "-u", `UNIX-LISTEN:${DIR}/run/udp.sock,fork`, `OPEN:${DIR}/mgmt-udp.log,creat,append`]);
    spawnSync("sleep", ["0.3"]);
    // What a one-node release left for its trunk NIC: the setup removes it. No nics: under sdn there is no trunk NIC.
    for (const f of stale) {
      mkdirSync(f.slice(0, f.lastIndexOf("/")), { recursive: true });
      writeFileSync(f, "# left by a one-node release\n");
    }
    setupOut = must(NS.vpn, "LR_SERVICES=none bash -s", renderServerSetupScript(plan, server, layout, [{ path: `${layout.openvpnDir}/pki/server.key`, mode: "0600", content: "-----BEGIN PRIVATE KEY-----\nE2ESECRET\n-----END PRIVATE KEY-----\n" }]));
    for (const t of plan.tenants) must(NS.vpn, "bash -s", scripts(t).apply);
    applied = state();
  });

  afterAll(() => {
    for (const p of procs) p.kill("SIGKILL");
    for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
    rmSync(`/etc/netns/${NS.vpn}`, { recursive: true, force: true });
    rmSync(DIR, { recursive: true, force: true });
  });

  it("setup renames no trunk, writes no trunk file and removes a stale one; each tenant link is a vxlan device on the underlay with the zone's VNI and MTU, flooding to every other peer", () => {
    expect(setupOut).toBe(`${stale.map((f) => `trunk: removed ${f} (no trunk under SDN)\n`).join("")}vpn1: 7 files, 9 changed, openvpn restart: yes (none)\n`);
    expect(stale.filter((f) => existsSync(f))).toEqual([]);
    expect(applied.links).toEqual(plan.tenants.map((t) => `${t.link} <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${sdn.mtu} group 19538 vni ${t.sdn!.vni} local ${server.mgmtIp} port ${sdn.port}`));
    const want = plan.tenants.flatMap((t) => others(server.mgmtIp).map((p) => `${ZERO} dev ${t.link} dst ${p} self permanent`)).sort();
    expect(applied.fdb).toEqual(want);
    expect(want).toHaveLength(6);
    expect(applied.fdb.join("\n")).not.toContain(`dst ${server.mgmtIp} `);
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
  });

  it(`each tenant reaches its own router only, over VXLAN to its own node (${mode}: ${acme.routerIp} and ${coop.routerIp})`, () => {
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr1");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr2");
    expect(probe(NS.ct, acme.tunnelIps["vpn1-tcp"], "10.99.99.99", 8080)).toBe("lr1");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], acme.routerIp, 8080)).toBe("lr1");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], coop.routerIp, 8080)).toBe("lr2");
    if (mode === "distinct") expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], coop.routerIp, 8080)).toBe("");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], coop.tunnelIps["vpn1-udp"], 8080)).toBe("");
    // The frames did cross the underlay: each router's MAC was learned on the VPN server behind its own node only.
    // (By the router's own MAC: a node's bridge may still send a frame of its own, seen in CI, learned behind that node.)
    const macOf = (ns: string) => must(ns, "cat /sys/class/net/lan/address").trim();
    const learned = (link: string, mac: string) => must(NS.vpn, `bridge fdb show dev ${link} | awk '$1 == "${mac}" {print $3}' | sort -u`).trim();
    expect(learned(acme.link, macOf(NS.lr1))).toBe(NODE_IPS["pve-a"]);
    expect(learned(coop.link, macOf(NS.lr2))).toBe(NODE_IPS["pve-b"]);
    expect(learned(acme.link, macOf(NS.lr2))).toBe("");
    expect(learned(coop.link, macOf(NS.lr1))).toBe("");
  });

  it("the console DNAT goes to the tenant's own node, never to the other node", () => {
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.255.0.1", 5900)).toBe("vnc-acme@pve-a");
    expect(probe(NS.ct, acme.tunnelIps["vpn1-tcp"], "10.255.64.1", 5900)).toBe("vnc-acme@pve-a");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.255.0.1", 5900)).toBe("vnc-coop@pve-b");
    // No tenant reaches a node's console port directly (only through its own DNAT).
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], NODE_IPS["pve-b"], coop.vnc.port)).toBe("");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], NODE_IPS["pve-a"], acme.vnc.port)).toBe("");
  });

  it("VXLAN from an address that is not a peer is dropped before conntrack, even as an ESTABLISHED flow (control: accepted, its frames land on the tenant's link)", () => {
    const frames = () => {
      must(NS.rogue, `/usr/bin/python3 -c '${SEND_VXLAN}' ${ROGUE} ${server.mgmtIp} ${sdn.port} ${acme.sdn!.vni} ${ROGUE_MAC}`);
    };
    // The server's bridge learns a frame's source MAC as soon as its vxlan link takes the frame.
    const landed = () => must(NS.vpn, `bridge fdb show dev ${acme.link}`).includes(`${ROGUE_MAC} dst ${ROGUE} `);
    const count = (rule: string) => Number(/^\s*(\d+)\s/.exec(must(NS.vpn, `iptables -L LR-IN ${rule} -n -v -x`))?.[1] ?? -1);
    const dropRule = () => must(NS.vpn, "iptables -S LR-IN").split("\n").indexOf(`-A LR-IN -p udp -m udp --dport ${sdn.port} -j DROP`);
    const drops = () => count(String(dropRule()));
    const d0 = drops();
    frames();
    expect(drops()).toBe(d0 + 3);
    expect(landed()).toBe(false);
    const accept = `-s ${ROGUE}/32 -p udp -m udp --dport ${sdn.port} -j ACCEPT`;
    must(NS.vpn, `iptables -I LR-IN 1 ${accept}`);
    try {
      frames();
      expect(landed()).toBe(true);
    } finally {
      must(NS.vpn, `iptables -D LR-IN ${accept}`);
    }
    forgetLearned(NS.vpn, acme.link, ROGUE);
    // The server sends to the rogue's VXLAN port first, so conntrack holds the flow and the rogue's frames are its
    // replies (a counting rule shows them ESTABLISHED): still dropped, the VXLAN rules come before the conntrack accept.
    must(NS.vpn, `/usr/bin/python3 -c '${SEND_UDP_RAW}' ${ROGUE} ${sdn.port}`);
    const established = `-s ${ROGUE}/32 -p udp -m udp --sport ${sdn.port} --dport ${sdn.port} -m conntrack --ctstate ESTABLISHED`;
    must(NS.vpn, `iptables -I LR-IN 1 ${established}`);
    try {
      const d1 = drops();
      frames();
      expect(count("1")).toBe(3);
      expect(drops()).toBe(d1 + 3);
      expect(landed()).toBe(false);
    } finally {
      must(NS.vpn, `iptables -D LR-IN ${established}`);
    }
  });

  it(`the vxlan links carry full-size packets (MTU ${sdn.mtu} = underlay 1500 − 50) unfragmented, both ways; one byte more gets "fragmentation needed"`, () => {
    const full = sdn.mtu - 28; // ICMP echo payload filling an IPv4 packet of the link's MTU
    const ping = (size: number) => sh(NS.ca, `ping -M do -c 2 -i 0.2 -W 1 -s ${size} -I ${acme.tunnelIps["vpn1-udp"]} ${acme.routerIp}`);
    const frags = () => [NS.vpn, NS.na, NS.nb, NS.lr1].map(fragCreates);
    const f0 = frags();
    const ok = ping(full);
    expect({ code: ok.code, out: ok.out }).toEqual({ code: 0, out: expect.stringContaining(`2 received`) as string });
    expect(ok.out).toContain(`${full + 8} bytes from ${acme.routerIp}`);
    expect(frags()).toEqual(f0);
    const big = ping(full + 1);
    expect(big.code).not.toBe(0);
    expect(`${big.out}${big.err}`).toMatch(new RegExp(`mtu ?= ?${sdn.mtu}\\b`));
    expect(frags()).toEqual(f0);
  });

  it("apply twice, apply-all and base change nothing and send no FDB change", () => {
    const copy = `${DIR}/lr-dataplane-bridgelog`;
    writeFileSync(`${DIR}/bridge-log`, `#!/bin/bash\nprintf '%s|' "$@" >>${DIR}/bridge.calls\nif [[ $1 == -batch ]]; then tee -a ${DIR}/bridge.calls | /usr/sbin/bridge "$@"; else /usr/sbin/bridge "$@"; fi\n`, { mode: 0o755 });
    writeFileSync(copy, readFileSync(dataplaneToolPath(layout), "utf8").replace(/^BRIDGE=.*$/m, `BRIDGE=${DIR}/bridge-log`), { mode: 0o755 });
    rmSync(`${DIR}/bridge.calls`, { force: true });
    must(NS.vpn, `${copy} apply acme && ${copy} apply coop-sur && ${copy} apply-all && ${copy} base`);
    expect(readFileSync(`${DIR}/bridge.calls`, "utf8")).toBe("fdb|show|dev|vx1|fdb|show|dev|vx2|fdb|show|");
    for (const t of plan.tenants) must(NS.vpn, "bash -s", scripts(t).apply);
    expect(state()).toEqual(applied);
  });

  it("a missing or stale flood entry: status names it, apply puts it right", () => {
    const [missing, stale] = [NODE_IPS["pve-b"], "192.168.100.77"];
    must(NS.vpn, `bridge fdb del ${ZERO} dev ${acme.link} dst ${missing}; bridge fdb append ${ZERO} dev ${acme.link} dst ${stale}`);
    const r = sh(NS.vpn, `${dataplaneToolPath(layout)} status`);
    expect({ code: r.code, out: r.out }).toEqual({ code: 1, out: `server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): missing fdb:${missing}\ncoop-sur (slot 2): ok\n` });
    tool("apply acme");
    expect(state()).toEqual(applied);
  });

  it("a link made by hand with another MTU is kept (link exists: not recreated) and gets the zone's MTU", () => {
    must(NS.vpn, `ip link set dev ${coop.link} mtu 1400`);
    tool("apply coop-sur");
    expect(state()).toEqual(applied);
  });

  it("delete removes the vxlan link and its FDB entries; the other tenant stays as it was; apply brings it back", () => {
    expect(must(NS.vpn, "bash -s", scripts(coop).delete)).toBe("coop-sur on vpn1: deleted\n");
    expect(sh(NS.vpn, `ip link show dev ${coop.link}`).code).not.toBe(0);
    expect(must(NS.vpn, "bridge fdb show")).not.toContain(` dev ${coop.link} `);
    const after = state();
    expect(after.links).toEqual(applied.links.filter((l) => !l.startsWith(`${coop.link} `)));
    expect(after.fdb).toEqual(applied.fdb.filter((l) => !l.includes(` dev ${coop.link} `)));
    expect(after.ipt).not.toContain("lr:coop-sur");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr1");
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("");
    must(NS.vpn, "bash -s", scripts(coop).apply);
    expect(state()).toEqual(applied);
    expect(probe(NS.cb, coop.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr2");
    expect(tool("status")).toBe("server vpn1: rules at 77 prefs, skeleton 70/70\nacme (slot 1): ok\ncoop-sur (slot 2): ok\n");
  });

  it("base refuses a management NIC without the VTEP address, naming it", () => {
    must(NS.vpn, `ip addr del ${server.mgmtIp}/24 dev ${MGMT}`);
    try {
      const r = sh(NS.vpn, `${dataplaneToolPath(layout)} base`);
      expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `lr-dataplane: ${MGMT} has not the VTEP address ${server.mgmtIp} (network.management.vpnIps): the peers send this server's VXLAN there\n` });
    } finally {
      must(NS.vpn, `ip addr add ${server.mgmtIp}/24 dev ${MGMT}`);
    }
    tool("base");
    expect(probe(NS.ca, acme.tunnelIps["vpn1-udp"], "10.99.99.99", 8080)).toBe("lr1");
  });
}

describe("VXLAN data plane, tenant network distinct", () => suite("distinct"));
describe("VXLAN data plane, tenant network fixed", () => suite("fixed"));

describe("VXLAN data plane: apply timings", () => {
  // LR_VXLAN_TENANTS: a bigger run by hand (the report's 4,000-tenant figures); 500 keeps the suite quick.
  const N = Number(process.env.LR_VXLAN_TENANTS ?? 500);
  const P = `lrt-vxb-${process.pid}`;
  const DIR = `/tmp/${P}`;
  const layout = layoutIn(DIR);
  const plan: Plan = sdnNumberedPlan(N);
  const server = plan.servers[0];

  beforeAll(() => {
    spawnSync("ip", ["netns", "add", P]);
    mkdirSync(`/etc/netns/${P}/iproute2/rt_tables.d`, { recursive: true });
    must(P, `ip link set lo up; ip link add ${MGMT} type veth peer name p2; ip link set p2 up; ip link set ${MGMT} up; ip addr add ${server.mgmtIp}/24 dev ${MGMT}; ip link add tun-udp type veth peer name pu; ip link add tun-tcp type veth peer name pt; ip link set tun-udp up; ip link set tun-tcp up`);
    must(P, "LR_SERVICES=none bash -s >/dev/null", renderServerSetupScript(plan, server, layout, []));
    for (const t of plan.tenants) writeFileSync(tenantEnvPath(layout, t), renderTenantEnv(plan.stack, server, t, plan.nodes), { mode: 0o640 });
  });

  afterAll(() => {
    spawnSync("ip", ["netns", "del", P]);
    rmSync(`/etc/netns/${P}`, { recursive: true, force: true });
    rmSync(DIR, { recursive: true, force: true });
  });

  it(`${N} tenants: apply-all makes every vxlan link and ${N * 3} flood entries; again it changes nothing; one apply and one delete stay near-constant`, () => {
    const timed = (cmd: string) => {
      const t0 = process.hrtime.bigint();
      must(P, `${dataplaneToolPath(layout)} ${cmd}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const cold = timed("apply-all");
    const s1 = vxlanState(P);
    expect(s1.links).toHaveLength(N);
    expect(s1.fdb).toHaveLength(N * 3);
    const warm = timed("apply-all");
    expect(vxlanState(P)).toEqual(s1);
    const last = plan.tenants[N - 1];
    const one = timed(`apply ${last.key}`);
    const del = timed(`delete ${last.key}`);
    expect(vxlanState(P).links).toHaveLength(N - 1);
    writeFileSync(tenantEnvPath(layout, last), renderTenantEnv(plan.stack, server, last, plan.nodes), { mode: 0o640 });
    const add = timed(`apply ${last.key}`);
    expect(vxlanState(P)).toEqual(s1);
    const status = timed("status");
    console.log(`VXLAN data plane, ${N} tenants on ${server.name}: apply-all cold ${cold.toFixed(0)} ms, warm ${warm.toFixed(0)} ms; apply one (no change) ${one.toFixed(0)} ms, delete one ${del.toFixed(0)} ms, apply one new ${add.toFixed(0)} ms; status ${status.toFixed(0)} ms`);
  });
});

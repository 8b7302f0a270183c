/**
 * The `fixed`-mode LAN table (render/lan-zones.ts) alone, loaded by hand with nft in namespaces (the rendered
 * lr-dataplane that loads it is test/e2e/dataplane-fixed.test.ts): two tenant routers with the very same address
 * behind two links of one VPN server, masqueraded as production does:
 *   c (tunnel IPs of acme and coop-sur) ─ tun-udp ┐ vpn ├ vl101 ─ lrA 10.0.0.1/24
 *                                                         └ vl102 ─ lrB 10.0.0.1/24
 * Veths stand in for the tun and the VLAN links (no 8021q here). Each tenant reaches only its own 10.0.0.1; a
 * hostile router that forges a reply for the other tenant's flow gets it delivered without the table (control)
 * and dropped with it, by the zones alone and by the link isolation alone.
 */
import { spawn, spawnSync } from "node:child_process";
import { renderLanZoneTable, lanZoneElements, LAN_TABLE } from "../../render/lan-zones";
import { must, sh } from "../tools/netns-shell";
import { twoTenantPlan } from "../render/dataplane/fixture";

const P = `lrt-lz-${process.pid}`;
const NS = { c: `${P}-c`, vpn: `${P}-vpn`, lrA: `${P}-lra`, lrB: `${P}-lrb` };
const plan = twoTenantPlan();
const server = plan.servers[0];
const [acme, coop] = plan.tenants;
const LAN = "10.0.0.0/24";
const [TA, TB] = [acme.tunnelIps["vpn1-udp"], coop.tunnelIps["vpn1-udp"]];
const GW = plan.instances.find((i) => i.id === "vpn1-udp")!.gateway;

const host = (cmd: string) => {
  const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} → ${r.status}: ${r.stderr}`);
};

function loadTable(): void {
  sh(NS.vpn, `nft delete table ip ${LAN_TABLE}`);
  must(NS.vpn, "nft -f -", renderLanZoneTable(LAN, server.instances));
  for (const t of plan.tenants) for (const line of lanZoneElements(server, t, "add")) must(NS.vpn, `nft '${line}'`);
}

/** One datagram from the client at `src:sport` to 10.0.0.1:`port`; what came back within 2 s (a first exchange may wait for ARP). */
const ask = (src: string, sport: number, port: number) => sh(NS.c, `echo hi | socat -t2 -T2 - UDP4:10.0.0.1:${port},bind=${src}:${sport}`).out.trim();

/**
 * acme's client holds a flow to its router's silent port 7001 for 2 s; meanwhile lrB (coop-sur's router, same
 * address) sends a forged reply from 10.0.0.1:7001 to the masqueraded source (10.0.0.2, the port kept). What
 * acme's client received.
 */
function injected(sport: number): string {
  const client = spawnSync(
    "bash",
    ["-c", `ip netns exec ${NS.c} bash -c '(echo hi; sleep 2) | socat -T3 - UDP4:10.0.0.1:7001,bind=${TA}:${sport}' & sleep 0.7; ip netns exec ${NS.lrB} bash -c 'echo evil | socat -u - UDP4:10.0.0.2:${sport},bind=10.0.0.1:7001'; wait`],
    { encoding: "utf8", timeout: 10_000 },
  );
  return client.stdout.trim();
}

beforeAll(() => {
  for (const ns of Object.values(NS)) host(`ip netns add ${ns}`);
  host(`ip link add tun-udp netns ${NS.vpn} type veth peer name eth0 netns ${NS.c}`);
  host(`ip link add vl101 netns ${NS.vpn} type veth peer name eth0 netns ${NS.lrA}`);
  host(`ip link add vl102 netns ${NS.vpn} type veth peer name eth0 netns ${NS.lrB}`);
  must(NS.c, `ip link set lo up; ip link set eth0 up; ip addr add ${TA}/32 dev eth0; ip addr add ${TB}/32 dev eth0; ip route add ${GW} dev eth0; ip route add ${LAN} via ${GW} dev eth0 onlink`);
  for (const ns of [NS.lrA, NS.lrB]) must(ns, "ip link set lo up; ip link set eth0 up; ip addr add 10.0.0.1/24 dev eth0");
  must(
    NS.vpn,
    [
      "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1",
      // The public side's default route, as on a real server: loose rp_filter on the links needs a route back to
      // 10.0.0.1 somewhere, or even the router's ARP for 10.0.0.2 is refused (arp_process validates the source).
      "ip link add eth0 type veth peer name eth0-peer; ip link set eth0 up; ip link set eth0-peer up; ip addr add 198.51.100.2/24 dev eth0; ip route add default via 198.51.100.1 dev eth0 onlink",
      `ip link set lo up; ip link set tun-udp up; ip addr add ${GW}/32 dev tun-udp; ip route add ${TA} dev tun-udp; ip route add ${TB} dev tun-udp`,
      // The same LAN address on every link, without a prefix route each: the tenant's own table has the LAN.
      ...[acme, coop].map((t, i) => `ip link set vl10${i + 1} up; ip addr add 10.0.0.2/24 dev vl10${i + 1} noprefixroute; sysctl -qw net.ipv4.conf.vl10${i + 1}.rp_filter=2; ip route add ${LAN} dev vl10${i + 1} table ${t.table.id}; ip rule add from ${t.tunnelIps["vpn1-udp"]} lookup ${t.table.id}`),
      "iptables -t nat -A POSTROUTING -o vl+ -j MASQUERADE",
    ].join("; "),
  );
  // Each router answers its name on :7000 (a plain loop: socat's forking UDP listener misses a datagram now and
  // then) and swallows :7001.
  const answer = (name: string) => `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(("0.0.0.0", 7000))\nwhile True:\n    d, a = s.recvfrom(64)\n    s.sendto(b"${name}\\n", a)\n`;
  for (const [ns, name] of [[NS.lrA, "lrA"], [NS.lrB, "lrB"]]) spawn("ip", ["netns", "exec", ns, "python3", "-c", answer(name)], { stdio: "ignore", detached: true }).unref();
  spawn("ip", ["netns", "exec", NS.lrA, "socat", "-u", "UDP4-RECV:7001", "/dev/null"], { stdio: "ignore", detached: true }).unref();
  spawnSync("sleep", ["1"]); // python3 starts
}, 30_000);

afterAll(() => {
  for (const ns of Object.values(NS)) {
    spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).forEach((pid) => spawnSync("kill", [pid]));
    spawnSync("ip", ["netns", "del", ns]);
  }
});

test("the table loads with nft and takes each tenant's elements; removing one tenant leaves the other's", () => {
  loadTable();
  const listed = must(NS.vpn, `nft list table ip ${LAN_TABLE}`);
  expect(listed).toContain(`"vl101" : ${acme.slot}`);
  expect(listed).toContain(`${TB} : ${coop.slot}`);
  for (const line of lanZoneElements(server, coop, "delete")) must(NS.vpn, `nft '${line}'`);
  const after = must(NS.vpn, `nft list table ip ${LAN_TABLE}`);
  expect(after).not.toContain("vl102");
  expect(after).toContain(`"vl101" . ${TA}`);
  loadTable();
});

test("each tenant reaches its own 10.0.0.1, never the other's identical one", () => {
  loadTable();
  expect(ask(TA, 5000, 7000)).toBe("lrA");
  expect(ask(TB, 5000, 7000)).toBe("lrB");
});

test("a forged reply from the other tenant's router: delivered without the table, dropped by zones alone, by isolation alone, and by both", () => {
  sh(NS.vpn, `nft delete table ip ${LAN_TABLE}`);
  expect(injected(5101)).toBe("evil"); // the attack is real
  loadTable();
  must(NS.vpn, `nft flush chain ip ${LAN_TABLE} isolate`);
  expect(injected(5102)).toBe(""); // zones: lrB's packet is in its own zone, acme's flow is not there
  expect(ask(TA, 6102, 7000)).toBe("lrA");
  loadTable();
  must(NS.vpn, `nft flush chain ip ${LAN_TABLE} zones`);
  expect(injected(5103)).toBe(""); // isolation: vl102 may only reach coop-sur's tunnel IPs
  expect(ask(TA, 6103, 7000)).toBe("lrA");
  loadTable();
  expect(injected(5104)).toBe("");
  // acme's own router still answers through the full table.
  expect(ask(TA, 6104, 7000)).toBe("lrA");
}, 30_000);

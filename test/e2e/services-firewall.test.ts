/**
 * The services VM's public-side INPUT policy, run for real (root) in two namespaces: `svc` with eth0 holding the
 * VM's public address and listeners on :53 (udp, tcp), :22 and udp :67, `wan` on the other end of the veth. Only DNS
 * opens from the wan; twice = same; echo is rate-limited. In fixed tenant-network mode DHCP requests (from port 68,
 * broadcast or to the address) open too, nothing else does.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { buildPlan } from "../../plan/build";
import type { Plan } from "../../plan/types";
import { readStackFile } from "../../config/load";
import { SERVICES_CHAIN, servicesFirewallScript } from "../../render/services";
import { must, sh } from "../tools/netns-shell";

const plan = buildPlan(readStackFile(`${__dirname}/../..`, "minimal"), "minimal");
const IP = plan.services.publicIp;
const P = `lrt-svc-${process.pid}`;
const NS = { svc: `${P}-svc`, wan: `${P}-wan` };
const procs: ChildProcess[] = [];

/** What the wan gets back from svc's `port` ("" when nothing answers within a second). */
const tcp = (port: number) => sh(NS.wan, `/usr/bin/socat -T1 - TCP:${IP}:${port},connect-timeout=1 </dev/null 2>/dev/null`).out.trim();
// socat waits only `-t` (0.5 s by default) for the answer after its stdin ends: a loaded machine's forked
// listener can take longer, so both UDP helpers wait 2 s.
// A datagram can go unanswered on a busy machine (CI once saw :53 silent with and without the firewall): up to 3
// tries, as a resolver retries; a port the firewall drops stays silent on every try.
const udp = (port: number) => {
  for (let i = 0; ; i++) {
    const out = sh(NS.wan, `echo q | /usr/bin/socat -t2 -T2 - UDP:${IP}:${port} 2>/dev/null`).out.trim();
    if (out || i === 2) return out;
  }
};
/** A request to svc's :67 from the wan's port `sport`, to its address (a DHCP client renewing); what came back. */
const dhcp = (sport: number) => sh(NS.wan, `echo q | /usr/bin/socat -t2 -T2 - UDP:${IP}:67,sourceport=${sport} 2>/dev/null`).out.trim();
/** Datagrams svc's :67 listener got. */
const GOT = `/tmp/${P}-dhcp.got`;
const received = () => (existsSync(GOT) ? readFileSync(GOT, "utf8").split("\n").filter(Boolean).length : 0);
/** How many of busybox udhcpc's two broadcast DISCOVERs (from 0.0.0.0:68 to 255.255.255.255:67) reached svc's :67. */
function discovers(): number {
  const before = received();
  sh(NS.wan, "busybox udhcpc -i eth0 -f -q -n -t 2 -T 1 -s /bin/true");
  return received() - before;
}
/** The minimal stack in fixed tenant-network mode (same services address). */
const fixed: Plan = buildPlan({ ...readStackFile(`${__dirname}/../..`, "minimal"), tenantNetwork: { mode: "fixed" } }, "minimal");
const rules = () => must(NS.svc, "iptables-save -t filter | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]/[0:0]/'");

beforeAll(() => {
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "add", ns]);
  spawnSync("ip", ["link", "add", "eth0", "netns", NS.svc, "type", "veth", "peer", "name", "eth0", "netns", NS.wan]);
  must(NS.svc, `ip link set lo up; ip link set eth0 up; ip addr add ${IP}/24 dev eth0`);
  must(NS.wan, `ip link set lo up; ip link set eth0 up; ip addr add ${plan.publicPools[0].gateway}/24 dev eth0`);
  const bg = (args: string[]) => procs.push(spawn("ip", ["netns", "exec", NS.svc, ...args], { stdio: "ignore" }));
  bg(["/usr/bin/socat", "TCP-LISTEN:53,reuseaddr,fork", "SYSTEM:echo dns-tcp"]);
  bg(["/usr/bin/socat", "UDP-RECVFROM:53,fork", "SYSTEM:echo dns-udp"]);
  bg(["/usr/bin/socat", "TCP-LISTEN:22,reuseaddr,fork", "SYSTEM:echo sshd"]);
  bg(["/usr/bin/socat", "UDP-RECVFROM:67,fork", `SYSTEM:echo got >>${GOT}; echo dhcp`]);
  // Every listener bound before the first probe (a fixed sleep was not always enough under load).
  for (let i = 0; i < 100; i++) {
    const tcpUp = sh(NS.svc, "ss -Hltn").out;
    const udpUp = sh(NS.svc, "ss -Hlun").out;
    if ([":53 ", ":22 "].every((p) => tcpUp.includes(p)) && [":53 ", ":67 "].every((p) => udpUp.includes(p))) return;
    spawnSync("sleep", ["0.1"]);
  }
  throw new Error("the test's socat listeners did not bind within 10 s");
});

afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  rmSync(GOT, { force: true });
});

describe("services VM public-side INPUT policy", () => {
  it("without it, :22 and :53 answer the wan (control)", () => {
    expect({ ssh: tcp(22), dns: tcp(53), dnsUdp: udp(53), dhcp: dhcp(68), discovers: discovers() }).toEqual({ ssh: "sshd", dns: "dns-tcp", dnsUdp: "dns-udp", dhcp: "dhcp", discovers: 2 });
  });

  it("with it, only DNS answers; the jump is first in INPUT, once, also after a second run", () => {
    must(NS.svc, "bash -s", servicesFirewallScript(plan));
    expect({ ssh: tcp(22), dns: tcp(53), dnsUdp: udp(53), dhcp: dhcp(68), discovers: discovers() }).toEqual({ ssh: "", dns: "dns-tcp", dnsUdp: "dns-udp", dhcp: "", discovers: 0 });
    const once = rules();
    expect(once).toContain(`\n-A INPUT -i eth0 -j ${SERVICES_CHAIN}\n`);
    must(NS.svc, "bash -s", servicesFirewallScript(plan));
    expect(rules()).toBe(once);
    expect(once.split("\n").filter((l) => l.startsWith("-A INPUT"))).toEqual([`-A INPUT -i eth0 -j ${SERVICES_CHAIN}`]);
  });

  it("echo: a burst of 100 in 0.2 s gets about the limit's burst of 20 answers, not 100", () => {
    const out = must(NS.wan, `ping -n -q -c 100 -i 0.002 -W 1 ${IP} || true`);
    const got = Number(/(\d+) received/.exec(out)?.[1]);
    expect(got).toBeGreaterThanOrEqual(15);
    expect(got).toBeLessThanOrEqual(40);
  });

  it("fixed mode: DHCP requests from port 68 open, broadcast DISCOVERs and renewals to the address; from another port, and SSH, still not", () => {
    expect(fixed.services.publicIp).toBe(IP);
    must(NS.svc, "bash -s", servicesFirewallScript(fixed));
    expect({ ssh: tcp(22), dns: tcp(53), dhcp: dhcp(68), discovers: discovers(), otherPort: dhcp(1068) }).toEqual({ ssh: "", dns: "dns-tcp", dhcp: "dhcp", discovers: 2, otherPort: "" });
    expect(rules().split("\n").filter((l) => l.startsWith("-A INPUT"))).toEqual([`-A INPUT -i eth0 -j ${SERVICES_CHAIN}`]);
  });
});

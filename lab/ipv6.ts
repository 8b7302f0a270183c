/**
 * IPv6 probes for the lab: a router advertisement sent the way a hostile tenant router would (raw ICMPv6 from
 * its link-local address to all nodes), a VPN server link's IPv6 state, and TCP/ping to a link-local address.
 * Python's raw sockets do the sending (the kernel fills in the ICMPv6 checksum).
 */
import { must, run, sleep } from "./exec";

/** A documentation prefix: the address a server would autoconfigure from the lab's RA is in it. */
export const RA_PREFIX = "2001:db8:4c52::";
/** An address autoconfigured from RA_PREFIX (the kernel writes it as 2001:db8:4c52:0:…). */
export const RA_ADDR = /^2001:db8:4c52:0:/;

const SEND_RA = `
import socket, struct, sys
ifname, prefix = sys.argv[1], sys.argv[2]
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
# Router advertisement: hop limit 64, router lifetime 1800 s; prefix information /64, on-link and autonomous.
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
ra += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, prefix)
s.sendto(ra, ("ff02::1", 0, 0, idx))
`;

const TCP_OPENS = `
import socket, sys
try:
    socket.create_connection((sys.argv[1] + "%" + sys.argv[2], int(sys.argv[3])), timeout=float(sys.argv[4])).close()
except OSError as e:
    print(e)
    sys.exit(1)
`;

/** Sends one router advertisement for `prefix`/64 out of `ifname` in `ns`. */
export async function sendRa(ns: string, ifname: string, prefix = RA_PREFIX): Promise<void> {
  await must(["python3", "-c", SEND_RA, ifname, prefix], { ns });
}

/** True when a TCP connection from `ns` to `[addr%ifname]:port` is established within `timeoutS`. */
export async function tcpOpens6(ns: string, addr: string, ifname: string, port: number, timeoutS = 1): Promise<boolean> {
  const r = await run(["python3", "-c", TCP_OPENS, addr, ifname, String(port), String(timeoutS)], { ns, timeoutMs: timeoutS * 1000 + 3000 });
  return r.code === 0;
}

/** True when one IPv6 ping from `ns` out of `ifname` to `addr` is answered within `waitS` seconds. */
export async function pings6(ns: string, addr: string, ifname: string, waitS = 1): Promise<boolean> {
  const r = await run(["ping", "-6", "-n", "-q", "-c", "1", "-W", String(waitS), "-I", ifname, addr], { ns, timeoutMs: waitS * 1000 + 2000 });
  return r.code === 0;
}

/** The IPv6 sysctls of `dev` (or "all"/"default") that decide whether it takes RAs and has addresses. */
export async function v6Conf(ns: string, dev: string): Promise<Record<"disable_ipv6" | "accept_ra" | "autoconf", string>> {
  const key = (k: string) => `net/ipv6/conf/${dev}/${k}`;
  const [disable_ipv6, accept_ra, autoconf] = await Promise.all(["disable_ipv6", "accept_ra", "autoconf"].map(async (k) => (await must(["sysctl", "-n", key(k)], { ns })).trim()));
  return { disable_ipv6, accept_ra, autoconf };
}

/** Sets IPv6 sysctls of `dev` in `ns` (a slash path: link names may hold dots). */
export async function setV6Conf(ns: string, dev: string, values: Readonly<Record<string, number>>): Promise<void> {
  await must(["sysctl", "-qw", ...Object.entries(values).map(([k, v]) => `net/ipv6/conf/${dev}/${k}=${v}`)], { ns });
}

/** `dev`'s IPv6 addresses and routes (every table) in `ns`, one line each; empty when it has no IPv6. */
export async function v6State(ns: string, dev: string): Promise<{ addrs: string[]; routes: string[] }> {
  const lines = (s: string) => s.split("\n").map((l) => l.trim()).filter(Boolean);
  const [a, r] = await Promise.all([must(["ip", "-6", "-o", "addr", "show", "dev", dev], { ns }), must(["ip", "-6", "route", "show", "table", "all", "dev", dev], { ns })]);
  return { addrs: lines(a), routes: lines(r) };
}

/** Waits up to `ms` for `dev` to have a usable (not tentative) IPv6 address matching `re`; returns it or undefined. */
export async function waitV6Addr(ns: string, dev: string, re: RegExp, ms = 3000): Promise<string | undefined> {
  const t0 = Date.now();
  for (;;) {
    const usable = (await v6State(ns, dev)).addrs.filter((l) => !/ tentative /.test(l));
    const hit = usable.map((l) => /inet6 (\S+)\//.exec(l)?.[1] ?? "").find((a) => re.test(a));
    if (hit || Date.now() - t0 > ms) return hit;
    await sleep(100);
  }
}

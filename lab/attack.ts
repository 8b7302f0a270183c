/**
 * The ban grid's attacker (namespace `atk` behind the wan, ./topology.ts): real bogus OpenVPN handshakes from chosen
 * source addresses, and probes from a given source address. OpenVPN 2.6 logs each bogus packet as a refusal the
 * grid's parser counts (render/bans/items.ts): over UDP a P_CONTROL_HARD_RESET_CLIENT_V3 whose wrapped client key
 * is garbage ("TLS Error: can not extract tls-crypt-v2 client key from [AF_INET]ip:port"), over TCP a stream whose
 * first length is impossible ("WARNING: Bad encapsulated packet length from peer"). And what only the kernel sees
 * (LR-IN's LOG lines, render/bans/kernel-log.ts): a port scan, one SYN per closed port, and a flood of new UDP flows
 * OpenVPN drops without a line.
 */
import { must, run } from "./exec";

/** python3 (stdlib): `n` bogus handshakes per source address read from stdin; prints the epoch (ms) of the last one. */
const SENDER = `
import os, socket, sys, time
dst, port, n, proto = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
srcs = sys.stdin.read().split()
def v3():
    wkc = os.urandom(100)
    # opcode 10 (HARD_RESET_CLIENT_V3) key id 0, session id, tls-crypt packet id and time, tag, body, WKc and its length
    return bytes([0x50]) + os.urandom(8 + 8 + 32 + 40) + wkc + (len(wkc) + 2).to_bytes(2, "big")
sent = 0
for _ in range(n):
    for ip in srcs:
        if proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ip, 0))
            s.sendto(v3(), (dst, port))
        else:
            s = socket.create_connection((dst, port), timeout=3, source_address=(ip, 0))
            s.sendall(b"\\xff\\xff" + os.urandom(64))
            time.sleep(0.05)
        s.close()
        sent += 1
        # openvpn's receive buffer holds about 3,000 of these: a burst larger than that would be lost, not refused
        if sent % 50 == 0:
            time.sleep(0.01)
print(int(time.time() * 1000))
`;

/** Sends `n` bogus handshakes from each of `sources` (addresses of `ns`) to dst:port; resolves with the epoch ms of the last. */
export async function bogusHandshakes(ns: string, sources: readonly string[], dst: string, port: number, proto: "udp" | "tcp", n: number): Promise<number> {
  const out = await must(["python3", "-c", SENDER, dst, String(port), String(n), proto], { ns, input: sources.join("\n"), timeoutMs: 120_000 });
  return Number(out.trim());
}

/** Adds /32 addresses to `dev` in `ns` (one ip -batch). */
export async function addAddresses(ns: string, dev: string, ips: readonly string[]): Promise<void> {
  await must(["ip", "-n", ns, "-batch", "-"], { input: ips.map((ip) => `addr add ${ip}/32 dev ${dev}\n`).join("") });
}

/** One ping from source address `src` in `ns` to `dst` answered within a second. */
export async function pingsFrom(ns: string, src: string, dst: string): Promise<boolean> {
  return (await run(["ping", "-n", "-q", "-c", "1", "-W", "1", "-I", src, dst], { ns, timeoutMs: 4000 })).code === 0;
}

/** A TCP connection from source address `src` in `ns` to dst:port established within a second. */
export async function opensFrom(ns: string, src: string, dst: string, port: number): Promise<boolean> {
  return (await run(["socat", "-u", "/dev/null", `TCP:${dst}:${port},bind=${src},connect-timeout=1`], { ns, timeoutMs: 4000 })).code === 0;
}

/** python3 (stdlib): one TCP SYN to each port (non-blocking connects, dropped unanswered); prints the epoch ms of the last. */
const SYN_PROBER = `
import socket, sys, time
src, dst, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
socks = []
for port in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    s.connect_ex((dst, port))
    socks.append(s)
print(int(time.time() * 1000))
# closed before the first retransmission: one SYN per port
time.sleep(0.2)
for s in socks:
    s.close()
`;

/** A port scan from `src` (an address of `ns`): one SYN to each of `ports` of `dst`; resolves with the epoch ms of the last. */
export async function synProbes(ns: string, src: string, dst: string, ports: readonly number[]): Promise<number> {
  const out = await must(["python3", "-c", SYN_PROBER, src, dst, ...ports.map(String)], { ns, timeoutMs: 20_000 });
  return Number(out.trim());
}

/**
 * python3 (stdlib): `n` new UDP flows (a fresh socket, so a fresh source port, each) at `rate`/s; each datagram
 * starts with opcode P_DATA_V2, which OpenVPN 2.6 drops from an unknown peer without a line at verb 3. Prints the
 * epoch ms of the last.
 */
const UDP_FLOODER = `
import os, socket, sys, time
src, dst, port, n, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
t0 = time.time()
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(bytes([0x48]) + os.urandom(40), (dst, port))
    s.close()
    time.sleep(max(0.0, t0 + (i + 1) / rate - time.time()))
print(int(time.time() * 1000))
`;

/** `n` new UDP flows from `src` to dst:port at `rate` per second; resolves with the epoch ms of the last. */
export async function udpFlows(ns: string, src: string, dst: string, port: number, n: number, rate: number): Promise<number> {
  const out = await must(["python3", "-c", UDP_FLOODER, src, dst, String(port), String(n), String(rate)], { ns, timeoutMs: 60_000 });
  return Number(out.trim());
}

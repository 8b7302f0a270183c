/**
 * The ban grid's attacker (namespace `atk` behind the wan, ./topology.ts): real bogus OpenVPN handshakes from chosen
 * source addresses, and probes from a given source address. OpenVPN 2.6 logs each bogus packet as a refusal the
 * grid's parser counts (render/bans/items.ts): over UDP a P_CONTROL_HARD_RESET_CLIENT_V3 whose wrapped client key
 * is garbage ("TLS Error: can not extract tls-crypt-v2 client key from [AF_INET]ip:port"), over TCP a stream whose
 * first length is impossible ("WARNING: Bad encapsulated packet length from peer").
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

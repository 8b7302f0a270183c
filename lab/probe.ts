/** Reachability probes run inside a namespace: TCP fetch/connect (socat) and ping, all with short timeouts. */
import { run } from "./exec";

export interface Fetch {
  /** True when the TCP connection was established and the peer sent something. */
  readonly ok: boolean;
  readonly text: string;
  readonly detail: string;
}

/** Connects from `ns` to host:port and returns what the peer sends (the markers reply with a name and close). */
export async function tcpFetch(ns: string, host: string, port: number, timeoutMs = 2000): Promise<Fetch> {
  const s = Math.max(1, Math.round(timeoutMs / 1000));
  const r = await run(["socat", `-T${s}`, "-", `TCP:${host}:${port},connect-timeout=${s}`], { ns, timeoutMs: timeoutMs + 1500 });
  const text = r.stdout.trim();
  return { ok: r.code === 0 && text !== "", text, detail: r.code === 0 ? `got ${JSON.stringify(text)}` : `rc ${r.code}: ${r.stderr.trim().split("\n").pop() ?? ""}` };
}

/** True when a TCP connection from `ns` to host:port is established within the timeout. */
export async function tcpOpens(ns: string, host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  const s = Math.max(1, Math.round(timeoutMs / 1000));
  const r = await run(["socat", "-u", "/dev/null", `TCP:${host}:${port},connect-timeout=${s}`], { ns, timeoutMs: timeoutMs + 1500 });
  return r.code === 0;
}

/** True when one ping from `ns` to `host` is answered within `waitS` seconds. */
export async function pings(ns: string, host: string, waitS = 1): Promise<boolean> {
  const r = await run(["ping", "-n", "-q", "-c", "1", "-W", String(waitS), host], { ns, timeoutMs: waitS * 1000 + 2000 });
  return r.code === 0;
}

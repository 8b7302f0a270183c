/**
 * A tenant's side of the browser console gateway without a browser: HTTPS and WebSocket requests made from inside a
 * namespace (the tenant's client namespace: through its tunnel). socat there carries the bytes; TLS is Node's,
 * verified against the CA given and the gateway's IP subject alternative name, so a request that gets an answer has
 * reached the gateway with the certificate the program issues. The protocol is render/scripts/lr-console-web.py's.
 */
import { spawn } from "node:child_process";
import { type IncomingHttpHeaders, request } from "node:http";
import { Duplex } from "node:stream";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import WebSocket from "ws";
import { inNs, sleep } from "./exec";

/** Where a request goes from: the namespace, the gateway address and port, the CA the client trusts. */
export interface Gateway {
  readonly ns: string;
  readonly address: string;
  readonly port: number;
  readonly caPem: string;
}

/** `address` or `address:port` as the Host header and Origin carry it (no port for 443, as a browser sends it). */
function authority(g: Gateway): string {
  return g.port === 443 ? g.address : `${g.address}:${g.port}`;
}

/** TLS to the gateway from inside `g.ns`, verified against `g.caPem` and the gateway's IP SAN. */
function tlsVia(g: Gateway): TLSSocket {
  const argv = inNs(g.ns, ["socat", "STDIO", `TCP:${g.address}:${g.port},connect-timeout=5`]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "ignore"] });
  const raw = Duplex.from({ readable: child.stdout, writable: child.stdin });
  const sock = tlsConnect({ socket: raw, ca: g.caPem, host: g.address });
  // The request's or the WebSocket's own listeners report the errors that matter while they use the socket.
  sock.on("error", () => undefined);
  sock.on("close", () => child.kill("SIGKILL"));
  // socat's end (the server closed) does not always reach the TLS socket as an end of stream.
  child.on("close", () => setImmediate(() => sock.destroy()));
  return sock;
}

export interface Res {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/** One HTTPS request (Connection: close). */
export function https(g: Gateway, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const len = opts.body !== undefined ? { "Content-Length": String(Buffer.byteLength(opts.body)) } : {};
    const req = request({ method, path, headers: { Host: authority(g), Connection: "close", ...len, ...opts.headers }, createConnection: () => tlsVia(g) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), ms: Date.now() - t0 }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} https://${authority(g)}${path} from ${g.ns}: no answer in 60 s`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** POST /login with `password` (JSON, same origin), or with no password at all when undefined. */
export function login(g: Gateway, password: string | undefined): Promise<Res> {
  const body = JSON.stringify(password === undefined ? {} : { password });
  return https(g, "POST", "/login", { headers: { "Content-Type": "application/json", Origin: `https://${authority(g)}` }, body });
}

/** The `name=value` of the one session cookie a login set, or throws. */
export function cookieOf(res: Res): string {
  const set = res.headers["set-cookie"] ?? [];
  if (set.length !== 1) throw new Error(`login answered ${res.status} with ${set.length} cookies: ${res.body.trim()}`);
  return set[0].split(";")[0];
}

/** The JSON body's `error` field ("" when there is none). */
export function errorOf(res: Res): string {
  try {
    return String((JSON.parse(res.body) as { error?: unknown }).error ?? "");
  } catch {
    return "";
  }
}

export type Opened = { readonly ws: WebSocket; readonly status?: undefined } | { readonly ws?: undefined; readonly status: number };

/** Opens a WebSocket on `path`; `onOpen` runs in the open event itself, before any message can be missed. */
export function wsOpen(g: Gateway, path: string, cookie: string | undefined, onOpen?: (ws: WebSocket) => void): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${authority(g)}${path}`, {
      createConnection: (() => tlsVia(g)) as unknown as NonNullable<WebSocket.ClientOptions["createConnection"]>,
      headers: { Origin: `https://${authority(g)}`, ...(cookie ? { Cookie: cookie } : {}) },
      perMessageDeflate: false,
      handshakeTimeout: 20_000,
    });
    ws.once("open", () => {
      onOpen?.(ws);
      resolve({ ws });
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once("error", reject);
  });
}

/** A /ws/serial session: what arrived (latin1), whether the gateway's attach message came, how it closed. */
export class Serial {
  text = "";
  messages = 0;
  firstLength = -1;
  closed?: { code: number; reason: string };

  constructor(readonly ws: WebSocket) {
    ws.on("message", (d: Buffer) => {
      if (this.messages++ === 0) this.firstLength = d.length;
      this.text += d.toString("latin1");
    });
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  /** Sends bytes to the console (binary: the gateway refuses text messages). */
  send(text: string): void {
    this.ws.send(Buffer.from(text, "latin1"));
  }

  /** Waits until `what` holds; returns the ms it took, or throws with what arrived. */
  async until(what: () => boolean, label: string, timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    while (!what()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`serial console: ${label} not seen within ${timeoutMs} ms; got ${JSON.stringify(this.text.slice(-300))}, closed ${JSON.stringify(this.closed)}`);
      await sleep(20);
    }
    return Date.now() - t0;
  }

  /** Index of `s` in what arrived at or after `from`, or -1. */
  indexOf(s: string, from = 0): number {
    return this.text.indexOf(s, from);
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens /ws/serial with `cookie` and sends `password` as the first message. An HTTP refusal of the upgrade comes back as its status. */
export async function serialSession(g: Gateway, cookie: string | undefined, password: string): Promise<Serial | number> {
  let s: Serial | undefined;
  const o = await wsOpen(g, "/ws/serial", cookie, (ws) => {
    s = new Serial(ws);
    ws.send(Buffer.from(password, "latin1"));
  });
  return s ?? o.status ?? 0;
}

/** The close code and reason of a serial session the gateway must end (wrong password, lock), or throws. */
export async function refusedSerial(g: Gateway, cookie: string, password: string): Promise<{ code: number; reason: string; text: string }> {
  const s = await serialSession(g, cookie, password);
  if (typeof s === "number") throw new Error(`/ws/serial with a valid cookie: HTTP ${s}, expected the upgrade and a close`);
  await s.until(() => s.closed !== undefined, "the gateway's close");
  return { ...s.closed!, text: s.text };
}

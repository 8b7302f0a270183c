/**
 * A minimal RFB (VNC) client, RFC 6143: version handshake, security types, VNC authentication,
 * SecurityResult, ClientInit/ServerInit. Enough to prove who can open a console and with what password.
 * No dependency: DES comes from ./des. The transport is any Duplex (a TCP socket, or socat's stdio
 * inside a network namespace).
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { Duplex } from "node:stream";
import { desEcbEncrypt } from "./des";
import { inNs } from "./exec";

export interface ServerInit {
  readonly width: number;
  readonly height: number;
  readonly name: string;
}

export interface RfbResult {
  /** Server's protocol version line, e.g. `RFB 003.008`. */
  readonly version: string;
  /** Security types the server offered (1 = None, 2 = VNC authentication). */
  readonly securityTypes: number[];
  /** OK / FAILED after authentication; REFUSED when the server offered no types; NO_COMMON_TYPE when we could not pick one. */
  readonly result: "OK" | "FAILED" | "REFUSED" | "NO_COMMON_TYPE";
  readonly reason?: string;
  readonly serverInit?: ServerInit;
}

/** Reverses the bit order of a byte (VNC's DES key quirk). */
function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
  return r;
}

/** The VNC authentication response: DES-ECB of the 16-byte challenge, keyed by the password NUL-padded or cut to 8 bytes, each key byte bit-reversed. */
export function vncAuthResponse(password: string, challenge: Uint8Array): Buffer {
  const key = Buffer.alloc(8);
  Buffer.from(password, "latin1").copy(key, 0, 0, 8);
  for (let i = 0; i < 8; i++) key[i] = reverseBits(key[i]);
  return desEcbEncrypt(key, challenge);
}

/** Buffered exact-length reads from a stream. */
class Reader {
  private buf = Buffer.alloc(0);
  private waiter?: () => void;
  private ended?: Error;

  constructor(stream: Duplex) {
    stream.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    const end = (e?: Error) => {
      this.ended = e ?? new Error("connection closed");
      this.waiter?.();
    };
    stream.on("end", () => end());
    stream.on("close", () => end());
    stream.on("error", (e) => end(e));
  }

  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.ended) throw new Error(`${this.ended.message} (wanted ${n} bytes, have ${this.buf.length})`);
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async u8(): Promise<number> {
    return (await this.read(1))[0];
  }

  async u32(): Promise<number> {
    return (await this.read(4)).readUInt32BE(0);
  }

  async string(): Promise<string> {
    return (await this.read(await this.u32())).toString("latin1");
  }
}

/**
 * Runs the RFB handshake over `stream`. With a password, picks VNC authentication (2); without one,
 * picks None (1) if offered. Always ends the stream.
 */
export async function rfbHandshake(stream: Duplex, password: string | undefined, timeoutMs = 5000): Promise<RfbResult> {
  const timer = setTimeout(() => stream.destroy(new Error(`RFB handshake timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    return await handshake(stream, new Reader(stream), password);
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}

async function handshake(stream: Duplex, rd: Reader, password: string | undefined): Promise<RfbResult> {
  const version = (await rd.read(12)).toString("latin1").trim();
  const m = /^RFB (\d{3})\.(\d{3})$/.exec(version);
  if (!m) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
  const minor = Number(m[1]) > 3 ? 8 : Math.min(Number(m[2]), 8);
  const v38 = minor >= 8;
  stream.write(`RFB 003.00${minor >= 8 ? 8 : minor >= 7 ? 7 : 3}\n`);

  let types: number[];
  if (minor < 7) {
    types = [await rd.u32()];
    if (types[0] === 0) return { version, securityTypes: [], result: "REFUSED", reason: await rd.string() };
  } else {
    const n = await rd.u8();
    if (n === 0) return { version, securityTypes: [], result: "REFUSED", reason: await rd.string() };
    types = [...(await rd.read(n))];
  }
  const pick = password !== undefined && types.includes(2) ? 2 : types.includes(1) ? 1 : 0;
  if (pick === 0) return { version, securityTypes: types, result: "NO_COMMON_TYPE" };
  if (minor >= 7) stream.write(Buffer.from([pick]));

  if (pick === 2) {
    const challenge = await rd.read(16);
    stream.write(vncAuthResponse(password ?? "", challenge));
  }
  if (pick === 2 || v38) {
    const status = await rd.u32();
    if (status !== 0) {
      const reason = v38 ? await rd.string().catch(() => undefined) : undefined;
      return { version, securityTypes: types, result: "FAILED", ...(reason !== undefined ? { reason } : {}) };
    }
  }
  stream.write(Buffer.from([1])); // ClientInit: shared
  const head = await rd.read(20);
  const name = await rd.string();
  return { version, securityTypes: types, result: "OK", serverInit: { width: head.readUInt16BE(0), height: head.readUInt16BE(2), name } };
}

/** RFB handshake over TCP from this process (root namespace). */
export function rfbConnect(host: string, port: number, password?: string, timeoutMs = 5000): Promise<RfbResult> {
  return rfbHandshake(connect({ host, port }), password, timeoutMs);
}

/** RFB handshake from inside network namespace `ns`: the TCP connection is socat's, the protocol is ours. */
export function rfbInNamespace(ns: string, host: string, port: number, password?: string, timeoutMs = 5000): Promise<RfbResult> {
  const argv = inNs(ns, ["socat", "STDIO", `TCP:${host}:${port},connect-timeout=${Math.max(1, Math.round(timeoutMs / 1000))}`]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  return rfbHandshake(stream, password, timeoutMs)
    .catch((e: Error) => {
      throw new Error(`${e.message}${err ? `; socat: ${err.trim()}` : ""}`);
    })
    .finally(() => child.kill("SIGKILL"));
}

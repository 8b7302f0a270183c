/**
 * One sample of `npm run bench:dataplane`: iperf3 in both directions at once (`--bidir`: the tenant's traffic and
 * the return traffic cross the gateway together), TCP or 64-byte UDP. The figures are what the gateway forwarded
 * (its two devices' tx counters) and the machine's CPU time (`/proc/stat`) over a window inside the run, clear of
 * the connection setup and the end, so a rate and its CPU time per packet cover the same packets.
 */
import { readFileSync } from "node:fs";
import { must, run, sleep } from "./exec";
import type { Rig } from "./bench-dataplane-rig";
import { SINK_IP } from "./bench-dataplane-rig";
import { type CpuTicks, cpuSeconds, parseProcStat, perPacket, type PerPacket } from "./bench-dataplane-stats";

export type Proto = "tcp" | "udp64";

export interface Sample {
  /** Forwarded by the gateway, both directions: Gb/s of frames and thousands of packets a second. */
  readonly gbps: number;
  readonly kpps: number;
  /** The return direction's share (sink → src) of the packets. */
  readonly returnShare: number;
  /** CPU seconds of the window, machine-wide (other load on the machine counts too: see idle). */
  readonly cpu: CpuTicks;
  readonly perPacket: PerPacket;
  readonly windowS: number;
}

interface Tx {
  readonly packets: number;
  readonly bytes: number;
}

async function tx(ns: string, dev: string): Promise<Tx> {
  const [l] = JSON.parse(await must(["ip", "-s", "-j", "link", "show", "dev", dev], { ns })) as { stats64: { tx: Tx } }[];
  return { packets: l.stats64.tx.packets, bytes: l.stats64.tx.bytes };
}

interface Reading {
  readonly at: bigint;
  readonly cpu: CpuTicks;
  /** tx of the target tenant's link (forward) and of the tun stand-in (return). */
  readonly fwd: Tx;
  readonly ret: Tx;
}

async function reading(r: Rig): Promise<Reading> {
  const [fwd, ret] = await Promise.all([tx(r.gw, r.tenantLink), tx(r.gw, r.tunDev)]);
  return { at: process.hrtime.bigint(), cpu: parseProcStat(readFileSync("/proc/stat", "utf8")), fwd, ret };
}

/** `seconds` of iperf3 --bidir from r.src to the sink; the window starts `warmS` in and ends 0.3 s before the end. */
export async function sample(r: Rig, proto: Proto, seconds: number, warmS = 0.5): Promise<Sample> {
  const args = ["iperf3", "-c", SINK_IP, "-t", String(seconds), "--bidir", "-J", ...(proto === "udp64" ? ["-u", "-l", "64", "-b", "0"] : [])];
  const started = Date.now();
  const done = run(args, { ns: r.src, timeoutMs: (seconds + 15) * 1000 });
  await sleep(warmS * 1000);
  const a = await reading(r);
  await sleep(Math.max(100, started + (seconds - 0.3) * 1000 - Date.now()));
  const b = await reading(r);
  const res = await done;
  if (res.code !== 0) throw new Error(`iperf3 ${proto} from ${r.id} failed [${res.code}]: ${res.stdout.slice(-500)} ${res.stderr}`);
  const windowS = Number(b.at - a.at) / 1e9;
  const fwdP = b.fwd.packets - a.fwd.packets;
  const retP = b.ret.packets - a.ret.packets;
  const bytes = b.fwd.bytes - a.fwd.bytes + (b.ret.bytes - a.ret.bytes);
  const cpu = cpuSeconds(a.cpu, b.cpu);
  const packets = fwdP + retP;
  return { gbps: (bytes * 8) / windowS / 1e9, kpps: packets / windowS / 1000, returnShare: packets > 0 ? retP / packets : NaN, cpu, perPacket: perPacket(cpu, packets), windowS };
}

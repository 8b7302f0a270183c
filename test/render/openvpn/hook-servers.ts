/**
 * Two VPN servers' hook directories in temp roots, as the setup script lays them out, with the rendered auth hook
 * and enrolment responder of each. The servers' management addresses are a random loopback pair (127.x.y.1 and .2)
 * so the responders (real socat, real rendered script) run without namespaces, and parallel test files never meet.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import type { EnrolPeers } from "../../../plan/enrolment";
import type { Plan, ServerName } from "../../../plan/types";
import { renderEnrolResponder, responderCommand } from "../../../render/enrol-peer";
import { renderAuthVerifyHook } from "../../../render/hooks";
import type { ServerLayout } from "../../../render/layout";
import { openvpnFilePaths } from "../../../render/openvpn-server";
import { tempLayout, twoTenantPlan } from "./fixture";

/** Certificate fingerprints as OpenVPN sets tls_digest_sha256_0: the tenants' current ones (pinned). */
const fp = (byte: string) => Array(32).fill(byte).join(":");
export const CERT: Record<string, string> = { acme: fp("a1"), "coop-sur": fp("c2") };

export interface HookServer {
  readonly name: ServerName;
  readonly root: string;
  readonly layout: ServerLayout;
  readonly hook: string;
  readonly peers: EnrolPeers;
  responder?: ChildProcess;
}

export interface Pair {
  readonly vpn1: HookServer;
  readonly vpn2: HookServer;
}

/** A random loopback /30-like pair and port, so parallel jest workers do not collide. */
function loopbackPair(): { ip1: string; ip2: string; port: number } {
  const a = 1 + Math.floor(Math.random() * 250);
  const b = 1 + Math.floor(Math.random() * 250);
  return { ip1: `127.${a}.${b}.1`, ip2: `127.${a}.${b}.2`, port: 20000 + Math.floor(Math.random() * 20000) };
}

function installOne(plan: Plan, name: ServerName, peers: EnrolPeers, tenants: readonly string[]): HookServer {
  const { root, layout } = tempLayout(`lr-${name}-`);
  const p = openvpnFilePaths(layout);
  for (const d of [p.hooksDir, p.pinsDir, p.certPinsDir, p.enrolledDir, p.ccdDirs.udp, p.ccdDirs.tcp, layout.confDir]) mkdirSync(d, { recursive: true });
  for (const t of tenants) writeFileSync(`${p.ccdDirs.tcp}/${t}`, "ifconfig-push 10.255.64.2 255.255.192.0\n");
  for (const t of tenants) writeFileSync(`${p.certPinsDir}/${t}`, `${CERT[t]}\n`);
  const server = plan.servers.find((s) => s.name === name)!;
  writeFileSync(p.authVerifyHook, renderAuthVerifyHook(plan, server, layout, peers), { mode: 0o755 });
  const responder = responderCommand(peers, layout).at(-1)!.replace(/^EXEC:/, "");
  writeFileSync(responder, renderEnrolResponder(plan.stack, peers, layout), { mode: 0o755 });
  chmodSync(responder, 0o755);
  writeFileSync(`${root}/via-file`, "\n\n");
  return { name, root, layout, hook: p.authVerifyHook, peers };
}

/** Both servers (vpn1 the authority), responders not started; `policy` as in the plan's `vpn.unpinnedPolicy`. */
export function installPair(policy: "enrol" | "refuse" = "enrol", tenants: readonly string[] = ["acme", "coop-sur"]): Pair {
  const plan = twoTenantPlan({ hostnames: ["vpn1.example.net", "vpn2.example.net"], unpinnedPolicy: policy });
  const { ip1, ip2, port } = loopbackPair();
  const p1: EnrolPeers = { server: "vpn1", selfIp: ip1, peer: "vpn2", peerIp: ip2, port, authority: true };
  const p2: EnrolPeers = { server: "vpn2", selfIp: ip2, peer: "vpn1", peerIp: ip1, port, authority: false };
  return { vpn1: installOne(plan, "vpn1", p1, tenants), vpn2: installOne(plan, "vpn2", p2, tenants) };
}

/** True once something accepts TCP on host:port. */
function opens(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host, port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** Starts the server's responder with the rendered listen command (as root here; the e2e test runs it as the OpenVPN user). */
export async function startResponder(s: HookServer): Promise<void> {
  const [cmd, ...args] = responderCommand(s.peers, s.layout);
  s.responder = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  for (let i = 0; i < 100; i++) {
    // A probe from an address outside the range is accepted by the kernel and closed by socat: enough to know it listens.
    if (await opens(s.peers.selfIp, s.peers.port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`responder of ${s.name} did not listen on ${s.peers.selfIp}:${s.peers.port}`);
}

export async function stopResponder(s: HookServer): Promise<void> {
  const p = s.responder;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  await gone;
}

/**
 * Runs the hook like OpenVPN does: empty environment plus the given variables, via-file as $1. The certificate's
 * fingerprint is the common name's current one unless `env` sets tls_digest_sha256_0.
 */
export function runHook(s: HookServer, env: Record<string, string>): { code: number | null; log: string } {
  const digest = CERT[env.common_name ?? ""];
  const all = { ...(digest ? { tls_digest_sha256_0: digest } : {}), ...env };
  const vars = Object.entries(all).filter(([k, v]) => k !== "tls_digest_sha256_0" || v !== "").map(([k, v]) => `${k}=${v}`);
  const r = spawnSync("/usr/bin/env", ["-i", ...vars, s.hook, `${s.root}/via-file`], { encoding: "utf8" });
  return { code: r.status, log: r.stderr.trim() };
}

/** The hook run asynchronously (for races). */
export function runHookAsync(s: HookServer, env: Record<string, string>): Promise<number | null> {
  const vars = Object.entries({ tls_digest_sha256_0: CERT[env.common_name], ...env }).map(([k, v]) => `${k}=${v}`);
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/env", ["-i", ...vars, s.hook, `${s.root}/via-file`], { stdio: "ignore" });
    child.on("exit", (code) => resolve(code));
  });
}

export const recordPath = (s: HookServer, cn: string) => `${openvpnFilePaths(s.layout).enrolledDir}/${cn}`;

/** The server's enrolment record for `cn` ("" when none). */
export function record(s: HookServer, cn: string): string {
  try {
    return readFileSync(recordPath(s, cn), "utf8");
  } catch {
    return "";
  }
}

export async function removePair(pair: Pair): Promise<void> {
  for (const s of [pair.vpn1, pair.vpn2]) {
    await stopResponder(s);
    rmSync(s.root, { recursive: true, force: true });
  }
}

/**
 * The enrolment responder as production runs it: the unit's listen command (render/enrol-peer.ts) as the OpenVPN
 * user, created by the setup script's own lines, on a loopback pair standing for the two management addresses.
 * Its grammar is strict (injection attempts get no answer and write nothing), it answers only the peer's address,
 * and what it stores is owned by the OpenVPN user. Root: it creates the account and drops to it.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnrolPeers } from "../../plan/enrolment";
import { enrolResponderPath, renderEnrolResponder, responderCommand } from "../../render/enrol-peer";
import type { ServerLayout } from "../../render/layout";
import { openvpnFilePaths } from "../../render/openvpn-server";
import { OPENVPN_USER, ensureServiceUser } from "../../render/service-user";

const ID = "a".repeat(64);
const OTHER = "b".repeat(64);
const a = 1 + (process.pid % 250);
const IP = { self: `127.${a}.77.1`, peer: `127.${a}.77.2`, stranger: `127.${a}.77.3` };
const root = mkdtempSync(join(tmpdir(), "lr-enrol-e2e-"));
const procs: ChildProcess[] = [];
let uid = -1;
let gid = -1;

interface Responder {
  readonly layout: ServerLayout;
  readonly peers: EnrolPeers;
}

/** A server's directories with the setup script's owners, the rendered responder, and the responder running as the OpenVPN user. */
async function install(name: string, authority: boolean, port: number): Promise<Responder> {
  const base = join(root, name);
  const layout: ServerLayout = { openvpnDir: join(base, "openvpn"), runDir: join(base, "run"), stateDir: join(base, "state"), confDir: join(base, "conf"), systemdDir: join(base, "systemd"), networkLinkDir: join(base, "net"), ifupdownDir: join(base, "if"), ifaces: { public: "eth0", trunk: "eth1", mgmt: "eth2" } };
  const p = openvpnFilePaths(layout);
  for (const d of [p.ccdDirs.udp, p.ccdDirs.tcp, p.enrolledDir, layout.confDir]) mkdirSync(d, { recursive: true });
  for (const d of [p.ccdDirs.udp, p.ccdDirs.tcp]) {
    chownSync(d, 0, gid);
    chmodSync(d, 0o750);
  }
  chownSync(p.enrolledDir, uid, gid);
  chmodSync(p.enrolledDir, 0o700);
  chownSync(layout.stateDir, uid, gid);
  chmodSync(layout.stateDir, 0o750);
  writeFileSync(`${p.ccdDirs.udp}/coop-sur`, "ifconfig-push 10.255.0.3 255.255.192.0\n", { mode: 0o640 });
  chownSync(`${p.ccdDirs.udp}/coop-sur`, 0, gid);
  const peers: EnrolPeers = { server: "vpn1", selfIp: IP.self, peer: "vpn2", peerIp: IP.peer, port, authority };
  writeFileSync(enrolResponderPath(layout), renderEnrolResponder("e2e", peers, layout), { mode: 0o755 });
  const [cmd, ...args] = responderCommand(peers, layout);
  // What systemd's User=/Group= do.
  const proc = spawn("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", cmd, ...args], { stdio: "ignore" });
  procs.push(proc);
  for (let i = 0; i < 100 && !(await ask(IP.stranger, port, "")).accepted; i++) await new Promise((r) => setTimeout(r, 20));
  return { layout, peers };
}

/** Sends `text` from `from` to the responder; resolves with what came back before it closed the connection. */
function ask(from: string, port: number, text: string): Promise<{ accepted: boolean; answer: string }> {
  return new Promise((resolve) => {
    let answer = "";
    let accepted = false;
    const c = connect({ host: IP.self, port, localAddress: from });
    const timer = setTimeout(() => c.destroy(), 5000);
    c.on("connect", () => {
      accepted = true;
      c.end(text);
    });
    c.on("data", (d: Buffer) => (answer += d.toString()));
    c.on("close", () => {
      clearTimeout(timer);
      resolve({ accepted, answer });
    });
    c.on("error", () => undefined);
  });
}

let authority: Responder;
let replica: Responder;
const PORT = 30000 + (process.pid % 20000);

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("test/e2e needs root (it creates the OpenVPN user and drops to it)");
  const r = spawnSync("sh", ["-c", ensureServiceUser()], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`creating ${OPENVPN_USER}: ${r.stderr}`);
  const id = (flag: string) => Number(spawnSync("id", [flag, OPENVPN_USER], { encoding: "utf8" }).stdout.trim());
  [uid, gid] = [id("-u"), id("-g")];
  chmodSync(root, 0o755);
  authority = await install("vpn1", true, PORT);
  replica = await install("vpn2", false, PORT + 1);
});

afterAll(() => {
  for (const p of procs) p.kill("SIGTERM");
  rmSync(root, { recursive: true, force: true });
});

const records = (r: Responder) => readdirSync(openvpnFilePaths(r.layout).enrolledDir).sort();

describe("enrolment responder (as the OpenVPN user, the unit's command)", () => {
  it("the account exists as a system user with no login, and creating it again changes nothing", () => {
    const entry = spawnSync("getent", ["passwd", OPENVPN_USER], { encoding: "utf8" }).stdout.trim().split(":");
    expect(entry[6]).toBe("/usr/sbin/nologin");
    expect(Number(entry[2])).toBeLessThan(1000);
    expect(spawnSync("sh", ["-c", ensureServiceUser()]).status).toBe(0);
    expect(spawnSync("getent", ["passwd", OPENVPN_USER], { encoding: "utf8" }).stdout.trim()).toBe(entry.join(":"));
  });

  it("answers the grammar: get → none; claim on the authority stores first-wins; put on the other server", async () => {
    expect(await ask(IP.peer, PORT, "get coop-sur\n")).toEqual({ accepted: true, answer: "none\n" });
    expect((await ask(IP.peer, PORT, `claim coop-sur ${ID}\n`)).answer).toBe(`id ${ID}\n`);
    expect((await ask(IP.peer, PORT, `claim coop-sur ${OTHER}\n`)).answer).toBe(`id ${ID}\n`);
    expect((await ask(IP.peer, PORT, "get coop-sur\n")).answer).toBe(`id ${ID}\n`);
    const rec = `${openvpnFilePaths(authority.layout).enrolledDir}/coop-sur`;
    expect(statSync(rec).uid).toBe(uid);
    expect(records(authority)).toEqual(["coop-sur"]);
    // Roles: the authority takes no replica, the other server decides no claim.
    expect((await ask(IP.peer, PORT, `put coop-sur ${OTHER}\n`)).answer).toBe("");
    expect((await ask(IP.peer, PORT + 1, `claim coop-sur ${OTHER}\n`)).answer).toBe("");
    expect((await ask(IP.peer, PORT + 1, `put coop-sur ${ID}\n`)).answer).toBe(`id ${ID}\n`);
    expect(records(replica)).toEqual(["coop-sur"]);
  });

  it.each([
    ["path traversal", "get ../x\n"],
    ["traversal to an existing file", "get ../../../../etc/passwd\n"],
    ["traversal inside the key", `put coop-sur/../acme ${ID}\n`],
    ["uppercase key", "get Coop-sur\n"],
    ["uppercase id", `put coop-sur ${ID.toUpperCase()}\n`],
    ["short id", `put coop-sur ${ID.slice(1)}\n`],
    ["two spaces", `put coop-sur  ${ID}\n`],
    ["leading space", " get coop-sur\n"],
    ["trailing space", "get coop-sur \n"],
    ["a third word", `put coop-sur ${ID} x\n`],
    ["a carriage return", "get coop-sur\r\n"],
    ["no newline", "get coop-sur"],
    ["an unknown verb", "GET coop-sur\n"],
    ["nothing", "\n"],
    ["a key without a ccd file", `put stranger ${ID}\n`],
    ["the servers' prefix", "get lr-vpn1\n"],
    ["shell syntax", `put coop-sur $(touch${"${IFS}"}/tmp/x)\n`],
  ])("%s: no answer, nothing written", async (_what, line) => {
    expect(await ask(IP.peer, PORT + 1, line)).toEqual({ accepted: true, answer: "" });
    expect(records(replica)).toEqual(records(replica).filter((f) => f === "coop-sur"));
    expect(existsSync(join(root, "x"))).toBe(false);
  });

  it("a newline injects no second request: only the first line is read", async () => {
    expect((await ask(IP.peer, PORT + 1, `get acme\nput coop-sur ${OTHER}\n`)).answer).toBe("");
    expect((await ask(IP.peer, PORT + 1, "get coop-sur\nget acme\n")).answer).toBe(`id ${ID}\n`);
  });

  it("answers only the peer's management address (socat range=): another address gets the connection closed, no answer", async () => {
    expect(await ask(IP.stranger, PORT, "get coop-sur\n")).toEqual({ accepted: true, answer: "" });
    expect((await ask(IP.peer, PORT, "get coop-sur\n")).answer).toBe(`id ${ID}\n`);
  });
});

/**
 * lr-connect's root path in a throwaway network namespace (root; nothing leaves the machine), with a stand-in
 * openvpn that does what 2.6 does with --up/--down: runs the hook with `script_type`, `dev` and the pushed
 * `foreign_option_<n>` at start, again on SIGTERM/SIGINT, and stays until signalled. Checked: the arguments,
 * resolv.conf while up and byte for byte after, the kill-switch and server routes while up and nothing after,
 * also when openvpn is SIGKILLed (its down hook never runs). The real openvpn runs it in the lab (client-dns).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderClientBundle } from "../../render/client-bundle";
import { renderLauncher } from "../../render/launcher";
import { FAKE_CREDS, twoTenantPlan } from "../render/openvpn/fixture";

const NS = `lrc${process.pid % 100000}`;
const plan = twoTenantPlan({}); // the servers' public IPs: 192.0.2.3 and .4, UDP 1194 and TCP 443
const root = mkdtempSync(join(tmpdir(), "lr-connect-e2e-"));
const tmp = join(root, "tmp");
const bin = join(root, "bin");
const launcher = join(root, "lr-connect");
const bundle = join(root, "acme.ovpn");
const ORIGINAL = "# the LAN's resolver\nnameserver 100.64.0.1\noptions edns0\n";
const resolvConf = `/etc/netns/${NS}/resolv.conf`;

function sh(cmd: string[]): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const inNs = (...cmd: string[]) => sh(["ip", "netns", "exec", NS, ...cmd]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The namespace's firewall and routes, for before/after comparisons. */
const netState = () => ({ v4: inNs("iptables-save", "-t", "filter").replace(/^#.*\n/gm, ""), v6: inNs("ip6tables-save", "-t", "filter").replace(/^#.*\n/gm, ""), routes: inNs("ip", "-4", "route", "show", "table", "all") });

// The stand-in: prints its arguments, runs --up as 2.6 does (dev, tun_mtu, 0, local, netmask, init), then on
// TERM/INT runs --down and exits 0. FAKE_VERSION sets what --version prints.
const FAKE_OPENVPN = `#!/bin/sh
if [ "$1" = --version ]; then echo "OpenVPN \${FAKE_VERSION:-2.6.14} x86_64-pc-linux-gnu"; exit 1; fi
printf '%s\\n' "$@" > ${root}/args
up=; down=
while [ $# -gt 0 ]; do case "$1" in --up) up=$2; shift ;; --down) down=$2; shift ;; *) ;; esac; shift; done
export dev=tun0 foreign_option_1='dhcp-option DNS 10.0.1.1' foreign_option_2='dhcp-option DOMAIN acme.lan' foreign_option_3='dhcp-option DNS 10.0.1.1;x'
if [ -n "$up" ]; then script_type=up $up tun0 1500 0 10.255.0.2 255.255.255.0 init; fi
echo up > ${root}/state
trap 'if [ -n "$down" ]; then script_type=down $down tun0 1500 0 10.255.0.2 255.255.255.0 init; fi; echo down >> ${root}/state; exit 0' TERM INT
while :; do sleep 0.05; done
`;

/** Frames sent on the namespace's eth0 so far. */
const txFrames = () => Number(/TX:[^\n]*\n\s*\d+\s+(\d+)/.exec(inNs("ip", "-s", "link", "show", "eth0"))?.[1] ?? NaN);
const pingLan = () => spawnSync("ip", ["netns", "exec", NS, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", "100.64.0.1"]);

let child: ChildProcess | undefined;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("test/e2e needs root (network namespaces, iptables)");
  mkdirSync(bin);
  mkdirSync(tmp, { mode: 0o700 });
  writeFileSync(join(bin, "openvpn"), FAKE_OPENVPN, { mode: 0o755 });
  writeFileSync(launcher, renderLauncher(plan.stack, plan.tenants[0]), { mode: 0o755 });
  writeFileSync(bundle, renderClientBundle(plan, plan.tenants[0], FAKE_CREDS), { mode: 0o600 });
  sh(["ip", "netns", "add", NS]);
  mkdirSync(`/etc/netns/${NS}`, { recursive: true });
  writeFileSync(resolvConf, ORIGINAL);
  inNs("ip", "link", "set", "lo", "up");
  inNs("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
  inNs("ip", "link", "set", "eth1", "up");
  inNs("ip", "addr", "add", "100.64.0.2/24", "dev", "eth0");
  inNs("ip", "link", "set", "eth0", "up");
  inNs("ip", "route", "add", "default", "via", "100.64.0.1");
});

// A failed test must not leave its launcher running into the next one.
afterEach(async () => {
  if (child) {
    child.kill("SIGTERM");
    await exited(child);
  }
});

afterAll(() => {
  child?.kill("SIGKILL");
  spawnSync("ip", ["netns", "del", NS]);
  rmSync(`/etc/netns/${NS}`, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

/** Starts the launcher in the namespace and waits until the stand-in is "up". */
async function start(args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  rmSync(join(root, "state"), { force: true });
  const c = spawn("ip", ["netns", "exec", NS, "/bin/sh", launcher, ...args], { env: { PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  c.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 100 && !existsSync(join(root, "state")); i++) await sleep(50);
  if (!existsSync(join(root, "state"))) throw new Error(`the launcher did not start openvpn: ${err}`);
  child = c;
  return c;
}

async function exited(c: ChildProcess): Promise<number | null> {
  if (c.exitCode === null && c.signalCode === null) await new Promise((r) => c.once("exit", r));
  child = undefined;
  return c.exitCode;
}

const openvpnPid = () => Number(sh(["pgrep", "-f", `^/bin/sh ${bin}/openvpn`]).trim());
const hook = () => {
  const dir = readdirSync(tmp).find((d) => d.startsWith("lr-connect."));
  return `/bin/sh ${tmp}/${dir}/lr-connect --hook ${tmp}/${dir}`;
};

describe("lr-connect as root (stand-in openvpn 2.6)", () => {
  it("applies the pushed DNS, the kill-switch and the server routes while up; SIGTERM leaves the machine as it was", async () => {
    const before = netState();
    const c = await start(["--dns", "file", bundle, "--verb", "4"]);
    const id = spawnSync("/bin/sh", [launcher, "--print-id"], { encoding: "utf8" }).stdout.trim();
    const h = hook();
    expect(readFileSync(join(root, "args"), "utf8")).toBe(
      ["--config", bundle, "--setenv", "UV_HWID", id, "--script-security", "2", "--up", h, "--down", h, "--down-pre", "--persist-tun", "--verb", "4", ""].join("\n"),
    );
    // The injected "10.0.1.1;x" is dropped; the pushed domain becomes the search list.
    expect(readFileSync(resolvConf, "utf8")).toBe("# lr-connect: the tunnel's DNS while tun0 is up; the previous file comes back when it ends.\nnameserver 10.0.1.1\nsearch acme.lan\n");
    const up = netState();
    expect(up.v4.split("\n").filter((l) => l.includes("lr-connect"))).toEqual([
      ":lr-connect - [0:0]",
      "-A OUTPUT -j lr-connect",
      "-A lr-connect -o lo -j RETURN",
      "-A lr-connect -o tun+ -j RETURN",
      "-A lr-connect -p udp -m udp --sport 68 --dport 67 -j RETURN",
      "-A lr-connect -d 192.0.2.3/32 -p udp -m udp --dport 1194 -j RETURN",
      "-A lr-connect -d 192.0.2.4/32 -p udp -m udp --dport 1194 -j RETURN",
      "-A lr-connect -d 192.0.2.3/32 -p tcp -m tcp --dport 443 -j RETURN",
      "-A lr-connect -d 192.0.2.4/32 -p tcp -m tcp --dport 443 -j RETURN",
      "-A lr-connect -j DROP",
    ]);
    expect(up.v6.split("\n").filter((l) => l.includes("lr-connect"))).toEqual([":lr-connect - [0:0]", "-A OUTPUT -j lr-connect", "-A lr-connect -o lo -j RETURN", "-A lr-connect -o tun+ -j RETURN", "-A lr-connect -j DROP"]);
    expect(up.routes.split("\n").filter((l) => l.includes("metric 7301"))).toEqual(["192.0.2.3 via 100.64.0.1 dev eth0 metric 7301 ", "192.0.2.4 via 100.64.0.1 dev eth0 metric 7301 "]);
    // The kill-switch drops what is not for a VPN server: not a frame leaves eth0 (not even the ARP for it).
    const tx0 = txFrames();
    pingLan();
    expect(txFrames()).toBe(tx0);
    c.kill("SIGTERM");
    expect(await exited(c)).toBe(0);
    expect(readFileSync(join(root, "state"), "utf8")).toBe("up\ndown\n");
    expect(readFileSync(resolvConf, "utf8")).toBe(ORIGINAL);
    expect(netState()).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
    // Control: the same ping without the kill-switch does leave.
    pingLan();
    expect(txFrames()).toBeGreaterThan(tx0);
  });

  it("Ctrl-C (SIGINT) undoes the same", async () => {
    const before = netState();
    const c = await start(["--dns", "file", bundle]);
    c.kill("SIGINT");
    expect(await exited(c)).toBe(0);
    expect(readFileSync(resolvConf, "utf8")).toBe(ORIGINAL);
    expect(netState()).toEqual(before);
  });

  it("restores DNS, firewall and routes itself when openvpn dies without running its down hook (SIGKILL)", async () => {
    const before = netState();
    const c = await start(["--dns", "file", bundle]);
    expect(readFileSync(resolvConf, "utf8")).not.toBe(ORIGINAL);
    process.kill(openvpnPid(), "SIGKILL");
    expect(await exited(c)).not.toBe(0);
    expect(readFileSync(join(root, "state"), "utf8")).toBe("up\n");
    expect(readFileSync(resolvConf, "utf8")).toBe(ORIGINAL);
    expect(netState()).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("--no-kill-switch: no persist-tun, firewall or routes (OpenVPN's own behaviour), DNS still applied", async () => {
    const before = netState();
    const c = await start(["--no-kill-switch", "--dns", "file", bundle]);
    expect(readFileSync(join(root, "args"), "utf8")).not.toContain("--persist-tun");
    expect(netState()).toEqual(before);
    expect(readFileSync(resolvConf, "utf8")).toContain("nameserver 10.0.1.1\n");
    c.kill("SIGTERM");
    await exited(c);
    expect(readFileSync(resolvConf, "utf8")).toBe(ORIGINAL);
  });

  it("with OpenVPN 2.7 leaves DNS to its --dns-updown: no --up, script-security pinned at 1", async () => {
    const c = await start([bundle], { FAKE_VERSION: "2.7.0" });
    const args = readFileSync(join(root, "args"), "utf8").split("\n");
    expect(args.slice(5, 8)).toEqual(["--script-security", "1", "--persist-tun"]);
    expect(args).not.toContain("--up");
    expect(readFileSync(resolvConf, "utf8")).toBe(ORIGINAL);
    c.kill("SIGTERM");
    await exited(c);
  });
});

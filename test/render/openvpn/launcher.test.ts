/**
 * The end-user launcher, run for real without root: the hardware ID, the bundle checks (L8) and the DNS hook with
 * a stand-in resolvectl. What needs root (kill-switch, routes, resolv.conf, signals) is in test/e2e/launcher.test.ts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderClientBundle } from "../../../render/client-bundle";
import { BUNDLE_DIRECTIVES, BUNDLE_INLINE_TAGS, renderLauncher } from "../../../render/launcher";
import { shellcheck } from "../../tools/shellcheck";
import { FAKE_CREDS, twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const dir = mkdtempSync(join(tmpdir(), "lr-launcher-"));
const launcher = join(dir, "lr-connect");
writeFileSync(launcher, renderLauncher(plan.stack, plan.tenants[0]), { mode: 0o755 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH holding only `tools` (symlinked from /usr/bin or /bin), plus stand-ins: `fakes` name → script body. */
function pathWith(name: string, tools: string[], fakes: Record<string, string> = {}): string {
  const bin = join(dir, name);
  spawnSync("mkdir", ["-p", bin]);
  for (const t of tools) {
    const src = ["/usr/bin", "/bin"].map((d) => `${d}/${t}`).find((p) => spawnSync("test", ["-x", p]).status === 0);
    if (!src) throw new Error(`test needs ${t}`);
    symlinkSync(src, join(bin, t));
  }
  for (const [f, body] of Object.entries(fakes)) {
    writeFileSync(join(bin, f), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, f), 0o755);
  }
  return bin;
}

const BASIC = ["grep", "sort", "sha256sum", "cut", "dirname", "basename", "awk", "ls", "cat"];
const FULL = pathWith("full", [...BASIC, "findmnt", "lsblk"], { openvpn: "exit 0", id: 'echo 1000' });
const BARE = pathWith("bare", BASIC);

function run(args: string[], path: string, env: Record<string, string> = {}) {
  const r = spawnSync("/bin/sh", [launcher, ...args], { encoding: "utf8", env: { PATH: path, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Writes `text` as a bundle file (0600 unless `mode`) and returns its path. */
function bundle(name: string, text: string, mode = 0o600): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
}

const RENDERED = renderClientBundle(plan, plan.tenants[0], FAKE_CREDS);
/** Past every bundle check, a non-root run stops here. */
const NEEDS_ROOT = "lr-connect: connecting needs root (tun device, routes, DNS, kill-switch). Run: sudo sh " + launcher + "\n";

describe("lr-connect", () => {
  it("is shellcheck-clean", () => {
    expect(shellcheck(renderLauncher(plan.stack, plan.tenants[1]))).toEqual({ ok: true, report: "" });
  });

  it("--print-id prints the same 64-hex ID every time", () => {
    const a = run(["--print-id"], FULL);
    expect({ code: a.code, err: a.err }).toEqual({ code: 0, err: "" });
    expect(a.out).toMatch(/^[0-9a-f]{64}\n$/);
    expect(run(["--print-id"], FULL).out).toBe(a.out);
  });

  it("without findmnt/lsblk still prints an ID: sha256 of machine-id, empty disk part and CPU identity", () => {
    const r = run(["--print-id"], BARE);
    const machineId = readFileSync("/etc/machine-id", "utf8").split("\n").find((l) => l !== "") ?? "";
    const cpu = [...new Set(readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => /^(vendor_id|cpu family|model|model name|Hardware|Serial|CPU implementer|CPU part)\s*:/.test(l)))]
      .sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1))
      .join("\n");
    const expected = createHash("sha256").update(`machine-id=${machineId}\ndisk=\ncpu=${cpu}\n`).digest("hex");
    expect(r).toEqual({ code: 0, out: `${expected}\n`, err: "" });
  });

  it("its allowlist is exactly the directives and inline blocks the bundle renders", () => {
    const lines = RENDERED.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    const inline = new Set<string>();
    const directives = new Set<string>();
    let skip = "";
    for (const l of lines) {
      if (skip) {
        if (l === `</${skip}>`) skip = "";
        continue;
      }
      const tag = /^<([a-z0-9-]+)>$/.exec(l)?.[1];
      if (tag && tag !== "connection") {
        inline.add(tag);
        skip = tag;
      } else if (!/^<\/?connection>$/.test(l)) directives.add(l.split(" ")[0]);
    }
    expect([...directives].sort()).toEqual([...BUNDLE_DIRECTIVES].sort());
    expect([...inline].sort()).toEqual([...BUNDLE_INLINE_TAGS].sort());
  });

  it("passes the rendered bundle of each tenant through every check (a non-root run stops at the root check)", () => {
    for (const t of plan.tenants) {
      const f = bundle(`${t.key}.ovpn`, renderClientBundle(plan, t, FAKE_CREDS));
      expect(run([f], FULL)).toEqual({ code: 2, out: "", err: NEEDS_ROOT });
    }
    // CRLF line ends (a bundle saved on Windows) are fine too.
    expect(run([bundle("crlf.ovpn", RENDERED.replace(/\n/g, "\r\n"))], FULL)).toEqual({ code: 2, out: "", err: NEEDS_ROOT });
  });

  it("refuses a bundle other users can read or write, naming the fix", () => {
    for (const mode of [0o644, 0o640, 0o602]) {
      const f = bundle("open.ovpn", RENDERED, mode);
      const shown = spawnSync("ls", ["-ln", f], { encoding: "utf8" }).stdout.split(" ")[0];
      expect(run([f], FULL)).toEqual({ code: 2, out: "", err: `lr-connect: ${f} is open to other users (${shown}): it holds your private key. Fix: chmod 600 ${f}\n` });
    }
  });

  it("refuses a bundle that belongs to neither root nor the user who ran sudo", () => {
    const f = bundle("foreign.ovpn", RENDERED);
    const asRoot = process.getuid?.() === 0;
    // As root the file can be given away; otherwise it is ours and SUDO_UID names someone else.
    if (asRoot) chownSync(f, 12345, 12345);
    const owner = asRoot ? 12345 : process.getuid!();
    const env: Record<string, string> = asRoot ? {} : { SUDO_UID: "54321" };
    const claimed = asRoot ? "0" : "54321";
    expect(run([f], FULL, env)).toEqual({ code: 2, out: "", err: `lr-connect: ${f} belongs to uid ${owner}, neither root nor you (${claimed}): someone else could have written it. Fix: sudo chown ${claimed} ${f}\n` });
    // The invoking user's own file is fine.
    expect(run([f], FULL, { SUDO_UID: String(owner) })).toEqual({ code: 2, out: "", err: NEEDS_ROOT });
  });

  // Each line would make OpenVPN run a program or include a file as root, or hides a directive from a line reader.
  const refused: [string, string, number, string][] = [
    ["up script", "up /tmp/evil", 1, 'directive "up" is not one the bundle uses'],
    ["script-security", "script-security 2", 1, 'directive "script-security" is not one the bundle uses'],
    ["double-dash form", "--route-up /tmp/evil", 1, 'directive "--route-up" is not one the bundle uses'],
    ["quoted name", '"up" /tmp/evil', 1, 'directive ""up"" is not one the bundle uses'],
    ["setenv opt", "setenv opt up /tmp/evil", 1, 'directive "setenv" is not one the bundle uses'],
    ["include", "config /tmp/other.conf", 1, 'directive "config" is not one the bundle uses'],
    ["plugin", "plugin /tmp/evil.so", 1, 'directive "plugin" is not one the bundle uses'],
    ["log file", "log /etc/passwd", 1, 'directive "log" is not one the bundle uses'],
    ["inside a connection block", "<connection>\nremote 192.0.2.9 1194 udp4\nup /tmp/evil\n</connection>", 3, 'directive "up" is not one the bundle uses'],
    ["inline block inside a connection block", "<connection>\n<ca>\n</connection>\nup /tmp/evil\n</ca>", 2, "<ca> is not an inline block of the bundle"],
    ["unknown inline block", "<dh>\nx\n</dh>", 1, "<dh> is not an inline block of the bundle"],
    ["line longer than OpenVPN reads", `# ${"x".repeat(254)}up /tmp/evil`, 1, "longer than 200 characters"],
  ];
  it.each(refused)("refuses a bundle with %s", (_what, extra, lineInExtra, why) => {
    const f = bundle("evil.ovpn", `client\n${extra}\n${RENDERED}`);
    expect(run([f], FULL)).toEqual({ code: 2, out: "", err: `lr-connect: ${f} line ${1 + lineInExtra}: ${why}; lr-connect runs only bundles as rendered for you (no directive that runs programs or writes files as root)\n` });
  });

  it("refuses an inline block with no end tag", () => {
    const f = bundle("cut.ovpn", RENDERED.slice(0, RENDERED.indexOf("</key>")));
    const n = RENDERED.slice(0, RENDERED.indexOf("</key>")).split("\n").length - 1;
    expect(run([f], FULL).err).toBe(`lr-connect: ${f} line ${n}: <key> has no end tag; lr-connect runs only bundles as rendered for you (no directive that runs programs or writes files as root)\n`);
  });

  it("explains a missing bundle, a missing openvpn and a bad --dns value", () => {
    expect(run([join(dir, "nope.ovpn")], FULL)).toEqual({ code: 2, out: "", err: `lr-connect: cannot read ${join(dir, "nope.ovpn")} (pass the .ovpn file as the first argument)\n` });
    bundle("acme.ovpn", RENDERED);
    expect(run([], BARE)).toEqual({ code: 2, out: "", err: "lr-connect: openvpn is not installed\n" });
    expect(run(["--dns", "nscd"], FULL)).toEqual({ code: 2, out: "", err: "lr-connect: --dns takes auto, resolved, resolvconf, file or off (got 'nscd')\n" });
  });
});

describe("lr-connect --hook (what openvpn runs as --up/--down)", () => {
  const calls = join(dir, "resolvectl.calls");
  const RESOLVED = pathWith("resolved", ["cat"], { resolvectl: `printf '%s\\n' "$*" >> ${calls}` });
  const state = mkdtempSync(join(dir, "state-"));
  writeFileSync(join(state, "dns"), "resolved\n");
  // What OpenVPN 2.6 exports for `push "dhcp-option …"` (foreign_option_<n>), with two values a server must not inject.
  const pushed = {
    dev: "tun0",
    foreign_option_1: "dhcp-option DNS 10.0.1.1",
    foreign_option_2: "dhcp-option DOMAIN acme.lan",
    foreign_option_3: "dhcp-option DNS 10.0.1.9;reboot",
    foreign_option_4: "dhcp-option DOMAIN a b",
    foreign_option_5: "dhcp-option DNS 10.0.1.2",
  };

  it("with systemd-resolved: the tun gets the pushed servers and ~. (every query), reverted on down", () => {
    rmSync(calls, { force: true });
    const up = spawnSync("/bin/sh", [launcher, "--hook", state, "tun0", "1500", "0", "10.255.0.2", "255.255.255.0", "init"], { encoding: "utf8", env: { PATH: RESOLVED, script_type: "up", ...pushed } });
    const down = spawnSync("/bin/sh", [launcher, "--hook", state, "tun0", "1500", "0", "10.255.0.2", "255.255.255.0", "init"], { encoding: "utf8", env: { PATH: RESOLVED, script_type: "down", ...pushed } });
    expect([up.status, up.stderr, down.status, down.stderr]).toEqual([0, "", 0, ""]);
    expect(readFileSync(calls, "utf8")).toBe("dns tun0 10.0.1.1 10.0.1.2\ndomain tun0 ~. acme.lan\ndefault-route tun0 yes\nrevert tun0\n");
  });

  it("refuses a device name that is not a plain interface name", () => {
    const r = spawnSync("/bin/sh", [launcher, "--hook", state], { encoding: "utf8", env: { PATH: RESOLVED, script_type: "up", ...pushed, dev: "tun0;x" } });
    expect([r.status, r.stderr]).toEqual([1, "lr-connect: hook: bad device name 'tun0;x'\n"]);
  });
});

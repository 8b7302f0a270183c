/** The end-user launcher, run for real with a stand-in `openvpn` that prints its arguments. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderLauncher } from "../../../render/launcher";
import { shellcheck } from "../../tools/shellcheck";
import { twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const dir = mkdtempSync(join(tmpdir(), "lr-launcher-"));
const launcher = join(dir, "lr-connect");
writeFileSync(launcher, renderLauncher(plan.stack, plan.tenants[0]), { mode: 0o755 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH holding only `tools` (symlinked from /usr/bin or /bin) plus, if asked, a fake openvpn. */
function pathWith(name: string, tools: string[], fakeOpenvpn: boolean): string {
  const bin = join(dir, name);
  spawnSync("mkdir", ["-p", bin]);
  for (const t of tools) {
    const src = ["/usr/bin", "/bin"].map((d) => `${d}/${t}`).find((p) => spawnSync("test", ["-x", p]).status === 0);
    if (!src) throw new Error(`test needs ${t}`);
    symlinkSync(src, join(bin, t));
  }
  if (fakeOpenvpn) {
    writeFileSync(join(bin, "openvpn"), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(bin, "openvpn"), 0o755);
  }
  return bin;
}

const BASIC = ["grep", "sort", "sha256sum", "cut", "dirname", "basename"];
const FULL = pathWith("full", [...BASIC, "findmnt", "lsblk"], true);
const BARE = pathWith("bare", BASIC, false);

function run(args: string[], path: string) {
  const r = spawnSync("/bin/sh", [launcher, ...args], { encoding: "utf8", env: { PATH: path } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

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

  it("runs openvpn with the bundle next to itself and the ID as UV_HWID, passing extra options through", () => {
    writeFileSync(join(dir, "acme.ovpn"), "client\n");
    const id = run(["--print-id"], FULL).out.trim();
    expect(run(["--verb", "4"], FULL)).toEqual({ code: 0, out: ["--config", join(dir, "acme.ovpn"), "--setenv", "UV_HWID", id, "--verb", "4", ""].join("\n"), err: "" });
    const other = join(dir, "copy.ovpn");
    writeFileSync(other, "client\n");
    expect(run([other], FULL).out).toBe(["--config", other, "--setenv", "UV_HWID", id, ""].join("\n"));
  });

  it("explains a missing bundle or a missing openvpn instead of failing obscurely", () => {
    expect(run([join(dir, "nope.ovpn")], FULL)).toEqual({ code: 2, out: "", err: `lr-connect: cannot read ${join(dir, "nope.ovpn")} (pass the .ovpn file as the first argument)\n` });
    writeFileSync(join(dir, "acme.ovpn"), "client\n");
    expect(run([], BARE)).toEqual({ code: 2, out: "", err: "lr-connect: openvpn is not installed\n" });
  });
});

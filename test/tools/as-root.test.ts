/**
 * The README's two commands work as root (no sudo on a fresh Debian) and as a user with sudo: scripts/as-root.sh,
 * which both source, does nothing for root and otherwise runs the script again through sudo with the user's PATH
 * plus the sbin directories (a Debian user's PATH has no /usr/sbin, where ip, sysctl and iptables live).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");

/** A bin directory with only what as-root.sh needs, and optionally a fake sudo that records its arguments. */
function sandbox(withSudo: boolean): { bin: string; script: string } {
  const dir = mkdtempSync(join(tmpdir(), "lr-asroot-"));
  chmodSync(dir, 0o755);
  const bin = join(dir, "bin");
  spawnSync("mkdir", ["-p", bin]);
  for (const tool of ["bash", "id", "basename", "dirname"]) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  if (withSudo) {
    // A fake sudo: prints the command line it was given.
    writeFileSync(join(bin, "sudo"), `#!/bin/bash\nprintf '%s\\n' "$@"\n`);
    chmodSync(join(bin, "sudo"), 0o755);
  }
  const script = join(dir, "job.sh");
  writeFileSync(script, `#!/usr/bin/env bash\nsource ${ROOT}/scripts/as-root.sh\necho "ran as $(id -u)"\n`);
  chmodSync(script, 0o755);
  return { bin, script };
}

/** Runs `script` as nobody (the suite runs as root: scripts/test.sh makes sure of it). */
function asUser(bin: string, script: string) {
  return spawnSync("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", script, "--only", "x"], { encoding: "utf8", env: { PATH: bin } });
}

describe("scripts/as-root.sh", () => {
  test("as root it does nothing: the script goes on", () => {
    const { bin, script } = sandbox(false);
    const r = spawnSync("bash", [script], { encoding: "utf8", env: { PATH: bin } });
    expect({ status: r.status, out: r.stdout }).toEqual({ status: 0, out: "ran as 0\n" });
  });

  test("a user with sudo: the script runs again through sudo with PATH plus the sbin directories, arguments kept", () => {
    const { bin, script } = sandbox(true);
    const r = asUser(bin, script);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")).toEqual(["env", `PATH=${bin}:/usr/local/sbin:/usr/sbin:/sbin`, "bash", script, "--only", "x", ""]);
  });

  test("a user without sudo gets one line saying what to do", () => {
    const { bin, script } = sandbox(false);
    const r = asUser(bin, script);
    expect({ status: r.status, err: r.stderr, out: r.stdout }).toEqual({
      status: 1,
      err: "job.sh: needs root (network namespaces, /dev/net/tun, Debian packages): run it as root, or install sudo\n",
      out: "",
    });
  });
});

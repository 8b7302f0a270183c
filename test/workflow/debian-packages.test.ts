/**
 * The Debian packages the lab and the tests run for real are listed once, in scripts/debian-packages.txt.
 * scripts/setup.sh installs the missing ones, .ci/run and the workflows install all of them, and the README
 * names the file. The two scripts run here for real, with apt-get and npm replaced by recorders.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "../..");
const LIST = "scripts/debian-packages.txt";
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");
const entries = read(LIST).trimEnd().split("\n").map((l) => l.split(" "));
const packages = entries.map(([pkg]) => pkg);

/** True when one paragraph of `text` names every package of the list: the list written out again. */
function repeatsList(text: string): boolean {
  return text.split(/\n\s*\n/).some((para) => {
    const words = new Set(para.split(/[\s`'",()\\]+/));
    return packages.every((p) => words.has(p));
  });
}

describe("scripts/debian-packages.txt", () => {
  test('one "<package> <program, or absolute path of a file, it provides>" per line, no duplicates', () => {
    for (const line of read(LIST).trimEnd().split("\n")) expect(line).toMatch(/^[a-z0-9][a-z0-9.+-]+ (?:[A-Za-z0-9._+-]+|\/[A-Za-z0-9._+/-]+)$/);
    expect(new Set(packages).size).toBe(packages.length);
    expect(packages).toContain("openvpn");
  });

  test("the check below can fail: a README sentence like the former one, which repeated the list", () => {
    const former = `installs the missing Debian packages (\`${packages.join(" ")}\`) and runs \`npm ci\``;
    expect(repeatsList(former)).toBe(true);
    expect(repeatsList(former.replace(` ${packages[packages.length - 1]}\``, "`"))).toBe(false);
  });

  test("the README names the file and does not repeat the list", () => {
    const readme = read("README.md");
    expect({ namesFile: readme.includes(LIST), repeatsList: repeatsList(readme) }).toEqual({ namesFile: true, repeatsList: false });
  });

  test.each(["scripts/setup.sh", ".ci/run", ".github/workflows/ci.yml", ".github/workflows/pr.yml"])("%s reads the file and does not repeat the list", (f) => {
    expect(read(f)).toContain(LIST);
    expect(repeatsList(read(f))).toBe(false);
  });
});

/**
 * A copy of the repository's `scripts` (and `.ci`) with recorders for apt-get, npm and scripts/test.sh; PATH
 * holds only the tools the scripts use plus `present` (fake programs, as if their packages were installed).
 */
function sandbox(present: readonly string[]): { dir: string; bin: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "lr-setup-"));
  const bin = join(dir, "bin");
  const log = join(dir, "calls.log");
  for (const d of [bin, join(dir, "scripts"), join(dir, ".ci")]) mkdirSync(d);
  for (const f of [LIST, "scripts/setup.sh", ".ci/run"]) copyFileSync(join(ROOT, f), join(dir, f));
  for (const tool of ["bash", "id", "dirname", "cut", "xargs", "cat", "mkdir"]) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  // apt-get notes whether crowdsec's offline marker exists when it runs (its postinst fails offline without it).
  const recorder = (name: string, path = join(bin, name)) => {
    const marker = name === "apt-get" ? ` capi=$([[ -s $LR_CROWDSEC_CAPI_FILE ]] && echo yes || echo no)` : "";
    writeFileSync(path, `#!/usr/bin/bash\necho "${name} $*${marker}" >>${log}\n`);
    chmodSync(path, 0o755);
  };
  for (const tool of ["apt-get", "npm", ...present.filter((p) => !p.startsWith("/"))]) recorder(tool);
  // A package that ships no program is present when its file is (under LR_FS_ROOT, the sandbox's root).
  for (const file of present.filter((p) => p.startsWith("/"))) {
    mkdirSync(join(dir, "root", file, ".."), { recursive: true });
    writeFileSync(join(dir, "root", file), "");
  }
  recorder("test.sh", join(dir, "scripts/test.sh"));
  return { dir, bin, log };
}

/** The scripts run with only `bin` on PATH; crowdsec's marker file goes inside the sandbox, not to /etc. */
const run = (script: string, bin: string) =>
  spawnSync("bash", [script], { encoding: "utf8", env: { PATH: bin, LR_FS_ROOT: join(bin, "..", "root"), LR_CROWDSEC_CAPI_FILE: join(bin, "..", "etc/crowdsec/online_api_credentials.yaml") } });
const calls = (log: string) => readFileSync(log, "utf8").trimEnd().split("\n");

describe("the scripts that read the list", () => {
  test(".ci/run: apt-get update, every package of the list, npm ci, then exactly ./scripts/test.sh", () => {
    const { dir, bin, log } = sandbox([]);
    const r = run(join(dir, ".ci/run"), bin);
    expect({ status: r.status, err: r.stderr }).toEqual({ status: 0, err: "" });
    expect(calls(log)).toEqual([
      "apt-get update -qq capi=no",
      `apt-get install -y -qq --no-install-recommends ${packages.join(" ")} capi=yes`,
      "npm ci --no-audit --no-fund --loglevel=error",
      "test.sh",
    ]);
    expect(readFileSync(join(dir, "etc/crowdsec/online_api_credentials.yaml"), "utf8")).toBe("# no Central API: offline ban grid\n");
  });

  test("scripts/setup.sh as root: installs only the packages whose program is missing (and nodejs without node)", () => {
    const { dir, bin, log } = sandbox(["openvpn", "ping"]);
    const r = run(join(dir, "scripts/setup.sh"), bin);
    expect(r.status).toBe(0);
    const missing = entries.filter(([, prog]) => prog !== "openvpn" && prog !== "ping").map(([pkg]) => pkg);
    expect(calls(log)).toEqual(["apt-get update -qq capi=yes", `apt-get install -y -qq --no-install-recommends ${[...missing, "nodejs"].join(" ")} capi=yes`, "npm ci --no-audit --no-fund --loglevel=error"]);
  });

  test("scripts/setup.sh with every program present installs nothing", () => {
    const { dir, bin, log } = sandbox([...entries.map(([, prog]) => prog), "node"]);
    writeFileSync(log, "");
    const r = run(join(dir, "scripts/setup.sh"), bin);
    expect(r.status).toBe(0);
    expect(calls(log)).toEqual(["npm ci --no-audit --no-fund --loglevel=error"]);
  });
});

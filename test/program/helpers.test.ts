/** The small pure helpers the components use: guest IP configs, the keyscan script and the apply/delete stdin dispatcher (run in real bash). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publicIpConfig, subnetIpConfig } from "../../components/guest-network";
import { dispatchScript } from "../../components/remote-script";
import { renderBindOptions, servicesScripts } from "../../render/services";
import { shellcheck } from "../tools/shellcheck";
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";

describe("guest IP configs", () => {
  test("an address of a public pool gets the pool's prefix and gateway; a subnet address its prefix", () => {
    const plan = buildPlan(readStackFile(`${__dirname}/../..`, "minimal"), "minimal");
    expect(publicIpConfig(plan, "198.51.100.7")).toEqual({ address: "198.51.100.7/24", gateway: "198.51.100.1" });
    expect(() => publicIpConfig(plan, "203.0.113.9")).toThrow("203.0.113.9 is in none of network.publicPools");
    expect(subnetIpConfig("10.0.1.1", "10.0.1.0/24")).toEqual({ address: "10.0.1.1/24" });
  });
});

describe("servicesScripts", () => {
  const plan = buildPlan(readStackFile(`${__dirname}/../..`, "minimal"), "minimal");
  test("apply and delete are shellcheck-clean", () => {
    const { apply, delete: del } = servicesScripts(plan);
    expect(shellcheck(apply)).toEqual({ ok: true, report: "" });
    expect(shellcheck(del)).toEqual({ ok: true, report: "" });
  });
  test("BIND options: recursion only for localhost, management and the public pools", () => {
    expect(renderBindOptions(plan).split("\n")[1]).toBe("acl librerouter_clients { 127.0.0.0/8; 192.168.100.0/24; 192.0.2.0/24; 198.51.100.0/24; };");
  });
});

describe("dispatchScript", () => {
  const run = (stdin: string, arg: string, env: Record<string, string>) => spawnSync("bash", ["-s", arg], { input: stdin, env: { ...process.env, ...env }, encoding: "utf8" });
  const apply = '#!/bin/sh\necho "apply $0" > "$OUT/apply"\nprintf "%s" "$(readlink /proc/$$/exe)" > "$OUT/shell"\n';
  const del = "#!/bin/bash\necho delete > \"$OUT/delete\"\n";

  test("`bash -s apply` runs only the apply script, with its own shebang, and leaves no temp dir", () => {
    const out = mkdtempSync(join(tmpdir(), "lr-dispatch-"));
    const tmp = mkdtempSync(join(tmpdir(), "lr-tmp-"));
    const r = run(dispatchScript(apply, del), "apply", { OUT: out, TMPDIR: tmp });
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["apply", "shell"]);
    expect(readFileSync(join(out, "shell"), "utf8")).toMatch(/dash$/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("`bash -s delete` runs only the delete script", () => {
    const out = mkdtempSync(join(tmpdir(), "lr-dispatch-"));
    const r = run(dispatchScript(apply, del), "delete", { OUT: out });
    expect(r.status).toBe(0);
    expect(readdirSync(out)).toEqual(["delete"]);
  });

  test("a failing script fails the command; an unknown mode is refused", () => {
    expect(run(dispatchScript("#!/bin/sh\nexit 3\n", del), "apply", {}).status).toBe(3);
    const r = run(dispatchScript(apply, del), "nope", {});
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("usage: bash -s apply|delete\n");
  });

  test("a script containing the end marker is refused instead of being cut short", () => {
    expect(() => dispatchScript("echo\n__LIBREROUTER_SCRIPT_END__\necho\n", del)).toThrow("remote script: the apply script contains the line __LIBREROUTER_SCRIPT_END__");
  });

  test("the dispatcher itself is shellcheck-clean bash", () => {
    expect(shellcheck(dispatchScript(apply, del), "bash")).toEqual({ ok: true, report: "" });
  });

  test("the target machine rides as a first comment line (a rebuilt VM changes stdin) and changes nothing else", () => {
    const plain = dispatchScript(apply, del);
    const withTarget = dispatchScript(apply, del, "BC:24:11:0A:00:01");
    expect(withTarget).toBe(`# target: BC:24:11:0A:00:01\n${plain}`);
    const out = mkdtempSync(join(tmpdir(), "lr-dispatch-"));
    expect(run(withTarget, "delete", { OUT: out }).status).toBe(0);
    expect(readdirSync(out)).toEqual(["delete"]);
  });

  test("a target that could break out of the comment line is refused", () => {
    expect(() => dispatchScript(apply, del, "x\nrm -rf /")).toThrow('remote script: target "x\\nrm -rf /" is not a plain identifier');
  });
});

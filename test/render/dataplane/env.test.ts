/**
 * The env file's one parser (load_env in the rendered lr-dataplane, run in bash): it reads every rendered file as
 * tenantEnv has it, accepts another valid shape, and refuses a damaged file with its reason, both on its own
 * (`apply <key>`) and after each_env's one grep over all files (`apply-all`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDataplaneTool } from "../../../render/dataplane";
import { ENV_FIELDS, KIND_RE, renderTenantEnv, tenantEnv } from "../../../render/dataplane-env";
import { PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { numberedPlan, twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const [acme] = plan.tenants;
const acmeText = renderTenantEnv(plan.stack, plan.servers[0], acme);
const big = numberedPlan(300);

/** The tool's functions without its subcommand dispatch, then `script` (args: $1…). */
function bash(p: typeof plan, script: string, args: string[]): { code: number; out: string; err: string } {
  const tool = renderDataplaneTool(p, p.servers[0], PRODUCTION_SERVER_LAYOUT);
  const lib = tool.slice(0, tool.lastIndexOf("\ncase ${1:-} in\n"));
  const r = spawnSync("bash", ["-c", `${lib}\n${script}`, "lr-dataplane", ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const PRINT = `print() { printf '%s\\n' ${ENV_FIELDS.map(([k]) => `"${k}=$T_${k.slice(3)}"`).join(" ")}; }`;
const fields = (out: string) => out.trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lr-env-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** load_env alone and each_env over the directory: both must give the same answer. */
function parse(text: string): { alone: ReturnType<typeof bash>; all: ReturnType<typeof bash> } {
  writeFileSync(join(dir, "acme.env"), text);
  return {
    alone: bash(plan, `${PRINT}\nload_env "$1/acme.env"\nprint`, [dir]),
    all: bash(plan, `${PRINT}\nTENANTS_DIR=$1\neach_env print`, [dir]),
  };
}

describe("env file parser (load_env)", () => {
  it("reads every field of every rendered env file (300 tenants, one grep) as tenantEnv has it", () => {
    for (const t of big.tenants) writeFileSync(join(dir, `${t.key}.env`), renderTenantEnv(big.stack, big.servers[0], t));
    const r = bash(big, `${PRINT}\nTENANTS_DIR=$1\neach_env print`, [dir]);
    expect(r.err).toBe("");
    const want = [...big.tenants].sort((a, b) => (`${a.key}.env` < `${b.key}.env` ? -1 : 1)).flatMap((t) => Object.entries(tenantEnv(big.servers[0], t)));
    expect(fields(r.out)).toEqual(want);
  });

  it("reads the golden acme file alone and in a directory", () => {
    const want = Object.entries(tenantEnv(plan.servers[0], acme));
    const { alone, all } = parse(acmeText);
    expect(fields(alone.out)).toEqual(want);
    expect(fields(all.out)).toEqual(want);
    expect(Object.fromEntries(want)).toMatchObject({ LR_KEY: "acme", LR_TUN1: "10.255.0.2", LR_PREF1: "1033", LR_PREF2: "12590", LR_VNC_PORT: "6001" });
  });

  it.each([
    ["fields in another order", acmeText.replace("LR_SLOT=1\nLR_LINK=vl101\n", "LR_LINK=vl101\nLR_SLOT=1\n")],
    ["no final newline", acmeText.replace(/\n$/, "")],
    ["a blank line", acmeText.replace("LR_SLOT=1\n", "LR_SLOT=1\n\n")],
  ])("accepts %s with the same values", (_what, text) => {
    expect(text).not.toBe(acmeText);
    const want = Object.entries(tenantEnv(plan.servers[0], acme));
    const { alone, all } = parse(text);
    expect({ code: alone.code, values: fields(alone.out) }).toEqual({ code: 0, values: want });
    expect({ code: all.code, values: fields(all.out) }).toEqual({ code: 0, values: want });
  });

  it.each([
    ["a value of the wrong kind", acmeText.replace("LR_ROUTER=10.0.1.1", "LR_ROUTER=10.0.1.256"), "LR_ROUTER='10.0.1.256' is not a valid ip"],
    ["shell syntax in a value", acmeText.replace("LR_LINK=vl101", "LR_LINK=vl101;reboot"), "LR_LINK='vl101;reboot' is not a valid ifname"],
    ["a missing field", acmeText.replace("LR_VNC_PORT=6001\n", ""), "expected 15 fields, found 14"],
    ["a field given twice", acmeText.replace("LR_SLOT=1\n", "LR_SLOT=1\nLR_SLOT=1\n"), "LR_SLOT given twice"],
    ["an unknown field", acmeText.replace("LR_SLOT=1\n", "LR_SLOT=1\nLR_EXTRA=1\n"), "unknown field 'LR_EXTRA'"],
    ["a name too long", acmeText.replace("LR_KEY=acme", `LR_KEY=a${"b".repeat(32)}`), `LR_KEY='a${"b".repeat(32)}' is not a valid name`],
    ["a prefix above 32", acmeText.replace("LR_LAN_NET=10.0.1.0/24", "LR_LAN_NET=10.0.1.0/33"), "LR_LAN_NET='10.0.1.0/33' is not a valid cidr"],
    ["another tenant's key", acmeText.replace("LR_KEY=acme", "LR_KEY=coop-sur"), "LR_KEY coop-sur does not match the file name"],
    ["an empty file", "", "expected 15 fields, found 0"],
  ])("refuses %s with the reason", (_what, text, reason) => {
    const { alone, all } = parse(text);
    const err = `lr-dataplane: ${dir}/acme.env: ${reason}\n`;
    expect({ code: alone.code, out: alone.out, err: alone.err }).toEqual({ code: 1, out: "", err });
    expect({ code: all.code, out: all.out, err: all.err }).toEqual({ code: 1, out: "", err });
  });

  it("kind regexes: exact accepts and rejects", () => {
    const ok = (kind: keyof typeof KIND_RE, v: string) => new RegExp(`^(${KIND_RE[kind]})$`).test(v);
    expect([ok("name", "coop-sur"), ok("name", "9a"), ok("name", "A")]).toEqual([true, false, false]);
    expect([ok("ifname", "eth1.101"), ok("ifname", "a".repeat(16)), ok("ifname", "-x")]).toEqual([true, false, false]);
    expect([ok("int", "0123456789"), ok("int", "12345678901"), ok("int", "")]).toEqual([true, false, false]);
    expect([ok("ip", "255.0.0.1"), ok("ip", "1.2.3"), ok("ip", "01.2.3.4")]).toEqual([true, false, false]);
    expect([ok("cidr", "10.0.0.0/32"), ok("cidr", "10.0.0.0/"), ok("cidr", "10.0.0.0/24/1")]).toEqual([true, false, false]);
  });
});

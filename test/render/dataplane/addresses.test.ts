/**
 * A tenant link keeps exactly one address, with its mode's flags: read_addrs (one `ip` listing, faked here) and
 * tenant_lines (the ip batch) in the rendered lr-dataplane, run in bash. After a mode switch or a
 * network.tenantPrivate change the old address (and the old LAN route in the tenant's table) goes; an address in
 * place with the other mode's flags is re-added (`address replace` keeps flags). The real kernel run is
 * test/e2e/dataplane-fixed.test.ts (mode switches).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDataplaneTool } from "../../../render/dataplane";
import { PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { twoTenantPlan } from "./fixture";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lr-addr-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number, link: string, rest: string) => `${i}: ${link}    inet ${rest} ${link}\\       valid_lft forever preferred_lft forever`;

/**
 * The ip batch tenant_lines gives acme on vpn1 (its link named `lo`: a link that exists here) in `mode`, after
 * read_addrs over `listing` (what the fake `ip` prints), `all`: apply-all's listing of every interface.
 */
function batch(mode: "fixed" | "distinct", listing: string[], all = false): string[] {
  const plan = twoTenantPlan(mode);
  const tool = renderDataplaneTool(plan, plan.servers[0], PRODUCTION_SERVER_LAYOUT);
  const lib = tool.slice(0, tool.lastIndexOf("\ncase ${1:-} in\n"));
  writeFileSync(join(dir, "listing"), listing.join("\n") + "\n");
  writeFileSync(join(dir, "ip"), `#!/bin/sh\nprintf '%s\\n' "$*" >>${dir}/args\nexec cat ${dir}/listing\n`, { mode: 0o755 });
  const lan = mode === "fixed" ? "10.0.0" : "10.0.1";
  const env = `T_LINK=lo T_LAN_ADDR=${lan}.2/24 T_LAN_NET=${lan}.0/24 T_ROUTER=${lan}.1 T_TABLE=1001 T_TUN1=10.255.0.2 T_PREF1=1033 T_TUN2=10.255.64.2 T_PREF2=12590`;
  const r = spawnSync("bash", ["-c", `${lib}\nIP=${dir}/ip\n${env}\n${all ? "read_addrs" : "read_addrs lo 1001"}\ntenant_lines\nprintf '%s\\n' "\${B[@]}"`], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter((l) => l && !l.startsWith("rule "));
}

const TAIL = (lan: string, flags: string) => [`address replace ${lan}.2/24 dev lo${flags}`, `route replace ${lan}.0/24 dev lo src ${lan}.2 table 1001`, `route replace default via ${lan}.1 dev lo table 1001`];

describe("tenant link addresses", () => {
  it("the wanted address in place: nothing deleted (fixed and distinct)", () => {
    expect(batch("fixed", [line(1, "lo", "10.0.0.2/24 scope global noprefixroute"), "default via 10.0.0.1 dev lo ", "10.0.0.0/24 dev lo scope link src 10.0.0.2 "])).toEqual(["link set dev lo group 19538 up", ...TAIL("10.0.0", " noprefixroute")]);
    expect(batch("distinct", [line(1, "lo", "10.0.1.2/24 scope global"), "default via 10.0.1.1 dev lo ", "10.0.1.0/24 dev lo scope link src 10.0.1.2 "])).toEqual(["link set dev lo group 19538 up", ...TAIL("10.0.1", "")]);
  });

  it("fixed mode, the same address there without noprefixroute: deleted and added again with it", () => {
    expect(batch("fixed", [line(1, "lo", "10.0.0.2/24 scope global")])).toEqual(["link set dev lo group 19538 up", "address del 10.0.0.2/24 dev lo", ...TAIL("10.0.0", " noprefixroute")]);
  });

  it("distinct after fixed: the old LAN route in the tenant's table goes first, then every address, secondaries before primaries", () => {
    const listing = [line(1, "lo", "10.0.0.2/24 scope global noprefixroute"), line(1, "lo", "10.0.0.9/24 scope global secondary noprefixroute"), "default via 10.0.0.1 dev lo ", "10.0.0.0/24 dev lo scope link src 10.0.0.2 ", "unreachable 10.9.0.0/16 "];
    expect(batch("distinct", listing)).toEqual([
      "link set dev lo group 19538 up",
      "route del 10.0.0.0/24 table 1001",
      "route del 10.9.0.0/16 table 1001",
      "address del 10.0.0.9/24 dev lo",
      "address del 10.0.0.2/24 dev lo",
      ...TAIL("10.0.1", ""),
    ]);
  });

  it("apply lists the link and its table in one ip call; apply-all lists every interface once, and another link's addresses do not count", () => {
    batch("fixed", [line(1, "lo", "10.0.0.2/24 scope global noprefixroute")]);
    expect(spawnSync("cat", [join(dir, "args")], { encoding: "utf8" }).stdout).toBe("-4 -o -batch -\n");
    rmSync(join(dir, "args"));
    const listing = [line(1, "lo", "10.0.1.2/24 scope global"), line(5, "vl102", "10.0.2.2/24 scope global")];
    expect(batch("fixed", listing, true)).toEqual(["link set dev lo group 19538 up", "address del 10.0.1.2/24 dev lo", ...TAIL("10.0.0", " noprefixroute")]);
    expect(spawnSync("cat", [join(dir, "args")], { encoding: "utf8" }).stdout).toBe("-4 -o address show\n");
  });
});

/**
 * The `lr_lan` table in the rendered lr-dataplane (fixed tenant-network mode), run in bash without nft: the whole
 * table base/apply-all load (apply_lan, nft replaced by cat) holds exactly the elements render/lan-zones.ts gives
 * each tenant; the per-tenant editor (lan_awk over an `nft list table` text as nft 1.0.6 prints it) changes
 * exactly one tenant's elements; bad env files fail with the field named. The kernel side (nft loading it,
 * traffic kept apart) is test/e2e/dataplane-fixed.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDataplaneTool } from "../../render/dataplane";
import { renderTenantEnv } from "../../render/dataplane-env";
import { LAN_TABLE, lanZoneElements, renderLanZoneTable } from "../../render/lan-zones";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import type { Plan } from "../../plan/types";
import { numberedPlan, twoTenantPlan } from "./dataplane/fixture";

const fixed = twoTenantPlan("fixed");
const distinct = twoTenantPlan("distinct");
const [vpn1, vpn2] = fixed.servers;
const [acme, coop] = fixed.tenants;

/** The tool's functions without its subcommand dispatch, nft replaced by one that prints its input, then `script` (args: $1…). */
function bash(plan: Plan, server: Plan["servers"][number], script: string, args: string[] = []): { code: number; out: string; err: string } {
  const tool = renderDataplaneTool(plan, server, PRODUCTION_SERVER_LAYOUT);
  const lib = tool.slice(0, tool.lastIndexOf("\ncase ${1:-} in\n"));
  writeFileSync(join(dir, "nft"), "#!/bin/sh\nexec cat\n", { mode: 0o755 });
  const r = spawnSync("bash", ["-c", `${lib}\nNFT=${dir}/nft\n${script}`, "lr-dataplane", ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lr-lan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every env file of `plan` on `server` in the directory. */
function writeEnvs(plan: Plan, server: Plan["servers"][number]): void {
  for (const t of plan.tenants) writeFileSync(join(dir, `${t.key}.env`), renderTenantEnv(plan.stack, server, t));
}

/** The elements of `add element …` lines, as "<set> <element>" strings, sorted. */
function addedElements(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = /^add element ip lr_lan (\w+) \{ (.*) \}$/.exec(l);
    if (!m) continue;
    for (const e of m[2].split(/, ?/)) out.push(`${m[1]} ${e.trim()}`);
  }
  return out.sort();
}

describe("the whole-table load (base, apply-all)", () => {
  it.each([
    ["vpn1", vpn1],
    ["vpn2", vpn2],
  ])("on %s: delete-then-define, the rendered table, then every tenant's elements as render/lan-zones.ts has them", (_n, server) => {
    writeEnvs(fixed, server);
    const r = bash(fixed, server, `TENANTS_DIR=$1\nload_all\napply_lan`, [dir]);
    expect(r.err).toBe("");
    const lines = r.out.split("\n");
    const table = renderLanZoneTable(fixed.tenantNetwork.lan, server.instances);
    expect(r.out.startsWith(`table ip ${LAN_TABLE}\ndelete table ip ${LAN_TABLE}\n${table}`)).toBe(true);
    expect(lines.filter((l) => l.startsWith("add element")).length).toBe(4); // one line per map/set, not per tenant
    expect(addedElements(lines)).toEqual(addedElements(fixed.tenants.flatMap((t) => lanZoneElements(server, t, "add"))));
  });

  it("300 tenants: still four element lines, 1,800 elements", () => {
    const big = numberedPlan(300);
    const bigFixed = { ...big, tenantNetwork: { mode: "fixed" as const, lan: "10.0.0.0/24" } };
    writeEnvs(bigFixed, bigFixed.servers[0]);
    const r = bash(bigFixed, bigFixed.servers[0], `TENANTS_DIR=$1\nload_all\napply_lan`, [dir]);
    const lines = r.out.split("\n").filter((l) => l.startsWith("add element"));
    expect(lines.length).toBe(4);
    expect(addedElements(lines).length).toBe(300 * 6);
  });

  it("no tenant: the empty table, no element line (nft refuses an empty `{ }`)", () => {
    const r = bash(fixed, vpn1, `TENANTS_DIR=$1\nload_all\napply_lan`, [dir]);
    expect(r.out).toBe(`table ip ${LAN_TABLE}\ndelete table ip ${LAN_TABLE}\n${renderLanZoneTable(fixed.tenantNetwork.lan, vpn1.instances)}\n`);
  });

  it("distinct mode: only removes a table left from fixed mode, and collects no element", () => {
    writeEnvs(distinct, distinct.servers[0]);
    const r = bash(distinct, distinct.servers[0], `TENANTS_DIR=$1\nload_all\napply_lan\necho "\${#LAN_LINKS[@]}"`, [dir]);
    expect(r.out).toBe(`table ip ${LAN_TABLE}\ndelete table ip ${LAN_TABLE}\n0\n`);
  });

  it.each([
    ["two tenants on one link", (t: string) => (t.includes("LR_KEY=coop-sur") ? t.replace("LR_LINK=vl102", "LR_LINK=vl101") : t), "coop-sur.env: link vl101 is also acme's"],
    ["two tenants on one tunnel IP", (t: string) => (t.includes("LR_KEY=coop-sur") ? t.replace("LR_TUN1=10.255.0.3", "LR_TUN1=10.255.0.2") : t), "coop-sur.env: tunnel IP 10.255.0.2 is also acme's"],
    ["slot 0 (the default zone)", (t: string) => t.replace("LR_SLOT=1\n", "LR_SLOT=0\n"), "acme.env: LR_SLOT=0 is no conntrack zone (1-65535)"],
    ["a slot above 65535", (t: string) => t.replace("LR_SLOT=2\n", "LR_SLOT=65536\n"), "coop-sur.env: LR_SLOT=65536 is no conntrack zone (1-65535)"],
  ])("refuses %s, naming the file and the field", (_what, edit, reason) => {
    for (const t of fixed.tenants) writeFileSync(join(dir, `${t.key}.env`), edit(renderTenantEnv(fixed.stack, vpn1, t)));
    const r = bash(fixed, vpn1, `TENANTS_DIR=$1\nload_all\napply_lan`, [dir]);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({ code: 1, out: "", err: `lr-dataplane: ${dir}/${reason}\n` });
  });
});

/** `nft list table ip lr_lan` as nft 1.0.6 prints it (wrapped element lists), holding `els` ("<set>|<element>"). */
function listing(els: string[]): string {
  const block = (kind: string, name: string, type: string) => {
    const mine = els.filter((e) => e.startsWith(`${name}|`)).map((e) => e.slice(name.length + 1));
    const body = mine.length ? `\t\telements = { ${mine.map((e, i) => (i % 2 && i < mine.length - 1 ? `${e},\n\t\t\t     ` : i < mine.length - 1 ? `${e}, ` : e)).join("")} }\n` : "";
    return `\t${kind} ${name} {\n\t\ttypeof ${type}\n${body}\t}\n`;
  };
  return `table ip lr_lan {\n${block("map", "link_zone", "iifname : ct zone")}\n${block("map", "tun_zone", "ip saddr : ct zone")}\n${block("set", "link_tun", "iifname . ip daddr")}\n${block("set", "links", "iifname")}\n\tchain zones {\n\t\ttype filter hook prerouting priority -450; policy accept;\n\t\tiifname { "tun-tcp", "tun-udp" } ip daddr != { 10.255.0.1, 10.255.64.1 } ct zone set ip saddr map @tun_zone\n\t\tct zone set iifname map @link_zone\n\t}\n}\n`;
}
/** A tenant's elements on vpn1 as "<set>|<element>". */
const els = (link: string, slot: number, t1: string, t2: string) => [`links|"${link}"`, `link_zone|"${link}" : ${slot}`, `tun_zone|${t1} : ${slot}`, `tun_zone|${t2} : ${slot}`, `link_tun|"${link}" . ${t1}`, `link_tun|"${link}" . ${t2}`];
const ACME = els("vl101", 1, "10.255.0.2", "10.255.64.2");
const COOP = els("vl102", 2, "10.255.0.3", "10.255.64.3");

/** lan_awk over `text` (its stdin): its output lines. */
function awk(text: string, ...args: string[]): string[] {
  const tool = renderDataplaneTool(fixed, vpn1, PRODUCTION_SERVER_LAYOUT);
  const r = spawnSync("bash", ["-c", `${tool.slice(0, tool.lastIndexOf("\ncase ${1:-} in\n"))}\nlan_awk "$@"`, "lr-dataplane", ...args], { input: text, encoding: "utf8" });
  expect({ code: r.status, err: r.stderr }).toEqual({ code: 0, err: "" });
  return r.stdout.split("\n").filter(Boolean);
}
/** Deletions and additions apart, each sorted; and whether every deletion comes before every addition. */
function split(lines: string[]): { dels: string[]; adds: string[]; delsFirst: boolean } {
  const dels = lines.filter((l) => l.startsWith("delete "));
  const adds = lines.filter((l) => l.startsWith("add "));
  return { dels: dels.sort(), adds: adds.sort(), delsFirst: lines.slice(0, dels.length).every((l) => l.startsWith("delete ")) };
}
/** `nft` lines of lanZoneElements, one element per line (lan_awk writes them so). */
const oneEach = (lines: string[]) =>
  lines
    .flatMap((l) => {
      const m = /^(\w+) element ip lr_lan (\w+) \{ (.*) \}$/.exec(l)!;
      return m[3].split(", ").map((e) => `${m[1]} element ip lr_lan ${m[2]} { ${e} }`);
    })
    .sort();
const acmeArgs = ["1", "vl101", "10.255.0.2", "10.255.64.2"];

describe("one tenant's elements (apply, delete, status)", () => {
  it("list: every element of a wrapped listing, one line each", () => {
    const all = [...ACME, ...COOP];
    expect(awk(listing(all), "list").sort()).toEqual(all.map((e) => e.replace(/^(link_zone|tun_zone)\|(.*) : (\d+)$/, "$1|$2|$3")).sort());
  });

  it("apply with everything in place changes nothing; on an empty table it adds the tenant's six elements", () => {
    expect(awk(listing([...ACME, ...COOP]), "apply", ...acmeArgs)).toEqual([]);
    expect(awk(listing(COOP), "apply", ...acmeArgs).sort()).toEqual(oneEach(lanZoneElements(vpn1, acme, "add")));
  });

  it("apply after the tenant's link changed: its elements on the old link go, the new ones come, the other tenant's stay", () => {
    expect(split(awk(listing([...ACME, ...COOP]), "apply", "1", "vl109", "10.255.0.2", "10.255.64.2"))).toEqual({
      dels: [`delete element ip lr_lan link_tun { "vl101" . 10.255.0.2 }`, `delete element ip lr_lan link_tun { "vl101" . 10.255.64.2 }`, `delete element ip lr_lan link_zone { "vl101" }`, `delete element ip lr_lan links { "vl101" }`],
      adds: [`add element ip lr_lan link_tun { "vl109" . 10.255.0.2 }`, `add element ip lr_lan link_tun { "vl109" . 10.255.64.2 }`, `add element ip lr_lan link_zone { "vl109" : 1 }`, `add element ip lr_lan links { "vl109" }`],
      delsFirst: true,
    });
  });

  it("apply where another zone holds one of the tenant's tunnel IPs or its link: those are taken over, with their link pairs", () => {
    // A stale coop-sur (zone 2) still on acme's UDP tunnel IP and on vl101; acme (zone 1) has nothing yet.
    const stale = [`links|"vl101"`, `link_zone|"vl101" : 2`, `tun_zone|10.255.0.2 : 2`, `link_tun|"vl101" . 10.255.0.2`, `link_tun|"vl102" . 10.255.0.2`];
    expect(split(awk(listing(stale), "apply", ...acmeArgs))).toEqual({
      dels: [`delete element ip lr_lan link_tun { "vl102" . 10.255.0.2 }`, `delete element ip lr_lan link_zone { "vl101" }`, `delete element ip lr_lan tun_zone { 10.255.0.2 }`],
      adds: [`add element ip lr_lan link_tun { "vl101" . 10.255.64.2 }`, `add element ip lr_lan link_zone { "vl101" : 1 }`, `add element ip lr_lan tun_zone { 10.255.0.2 : 1 }`, `add element ip lr_lan tun_zone { 10.255.64.2 : 1 }`],
      delsFirst: true,
    });
  });

  it("delete: exactly the tenant's zone's six elements, the other tenant's untouched; again: nothing", () => {
    expect(awk(listing([...ACME, ...COOP]), "delete", ...acmeArgs).sort()).toEqual(oneEach(lanZoneElements(vpn1, acme, "delete")));
    expect(awk(listing(COOP), "delete", ...acmeArgs)).toEqual([]);
  });
});

describe("the rendered mode", () => {
  const tool = (p: Plan) => renderDataplaneTool(p, p.servers[0], PRODUCTION_SERVER_LAYOUT);

  it("fixed: loose links, no prefix route, the table of vpn1's own tun devices and gateways", () => {
    const t = tool(fixed);
    expect(t).toContain("\nLAN_MODE=fixed\nLINK_RP=2\nADDR_FLAGS=' noprefixroute'\nNFT=/usr/sbin/nft\nLAN_TABLE=lr_lan\n");
    expect(t).toContain(`\nLAN_TABLE_TEXT='${renderLanZoneTable("10.0.0.0/24", vpn1.instances).trimEnd()}'\n`);
    expect(renderLanZoneTable("10.0.0.0/24", vpn1.instances)).toContain(`iifname { "tun-udp", "tun-tcp" } ip daddr != { 10.255.0.1, 10.255.64.1 } ct zone set ip saddr map @tun_zone`);
    expect(renderLanZoneTable("10.0.0.0/24", vpn2.instances)).toContain("ip daddr != { 10.255.128.1, 10.255.192.1 }");
  });

  it("distinct: strict links, prefix routes, no table", () => {
    expect(tool(distinct)).toContain("\nLAN_MODE=distinct\nLINK_RP=1\nADDR_FLAGS=''\nNFT=/usr/sbin/nft\nLAN_TABLE=lr_lan\n# fixed mode: the lr_lan table (render/lan-zones.ts), without elements; empty in distinct mode.\nLAN_TABLE_TEXT=''\n");
  });

  it("refuses a LAN that is no CIDR, a gateway that is no address, a link name nft would misread, a slot that is no zone", () => {
    expect(() => renderLanZoneTable("10.0.0.0", vpn1.instances)).toThrow('not a CIDR: "10.0.0.0"');
    expect(() => renderLanZoneTable("10.0.0.0/24", [{ ...vpn1.instances[0], gateway: "10.255.0" }])).toThrow("instance vpn1-udp: not an IPv4 gateway: 10.255.0");
    expect(() => renderLanZoneTable("10.0.0.0/24", [{ ...vpn1.instances[0], dev: 'tun"x' }])).toThrow('not an interface name: "tun\\"x"');
    expect(() => lanZoneElements(vpn1, { ...acme, slot: 0 }, "add")).toThrow("tenant acme: slot 0 is no conntrack zone");
    expect(() => lanZoneElements(vpn1, { ...coop, link: "a-name-far-too-long" }, "add")).toThrow('not an interface name: "a-name-far-too-long"');
  });
});

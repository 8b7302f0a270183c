/**
 * The ban grid's kernel source on the VPN servers (issue 11: port probes and UDP floods): the vendored hub items it
 * links exist where the setup script links them from and fit together with our flood scenario, the production
 * acquisition reads the kernel's journal transport, and only the VPN servers get it. The lab's ban-probe and
 * ban-udp-flood checks and test/e2e/ban-grid.test.ts run it for real.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import type { BanMemberName } from "../../../plan/bans";
import { HUB_ITEMS, acquisition, hubItems } from "../../../render/bans/crowdsec";
import { UDP_FLOOD_SCENARIO, ownItems, udpFloodScenario } from "../../../render/bans/items";
import { KERNEL_LOG_PREFIX } from "../../../render/bans/kernel-log";
import { PRODUCTION_PATHS } from "../../../render/bans/paths";
import { memberFiles } from "../../../render/bans/setup";
import { args, bans } from "./fixture";

const member = (n: BanMemberName) => bans.members.find((m) => m.name === n)!;
/** Debian's vendored hub, which PRODUCTION_PATHS.hub's entries link to (crowdsec's package). */
const DEBIAN_HUB = "/usr/share/crowdsec/hub";
const hubFile = (item: string) => readFileSync(join(DEBIAN_HUB, item), "utf8");

describe("vendored hub items", () => {
  it.each(Object.entries(HUB_ITEMS).flatMap(([src, items]) => items.map((i) => [src, i])))("%s: %s is in Debian's hub and under the hub path the setup links from", (_src, item) => {
    expect(existsSync(join(DEBIAN_HUB, item))).toBe(true);
    expect(realpathSync(join(PRODUCTION_PATHS.hub, item))).toBe(realpathSync(join(DEBIAN_HUB, item)));
  });

  it("the iptables parser reads the kernel's syslog lines into the log_type and source_ip our flood scenario and the scan scenario group on", () => {
    const [parser, scan] = HUB_ITEMS.kernel.map((i) => parse(hubFile(i)) as Record<string, unknown>);
    expect(parser.filter).toContain("evt.Parsed.program == 'kernel'");
    const statics = parser.statics as { meta: string; value?: string; expression?: string }[];
    expect(statics).toEqual(expect.arrayContaining([{ meta: "log_type", value: "iptables_drop" }, { meta: "source_ip", expression: "evt.Parsed.src_ip" }]));
    expect(scan).toMatchObject({ type: "leaky", groupby: "evt.Meta.source_ip", distinct: "evt.Parsed.dst_port", labels: { remediation: true } });
    expect(scan.filter).toContain("evt.Meta.log_type == 'iptables_drop'");
    const flood = parse(udpFloodScenario(bans)) as Record<string, unknown>;
    expect(flood.filter).toContain("evt.Meta.log_type == 'iptables_drop'");
    expect(flood.groupby).toBe(scan.groupby);
  });
});

describe("the kernel source", () => {
  it("is the VPN servers' only: their agents link the parser and the scan scenario and get lr/udp-flood; the host and services do not", () => {
    for (const n of ["vpn1", "vpn2"] as const) {
      expect([n, hubItems(member(n))]).toEqual([n, expect.arrayContaining([...HUB_ITEMS.kernel])]);
      const files = memberFiles(bans, args(n)).files.map((f) => f.path);
      expect([n, files]).toEqual([n, expect.arrayContaining([`${PRODUCTION_PATHS.etc}/scenarios/lr-udp-flood.yaml`])]);
    }
    for (const n of ["host", "services"] as const) {
      expect([n, hubItems(member(n)).filter((i) => HUB_ITEMS.kernel.includes(i))]).toEqual([n, []]);
      expect([n, Object.keys(ownItems(bans, member(n).sources)).filter((p) => p.includes("udp-flood"))]).toEqual([n, []]);
    }
  });

  it("production reads it from the journal's kernel transport, labelled syslog like the others", () => {
    const docs = parseAllDocuments(acquisition(member("vpn1"), { kind: "journal" })).map((d) => d.toJSON() as { source: string; journalctl_filter: string[]; labels: { type: string } });
    const kernel = docs.filter((d) => d.journalctl_filter.some((f) => f.startsWith("_TRANSPORT=")));
    expect(kernel).toEqual([{ source: "journalctl", journalctl_filter: ["_TRANSPORT=kernel"], labels: { type: "syslog" } }]);
  });

  it("the lab's files acquisition names the kernel file it is given", () => {
    const files = { openvpn: "/run/o.log", console: "/run/c.log", kernel: "/run/k.log" };
    const docs = parseAllDocuments(acquisition(member("vpn2"), { kind: "files", files })).map((d) => (d.toJSON() as { filenames: string[] }).filenames);
    expect(docs).toEqual([["/run/o.log"], ["/run/c.log"], ["/run/k.log"]]);
    expect(() => acquisition(member("vpn2"), { kind: "files", files: { openvpn: "/run/o.log", console: "/run/c.log" } })).toThrow("no lab file for kernel on vpn2");
  });

  it("lr/udp-flood: a small leaky bucket per source on the lr-flood lines only, a remediation, silent for the grid's blackhole after it fires", () => {
    const s = parse(udpFloodScenario(bans)) as Record<string, unknown>;
    expect(s).toMatchObject({ type: "leaky", name: UDP_FLOOD_SCENARIO, groupby: "evt.Meta.source_ip", blackhole: bans.scenario.blackhole, labels: { remediation: true } });
    expect(s.filter).toContain(`evt.Parsed.message contains '${KERNEL_LOG_PREFIX.flood}'`);
    expect(s.filter).not.toContain(KERNEL_LOG_PREFIX.probe);
    expect(s.capacity as number).toBeLessThan(10);
  });
});

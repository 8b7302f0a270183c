/** Reverse zones: exact records, stable serial, and BIND's own checker (named-checkzone, Debian bind9-utils). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPlan } from "../../../plan/build";
import { reverseZones } from "../../../render/reverse-dns";
import { numberedPlan, twoTenantPlan } from "./fixture";

function checkzone(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "lrzone-")), "z");
  writeFileSync(file, content);
  const r = spawnSync("named-checkzone", ["-k", "fail", "-i", "full", name, file], { encoding: "utf8" });
  if (r.error) throw new Error(`named-checkzone could not run (apt-get install bind9-utils): ${r.error.message}`);
  return `${r.status} ${r.stdout.trim()}`;
}

describe("reverse DNS zones", () => {
  it("one PTR per infrastructure and tenant address, in address order, accepted by named-checkzone", () => {
    const [z] = reverseZones(twoTenantPlan());
    expect(z.name).toBe("2.0.192.in-addr.arpa");
    expect(z.content.split("\n").filter((l) => l.includes("PTR"))).toEqual([
      "2\tIN\tPTR\thost.tenants.example.net.",
      "3\tIN\tPTR\tvpn1.example.net.",
      "4\tIN\tPTR\tvpn2.example.net.",
      "5\tIN\tPTR\tservices.tenants.example.net.",
      "6\tIN\tPTR\tacme.tenants.example.net.",
      "7\tIN\tPTR\tcoop-sur.tenants.example.net.",
    ]);
    expect(checkzone(z.name, z.content)).toMatch(/^0 zone 2\.0\.192\.in-addr\.arpa\/IN: loaded serial \d+\nOK$/);
  });

  it("the serial depends on the records only: same plan, same serial; one tenant more, another serial", () => {
    const serial = (text: string) => /SOA\t\S+ \S+ \( (\d+) /.exec(text)?.[1];
    const a = reverseZones(twoTenantPlan())[0].content;
    expect(reverseZones(twoTenantPlan())[0].content).toBe(a);
    const p50 = reverseZones(numberedPlan(50))[0].content;
    const p51 = reverseZones(numberedPlan(51))[0].content;
    expect(serial(p50)).not.toBe(serial(p51));
    expect(serial(a)).toMatch(/^[1-9]\d{0,9}$/);
  });

  it("a /20 pool gives 16 /24 zones, a /26 one RFC 2317 zone; all pass named-checkzone", () => {
    const zones = reverseZones(numberedPlan(300));
    expect(zones.map((z) => z.name)).toEqual(Array.from({ length: 16 }, (_, i) => `${i}.64.100.in-addr.arpa`));
    expect(zones[1].content).toContain("\n0\tIN\tPTR\tt251.tenants.example.net.\n");
    for (const z of zones.slice(0, 3)) expect(checkzone(z.name, z.content)).toMatch(/^0 .*\nOK$/);
    const small = buildPlan(
      { profile: "minimal", proxmox: { endpoint: "https://p.example.net:8006/", node: "p" }, network: { publicPools: [{ cidr: "192.0.2.64/26", gateway: "192.0.2.65" }] }, tenants: { acme: { slot: 1 } } },
      "s",
    );
    const [z] = reverseZones(small);
    expect(z.name).toBe("64/26.2.0.192.in-addr.arpa");
    expect(z.fileName).toBe("64-26.2.0.192.in-addr.arpa.zone");
    expect(z.content).toContain("\n70\tIN\tPTR\tacme.tenants.example.net.\n");
    expect(checkzone(z.name, z.content)).toMatch(/^0 .*\nOK$/);
  });
});

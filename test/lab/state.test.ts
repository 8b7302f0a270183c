/**
 * The lab's state snapshots in fixed mode: the nft LAN table compared element by element, whatever order nft lists
 * them in, and a deleted tenant's traces found by its link, table and tunnel IPs, not by the LAN every tenant shares.
 */
import { buildPlan } from "../../plan/build";
import { labStack } from "../../lab/stack";
import { labServerLayout } from "../../lab/layout";
import { type DataplaneState, diffState, normalizeNft, tenantTraces } from "../../lab/state";

/** `nft list table ip lr_lan` as nft 1.0.6 prints it (elements wrapped over lines, in the kernel's order). */
const listing = (zones: string) => `table ip lr_lan {
\tmap link_zone {
\t\ttypeof iifname : ct zone
\t\telements = { ${zones} }
\t}

\tset links {
\t\ttypeof iifname
\t\telements = { "vl101",
\t\t\t     "vl102" }
\t}

\tchain zones {
\t\ttype filter hook prerouting priority -450; policy accept;
\t\tct zone set iifname map @link_zone
\t}
}
`;

const state = (nft: string, routes = ""): DataplaneState => ({ rules: "", routes, iptables: "", nft });

describe("normalizeNft", () => {
  it("lists each element on its own line, sorted, with its set's name", () => {
    expect(normalizeNft(listing(`"vl101" : 1,\n\t\t\t     "vl102" : 2`)).split("\n").filter((l) => l.includes(" element "))).toEqual([
      'link_zone element "vl101" : 1',
      'link_zone element "vl102" : 2',
      'links element "vl101"',
      'links element "vl102"',
    ]);
  });

  it("makes two listings of the same elements in another order equal, and one changed element one line of difference", () => {
    const a = normalizeNft(listing(`"vl101" : 1, "vl102" : 2`));
    const b = normalizeNft(listing(`"vl102" : 2,\n\t\t\t     "vl101" : 1`));
    expect(diffState(state(a), state(b))).toEqual([]);
    const c = normalizeNft(listing(`"vl102" : 2, "vl101" : 7`));
    expect(diffState(state(a), state(c))).toEqual(['nft -link_zone element "vl101" : 1', 'nft +link_zone element "vl101" : 7']);
  });
});

describe("tenantTraces in fixed mode", () => {
  const plan = buildPlan(labStack(2, "0".repeat(64), "fixed"), "lab");
  const [acme, coop] = plan.tenants;
  const layout = labServerLayout("/nonexistent-lab-run", "vpn1");
  const vpn1 = plan.instances.filter((i) => i.server === "vpn1");
  // What vpn1 holds of coop-sur after acme's delete: the shared LAN in coop-sur's own table, its elements.
  const after = state(
    normalizeNft(listing(`"${coop.link}" : ${coop.slot}`)).replace(/links element "vl101"\n/, ""),
    `${coop.privateCidr} dev ${coop.link} table ${coop.table.id} proto kernel scope link src ${coop.vpnLanIps[0]}\n`,
  );

  it("plans the same LAN for both tenants", () => {
    expect([acme.privateCidr, coop.privateCidr, acme.routerIp, coop.routerIp]).toEqual(["10.0.0.0/24", "10.0.0.0/24", "10.0.0.1", "10.0.0.1"]);
  });

  it("does not take the other tenant's LAN route for a trace of the deleted one (the LAN is shared)", () => {
    expect(tenantTraces(after, layout, acme, vpn1, true)).toEqual([]);
    // Without sharedLan (distinct mode's reading) the shared LAN would look like acme's.
    expect(tenantTraces(after, layout, acme, vpn1, false)).toEqual([`routes: ${after.routes.trim()}`]);
  });

  it("finds the deleted tenant's link element and tunnel IP left in the nft table", () => {
    const left = state(`${after.nft}\nlinks element "${acme.link}"\ntun_zone element ${acme.tunnelIps["vpn1-udp"]} : ${acme.slot}`);
    expect(tenantTraces(left, layout, acme, vpn1, true)).toEqual([`nft: links element "${acme.link}"`, `nft: tun_zone element ${acme.tunnelIps["vpn1-udp"]} : ${acme.slot}`]);
  });
});

/**
 * The VPN servers' sysctl drop-in, applied for real (`sysctl -p`, which like systemd-sysctl writes the options in
 * file order): in fixed mode the tenant links end loose (the same LAN address on every link) and every other
 * interface strict; in distinct mode every interface strict. Interfaces exist first, as when udev re-applies the
 * drop-in to a link that has just appeared.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sysctlDropin } from "../../render/server-setup";
import { execFileSync } from "node:child_process";
import { must } from "../tools/netns-shell";

const mustRoot = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });

const NS = `lr-sysctl-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), "lr-sysctl-"));

beforeAll(() => {
  expect(process.getuid?.()).toBe(0); // namespaces need root
});

function rpFilters(mode: "distinct" | "fixed"): Record<string, string> {
  const file = join(dir, `90-librerouter.${mode}.conf`);
  writeFileSync(file, sysctlDropin(mode).content);
  mustRoot(`ip netns add ${NS} && ip -n ${NS} link add vl101 type veth peer name eth1 && ip -n ${NS} link add vl102 type veth peer name tun-udp`);
  try {
    must(NS, `sysctl -q -p ${file}`);
    const out = must(NS, "for i in vl101 vl102 eth1 tun-udp lo all; do printf '%s=%s\\n' $i $(cat /proc/sys/net/ipv4/conf/$i/rp_filter); done");
    return Object.fromEntries(out.trim().split("\n").map((l) => l.split("=")));
  } finally {
    mustRoot(`ip netns del ${NS}`);
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sysctl drop-in on a VPN server", () => {
  it("fixed mode: tenant links loose, everything else strict", () => {
    expect(rpFilters("fixed")).toEqual({ vl101: "2", vl102: "2", eth1: "1", "tun-udp": "1", lo: "1", all: "1" });
  });

  it("distinct mode: every interface strict", () => {
    expect(rpFilters("distinct")).toEqual({ vl101: "1", vl102: "1", eth1: "1", "tun-udp": "1", lo: "1", all: "1" });
  });
});

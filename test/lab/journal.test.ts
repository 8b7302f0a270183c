/**
 * The lab's journal adapter: OpenVPN's own log lines rewritten as `journalctl -o short` prints them (what the agents'
 * syslog parser reads in production), the hooks' bare lines stamped on arrival, lines split across reads kept whole;
 * and the unit reader that starts the grid's daemons as systemd would.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unitCommands } from "../../lab/ban-grid";
import { ipToInt, parseCidr, size } from "../../lib/ipv4";
import { journalLine, openvpnToJournal, startJournal } from "../../lab/journal";
import { labPlan } from "../../lab/stack";
import { outsiderMgmtIp } from "../../lab/topology";

describe("journal format", () => {
  it("writes month, space-padded day, time, host, identifier[pid]", () => {
    expect(journalLine(new Date(2026, 11, 2, 7, 40, 18), "vpn1", "openvpn", 4242, "hello")).toBe("Dec  2 07:40:18 vpn1 openvpn[4242]: hello");
    expect(journalLine(new Date(2026, 0, 15, 23, 5, 9), "vpn2", "openvpn", 7, "x")).toBe("Jan 15 23:05:09 vpn2 openvpn[7]: x");
    expect(journalLine(new Date(2026, 0, 15, 23, 5, 9), "vpn2", "kernel", undefined, "lr-probe: IN=eth0")).toBe("Jan 15 23:05:09 vpn2 kernel: lr-probe: IN=eth0");
  });

  it("takes openvpn's own timestamp off and keeps its message byte for byte", () => {
    const now = new Date(2030, 5, 1, 0, 0, 0);
    expect(openvpnToJournal("2026-12-02 07:40:18 TLS Error: can not extract tls-crypt-v2 client key from [AF_INET]100.126.0.2:39823", "vpn1", 99, now)).toBe(
      "Dec  2 07:40:18 vpn1 openvpn[99]: TLS Error: can not extract tls-crypt-v2 client key from [AF_INET]100.126.0.2:39823",
    );
    expect(openvpnToJournal("2026-12-02 07:40:26 100.127.0.2:51848 WARNING: Bad encapsulated packet length from peer (65535)", "vpn1", 99, now)).toBe(
      "Dec  2 07:40:26 vpn1 openvpn[99]: 100.127.0.2:51848 WARNING: Bad encapsulated packet length from peer (65535)",
    );
    expect(openvpnToJournal("lr-tc2: cn=acme ACCEPT: tls-crypt-v2 key 6b25b62ea871b52a", "vpn1", 99, now)).toBe("Jun  1 00:00:00 vpn1 openvpn[99]: lr-tc2: cn=acme ACCEPT: tls-crypt-v2 key 6b25b62ea871b52a");
  });

  it("follows several logs into one file: complete lines only, each with its instance's pid now", () => {
    const dir = mkdtempSync(join(tmpdir(), "lr-journal-"));
    try {
      const [udp, tcp, out] = ["udp.log", "tcp.log", "out.log"].map((f) => join(dir, f));
      writeFileSync(udp, "2026-12-02 07:40:18 one\n2026-12-02 07:40:19 tw");
      let pid = 10;
      const j = startJournal(out, "vpn1", [{ path: udp, pid: () => pid }, { path: tcp, pid: () => 20 }], 60_000);
      j.pass();
      expect(readFileSync(out, "utf8")).toBe("Dec  2 07:40:18 vpn1 openvpn[10]: one\n");
      appendFileSync(udp, "o\n");
      writeFileSync(tcp, "2026-12-02 07:40:20 three\n");
      pid = 11; // the instance was restarted and appends to its old log
      j.pass();
      j.stop();
      expect(readFileSync(out, "utf8")).toBe("Dec  2 07:40:18 vpn1 openvpn[10]: one\nDec  2 07:40:19 vpn1 openvpn[11]: two\nDec  2 07:40:20 vpn1 openvpn[20]: three\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("unit commands", () => {
  it("reads ExecStartPre/ExecStart as systemd does: an empty assignment clears what came before", () => {
    const dropin = "[Service]\nExecStartPre=/usr/bin/debian-default\nExecStartPre=\nExecStartPre=/a/wait.sh https://x/health /ca.crt\nExecStart=\nExecStart=/usr/bin/crowdsec-firewall-bouncer -c /b.yaml\n";
    expect(unitCommands(dropin, "ExecStartPre")).toEqual(["/a/wait.sh https://x/health /ca.crt"]);
    expect(unitCommands(dropin, "ExecStart")).toEqual(["/usr/bin/crowdsec-firewall-bouncer -c /b.yaml"]);
  });
});

describe("the outsider's management address", () => {
  it("is the management network's last host address, which no plan address uses", () => {
    const plan = labPlan(2, "0".repeat(64));
    const ip = outsiderMgmtIp(plan);
    expect(ip).not.toBe(plan.services.mgmtIp);
    expect(JSON.stringify(plan)).not.toContain(`"${ip}"`);
    const net = parseCidr(plan.mgmt.cidr);
    expect(ipToInt(ip)).toBe(net.base + size(net) - 2);
  });
});

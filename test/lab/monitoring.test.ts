/** The lab's log relay for lr-metrics: openvpn's two stamp formats and a hook's bare line, in short-unix form. */
import { shortUnixLine } from "../../lab/monitoring";

describe("shortUnixLine", () => {
  const now = new Date(2026, 11, 3, 8, 0, 0, 250);
  it("--machine-readable-output's epoch.usec and flags: the stamp kept to the microsecond, the flags dropped", () => {
    expect(shortUnixLine("1796283804.870010 3 192.0.2.50:40000 peer info: IV_VER=2.6.14", "vpn1", 42, now)).toBe("1796283804.870010 vpn1 openvpn[42]: 192.0.2.50:40000 peer info: IV_VER=2.6.14");
  });
  it("the default local-time stamp: whole seconds", () => {
    expect(shortUnixLine("2026-12-03 07:59:58 Initialization Sequence Completed", "vpn2", 7, now)).toBe(`${(new Date(2026, 11, 3, 7, 59, 58).getTime() / 1000).toFixed(6)} vpn2 openvpn[7]: Initialization Sequence Completed`);
  });
  it("a hook's bare line: stamped when read, as the journal stamps it on arrival", () => {
    expect(shortUnixLine("lr-auth: cn=acme ACCEPT: hwid matches ops pin", "vpn1", 42, now)).toBe(`${(now.getTime() / 1000).toFixed(6)} vpn1 openvpn[42]: lr-auth: cn=acme ACCEPT: hwid matches ops pin`);
  });
});


/** IPv4 math used by every allocation: parsing, integer round trips, masks, containment, overlap, subnets. */
import { contains, formatCidr, intToIp, ipToInt, isCidr, isIpv4, maskOf, netmask, overlaps, parseCidr, size, subnet } from "../../lib/ipv4";

describe("isIpv4", () => {
  it.each([
    ["192.0.2.10", true],
    ["0.0.0.0", true],
    ["255.255.255.255", true],
    ["256.0.0.1", false],
    ["192.0.2", false],
    ["192.0.2.1.5", false],
    ["192.0.2.1 ", false],
    ["0x7f.0.0.1", false],
    ["::1", false],
    ["", false],
  ])("%j → %s", (s, ok) => expect(isIpv4(s)).toBe(ok));
});

describe("isCidr", () => {
  it.each([
    ["10.0.0.0/8", true],
    ["192.0.2.0/24", true],
    ["192.0.2.7/32", true],
    ["0.0.0.0/0", true],
    ["192.0.2.1/24", false],
    ["10.0.0.0/33", false],
    ["10.0.0.0", false],
    ["10.0.0.0/", false],
    ["10.0.0.0/8/8", false],
    ["300.0.0.0/8", false],
  ])("%j → %s", (s, ok) => expect(isCidr(s)).toBe(ok));
});

describe("ipToInt / intToIp", () => {
  it.each([
    ["0.0.0.0", 0],
    ["0.0.1.0", 256],
    ["10.255.0.1", 184483841],
    ["192.0.2.1", 3221225985],
    ["255.255.255.255", 4294967295],
  ])("%s ↔ %d", (ip, n) => {
    expect(ipToInt(ip)).toBe(n);
    expect(intToIp(n)).toBe(ip);
  });
});

describe("masks", () => {
  it.each([
    [0, 0, "0.0.0.0"],
    [8, 0xff000000, "255.0.0.0"],
    [18, 0xffffc000, "255.255.192.0"],
    [24, 0xffffff00, "255.255.255.0"],
    [32, 0xffffffff, "255.255.255.255"],
  ])("/%d → %d = %s", (prefix, mask, dotted) => {
    expect(maskOf(prefix)).toBe(mask);
    expect(netmask(prefix)).toBe(dotted);
  });
});

describe("parseCidr / formatCidr / size", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8", 16777216],
    ["10.255.0.0/16", "10.255.0.0/16", 65536],
    ["192.0.2.77/24", "192.0.2.0/24", 256],
    ["192.0.2.8/29", "192.0.2.8/29", 8],
    ["192.0.2.9/32", "192.0.2.9/32", 1],
  ])("%s → %s (%d addresses)", (s, formatted, n) => {
    const c = parseCidr(s);
    expect(formatCidr(c)).toBe(formatted);
    expect(size(c)).toBe(n);
  });
});

describe("contains", () => {
  const c = parseCidr("192.0.2.0/24");
  it.each([
    ["192.0.1.255", false],
    ["192.0.2.0", true],
    ["192.0.2.255", true],
    ["192.0.3.0", false],
  ])("192.0.2.0/24 ∋ %s → %s", (ip, inside) => expect(contains(c, ipToInt(ip))).toBe(inside));
});

describe("overlaps", () => {
  it.each([
    ["10.0.0.0/8", "10.255.0.0/16", true],
    ["10.255.0.0/16", "10.0.0.0/8", true],
    ["192.0.2.0/25", "192.0.2.128/25", false],
    ["192.0.2.0/24", "192.0.2.255/32", true],
    ["192.0.2.0/24", "192.0.3.0/24", false],
    ["192.168.100.0/24", "192.168.100.0/24", true],
  ])("%s × %s → %s", (a, b, hit) => expect(overlaps(parseCidr(a), parseCidr(b))).toBe(hit));
});

describe("subnet", () => {
  it.each([
    ["10.0.0.0/8", 24, 1, "10.0.1.0/24"],
    ["10.0.0.0/8", 24, 256, "10.1.0.0/24"],
    ["10.0.0.0/8", 24, 65535, "10.255.255.0/24"],
    ["10.255.0.0/16", 18, 0, "10.255.0.0/18"],
    ["10.255.0.0/16", 18, 3, "10.255.192.0/18"],
    ["128.0.0.0/1", 2, 1, "192.0.0.0/2"],
  ])("%s, /%d, #%d → %s", (outer, prefix, n, out) => expect(formatCidr(subnet(parseCidr(outer), prefix, n))).toBe(out));
});

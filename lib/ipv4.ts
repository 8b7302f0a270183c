/** IPv4 address math on top of ipaddr.js: parsing is the library's, arithmetic is on 32-bit integers. */
import ipaddr from "ipaddr.js";

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

/** True for a strict dotted-quad IPv4 address (no octal, no shorthand). */
export function isIpv4(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** True for `a.b.c.d/n` with the host bits zero. */
export function isCidr(s: string): boolean {
  const m = /^(.+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIpv4(m[1]) || Number(m[2]) > 32) return false;
  const c = { base: ipToInt(m[1]), prefix: Number(m[2]) };
  return (c.base & ~maskOf(c.prefix)) >>> 0 === 0;
}

export function ipToInt(s: string): number {
  const b = ipaddr.IPv4.parse(s).octets;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function netmask(prefix: number): string {
  return intToIp(maskOf(prefix));
}

export function parseCidr(s: string): Cidr {
  const [ip, p] = s.split("/");
  return { base: (ipToInt(ip) & maskOf(Number(p))) >>> 0, prefix: Number(p) };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + size(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The n-th block of length `prefix` inside `outer` (n from 0). */
export function subnet(outer: Cidr, prefix: number, n: number): Cidr {
  return { base: (outer.base + n * 2 ** (32 - prefix)) >>> 0, prefix };
}

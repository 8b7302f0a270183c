/**
 * render/tls-crypt-v2.ts against OpenVPN's own output. The fixtures were made by `openvpn --tls-crypt-v2 <server key>
 * --genkey tls-crypt-v2-client` (2.6.14) from the server key `serverKeyFile(SERVER_HEX)`: openvpn parsed our server
 * key, and since the wrap is deterministic (SIV: the IV is the tag), unwrapping and re-wrapping its client key must
 * give its file byte for byte. test/e2e/tls-crypt-v2.test.ts repeats this with the installed openvpn.
 */
import { CLIENT_KEY_BYTES, clientKeyId, serverKeyFile, tenantClientKeyFile, tenantMetadata, unwrapClientKey, wrapClientKey } from "../../render/tls-crypt-v2";

const SERVER_HEX = "0ce63060bda610dac7e3726841453a794b975af03bc3f6074af91d0443e529e70ce63060bda610dac7e3726841453a794b975af03bc3f6074af91d0443e529e70ce63060bda610dac7e3726841453a794b975af03bc3f6074af91d0443e529e70ce63060bda610dac7e3726841453a794b975af03bc3f6074af91d0443e529e7";
/** openvpn's client key with our USER metadata `lr1 acme 0123456789abcdef` (given base64 on its command line). */
const OPENVPN_CLIENT = [
  "-----BEGIN OpenVPN tls-crypt-v2 client key-----",
  "thmmHJ3Ff+S66TrOBuGDmIYT0+sknUBTUR8DYSfqlcJdQYRpenyzvZtAl5ulTcbL",
  "wJpvzQak9AD1un6kCZeZ5P1jqkd7tBVPY4/QQpn8Hcr0LkQm0GW4UafeLusfEp2w",
  "mzwoZWIDruWkm8lvV4INiRj0bXIBSGSXA/CfWLRn4EmCEWrW68rxhYcRdrEtHqzC",
  "zHAQT020hOXVwXPzzjngMdRVnmx95G9fUKwMeNG7oSJymaGdexm0wqHEFQ2fXhRj",
  "hRoav2tNMKj3UQVosXuoO6Ha4J3jsWvVvah5WYxaScvithoYQaSE1nHaD+jeuuVG",
  "sQYYIpr6OeXIEXz6tdfw3BpqRb+r8cSnynKIhnVzMSU2ROlx8hByeKl5Bopb0yiZ",
  "zCy9w0AAza1Yh6pryj5+tQx1Cna7sRZZe8FlRtiSfRNUaVHVDabeGjcvKR08dKuI",
  "ZSDwqEGb40Q7oMhhLxSB7tmPkiCzwqUWyzh0N6z4uOkr0EUxvUCkOzeBWSiB0t4I",
  "EiiK/ivo4SCd6clbAG3ediCRSmk/yaQeIYITf1W2M2eqff2kGp9bSfKFP2HDwovb",
  "Frtl/o5zucmb+Fba/9ikfQBKWcz0Jv/xQ4J0OUXbsn6+c8HqhOYeXTSY3LvDvW7v",
  "y+hsdR/JlWFM5gnaxjh9rZl/DoX659XsSTF0D0tDalhqiN+PKIiMF+5F94SeKgS1",
  "+tkxmkq7OFYcPUkLwvBh7L7lLsY3eaidJe9u5U4HWYIupoHZhFdDbJCLATw=",
  "-----END OpenVPN tls-crypt-v2 client key-----",
].join("\n") + "\n";
/** openvpn's client key with no metadata given: its default TIMESTAMP metadata (type 1, 8 bytes). */
const OPENVPN_TIMESTAMP = [
  "-----BEGIN OpenVPN tls-crypt-v2 client key-----",
  "p4lubl8/KmxqqxIoIIxBEygn8lQucJZVNHmDbJkyTF3x2nkLyR42vucbvlAl48TR",
  "6IR7HGGk4/PjeFutNwz5ciPS2BVtgvFcSZcrSrhDG6oJm4T4MpVZjVCLK7m8iQ2P",
  "VQuhj8NS17g9M+2ADij4EJWlmr91Xo66flU08IiRM46/y/bQjBrwfteQGwAtX4k2",
  "okAJYVCFNUUDw04zLaLdPiF8t6rIGo+ZCpKeRP+T7o8SVLnb2/w+Im98+JzQTQYd",
  "fk0gtaz8c2JWbkzXRi3+9mHpNDTULQph3LeSbA4kOC6TLT+b1dZdFB9fSWX5ZxWY",
  "Y01pyCFTrX9ZKNOHOvJ1HTVCJKQ8PGkbiXTlKp46OE7AntWiXYpUkasxtlEJ7WJv",
  "jl7carOcLiil9rBYYzNWRS3UNlucu2LlYge5loKUzJ1pYv7DmdjGHKcgmhoePc+/",
  "tgWklbvCJfhE3MhzW5apdk/XhO3tE2B4RhOttNcUqPAEVFZOHicTikiYwblMSagG",
  "Bxs7UXr4SOrUa+bZ+PpEbxTKWuWzZJkeMBKBJAarbR63e+MdMgUfIHO/DJMg3rZs",
  "ePqEkI8B0ZDB8968ayPSztu/x2rXSfNpFePxOtXE0x4nSenjZ4RycEznqOlk39Es",
  "0PLBy++ZMS7U0A5ecIpwCXJ9Oa6ZBrp6GWvy1ursI4PP8paIh5M5riDCoDnjdeiP",
  "j+2jPtjUmxdQmcUPwX5yC3F+X2ibGLTyQgEr",
  "-----END OpenVPN tls-crypt-v2 client key-----",
].join("\n") + "\n";
const server = serverKeyFile(SERVER_HEX);
const KC = "5a".repeat(CLIENT_KEY_BYTES);

describe("tls-crypt-v2 keys", () => {
  it("server key: 128 bytes PEM-armoured as OpenVPN writes it (64 base64 characters a line)", () => {
    const lines = server.split("\n");
    expect(lines[0]).toBe("-----BEGIN OpenVPN tls-crypt-v2 server key-----");
    expect(lines.slice(-2)).toEqual(["-----END OpenVPN tls-crypt-v2 server key-----", ""]);
    expect(lines.slice(1, -2).map((l) => l.length)).toEqual([64, 64, 44]);
    expect(Buffer.from(lines.slice(1, -2).join(""), "base64").toString("hex")).toBe(SERVER_HEX);
    expect(() => serverKeyFile("ab".repeat(127))).toThrow(new Error("tls-crypt-v2 server key must be 128 bytes as 256 lowercase hex digits"));
  });

  it("unwraps openvpn's client key (USER metadata) and re-wraps it to the same bytes", () => {
    const { kc, metadata } = unwrapClientKey(server, OPENVPN_CLIENT);
    expect(metadata).toEqual(tenantMetadata("acme", "0123456789abcdef"));
    expect(wrapClientKey(server, kc.toString("hex"), metadata)).toBe(OPENVPN_CLIENT);
  });

  it("unwraps openvpn's default (timestamp) client key the same way", () => {
    const { kc, metadata } = unwrapClientKey(server, OPENVPN_TIMESTAMP);
    expect([metadata.length, metadata[0]]).toEqual([9, 1]);
    expect(wrapClientKey(server, kc.toString("hex"), metadata)).toBe(OPENVPN_TIMESTAMP);
  });

  it("a tenant's key: metadata `lr1 <cn> <key id of Kc>`, deterministic in (server key, Kc, cn)", () => {
    const k = tenantClientKeyFile(server, KC, "acme");
    expect(k).toBe(tenantClientKeyFile(server, KC, "acme"));
    expect(clientKeyId(KC)).toMatch(/^[0-9a-f]{16}$/);
    expect(unwrapClientKey(server, k).metadata.toString("latin1")).toBe(`\x00lr1 acme ${clientKeyId(KC)}`);
    expect(clientKeyId("a5".repeat(CLIENT_KEY_BYTES))).not.toBe(clientKeyId(KC));
  });

  it("another server key, or one flipped bit in WKc, fails the tag check (the server drops such a packet)", () => {
    const k = tenantClientKeyFile(server, KC, "acme");
    expect(() => unwrapClientKey(serverKeyFile("cd".repeat(128)), k)).toThrow(new Error("tls-crypt-v2: client key authentication error (another server key?)"));
    const raw = Buffer.from(k.split("\n").slice(1, -2).join(""), "base64");
    raw[CLIENT_KEY_BYTES + 40] ^= 1;
    const flipped = ["-----BEGIN OpenVPN tls-crypt-v2 client key-----", ...(raw.toString("base64").match(/.{1,64}/g) ?? []), "-----END OpenVPN tls-crypt-v2 client key-----", ""].join("\n");
    expect(() => unwrapClientKey(server, flipped)).toThrow(new Error("tls-crypt-v2: client key authentication error (another server key?)"));
  });

  it("refuses bad input with the field named", () => {
    expect(() => tenantClientKeyFile(server, "00", "acme")).toThrow(new Error("tls-crypt-v2 client key must be 256 bytes as 512 lowercase hex digits"));
    expect(() => tenantMetadata("../x", "0123456789abcdef")).toThrow(new Error('tls-crypt-v2 metadata: "../x" is not a tenant key'));
    expect(() => tenantMetadata("acme", "xyz")).toThrow(new Error("tls-crypt-v2 metadata: key id must be 16 lowercase hex digits"));
    expect(() => wrapClientKey(server, KC, Buffer.alloc(800))).toThrow(new Error("tls-crypt-v2 metadata too long: 800 bytes, at most 734"));
    expect(() => wrapClientKey("-----BEGIN OpenVPN Static key V1-----\n-----END OpenVPN Static key V1-----\n", KC, Buffer.from([0]))).toThrow(
      new Error('expected a PEM block "OpenVPN tls-crypt-v2 server key"'),
    );
  });
});

/**
 * tls-crypt-v2 keys built from their documented format, so Pulumi random bytes make them (stable, secret, the same
 * server key on both servers) and no key is generated on a VM. Pure: no `@pulumi/*` import. Every detail is
 * OpenVPN 2.6.14's (tag v2.6.14): doc/tls-crypt-v2.txt:58-113 and src/openvpn/tls_crypt.c; the tests check it
 * against the real `openvpn --genkey` both ways (test/e2e/tls-crypt-v2.test.ts).
 *
 * Server key: one `struct key` (cipher[64] || hmac[64], crypto.h:149-154), random, PEM-armoured as
 * "OpenVPN tls-crypt-v2 server key" (tls_crypt.c:41, crypto.c:1728 write_pem_key_file). It is used as AES-256-CTR
 * + HMAC-SHA256 (tls_crypt.c:51), so Ke is the first 32 bytes of `cipher` and Ka the first 32 of `hmac`
 * (crypto.c:824 init_key_ctx takes each algorithm's own key size).
 * Client key: PEM "OpenVPN tls-crypt-v2 client key" of Kc || WKc (tls_crypt.c:761), Kc = 256 random bytes (a
 * `struct key2`, TLS_CRYPT_V2_CLIENT_KEY_LEN), WKc = T || AES-256-CTR(Ke, IV = T[0..16), Kc || metadata) || len
 * with len = |WKc| as 16-bit big-endian and T = HMAC-SHA256(Ka, len || Kc || metadata) (tls_crypt.c:385-439).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";
import { TENANT_KEY } from "../config/schema";

export const SERVER_PEM_NAME = "OpenVPN tls-crypt-v2 server key";
export const CLIENT_PEM_NAME = "OpenVPN tls-crypt-v2 client key";
/** sizeof(struct key): MAX_CIPHER_KEY_LENGTH + MAX_HMAC_KEY_LENGTH (crypto_backend.h:188, :506). */
export const SERVER_KEY_BYTES = 128;
/** TLS_CRYPT_V2_CLIENT_KEY_LEN (tls_crypt.h:98). */
export const CLIENT_KEY_BYTES = 256;
const TAG_BYTES = 32;
/** TLS_CRYPT_V2_MAX_WKC_LEN (tls_crypt.h:97): a longer WKc is refused by the server. */
const MAX_WKC_BYTES = 1024;
/** First metadata byte (tls_crypt.c:44-46): USER is ours; TIMESTAMP is what `--genkey` writes without metadata. */
export const METADATA_USER = 0x00;
/** Our USER metadata: `lr1 <tenant key> <key id>`, ASCII, no newline; render/scripts/tls-crypt-v2-verify.sh reads it. */
const METADATA_TAG = "lr1";
const KEY_ID = /^[0-9a-f]{16}$/;

function hexBytes(hex: string, bytes: number, what: string): Buffer {
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(hex)) throw new Error(`${what} must be ${bytes} bytes as ${bytes * 2} lowercase hex digits`);
  return Buffer.from(hex, "hex");
}

/** PEM as OpenSSL's PEM_write_bio writes it (crypto_openssl.c:505): 64 base64 characters a line. */
function pem(name: string, data: Buffer): string {
  const lines = data.toString("base64").match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${name}-----`, ...lines, `-----END ${name}-----`, ""].join("\n");
}

function unpem(name: string, text: string): Buffer {
  const m = new RegExp(`-----BEGIN ${name}-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+?)-----END ${name}-----`).exec(text);
  if (!m) throw new Error(`expected a PEM block "${name}"`);
  return Buffer.from(m[1].replace(/\r?\n/g, ""), "base64");
}

/** Ke (AES-256-CTR) and Ka (HMAC-SHA256) of a server key file. */
function serverKeys(serverPem: string): { ke: Buffer; ka: Buffer } {
  const k = unpem(SERVER_PEM_NAME, serverPem);
  if (k.length !== SERVER_KEY_BYTES) throw new Error(`tls-crypt-v2 server key must hold ${SERVER_KEY_BYTES} bytes, has ${k.length}`);
  return { ke: k.subarray(0, 32), ka: k.subarray(64, 96) };
}

/** The server key file from 128 random bytes (`hex`: 256 lowercase hex digits, e.g. random.RandomBytes.hex). */
export function serverKeyFile(hex: string): string {
  return pem(SERVER_PEM_NAME, hexBytes(hex, SERVER_KEY_BYTES, "tls-crypt-v2 server key"));
}

/** The key id that names one client key in its metadata and in the server's pin: 16 hex digits of SHA-256(Kc). */
export function clientKeyId(clientHex: string): string {
  return createHash("sha256").update(hexBytes(clientHex, CLIENT_KEY_BYTES, "tls-crypt-v2 client key")).digest("hex").slice(0, 16);
}

/** Our metadata for a tenant's key: the USER type byte, then `lr1 <cn> <key id>`. */
export function tenantMetadata(cn: string, keyId: string): Buffer {
  if (!TENANT_KEY.test(cn)) throw new Error(`tls-crypt-v2 metadata: "${cn}" is not a tenant key`);
  if (!KEY_ID.test(keyId)) throw new Error("tls-crypt-v2 metadata: key id must be 16 lowercase hex digits");
  return Buffer.concat([Buffer.from([METADATA_USER]), Buffer.from(`${METADATA_TAG} ${cn} ${keyId}`, "ascii")]);
}

/** Kc || WKc as a client key file; `metadata` includes its type byte. Deterministic in its inputs. */
export function wrapClientKey(serverPem: string, clientHex: string, metadata: Buffer): string {
  const { ke, ka } = serverKeys(serverPem);
  const kc = hexBytes(clientHex, CLIENT_KEY_BYTES, "tls-crypt-v2 client key");
  if (metadata.length < 1) throw new Error("tls-crypt-v2 metadata needs its type byte");
  const wkcLen = TAG_BYTES + kc.length + metadata.length + 2;
  if (wkcLen > MAX_WKC_BYTES) throw new Error(`tls-crypt-v2 metadata too long: ${metadata.length} bytes, at most ${MAX_WKC_BYTES - TAG_BYTES - kc.length - 2}`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(wkcLen);
  const tag = createHmac("sha256", ka).update(len).update(kc).update(metadata).digest();
  const c = createCipheriv("aes-256-ctr", ke, tag.subarray(0, 16));
  const ct = Buffer.concat([c.update(kc), c.update(metadata), c.final()]);
  return pem(CLIENT_PEM_NAME, Buffer.concat([kc, tag, ct, len]));
}

/** The tenant's client key file: Kc from `clientHex`, metadata naming `cn` and the key id of Kc. */
export function tenantClientKeyFile(serverPem: string, clientHex: string, cn: string): string {
  return wrapClientKey(serverPem, clientHex, tenantMetadata(cn, clientKeyId(clientHex)));
}

/**
 * What the server does with WKc (tls_crypt.c:442 tls_crypt_v2_unwrap_client_key): length, decrypt, tag check.
 * Returns Kc and the metadata (type byte first); throws where OpenVPN would drop the packet. For tests and tools.
 */
export function unwrapClientKey(serverPem: string, clientPem: string): { kc: Buffer; metadata: Buffer } {
  const { ke, ka } = serverKeys(serverPem);
  const all = unpem(CLIENT_PEM_NAME, clientPem);
  const wkc = all.subarray(CLIENT_KEY_BYTES);
  if (wkc.length < TAG_BYTES + 2 || wkc.length > MAX_WKC_BYTES || wkc.readUInt16BE(wkc.length - 2) !== wkc.length) throw new Error("tls-crypt-v2: invalid WKc length");
  const tag = wkc.subarray(0, TAG_BYTES);
  const d = createDecipheriv("aes-256-ctr", ke, tag.subarray(0, 16));
  const plain = Buffer.concat([d.update(wkc.subarray(TAG_BYTES, wkc.length - 2)), d.final()]);
  const check = createHmac("sha256", ka).update(wkc.subarray(wkc.length - 2)).update(plain).digest();
  if (!timingSafeEqual(tag, check)) throw new Error("tls-crypt-v2: client key authentication error (another server key?)");
  if (plain.length < CLIENT_KEY_BYTES) throw new Error("tls-crypt-v2: WKc holds no client key");
  const kc = plain.subarray(0, CLIENT_KEY_BYTES);
  if (!kc.equals(all.subarray(0, CLIENT_KEY_BYTES))) throw new Error("tls-crypt-v2: Kc differs from the wrapped one");
  return { kc, metadata: plain.subarray(CLIENT_KEY_BYTES) };
}

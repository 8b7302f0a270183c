/**
 * Strict grammars for the config strings that reach a config file, a command line, QEMU or a shell (OpenVPN
 * `remote` lines, KVM `args`, SSH, the Proxmox API). Each accepts only the characters the field needs, so no
 * value can carry a newline, a space, a quote, a comma, a `..` segment or look like an option. Pure.
 */
import { z } from "zod";
import { isIpv4 } from "../lib/ipv4";

/** A DNS name of two or more labels (RFC 1123 labels, lowercase), at most 253 characters. */
export const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** A DNS name (see DNS_NAME) or a dotted IPv4 address: what a client can dial. */
export const hostName = z.string().refine((s) => DNS_NAME.test(s) || isIpv4(s), {
  message: "must be a DNS name such as vpn1.example.net or an IPv4 address (lowercase letters, digits, '-' and '.' only; no spaces, quotes or other characters)",
});

export const dnsDomain = z.string().regex(DNS_NAME, { message: "must be a DNS domain such as tenants.example.net" });

/** An absolute path of plain segments (letters, digits, `.`, `_`, `-`), no `.`/`..` segment, no trailing `/`. */
export const absolutePath = z.string().refine((s) => /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/.test(s) && !s.split("/").some((seg) => seg === "." || seg === ".."), {
  message: "must be an absolute path of plain directory names (letters, digits, '.', '_', '-'; no spaces, commas, '..' or trailing '/') such as /var/lib/vz/snippets",
});

/** A POSIX login name as `useradd` accepts it by default. */
export const userName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: "must be a login name such as root (lowercase letters, digits, '_' or '-', starting with a letter or '_', at most 32 characters)" });

/** Proxmox's storage id format (PVE::JSONSchema pve_verify_storage_id). */
export const storageId = z.string().regex(/^[a-z][a-z0-9_.-]*[a-z0-9]$/i, { message: "must be a Proxmox storage id as in /etc/pve/storage.cfg, e.g. local-lvm (letters, digits, '-', '_', '.', starting with a letter)" });

/** A Proxmox node name: a host name label. */
export const nodeName = z.string().regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, { message: "must be the Proxmox node name (pvecm nodes), e.g. pve1" });

/** Free text for people (the tenant's description): one line, no control characters. */
export const oneLine = z
  .string()
  .max(200)
  .regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, { message: "must be one line of text without control characters (no newlines or tabs)" });

/** `params` of a custom issue whose message must not show the value (it may hold a password). */
export const HIDE_VALUE = { hideValue: true } as const;

/** `s` as a URL, or undefined when it does not parse. */
function parseUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/** True when the URL carries a user name or password (a secret in a committed file). */
const hasUserinfo = (u: URL | undefined): boolean => u !== undefined && (u.username !== "" || u.password !== "");

/**
 * An https URL whose host is a DNS name or IPv4 address and whose text is plain: the URL parser drops tabs and
 * newlines and accepts spaces in some places, so the text itself must be printable with no quoting characters.
 */
function isPlainHttpsUrl(s: string, u: URL | undefined): u is URL {
  const plain = /^[\x21-\x7e]+$/.test(s) && !/["'`\\<>{}|^]/.test(s);
  return u !== undefined && plain && u.protocol === "https:" && (DNS_NAME.test(u.hostname) || isIpv4(u.hostname));
}

/**
 * The Proxmox API URL: https, a DNS name or IPv4 host, an optional port and path, no user name or password
 * (that would be a secret in a committed file; the password is the `proxmoxPassword` secret).
 */
export const apiUrl = z.string().superRefine((s, ctx) => {
  const u = parseUrl(s);
  if (hasUserinfo(u)) {
    ctx.addIssue({
      code: "custom",
      params: HIDE_VALUE,
      message: "must not carry a user name or password (the URL is committed in clear); write it as https://<host>:8006/ and set the password with `pulumi config set --secret proxmoxPassword` (and change that password: it was written in the stack file)",
    });
    return;
  }
  if (!isPlainHttpsUrl(s, u) || u.search !== "" || u.hash !== "") {
    ctx.addIssue({ code: "custom", message: "must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/" });
  }
});

/** The image URL: https only (the image becomes every tenant's root disk; plain http lets anyone on the path swap it). */
export const imageUrl = z.string().superRefine((s, ctx) => {
  const u = parseUrl(s);
  if (hasUserinfo(u)) {
    ctx.addIssue({ code: "custom", params: HIDE_VALUE, message: "must not carry a user name or password (the URL is committed in clear); serve the image from a URL that needs none" });
    return;
  }
  if (u && u.protocol === "http:") {
    ctx.addIssue({ code: "custom", message: `is plain http, which anyone on the path can tamper with, and the image becomes every tenant's root disk; serve it over https and write ${s.replace(/^http:/i, "https:")}` });
    return;
  }
  if (!isPlainHttpsUrl(s, u)) {
    ctx.addIssue({ code: "custom", message: "must be an https URL of a cloud image, e.g. https://example.net/librerouter.qcow2" });
  }
});

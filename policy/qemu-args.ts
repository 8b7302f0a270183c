/**
 * Reads the parts of a Proxmox VM `args` string (QEMU command-line options) that decide who can reach a
 * console: every `-vnc` display and every `-object secret`. Pure: no `@pulumi/*` import.
 */

/** One `-vnc` option: its listen spec and its comma-separated settings. */
export interface VncDisplay {
  /** The text after `-vnc`, verbatim (safe to print: QEMU takes no password inline). */
  readonly raw: string;
  /** `tcp` for a network listener, `unix` for a socket path, `none` for no server. */
  readonly kind: "tcp" | "unix" | "none";
  /** Listen host as written, without IPv6 brackets; "" when left out (`-vnc :1` = every address). */
  readonly host: string;
  /** Display number (port = 5900 + display) for `tcp`, else undefined. */
  readonly display?: number;
  /** `key=value` settings; a bare flag (`password`) is stored with value "on". */
  readonly settings: ReadonlyMap<string, string>;
}

/** One `-object secret,…`: where QEMU reads the secret from. */
export interface SecretObject {
  readonly id: string;
  /** Path of the file the secret is read from (`file=`), if any. */
  readonly file?: string;
  /** True when the value is inline (`data=`): it lands in the VM config and the process list. */
  readonly inline: boolean;
}

export interface QemuArgs {
  readonly vnc: readonly VncDisplay[];
  readonly secrets: readonly SecretObject[];
}

/**
 * Splits an args string the way Proxmox does (`PVE::Tools::split_args`: whitespace-separated words,
 * single or double quotes group a word).
 */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** Splits `a,b=c,d` into the leading value and a settings map (`,,` is QEMU's escaped comma). */
function splitSettings(value: string): { head: string; settings: Map<string, string> } {
  const parts = value.replace(/,,/g, "\u0000").split(",").map((p) => p.replace(/\u0000/g, ","));
  const settings = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf("=");
    if (eq < 0) settings.set(p, "on");
    else settings.set(p.slice(0, eq), p.slice(eq + 1));
  }
  return { head: parts[0], settings };
}

/** Parses one `-vnc` value: `host:display`, `[v6]:display`, `:display`, `unix:path` or `none`. */
export function parseVnc(raw: string): VncDisplay {
  const { head, settings } = splitSettings(raw);
  if (head === "none") return { raw, kind: "none", host: "", settings };
  if (head.startsWith("unix:")) return { raw, kind: "unix", host: head.slice(5), settings };
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(head);
  if (!m) return { raw, kind: "tcp", host: head, settings };
  return { raw, kind: "tcp", host: m[1] ?? m[2], display: Number(m[3]), settings };
}

/** Every `-vnc` and `-object secret` in a VM's args (`--vnc` is accepted too, as QEMU does). */
export function parseQemuArgs(text: string | undefined): QemuArgs {
  const words = splitArgs(text ?? "");
  const vnc: VncDisplay[] = [];
  const secrets: SecretObject[] = [];
  for (let i = 0; i < words.length - 1; i++) {
    const opt = words[i].replace(/^--/, "-");
    if (opt === "-vnc") vnc.push(parseVnc(words[i + 1]));
    if (opt === "-object") {
      const { head, settings } = splitSettings(words[i + 1]);
      if (head !== "secret") continue;
      secrets.push({ id: settings.get("id") ?? "", file: settings.get("file"), inline: settings.has("data") });
    }
  }
  return { vnc, secrets };
}

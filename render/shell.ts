/**
 * Bash pieces shared by every rendered script: atomic file writes whose content travels as base64
 * (safe for any bytes, PEM keys included, and no heredoc delimiter can collide), and quoting. Pure text.
 */
import { scriptFile } from "./script-file";

/** A file a script writes: absolute path, octal mode, content. */
export interface SetupFile {
  readonly path: string;
  readonly mode: string;
  readonly content: string;
}

const SAFE_PATH = /^\/[A-Za-z0-9._/@+-]+$/;
const MODE = /^0[0-7]{3}$/;

/** Throws unless `path` is absolute and made of plain characters (it is also single-quoted, but names stay readable). */
export function assertPath(path: string): void {
  if (!SAFE_PATH.test(path) || path.split("/").includes("..")) throw new Error(`not a safe absolute path: ${JSON.stringify(path)}`);
}

/** `'text'` with embedded single quotes escaped the POSIX way. */
export function shq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * `lr_write <path> <mode> <owner:group>`: base64 on stdin → a temp file beside the target → `mv` (atomic).
 * An unchanged file is left in place (mode and owner still enforced) and not listed in CHANGED.
 * It never prints the content.
 */
export const LR_WRITE_FN = scriptFile("lr-write.sh").replace(/\n$/, "");

/** `LR_SERVICES=systemd|none` (default systemd; `none` = the lab: files only, no systemctl), checked. Ends in a newline. */
export const SERVICES_MODE = scriptFile("services-mode.sh");

/**
 * The first lines of a rendered bash script: shebang, `# <title>; rendered by librerouter-hosting, do not edit.`,
 * strict mode, umask 022, the C locale, and with `servicesMode` the checked LR_SERVICES. Ends in a newline.
 */
export function scriptHead(title: string, servicesMode = false): string {
  return `#!/bin/bash
# ${title}; rendered by librerouter-hosting, do not edit.
set -euo pipefail
umask 022
export LC_ALL=C
${servicesMode ? SERVICES_MODE : ""}`;
}

/**
 * The lines that write `file` with `lr_write` (content as base64 in a quoted heredoc). `indent` goes before the
 * command only: the heredoc's lines and its delimiter stay at column 0, as `<<` (not `<<-`) needs.
 */
export function writeFile(file: SetupFile, owner: string, indent = ""): string {
  assertPath(file.path);
  if (!MODE.test(file.mode)) throw new Error(`${file.path}: mode ${JSON.stringify(file.mode)} is not octal like 0644`);
  if (!/^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/.test(owner)) throw new Error(`${file.path}: bad owner ${owner}`);
  const b64 = Buffer.from(file.content, "utf8").toString("base64").replace(/.{1,76}/g, "$&\n");
  return `${indent}lr_write ${shq(file.path)} ${file.mode} ${owner} <<'LR_B64'\n${b64}LR_B64`;
}

/**
 * Bash pieces shared by the setup and tenant scripts: atomic file writes whose content travels as base64
 * (safe for any bytes, PEM keys included, and no heredoc delimiter can collide), and quoting. Pure text.
 */

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
export const LR_WRITE_FN = `CHANGED=()
lr_write() {
  local tmp
  mkdir -p "\${1%/*}"
  tmp=$(mktemp "$1.lrtmp.XXXXXX")
  base64 -d >"$tmp"
  chown "$3" "$tmp"
  chmod "$2" "$tmp"
  if cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    chown "$3" "$1"
    chmod "$2" "$1"
  else
    mv -f "$tmp" "$1"
    CHANGED+=("$1")
  fi
}`;

/** The lines that write `file` with `lr_write` (content as base64 in a quoted heredoc). */
export function writeFile(file: SetupFile, owner: string): string {
  assertPath(file.path);
  if (!MODE.test(file.mode)) throw new Error(`${file.path}: mode ${JSON.stringify(file.mode)} is not octal like 0644`);
  if (!/^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/.test(owner)) throw new Error(`${file.path}: bad owner ${owner}`);
  const b64 = Buffer.from(file.content, "utf8").toString("base64").replace(/.{1,76}/g, "$&\n");
  return `lr_write ${shq(file.path)} ${file.mode} ${owner} <<'LR_B64'\n${b64}LR_B64`;
}

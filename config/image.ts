/**
 * The file name the LibreRouter cloud image is stored under when `template.createFromImage` downloads it as
 * Proxmox `import` content. Pure: no `@pulumi/*` import.
 *
 * Proxmox (8.4+) accepts an `import` download only with a name ending in .ova, .qcow2, .raw or .vmdk
 * (PVE::Storage UPLOAD_IMPORT_EXT_RE_1), and cannot decompress `import` content. An .ova is a whole VM (OVF plus
 * disks), not the single disk `import-from` takes, so the template accepts .qcow2, .raw and .vmdk only.
 */

/** Disk image extensions a template disk can be imported from. */
export const IMPORT_DISK_EXTENSIONS = ["qcow2", "raw", "vmdk"] as const;

const COMPRESSED = /\.(gz|xz|zst|bz2|lzo|zip)$/i;
/** Proxmox's volume names allow these characters only (PVE::Storage normalises the rest to '_'). */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The last path segment of an http(s) URL, decoded, without query or fragment ("" when there is none). */
export function urlFileName(url: string): string {
  try {
    const last = new URL(url).pathname.split("/").pop() ?? "";
    return decodeURIComponent(last);
  } catch {
    return "";
  }
}

/** The stored name: `template.imageFileName` when set, else the URL's own file name (what bpg would use). */
export function importFileName(t: { readonly imageUrl?: string; readonly imageFileName?: string }): string {
  return t.imageFileName ?? urlFileName(t.imageUrl ?? "");
}

/** `name` without its last extension, for the suggested fix (`lr-1.5.img.gz` → `lr-1.5`). */
function stem(name: string): string {
  const base = name.replace(COMPRESSED, "").replace(/\.[A-Za-z0-9]+$/, "");
  return SAFE_NAME.test(base) ? base : "librerouter";
}

/**
 * What is wrong with `name` as the stored name of an `import` disk image, or undefined when Proxmox takes it.
 * `fromUrl`: the name came from `template.imageUrl` (so the fix is to set `template.imageFileName`).
 */
export function importFileNameProblem(name: string, fromUrl: boolean): string | undefined {
  const exts = IMPORT_DISK_EXTENSIONS.map((e) => `.${e}`).join(", ");
  const s = stem(name);
  const setName = fromUrl ? "set template.imageFileName" : "set it";
  if (COMPRESSED.test(name)) {
    return `"${name}" is compressed, and Proxmox cannot decompress "import" content; serve the image uncompressed (e.g. gunzip the OpenWrt .img.gz: it is a raw disk) and point template.imageUrl at it, with a name ending in ${exts} (${fromUrl ? "or set template.imageFileName, e.g. " : "e.g. "}"${s}.raw")`;
  }
  if (!fromUrl && !SAFE_NAME.test(name)) return `"${name}" is not a plain file name; use letters, digits, '.', '_' or '-', ending in ${exts}, e.g. "${s}.qcow2"`;
  // The URL's name is percent-decoded, so `%0a` or `%2f..` would reach the stored name as a newline or a path.
  if (fromUrl && name !== "" && !SAFE_NAME.test(name)) {
    return `the URL's file name ${JSON.stringify(name)} is not a plain file name (letters, digits, '.', '_' or '-'); set template.imageFileName, e.g. "${s}.qcow2"`;
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1];
  if (ext && (IMPORT_DISK_EXTENSIONS as readonly string[]).includes(ext)) return undefined;
  if (ext === "ova") return `"${name}" is an OVA (a whole VM), but the template imports one disk; use the disk image itself (${exts})`;
  const shown = name === "" ? "the URL has no file name" : `"${name}" does not end in ${exts}`;
  return `${shown}, which Proxmox requires for "import" content ("wrong file extension"); ${setName} to the image's real format, e.g. "${s}.raw" for a raw disk or "${s}.qcow2" for qcow2`;
}

/** The config problem with the image name of a `createFromImage` template (key and message), if any. */
export function templateImageIssue(t: {
  readonly createFromImage: boolean;
  readonly imageUrl?: string;
  readonly imageFileName?: string;
}): { key: string; message: string } | undefined {
  if (!t.createFromImage || !t.imageUrl) return undefined;
  const fromUrl = t.imageFileName === undefined;
  const problem = importFileNameProblem(importFileName(t), fromUrl);
  return problem ? { key: fromUrl ? "template.imageUrl" : "template.imageFileName", message: problem } : undefined;
}

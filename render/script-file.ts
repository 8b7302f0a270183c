/**
 * The static parts of the scripts we ship live in `render/scripts/*.sh`, real bash that editors and shellcheck
 * read as such; renderers put a short generated header (the per-stack values) in front. Read once at load.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The text of `render/scripts/<name>`, verbatim. */
export function scriptFile(name: string): string {
  return readFileSync(join(__dirname, "scripts", name), "utf8");
}

/** `is_tenant_key <name>`: the common-name grammar (sh, no process), shared by the OpenVPN hooks and the enrolment responder. */
export const TENANT_KEY_FN = scriptFile("tenant-key.sh");

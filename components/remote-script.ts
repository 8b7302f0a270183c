/**
 * One `command.remote.Command` per (target, concern) from rendered script text: the scripts travel on stdin,
 * never on the command line, and the resource re-runs in place when their hash changes.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ConnectionArgs } from "./connections";

const END = "__LIBREROUTER_SCRIPT_END__";

/** sha256 hex of a text (a trigger value; of a secret text it stays a secret Output). */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function embed(name: string, script: string): string {
  if (script.split("\n").includes(END)) throw new Error(`remote script: the ${name} script contains the line ${END}`);
  return [`cat >"$d/${name}" <<'${END}'`, script.endsWith("\n") ? script.slice(0, -1) : script, END, `chmod 0700 "$d/${name}"`].join("\n");
}

/**
 * The stdin of a remote command: both scripts, run with `bash -s apply` or `bash -s delete`.
 * The command provider has ONE stdin for create, update and delete, so both scripts ride along; on delete the
 * engine replays the stdin stored at the last apply, i.e. the delete that matches what was applied. Each script
 * runs as its own file, so its shebang (sh or bash) is honoured; the private 0700 directory is removed on exit.
 */
export function dispatchScript(apply: string, del: string): string {
  return [
    "set -eu",
    "umask 077",
    'd=$(mktemp -d)',
    "trap 'rm -rf \"$d\"' EXIT",
    embed("apply", apply),
    embed("delete", del),
    'case "${1:-}" in',
    '  apply|delete) "$d/$1" ;;',
    '  *) echo "usage: bash -s apply|delete" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}

export interface RemoteScriptArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  /** Idempotent apply script (may be a secret Output). Runs on create and whenever its text changes. */
  readonly apply: pulumi.Input<string>;
  /** Removes exactly what `apply` added. Default: `exit 0` (nothing to undo, e.g. the VM goes with it). */
  readonly delete?: pulumi.Input<string>;
  /** The scripts hold secrets: no command output in the logs, stdout/stderr stored as secrets. Default false. */
  readonly secret?: boolean;
}

/**
 * A remote command running `apply` on create/update and `delete` on delete. `update` = `create`, so a changed
 * script re-runs in place: a replacement would run the new apply and THEN the old delete, undoing it.
 */
export function remoteScript(name: string, args: RemoteScriptArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
  const del = args.delete ?? "exit 0\n";
  // Plain texts (every tenant command) give plain stdin and trigger: the same values on the wire, without three
  // Outputs per command for the SDK to resolve. Only a script that waits on Outputs (PEMs) goes through apply.
  const stdin: pulumi.Input<string> =
    typeof args.apply === "string" && typeof del === "string" ? dispatchScript(args.apply, del) : pulumi.all([args.apply, del]).apply(([a, d]) => dispatchScript(a, d));
  const trigger = typeof stdin === "string" ? sha256(stdin) : pulumi.output(stdin).apply(sha256);
  const secret = args.secret ?? false;
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: "bash -s apply",
      update: "bash -s apply",
      delete: "bash -s delete",
      stdin: secret ? pulumi.secret(stdin) : stdin,
      triggers: [trigger],
      addPreviousOutputInEnv: false,
      ...(secret ? { logging: command.types.enums.remote.Logging.None } : {}),
    },
    secret ? { ...opts, additionalSecretOutputs: ["stdout", "stderr"] } : opts,
  );
}

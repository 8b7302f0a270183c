/**
 * One `command.remote.Command` per (target, concern) from rendered script text: the scripts travel on stdin,
 * never on the command line, and a changed stdin is an in-place update that runs the new apply.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionArgs } from "./connections";

const END = "__LIBREROUTER_SCRIPT_END__";

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
export function dispatchScript(apply: string, del: string, target?: string): string {
  if (target !== undefined && !/^[\w.:/@-]+$/.test(target)) throw new Error(`remote script: target ${JSON.stringify(target)} is not a plain identifier`);
  return [
    ...(target === undefined ? [] : [`# target: ${target}`]),
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
  /**
   * Identity of the machine the script runs on (a guest VM's net0 MAC, which Proxmox draws anew when the VM is
   * re-created). It rides in stdin as a comment, so a rebuilt VM is an input change and its apply runs again
   * (`dependsOn` alone does not propagate a replacement). Default: none (the Proxmox host).
   */
  readonly target?: pulumi.Input<string | undefined>;
  /** The scripts hold secrets: no command output in the logs, stdout/stderr stored as secrets. Default false. */
  readonly secret?: boolean;
}

/**
 * A remote command running `apply` on create/update and `delete` on delete.
 *
 * No `triggers`: @pulumi/command registers every Command with `replaceOnChanges: ["triggers[*]"]`
 * (remote/command.js; provider `Triggers ... provider:"replaceOnChanges"`), and a replacement is
 * create-before-delete, so it would run the new apply and THEN the old delete, undoing it. A changed stdin is an
 * ordinary input diff: the engine calls Update, which runs `update` (= apply) with the new stdin; Delete replays the
 * stdin of the last apply, i.e. the delete that matches what was applied.
 *
 * Failure output: with `logging: None` the provider still puts stdout+stderr of a FAILED command into the error
 * text (pulumi-command remote/commandOutputs.go), which reaches the console and the update log. So no script we ship
 * prints a secret, not even on error: they print counts and paths only.
 */
export function remoteScript(name: string, args: RemoteScriptArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
  const del = args.delete ?? "exit 0\n";
  // Plain texts give a plain stdin: the same value on the wire, without Outputs for the SDK to resolve. A script
  // that waits on Outputs (PEMs, the VM's MAC) goes through apply.
  const plain = typeof args.apply === "string" && typeof del === "string" && (args.target === undefined || typeof args.target === "string");
  const stdin: pulumi.Input<string> = plain
    ? dispatchScript(args.apply as string, del as string, args.target as string | undefined)
    : pulumi.all([args.apply, del, args.target]).apply(([a, d, t]) => dispatchScript(a, d, t));
  const secret = args.secret ?? false;
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: "bash -s apply",
      update: "bash -s apply",
      delete: "bash -s delete",
      stdin: secret ? pulumi.secret(stdin) : stdin,
      addPreviousOutputInEnv: false,
      ...(secret ? { logging: command.types.enums.remote.Logging.None } : {}),
    },
    secret ? { ...opts, additionalSecretOutputs: ["stdout", "stderr"] } : opts,
  );
}

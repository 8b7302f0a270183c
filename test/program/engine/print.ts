/**
 * The classified plan in the shape `pulumi preview` prints it: one line per resource that changes, with its
 * symbol, type, name, plan and the changed input paths; then the summary and the delete scripts that would run.
 */
import type { Effect, EnginePlan, Op, Step } from "./classify";

const SYMBOL: Record<Op, string> = { create: "+ ", update: "~ ", replace: "+-", "replace-dbr": "-+", delete: "- ", same: "  " };
const LABEL: Record<Op, string> = {
  create: "create",
  update: "update",
  replace: "replace",
  "replace-dbr": "replace (delete-before-replace)",
  delete: "delete",
  same: "same",
};

const EFFECT: Record<Effect, string> = { reboot: "RESTARTS the VM", "nic-replug": "re-plugs the NIC (link drops)" };

function line(s: Step, typeWidth: number, nameWidth: number): string {
  const info = [s.paths.length ? `[diff: ${s.paths.map((p) => `~${p}`).join(", ")}]` : "", s.refused ? "REFUSED: protected" : "", s.retained ? "retained (provider not called)" : "", ...s.effects.map((e) => EFFECT[e])]
    .concat(s.invalid.map((m) => `INVALID: ${m}`))
    .filter(Boolean)
    .join(" ");
  return ` ${SYMBOL[s.op]} ${s.type.padEnd(typeWidth)} ${s.name.padEnd(nameWidth)} ${LABEL[s.op]}${info ? `  ${info}` : ""}`.trimEnd();
}

/** The plan as text; `title` heads it (the scenario's name). */
export function printPlan(title: string, plan: EnginePlan): string {
  const shown = plan.steps.filter((s) => s.op !== "same");
  const tw = Math.max(4, ...shown.map((s) => s.type.length));
  const nw = Math.max(4, ...shown.map((s) => s.name.length));
  const count = (op: Op) => plan.steps.filter((s) => s.op === op).length;
  const summary = (["create", "update", "replace", "replace-dbr", "delete"] as const)
    .filter((op) => count(op) > 0)
    .map((op) => `${SYMBOL[op].trim()} ${count(op)} to ${LABEL[op]}`)
    .concat(`${count("same")} unchanged`)
    .join(", ");
  const scripts = plan.deleteScripts.length
    ? plan.deleteScripts.map((d) => `    ${d.name}: \`${d.command}\` with the OLD stdin, ${d.when === "after-new-apply" ? "AFTER the new apply (undoes it)" : d.when === "before-new-apply" ? "before the new apply" : "resource removed"}`)
    : ["    (none)"];
  return [`Previewing update (${title}):`, `    ${"Type".padEnd(tw)} ${"Name".padEnd(nw)} Plan`, ...shown.map((s) => line(s, tw, nw)), `Resources: ${summary}`, "Delete scripts that run:", ...scripts, ""].join("\n");
}

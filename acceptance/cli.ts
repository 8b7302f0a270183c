/**
 * The JSON and text decisions of scripts/acceptance.sh, one subcommand each (`tsx acceptance/cli.ts <cmd>`):
 *   stack-file     --file <Pulumi.<stack>.yaml> [--with-added-tenant]   write the stack's plain config (ACC_* inputs)
 *   targets        --plan <plan.json>                                   servers, instances, tenants as shell lines
 *   client-files   --plan <plan.json> --secrets <secrets.json> --key <k> --dir <d>
 *                                                                       lr-connect + one bundle per instance (0600)
 *   console        --ns <netns> --host <gw> --port <p> --secrets <secrets.json> --key <k>
 *                                                                       RFB through the tunnel: right and wrong password
 *   check-inputs                                                        validate the ACC_* inputs; print `host <h>` [`host-key <k>`]
 *   check-preview  --preview <preview.json> --stack <s> --project <p>   only acc-c is created (acceptance/stack.ts)
 * Exit 0 = pass, 1 = the check failed (message on stderr), 2 = wrong usage or unreadable input.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rfbInNamespace } from "../lab/rfb";
import { judgeConsole, wrongPassword } from "./console";
import { ADD_TENANT_UPDATES, asDigest, checkAddTenantPreview, formatCheck } from "./preview-json";
import { ADDED_TENANT, INITIAL_TENANTS, InputError, acceptanceConfig, inputsFromEnv, mergeStackFile } from "./stack";
import { selectConnection, targetLines, targetsFromPlan, tenantSecret } from "./targets";

class CheckFailed extends Error {}

const readJson = (path: string): unknown => {
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not JSON (${(e as Error).message}); first line: ${JSON.stringify(text.split("\n")[0].slice(0, 120))}`);
  }
};

function opts(argv: string[], names: string[], flags: string[] = []): Record<string, string> & { flags: Set<string> } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: Object.fromEntries([...names.map((n) => [n, { type: "string" as const }]), ...flags.map((n) => [n, { type: "boolean" as const }])]),
  });
  const v = values as Record<string, string | boolean | undefined>;
  for (const n of names) if (typeof v[n] !== "string" || v[n] === "") throw new Error(`--${n} is required`);
  return Object.assign(Object.fromEntries(names.map((n) => [n, String(v[n])])), { flags: new Set(flags.filter((f) => v[f] === true)) });
}

const commands: Record<string, (argv: string[]) => Promise<void> | void> = {
  "check-inputs": (argv) => {
    opts(argv, []);
    let inp;
    try {
      inp = inputsFromEnv(process.env);
    } catch (e) {
      // One problem per line, no bullets: scripts/acceptance.sh lists them with its own.
      if (e instanceof InputError) throw new CheckFailed(e.problems.join("\n"));
      throw e;
    }
    process.stdout.write(`host ${new URL(inp.endpoint).hostname}\n`);
    if (inp.sshHostKey) process.stdout.write(`host-key ${inp.sshHostKey}\n`);
  },
  "stack-file": (argv) => {
    const o = opts(argv, ["file"], ["with-added-tenant"]);
    const config = acceptanceConfig(inputsFromEnv(process.env), o.flags.has("with-added-tenant"));
    const existing = existsSync(o.file) ? readFileSync(o.file, "utf8") : "";
    writeFileSync(o.file, mergeStackFile(existing, config));
    const tenants = Object.keys(config.tenants as object).join(", ");
    process.stdout.write(`wrote ${o.file}: tenants ${tenants}\n`);
  },
  targets: (argv) => {
    const o = opts(argv, ["plan"]);
    process.stdout.write(`${targetLines(targetsFromPlan(readJson(o.plan))).join("\n")}\n`);
  },
  "client-files": (argv) => {
    const o = opts(argv, ["plan", "secrets", "key", "dir"]);
    const t = targetsFromPlan(readJson(o.plan));
    const s = tenantSecret(readJson(o.secrets), o.key);
    const write = (name: string, text: string) => {
      const path = join(o.dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      chmodSync(path, 0o600);
    };
    write(`lr-connect-${o.key}`, s.launcher);
    for (const x of t.instances) {
      const server = t.servers.find((v) => v.name === x.server);
      if (!server) throw new Error(`no server ${x.server}`);
      write(`${o.key}-${x.id}.ovpn`, selectConnection(s.clientBundle, server.hostname, x.port, x.proto));
    }
    process.stdout.write(`wrote lr-connect-${o.key} and ${t.instances.map((x) => `${o.key}-${x.id}.ovpn`).join(", ")} in ${o.dir}\n`);
  },
  console: async (argv) => {
    const o = opts(argv, ["ns", "host", "port", "secrets", "key"]);
    const { vncPassword } = tenantSecret(readJson(o.secrets), o.key);
    const right = await rfbInNamespace(o.ns, o.host, Number(o.port), vncPassword, 8000);
    const wrong = await rfbInNamespace(o.ns, o.host, Number(o.port), wrongPassword(vncPassword), 8000);
    const problems = judgeConsole(right, wrong);
    if (problems.length) throw new CheckFailed(`console ${o.host}:${o.port}: ${problems.join("; ")}`);
    process.stdout.write(`${right.version}, types ${JSON.stringify(right.securityTypes)}, own password OK, wrong password FAILED\n`);
  },
  "check-preview": (argv) => {
    const o = opts(argv, ["preview", "stack", "project"]);
    const exp = {
      stack: o.stack,
      project: o.project,
      newTenant: ADDED_TENANT.key,
      existingTenants: INITIAL_TENANTS.map((t) => t.key),
      allowedUpdates: ADD_TENANT_UPDATES,
    };
    const r = checkAddTenantPreview(asDigest(readJson(o.preview)), exp);
    if (!r.ok) throw new CheckFailed(formatCheck(r, exp));
    process.stdout.write(`${formatCheck(r, exp)}\n`);
  },
};

async function main(): Promise<number> {
  const [cmd, ...argv] = process.argv.slice(2);
  const run = cmd ? commands[cmd] : undefined;
  if (!run) {
    process.stderr.write(`usage: tsx acceptance/cli.ts ${Object.keys(commands).join("|")} [options] (see the file header)\n`);
    return 2;
  }
  try {
    await run(argv);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return e instanceof CheckFailed ? 1 : 2;
  }
}

void main().then((code) => {
  process.exitCode = code;
});

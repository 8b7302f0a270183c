/** The guards of a real `pulumi up`: bounded parallelism and a pinned host key; a preview is never refused. */
import { MAX_PARALLEL, deployIssues, parallelFromEnv } from "../../config/deploy-guards";
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";

const ROOT = `${__dirname}/../..`;
const committed = buildPlan(readStackFile(ROOT, "minimal"), "minimal").proxmox;
const pinned = { ...committed, sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey" };
const keyMessage =
  'is not set: the setup scripts carry private keys and go only to a host whose key is pinned; set it to the key part of `ssh-keyscan -t ed25519 pve-minimal.example.net` ("ssh-ed25519 AAAA…"), checked against the host\'s console (`cat /etc/ssh/ssh_host_ed25519_key.pub`)';

describe("deployIssues", () => {
  test("a preview is never refused (it clones nothing and runs no remote command)", () => {
    expect(deployIssues(committed, { dryRun: true, parallel: 2147483647 })).toEqual([]);
  });

  test("an up of a committed stack, whose host key ops have not pinned yet, is refused with the command that finds it", () => {
    expect(deployIssues(committed, { dryRun: false, parallel: 8 })).toEqual([{ key: "proxmox.sshHostKey", message: keyMessage }]);
  });

  test(`an up with more than ${MAX_PARALLEL} operations at once is refused; ${MAX_PARALLEL} and fewer pass`, () => {
    expect(deployIssues(pinned, { dryRun: false, parallel: 32 })).toEqual([
      {
        key: "(pulumi up --parallel)",
        message: "32 operations at once would overrun the Proxmox host's sshd (MaxStartups 10) and its clone locks; run `pulumi up --parallel 8` (or set PULUMI_PARALLEL=8)",
      },
    ]);
    expect(deployIssues(pinned, { dryRun: false, parallel: 2147483647 })[0].message).toMatch(/^unbounded operations at once/);
    expect(deployIssues(pinned, { dryRun: false, parallel: 8 })).toEqual([]);
    expect(deployIssues(pinned, { dryRun: false, parallel: 1 })).toEqual([]);
  });

  test("an engine that does not say its parallelism is not refused for it", () => {
    expect(deployIssues(pinned, { dryRun: false })).toEqual([]);
  });
});

describe("parallelFromEnv", () => {
  test("reads PULUMI_NODEJS_PARALLEL as the Node.js language host sets it", () => {
    expect(parallelFromEnv({ PULUMI_NODEJS_PARALLEL: "16" })).toBe(16);
    expect(parallelFromEnv({})).toBeUndefined();
    expect(parallelFromEnv({ PULUMI_NODEJS_PARALLEL: "" })).toBeUndefined();
  });
});

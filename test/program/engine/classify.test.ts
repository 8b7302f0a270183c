/** The engine model on hand-made registrations: each rule of classify.ts, one case each, with the exact step. */
import type { Recorded, RecordedOptions } from "../harness";
import { changes, classify, diffPaths } from "./classify";
import { checkTrunks, ruleFor } from "./provider-rules";
import { printPlan } from "./print";

const NONE: RecordedOptions = { ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [], dependencies: [], propertyDependencies: {}, aliases: [] };

function rec(type: string, name: string, inputs: Record<string, unknown>, options: Partial<RecordedOptions> = {}): Recorded {
  return { type, name, custom: true, inputs, provider: "", urn: `urn:pulumi:s::p::${type}::${name}`, parent: "", options: { ...NONE, ...options } };
}
const CMD = "command:remote:Command";
const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const FILE = "proxmoxve:index/fileLegacy:FileLegacy";
const PW = "random:index/randomPassword:RandomPassword";
const cmd = (stdin: string, triggers?: string[]) => rec(CMD, "c", { stdin, delete: "bash -s delete", ...(triggers ? { triggers } : {}) }, { replaceOnChanges: ["triggers[*]"] });

test("diffPaths names leaf paths, and a whole subtree when one side is missing", () => {
  expect(diffPaths({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { b: 2, c: [1] }, e: { f: 1 } })).toEqual(["a.b", "a.c[1]", "d", "e"]);
});

test("a changed stdin is an update: no delete script runs", () => {
  const plan = classify([cmd("v1")], [cmd("v2")]);
  expect(changes(plan)).toEqual([["update", "c", ["stdin"]]]);
  expect(plan.deleteScripts).toEqual([]);
});

test("a changed trigger is a create-before-delete replace whose OLD delete script runs after the new apply", () => {
  const plan = classify([cmd("v1", ["h1"])], [cmd("v2", ["h2"])]);
  expect(changes(plan)).toEqual([["replace", "c", ["triggers[0]", "stdin"]]]);
  expect(plan.deleteScripts).toEqual([{ name: "c", command: "bash -s delete", stdin: "v1", when: "after-new-apply" }]);
});

test("ignoreChanges takes the old value before the diff; the rest of the inputs still diff", () => {
  const vm = (clone: number, mem: number) => rec(VM, "vm", { clone: { vmId: clone }, memory: { dedicated: mem } }, { ignoreChanges: ["clone"] });
  expect(changes(classify([vm(9000, 1)], [vm(9100, 1)]))).toEqual([]);
  expect(changes(classify([vm(9000, 1)], [vm(9100, 2)]))).toEqual([["update reboot", "vm", ["memory.dedicated"]]]);
});

test("a ForceNew clone change replaces; the bridge asks delete-before-replace when the program sets `name`; protect refuses it", () => {
  const vm = (clone: number, options: Partial<RecordedOptions> = {}) => rec(VM, "vm", { name: "lr-x", clone: { vmId: clone } }, options);
  expect(changes(classify([vm(9000)], [vm(9100)]))).toEqual([["replace-dbr", "vm", ["clone.vmId"]]]);
  expect(changes(classify([vm(9000)], [vm(9100, { deleteBeforeReplace: false })]))).toEqual([["replace", "vm", ["clone.vmId"]]]);
  expect(changes(classify([vm(9000, { protect: true })], [vm(9100, { protect: true })]))).toEqual([["replace-dbr refused:protected", "vm", ["clone.vmId"]]]);
});

test("removing a protected resource is refused; retainOnDelete drops it without the provider (no delete script)", () => {
  expect(changes(classify([rec(VM, "vm", {}, { protect: true })], []))).toEqual([["delete refused:protected", "vm", []]]);
  expect(changes(classify([rec(VM, "vm", {}, { protect: true })], [], { unprotected: ["vm"] }))).toEqual([["delete", "vm", []]]);
  const retained = classify([{ ...cmd("v1"), options: { ...NONE, retainOnDelete: true } }], []);
  expect(changes(retained)).toEqual([["delete retained", "c", []]]);
  expect(retained.deleteScripts).toEqual([]);
});

test("--replace of a password makes the file's data unknown; the file replaces (delete-before-replace only with the option)", () => {
  const pw = rec(PW, "pw", { length: 8 });
  const file = (dbr?: boolean) => rec(FILE, "f", { sourceRaw: { data: "x" } }, { propertyDependencies: { sourceRaw: [pw.urn] }, ...(dbr === undefined ? {} : { deleteBeforeReplace: dbr }) });
  expect(changes(classify([pw, file()], [pw, file()], { replace: ["pw"] }))).toEqual([
    ["replace", "f", ["sourceRaw"]],
    ["replace", "pw", ["id"]],
  ]);
  expect(changes(classify([pw, file(true)], [pw, file(true)], { replace: ["pw"] }))[0]).toEqual(["replace-dbr", "f", ["sourceRaw"]]);
});

test("a VM update says what it does to the running VM: dropping `initialization` restarts it, a new MAC re-plugs the NIC, memory restarts it", () => {
  const nic = (mac?: string) => ({ bridge: "vmbr0", ...(mac ? { macAddress: mac } : {}) });
  const vm = (inputs: Record<string, unknown>) => rec(VM, "vm", inputs);
  const init = { ipConfigs: [{ ipv4: { address: "192.0.2.6/24" } }] };
  expect(changes(classify([vm({ networkDevices: [nic()], initialization: init })], [vm({ networkDevices: [nic("02:00:00:00:00:01")] })]))).toEqual([
    ["update nic-replug reboot", "vm", ["initialization", "networkDevices[0].macAddress"]],
  ]);
  expect(changes(classify([vm({ memory: { dedicated: 1 } })], [vm({ memory: { dedicated: 2 } })]))).toEqual([["update reboot", "vm", ["memory.dedicated"]]]);
  expect(changes(classify([vm({ description: "a" })], [vm({ description: "b" })]))).toEqual([["update", "vm", ["description"]]]);
});

test("an Optional+Computed input the program stops setting keeps its state value (no diff); setting another value is one", () => {
  const vm = (mac?: string) => rec(VM, "vm", { networkDevices: [{ bridge: "vmbr0", ...(mac ? { macAddress: mac } : {}) }] });
  expect(changes(classify([vm("02:00:00:00:00:01")], [vm()]))).toEqual([]);
  expect(changes(classify([vm("02:00:00:00:00:01")], [vm("02:00:00:00:00:02")]))).toEqual([["update nic-replug", "vm", ["networkDevices[0].macAddress"]]]);
  // A whole NIC removed is still a change.
  expect(changes(classify([rec(VM, "vm", { networkDevices: [{ macAddress: "02:00:00:00:00:01" }, {}] })], [rec(VM, "vm", { networkDevices: [{ macAddress: "02:00:00:00:00:01" }] })]))).toEqual([
    ["update", "vm", ["networkDevices[1]"]],
  ]);
});

test("bpg's trunks parser refuses a range", () => {
  expect(checkTrunks({ networkDevices: [{}, { trunks: "101-4094" }] })).toEqual([
    'networkDevices[1].trunks: "101-4094": bpg parses trunks as ";"-separated integers (strconv.Atoi), not a range; omit it on a VLAN-aware bridge or list the VLANs',
  ]);
  expect(checkTrunks({ networkDevices: [{ trunks: "101;102" }, {}] })).toEqual([]);
});

test("a resource type without a provider row is an error, not a silent update", () => {
  expect(() => ruleFor("proxmoxve:index/containerLegacy:ContainerLegacy")).toThrow("provider-rules.ts has no row for proxmoxve:index/containerLegacy:ContainerLegacy");
});

test("the printed plan uses preview's symbols and lists the delete scripts", () => {
  const plan = classify([cmd("v1", ["h1"]), rec(PW, "gone", { length: 8 })], [cmd("v2", ["h2"]), rec(PW, "new", { length: 8 })]);
  expect(printPlan("t", plan)).toBe(
    [
      "Previewing update (t):",
      "    Type                                       Name Plan",
      " +- command:remote:Command                     c    replace  [diff: ~triggers[0], ~stdin]",
      " +  random:index/randomPassword:RandomPassword new  create",
      " -  random:index/randomPassword:RandomPassword gone delete",
      "Resources: + 1 to create, +- 1 to replace, - 1 to delete, 0 unchanged",
      "Delete scripts that run:",
      "    c: `bash -s delete` with the OLD stdin, AFTER the new apply (undoes it)",
      "",
    ].join("\n"),
  );
});

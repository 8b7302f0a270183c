/**
 * Every config string that reaches a config file, a command line, QEMU or a shell has a strict grammar: the
 * injection attempts a hostile or careless editor of the stack file would try are refused with the key, the
 * value and the fix. Exact messages.
 */
import { baseConfig, configError, type Fixture, withChange } from "./fixture";
import { buildPlan } from "../../plan/build";

/** The attempts every field is tried with: newline, space, comma, quotes, `..`, option-looking, shell metacharacters. */
const ATTEMPTS = [
  "vpn1.example.net\nscript-security 2",
  "vpn1.example.net up /tmp/x",
  "a,b",
  '"vpn1"',
  "'vpn1'",
  "..",
  "-x",
  "--x",
  "$(id)",
  "`id`",
  "a;b",
  "a|b",
  "a&b",
  "a>b",
  "",
];

const HOST = "must be a DNS name such as vpn1.example.net or an IPv4 address (lowercase letters, digits, '-' and '.' only; no spaces, quotes or other characters)";
const PATH = "must be an absolute path of plain directory names (letters, digits, '.', '_', '-'; no spaces, commas, '..' or trailing '/') such as /var/lib/vz/snippets";
const USER = "must be a login name such as root (lowercase letters, digits, '_' or '-', starting with a letter or '_', at most 32 characters)";
const STORAGE = "must be a Proxmox storage id as in /etc/pve/storage.cfg, e.g. local-lvm (letters, digits, '-', '_', '.', starting with a letter)";
const NODE = "must be the Proxmox node name (pvecm nodes), e.g. pve1";
const BRIDGE = "must be a Proxmox bridge name such as vmbr1 (a letter, then letters, digits or _, 2–10 characters)";
const DOMAIN = "must be a DNS domain such as tenants.example.net";
const ENDPOINT = "must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/";

/** Field → how to set it, the message, and extra attempts that only make sense there. */
const FIELDS: [key: string, set: (c: Fixture, v: string) => void, message: string, extra: string[]][] = [
  ["vpn.hostnames.0", (c, v) => (c.vpn = { hostnames: [v, "vpn2.example.net"] }), HOST, ["vpn1.example.net.", "VPN1.example.net", "vpn1", "192.0.2.300"]],
  ["vpn.hostnames.1", (c, v) => (c.vpn = { hostnames: ["vpn1.example.net", v] }), HOST, ["vpn2.example.net\r", "vpn2.example.net\tx"]],
  ["network.reverseDnsDomain", (c, v) => (c.network.reverseDnsDomain = v), DOMAIN, ["tenants.example.net\n$ORIGIN evil.", "tenants..example.net"]],
  ["proxmox.snippetsPath", (c, v) => (c.proxmox.snippetsPath = v), PATH, [
    "/var/lib/vz/snippets -monitor tcp:0.0.0.0:4444,server=on,wait=off -x",
    "/var/lib/vz/snippets,file=/etc/shadow",
    "/var/lib/vz/../../etc",
    "/var/lib/vz/snippets/",
    "/var/lib/./vz",
    "/var/lib/vz/-monitor",
    "//var/lib",
    "/",
  ]],
  ["proxmox.sshUser", (c, v) => (c.proxmox.sshUser = v), USER, ["root@evil", "root -oProxyCommand=id", "Root"]],
  ["proxmox.datastore", (c, v) => (c.proxmox.datastore = v), STORAGE, ["local-lvm:vm-1", "local lvm", "local-"]],
  ["proxmox.snippetsDatastore", (c, v) => (c.proxmox = { ...c.proxmox, snippetsDatastore: v, snippetsPath: "/mnt/pve/snip/snippets" }), STORAGE, ["local/snippets", "local,import"]],
  ["proxmox.node", (c, v) => (c.proxmox.node = v), NODE, ["pve1.example.net", "pve-", "pve1/qemu"]],
  ["network.publicBridge", (c, v) => (c.network.publicBridge = v), BRIDGE, ["vmbr0,tag=5", "vmbr0.100", "vmbr00000000"]],
  ["network.privateBridge", (c, v) => (c.network.privateBridge = v), BRIDGE, ["vmbr1 "]],
  ["network.managementBridge", (c, v) => (c.network.managementBridge = v), BRIDGE, ["v"]],
  ["proxmox.endpoint", (c, v) => (c.proxmox.endpoint = v), ENDPOINT, [
    "https://pve1.example.net:8006/\nscript-security 2",
    "https://pve1.example.net:8006/ x",
    "https://pve1.example.net:8006/?a=b",
    "https://pve1.example.net:8006/#x",
    'https://pve1.example.net:8006/"',
    "https://pve1_x.example.net:8006/",
    "https:///x",
  ]],
];

describe("strict grammar for config strings", () => {
  const cases = FIELDS.flatMap(([key, set, message, extra]) => [...ATTEMPTS, ...extra].map((v) => [key, JSON.stringify(v), set, message, v] as const));
  it.each(cases)("%s = %s is refused, naming the key, the value and the form", (key, shown, set, message, v) => {
    const e = configError(withChange(baseConfig(), (c) => set(c, v)));
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual([`${key}: got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}; ${message}`]);
  });

  it.each([
    ["vpn.hostnames", (c: Fixture) => (c.vpn = { hostnames: ["vpn1.example.net", "192.0.2.200"] })],
    ["network.reverseDnsDomain", (c: Fixture) => (c.network.reverseDnsDomain = "t-1.tenants.example.net")],
    ["proxmox.snippetsPath", (c: Fixture) => (c.proxmox = { ...c.proxmox, snippetsDatastore: "nfs-snip.1", snippetsPath: "/mnt/pve/nfs-snip_1/snippets" })],
    ["proxmox.sshUser", (c: Fixture) => (c.proxmox.sshUser = "_deploy-1")],
    ["proxmox.datastore", (c: Fixture) => (c.proxmox.datastore = "ceph_pool.2")],
    ["proxmox.node", (c: Fixture) => (c.proxmox.node = "PVE-node1")],
    ["proxmox.endpoint", (c: Fixture) => (c.proxmox.endpoint = "https://192.0.2.5:8006/api2/json")],
  ])("a plain valid %s is accepted", (_key, mutate) => {
    expect(() => buildPlan(withChange(baseConfig(), mutate), "test")).not.toThrow();
  });
});

describe("secrets in URLs are refused without being echoed", () => {
  it.each([
    ["https://root@pam:hunter2-secret@pve1.example.net:8006/"],
    ["https://root:hunter2-secret@pve1.example.net:8006/"],
    ["http://root:hunter2-secret@pve1.example.net:8006/"],
    ["https://hunter2-secret@pve1.example.net:8006/"],
  ])("proxmox.endpoint %s", (url) => {
    const e = configError(withChange(baseConfig(), (c) => (c.proxmox.endpoint = url)));
    expect(e.message).toBe(
      [
        'stack "test": config has 1 problem (nothing was created):',
        "  - librerouter-hosting:proxmox.endpoint: must not carry a user name or password (the URL is committed in clear); write it as https://<host>:8006/ and set the password with `pulumi config set --secret proxmoxPassword` (and change that password: it was written in the stack file)",
      ].join("\n"),
    );
    expect(e.message).not.toContain("hunter2");
  });

  it("template.imageUrl with a password", () => {
    const e = configError(withChange(baseConfig(), (c) => (c.template = { createFromImage: true, imageUrl: "http://u:hunter2-secret@img.example.net/lr.qcow2" })));
    expect(e.issues).toEqual([{ key: "template.imageUrl", message: "must not carry a user name or password (the URL is committed in clear); serve the image from a URL that needs none" }]);
    expect(e.message).not.toContain("hunter2");
  });
});

describe("template.imageUrl is https only", () => {
  it("plain http is refused with the https URL to write instead", () => {
    const e = configError(withChange(baseConfig(), (c) => (c.template = { createFromImage: true, imageUrl: "http://img.example.net/lr.qcow2" })));
    expect(e.issues).toEqual([
      {
        key: "template.imageUrl",
        message: `got "http://img.example.net/lr.qcow2"; is plain http, which anyone on the path can tamper with, and the image becomes every tenant's root disk; serve it over https and write https://img.example.net/lr.qcow2`,
      },
    ]);
  });

  it.each(["https://img.example.net/lr.qcow2\nx", "https://img.example.net/l r.qcow2", "https://img.example.net/lr.qcow2'", "file:///etc/shadow", "-x"])("%j is refused", (url) => {
    const e = configError(withChange(baseConfig(), (c) => (c.template = { createFromImage: true, imageUrl: url })));
    expect(e.issues).toEqual([{ key: "template.imageUrl", message: `got ${JSON.stringify(url)}; must be an https URL of a cloud image, e.g. https://example.net/librerouter.qcow2` }]);
  });
});

describe("tenant descriptions are one line of text", () => {
  it.each(["ACME\nscript-security 2", "ACME\r", "tab\there", "esc\u001b[2J", "nel\u0085", "ls\u2028"])("%j is refused", (d) => {
    const e = configError(withChange(baseConfig(), (c) => (c.tenants.acme.description = d)));
    expect(e.issues).toEqual([{ key: "tenants.acme.description", message: `got ${JSON.stringify(d)}; must be one line of text without control characters (no newlines or tabs)` }]);
  });

  it("plain text with punctuation and accents is accepted", () => {
    expect(() => buildPlan(withChange(baseConfig(), (c) => (c.tenants.acme.description = "ACME S.A. — oficina «Centro», piso 2 (#3)")), "test")).not.toThrow();
  });
});

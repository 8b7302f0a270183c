/**
 * What each provider itself says about a change, per resource type the program registers: which input paths force
 * a replacement (Terraform `ForceNew` / `RequiresReplace`, pulumi-go-provider `replaceOnChanges`), whether the bridge
 * asks for delete-before-replace, and input checks the provider makes only at create time (so `pulumi preview`
 * passes and `up` fails). Every row cites the source it was read from; versions:
 * - bpg/terraform-provider-proxmox tag v0.111.1 (what @muhlba91/pulumi-proxmoxve 8.x bridges; HEAD agrees for these rows)
 * - pulumi/pulumi-command tag v1.2.1 (= @pulumi/command 1.2.1)
 * - hashicorp/terraform-provider-tls and -random HEAD (pulumi-tls / pulumi-random bridge them; their resources.go
 *   set no DeleteBeforeReplace and no field overrides for these types)
 * - pulumi/pulumi-terraform-bridge HEAD
 *
 * A path is a Pulumi property path; `a.b` matches any change at or under `a.b`, `[*]` any list element.
 */

export interface ProviderRule {
  /** Input paths whose change the provider answers with "replace". */
  readonly replaceOn: readonly string[];
  /** A `replaceOn` path that does not force a replacement when this holds for the NEW inputs (a CustomizeDiff ForceNewIf). */
  readonly replaceUnless?: Readonly<Record<string, (inputs: Record<string, unknown>) => boolean>>;
  /**
   * The bridge's own delete-before-replace answer on a replace. SDKv2 resources with an auto-named `name` input
   * (muhlba91 provider/resources.go `prov.SetAutonaming(255, "-")`) that the program sets explicitly get
   * `DeleteBeforeReplace: true` from pulumi-terraform-bridge pkg/tfbridge/provider.go Diff
   * (`nameRequiresDeleteBeforeReplace`, pkg/tfbridge/schema.go). Plugin-framework resources never do
   * (pkg/pf/tfbridge/provider_diff.go: only `ResourceInfo.DeleteBeforeReplace`, unset in all four providers).
   */
  readonly deleteBeforeReplace: "never" | "when-name-set";
  /** Problems the provider reports only when it creates or updates (empty list = fine). */
  readonly validate?: (inputs: Record<string, unknown>) => string[];
  /**
   * Optional+Computed input paths: the program dropping one is no diff, the state keeps the provider's value (SDKv2
   * schemaMap.diffString: `removed && schema.Computed` adds no attribute diff).
   */
  readonly keptWhenRemoved?: readonly string[];
  /** Input paths whose in-place update the provider applies by restarting the VM (bpg vmUpdate `rebootRequired`). */
  readonly rebootOn?: readonly string[];
  /** Input paths whose in-place update makes Proxmox hot-unplug and re-plug the NIC in the running guest. */
  readonly nicReplugOn?: readonly string[];
  readonly source: string;
}

/**
 * bpg `proxmoxtf/resource/vm/network/network.go` (GetNetworkDeviceObjects): `trunks` is split on ";" and each part
 * goes through strconv.Atoi, so "101-4094" fails with `error parsing trunks: strconv.Atoi: parsing "101-4094":
 * invalid syntax` (after the clone, leaving a half-created VM). Proxmox itself would accept a range; bpg does not.
 */
export function checkTrunks(inputs: Record<string, unknown>): string[] {
  const nics = (inputs.networkDevices ?? []) as { trunks?: unknown }[];
  return nics.flatMap((n, i) =>
    n.trunks === undefined || n.trunks === "" || /^\d+(;\d+)*$/.test(String(n.trunks))
      ? []
      : [`networkDevices[${i}].trunks: ${JSON.stringify(n.trunks)}: bpg parses trunks as ";"-separated integers (strconv.Atoi), not a range; omit it on a VLAN-aware bridge or list the VLANs`],
  );
}

/** bpg fwprovider/cluster/ha/resource_harule.go ValidateConfig and the schema validators (at plan time in Terraform; at `up` through the bridge's Check). */
export function checkHaRule(inputs: Record<string, unknown>): string[] {
  const out: string[] = [];
  const rule = String(inputs.rule ?? "");
  if (!/^[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]$/.test(rule)) out.push(`rule ${JSON.stringify(rule)}: a letter first, letters, digits, '-', '_', '.', a letter or digit last`);
  const resources = (inputs.resources ?? []) as unknown[];
  if (!resources.length || resources.some((r) => !/^(vm|ct):\d+$/.test(String(r)))) out.push(`resources ${JSON.stringify(resources)}: at least one, each vm:<id> or ct:<id>`);
  if (inputs.type === "node-affinity") {
    if (inputs.nodes === undefined) out.push("nodes: required when type is node-affinity");
    if (inputs.affinity !== undefined) out.push("affinity: only valid when type is resource-affinity");
  } else if (inputs.type === "resource-affinity") {
    if (inputs.affinity !== "positive" && inputs.affinity !== "negative") out.push("affinity: required (positive or negative) when type is resource-affinity");
    if (inputs.nodes !== undefined) out.push("nodes: only valid when type is node-affinity");
    if (inputs.strict === true) out.push("strict: only valid when type is node-affinity");
  } else out.push(`type ${JSON.stringify(inputs.type)}: node-affinity or resource-affinity`);
  return out;
}

const BPG = "bpg/terraform-provider-proxmox@v0.111.1";
const TLS = "hashicorp/terraform-provider-tls internal/provider";
const RANDOM = "hashicorp/terraform-provider-random internal/provider";
const SUBJECT = ["subject"];

export const PROVIDER_RULES: Readonly<Record<string, ProviderRule>> = {
  "proxmoxve:index/vmLegacy:VmLegacy": {
    replaceOn: [
      "amdSev",
      // clone.* all ForceNew (retries, datastoreId, nodeName, vmId, full)
      "clone",
      // Optional+Computed+ForceNew: only a value the program sets and changes forces; a dropped `initialization`
      // block is no diff for them (diffString: removed && Computed), so removing the block is an update.
      "initialization.userDataFileId",
      "initialization.vendorDataFileId",
      "initialization.networkDataFileId",
      "initialization.metaDataFileId",
      "initialization.type",
      "disks[*].fileId",
      // CustomizeDiff ForceNewIf: vm_id; node_name unless migrate = true (not set here); TPM version; EFI disk type
      "vmId",
      "nodeName",
      "tpmState.version",
      "efiDisk.type",
    ],
    // customdiff.ForceNewIf(node_name): `return !d.Get(mkMigrate)`, the new config's migrate; with it the update
    // migrates (migrateVM: the HA manager's migrate for a running HA resource, else online with local disks).
    replaceUnless: { nodeName: (inputs) => inputs.migrate === true },
    deleteBeforeReplace: "when-name-set",
    validate: checkTrunks,
    // network/schema.go mac_address: Optional + Computed (no DiffSuppress): Proxmox's drawn MAC stays when the program
    // stops setting one.
    keptWhenRemoved: ["networkDevices[*].macAddress"],
    // vmUpdate sets rebootRequired for these (reboot_after_update defaults to true: shutdown, then start again). The
    // program sets no `hotplug`, so PVE's default network,disk,usb applies: a memory or cpu change always restarts.
    // `initialization`, also when the block is removed: CloudInitConfig nil sends no cloud-init field (ipconfigN,
    // nameserver and the cloud-init drive stay on the VM), RebuildCloudInitDisk regenerates the ISO from them, and the VM
    // restarts; a block added to a VM without a cloud-init drive adds one (the VM stopped first). Not modelled: disks
    // (disk.Update decides per change), and network devices, which bpg hotplugs ("no reboot required").
    rebootOn: [
      "acpi",
      "agent",
      "amdSev",
      "audioDevice",
      "bios",
      "bootOrders",
      "cpu",
      "efiDisk",
      "hostpcis",
      "initialization",
      "keyboardLayout",
      "kvmArguments",
      "machine",
      "memory",
      "numas",
      "operatingSystem",
      "rngs",
      "serialDevices",
      "tabletDevice",
      "tpmState",
      "usbs",
      "watchdog",
    ],
    // qemu-server PVE/QemuServer.pm vmconfig_update_net: a changed macaddr (or model) on a running VM is a
    // vm_deviceunplug and a new hotplug of that NIC: the guest loses the link and sees a new device with the new MAC
    // (with hotplug off the change stays pending until the next start).
    nicReplugOn: ["networkDevices[*].macAddress", "networkDevices[*].model"],
    source: `${BPG} proxmoxtf/resource/vm/vm.go (ForceNew: amdSev, clone.*, initialization.*FileId/type; CustomizeDiff: vmId, nodeName, forceNewOnTPMVersionChange, forceNewOnEFIDiskTypeChange; vmUpdate rebootRequired, HasChange(mkInitialization), "Network devices can be hotplugged"; vmReadCustom keeps a cloned VM's empty initialization), vm/disk/schema.go (file_id), vm/network/schema.go (mac_address Optional+Computed), vm/network/network.go (trunks parse); proxmox/qemu-server src/PVE/QemuServer.pm vmconfig_update_net`,
  },
  "proxmoxve:index/fileLegacy:FileLegacy": {
    // Every input but overwrite, timeoutUpload and uploadMode is ForceNew (source_raw and source_file as whole blocks).
    replaceOn: ["contentType", "datastoreId", "fileMode", "nodeName", "sourceFile", "sourceRaw"],
    deleteBeforeReplace: "never",
    source: `${BPG} proxmoxtf/resource/file.go (File schema: 18 × ForceNew; no name input, so no auto-name DBR)`,
  },
  "proxmoxve:network/linux/bridge:Bridge": {
    replaceOn: ["name"],
    deleteBeforeReplace: "never",
    source: `${BPG} fwprovider/nodes/network/resource_linux_bridge.go (only name has stringplanmodifier.RequiresReplace; resource_linux_bridge_short.go reuses the schema)`,
  },
  "proxmoxve:download/file:File": {
    replaceOn: ["contentType", "fileName", "datastoreId", "nodeName", "url", "checksum", "decompressionAlgorithm", "checksumAlgorithm"],
    deleteBeforeReplace: "never",
    source: `${BPG} fwprovider/nodes/resource_download_file.go (RequiresReplace on these; size via sizeRequiresReplaceModifier is computed)`,
  },
  "proxmoxve:firewall/optionsLegacy:OptionsLegacy": {
    replaceOn: [],
    deleteBeforeReplace: "never",
    source: `${BPG} proxmoxtf/resource/firewall/options.go and selector.go (no ForceNew)`,
  },
  "proxmoxve:firewall/ipsetLegacy:IpsetLegacy": {
    replaceOn: ["cidrs"],
    deleteBeforeReplace: "when-name-set",
    source: `${BPG} proxmoxtf/resource/firewall/ipset.go (cidr and its fields ForceNew; name ForceNew: false)`,
  },
  "proxmoxve:firewall/rulesLegacy:RulesLegacy": {
    replaceOn: [],
    deleteBeforeReplace: "never",
    source: `${BPG} proxmoxtf/resource/firewall/rules.go and selector.go (no ForceNew; a rule is either security_group or action + type)`,
  },
  "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy": {
    // name ForceNew: false (a rename is GroupUpdate with `rename`); the rules come from firewall.Rules(), no ForceNew.
    replaceOn: [],
    deleteBeforeReplace: "when-name-set",
    source: `${BPG} proxmoxtf/resource/cluster/firewall/security_group.go (name Required, ForceNew: false; MergeSchema(firewall.Rules()))`,
  },
  "proxmoxve:cluster/firewallLegacy:FirewallLegacy": {
    replaceOn: [],
    deleteBeforeReplace: "never",
    source: `${BPG} proxmoxtf/resource/cluster/firewall/firewall.go (no ForceNew)`,
  },
  "proxmoxve:node/firewallLegacy:FirewallLegacy": {
    replaceOn: ["nodeName"],
    deleteBeforeReplace: "never",
    source: `${BPG} fwprovider/nodes/firewall/resource_node_firewall.go (only node_name has stringplanmodifier.RequiresReplace)`,
  },
  "proxmoxve:sdn/applier:Applier": {
    // on_create / on_destroy: boolplanmodifier.RequiresReplace; Create applies (on_create), Delete applies
    // (on_destroy), Read does nothing, Update (never planned: every input replaces) applies again.
    replaceOn: ["onCreate", "onDestroy"],
    deleteBeforeReplace: "never",
    source: `${BPG} fwprovider/cluster/sdn/applier/resource.go (Schema: on_create/on_destroy RequiresReplace, default true; Create/Delete ApplyConfig = PUT /cluster/sdn; Read no-op), proxmox/cluster/sdn/applier/client.go (waits for the task)`,
  },
  "proxmoxve:sdn/zone/vxlan:Vxlan": {
    // id RequiresReplace; peers (stringset, Required), nodes, mtu (UseNonNullStateForUnknown) are updates.
    replaceOn: ["resourceId"],
    deleteBeforeReplace: "never",
    validate: (inputs) => (Array.isArray(inputs.peers) && inputs.peers.length > 0 ? [] : ["peers: required, at least one VTEP address"]),
    source: `${BPG} fwprovider/cluster/sdn/zone/resource_generic.go (genericAttributesWith: id RequiresReplace; Update = UpdateZone with checkDeletedFields), resource_vxlan.go (peers stringset.WithRequired, no plan modifier)`,
  },
  "proxmoxve:sdn/vnet:Vnet": {
    // id RequiresReplace; zone, tag, alias, isolate_ports, vlan_aware are updates.
    replaceOn: ["resourceId"],
    deleteBeforeReplace: "never",
    validate: (inputs) => (inputs.alias === undefined || /^[()._a-zA-Z0-9\s-]+$/.test(String(inputs.alias)) ? [] : [`alias ${JSON.stringify(inputs.alias)}: only letters, digits, spaces and ()._-`]),
    source: `${BPG} fwprovider/cluster/sdn/vnet/resource.go (Schema: id RequiresReplace + validators.SDNID; zone Required, no plan modifier; alias RegexMatches)`,
  },
  "proxmoxve:sdn/subnet:Subnet": {
    // cidr and vnet RequiresReplace; the id is computed (PVE's <zone>-<ip>-<prefix>, resolveCanonicalSubnetID).
    replaceOn: ["cidr", "vnet"],
    deleteBeforeReplace: "never",
    source: `${BPG} fwprovider/cluster/sdn/subnet/resource.go (Schema: cidr, vnet RequiresReplace; Create resolveCanonicalSubnetID); pve-network API2/Network/SDN/Subnets.pm create (id "$zoneid-$cidr", "already defined")`,
  },
  "proxmoxve:index/haresource:Haresource": {
    // No RequiresReplace at all, resource_id included: Update addresses the STATE's id (ParseHAResourceID(state.ID)),
    // so a changed resource_id would update the old resource's settings. The program's ids are fixed VMIDs.
    replaceOn: [],
    deleteBeforeReplace: "never",
    validate: (inputs) => [
      ...(/^(vm|ct):\d+$/.test(String(inputs.resourceId)) ? [] : [`resourceId ${JSON.stringify(inputs.resourceId)}: must be vm:<id> or ct:<id>`]),
      ...(["maxRestart", "maxRelocate"] as const).flatMap((k) => (inputs[k] === undefined || (Number.isInteger(inputs[k]) && (inputs[k] as number) >= 0 && (inputs[k] as number) <= 10) ? [] : [`${k}: ${String(inputs[k])} is not in 0..10`])),
    ],
    source: `${BPG} fwprovider/cluster/ha/resource_haresource.go (Schema: no plan modifiers but type UseStateForUnknown; state default "started"; max_restart/max_relocate Between(0, 10); Update uses state.ID)`,
  },
  "proxmoxve:index/harule:Harule": {
    replaceOn: ["rule", "type"],
    deleteBeforeReplace: "never",
    validate: checkHaRule,
    source: `${BPG} fwprovider/cluster/ha/resource_harule.go (Schema: rule, type RequiresReplace; resources SizeAtLeast(1) vm:|ct:; ValidateConfig: nodes only and required for node-affinity, affinity only and required for resource-affinity, strict only for node-affinity). PVE 9+: /cluster/ha/rules`,
  },
  "command:remote:Command": {
    // Only triggers; every other input (stdin, create/update/delete, connection) is an in-place Update, which runs
    // `update` (else `create`) with the NEW inputs; Delete runs the OLD state's `delete` with the OLD stdin.
    replaceOn: ["triggers"],
    deleteBeforeReplace: "never",
    source:
      'pulumi/pulumi-command@v1.2.1 provider/pkg/provider/common/inputs.go (Triggers `provider:"replaceOnChanges"`), remote/commandController.go (Update / Delete), remote/command.go (inputs); the Node SDK adds replaceOnChanges ["triggers[*]"] itself (@pulumi/command remote/command.js)',
  },
  "tls:index/privateKey:PrivateKey": {
    replaceOn: ["algorithm", "rsaBits", "ecdsaCurve"],
    deleteBeforeReplace: "never",
    source: `${TLS}/resource_private_key.go (RequiresReplace)`,
  },
  "tls:index/certRequest:CertRequest": {
    replaceOn: ["privateKeyPem", "dnsNames", "ipAddresses", "uris", ...SUBJECT],
    deleteBeforeReplace: "never",
    source: `${TLS}/resource_cert_request.go (RequiresReplace; private_key_pem requireReplaceIfStateContainsPEMString)`,
  },
  "tls:index/locallySignedCert:LocallySignedCert": {
    // earlyRenewalHours has no RequiresReplace: an update (renewal itself is ready_for_renewal, time-driven, not modelled)
    replaceOn: ["caCertPem", "caPrivateKeyPem", "certRequestPem", "validityPeriodHours", "allowedUses", "isCaCertificate", "maxPathLength", "setSubjectKeyId"],
    deleteBeforeReplace: "never",
    source: `${TLS}/resource_locally_signed_cert.go (RequiresReplace / requireReplaceIfStateContainsPEMString)`,
  },
  "tls:index/selfSignedCert:SelfSignedCert": {
    replaceOn: ["privateKeyPem", "validityPeriodHours", "allowedUses", "dnsNames", "ipAddresses", "uris", "isCaCertificate", "maxPathLength", "setSubjectKeyId", "setAuthorityKeyId", ...SUBJECT],
    deleteBeforeReplace: "never",
    source: `${TLS}/resource_self_signed_cert.go (RequiresReplace / requireReplaceIfStateContainsPEMString)`,
  },
  "random:index/randomPassword:RandomPassword": {
    replaceOn: ["keepers", "length", "special", "upper", "lower", "number", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial", "overrideSpecial"],
    deleteBeforeReplace: "never",
    source: `${RANDOM}/resource_password.go passwordSchemaV3 (RequiresReplace on every input)`,
  },
  "random:index/randomBytes:RandomBytes": {
    replaceOn: ["keepers", "length"],
    deleteBeforeReplace: "never",
    source: `${RANDOM}/resource_bytes.go (RequiresReplace)`,
  },
  // A shard stack's read of its core (components/core-handoff.ts): read again on every run, preview included.
  "pulumi:pulumi:StackReference": {
    replaceOn: ["name"],
    deleteBeforeReplace: "never",
    source: "pulumi/pulumi sdk/nodejs/stackReference.ts (a read: registered with id = name; no provider)",
  },
};

/** The rule for `type`; a custom type without a row is an error, so a new resource type cannot slip past the tests. */
export function ruleFor(type: string): ProviderRule {
  if (type.startsWith("pulumi:providers:")) return { replaceOn: [], deleteBeforeReplace: "never", source: "explicit provider: config changes are updates here (not modelled: DiffConfig)" };
  const rule = PROVIDER_RULES[type];
  if (!rule) throw new Error(`test/program/engine/provider-rules.ts has no row for ${type}: read the provider's source for its replace-forcing inputs and add one`);
  return rule;
}

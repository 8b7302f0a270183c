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
};

/** The rule for `type`; a custom type without a row is an error, so a new resource type cannot slip past the tests. */
export function ruleFor(type: string): ProviderRule {
  if (type.startsWith("pulumi:providers:")) return { replaceOn: [], deleteBeforeReplace: "never", source: "explicit provider: config changes are updates here (not modelled: DiffConfig)" };
  const rule = PROVIDER_RULES[type];
  if (!rule) throw new Error(`test/program/engine/provider-rules.ts has no row for ${type}: read the provider's source for its replace-forcing inputs and add one`);
  return rule;
}

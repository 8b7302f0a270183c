#!/usr/bin/env bash
# Acceptance run against a DISPOSABLE Proxmox VE 8 host: a throwaway stack with two tenants, `pulumi up`,
# both VPN servers' four OpenVPN instances, a real client through each instance (router ping, console RFB),
# then a preview of adding a third tenant that may only create that tenant's resources, then teardown.
# Teardown always runs (also on failure and Ctrl-C) unless --keep. Every JSON decision is acceptance/*.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: scripts/acceptance.sh --endpoint URL --node NAME --public-pool CIDR --public-gateway IP [options]
       (or npm run acceptance -- …; every flag can also be given as the ACC_* variable in brackets)

  --endpoint URL              Proxmox API, https://host:8006/            [ACC_ENDPOINT]
  --node NAME                 Proxmox node                               [ACC_NODE]
  --public-pool CIDR          public test pool (7 free addresses: host, vpn1, vpn2, services, 3 tenants)
                                                                         [ACC_PUBLIC_POOL]
  --public-gateway IP         its gateway                                [ACC_PUBLIC_GATEWAY]
  --reserved IP,IP            pool addresses not to hand out             [ACC_RESERVED]
  --host-public-ip IP         the host's address in the pool (default: first usable) [ACC_HOST_PUBLIC_IP]
  --template-vmid N           LibreRouter template (9000)                [ACC_TEMPLATE_VMID]
  --server-template-vmid N    Debian 12 cloud-init template (9001)       [ACC_SERVER_TEMPLATE_VMID]
  --datastore ID              VM disks (local-lvm)                       [ACC_DATASTORE]
  --snippets-datastore ID     snippets (local)                           [ACC_SNIPPETS_DATASTORE]
  --vmid-base N               tenant VMIDs are N + slot (7000)           [ACC_VMID_BASE]
  --insecure                  accept the API's self-signed certificate   [ACC_INSECURE=true]
  --ssh-key FILE              root's private key for the host            [ACC_SSH_KEY_FILE, or the key text in PVE_SSH_PRIVATE_KEY]
  --ssh-host-key "TYPE KEY"   pin the host key (ssh-keyscan, without the name) [ACC_SSH_HOST_KEY]
  --org ORG                   Pulumi organisation for the stack          [ACC_ORG]
  --keep                      leave the stack and the VMs for inspection (no teardown) [ACC_KEEP=true]
  --check                     check the prerequisites and inputs, create nothing

Secrets come from the environment only (never flags: they would show in ps):
  PVE_PASSWORD                root@pam's password (required)
  PULUMI_ACCESS_TOKEN / PULUMI_CONFIG_PASSPHRASE as your backend needs them (`pulumi login` first)
Runs as root or with passwordless sudo: the client runs in its own network namespace.
EOF
}

die() {
  echo "acceptance: $*" >&2
  exit 2
}

KEEP=0
if [[ ${ACC_KEEP:-false} == true ]]; then KEEP=1; fi
CHECK_ONLY=0
while (($#)); do
  flag=$1
  case "$flag" in
    --keep) KEEP=1; shift; continue ;;
    --check) CHECK_ONLY=1; shift; continue ;;
    --insecure) export ACC_INSECURE=true; shift; continue ;;
    -h | --help) usage; exit 0 ;;
    --*) ;;
    *) usage >&2; die "unexpected argument $flag" ;;
  esac
  if (($# < 2)) || [[ -z $2 ]]; then die "$flag needs a value (see --help)"; fi
  value=$2
  shift 2
  case "$flag" in
    --endpoint) export ACC_ENDPOINT=$value ;;
    --node) export ACC_NODE=$value ;;
    --public-pool) export ACC_PUBLIC_POOL=$value ;;
    --public-gateway) export ACC_PUBLIC_GATEWAY=$value ;;
    --reserved) export ACC_RESERVED=$value ;;
    --host-public-ip) export ACC_HOST_PUBLIC_IP=$value ;;
    --template-vmid) export ACC_TEMPLATE_VMID=$value ;;
    --server-template-vmid) export ACC_SERVER_TEMPLATE_VMID=$value ;;
    --datastore) export ACC_DATASTORE=$value ;;
    --snippets-datastore) export ACC_SNIPPETS_DATASTORE=$value ;;
    --vmid-base) export ACC_VMID_BASE=$value ;;
    --ssh-key) export ACC_SSH_KEY_FILE=$value ;;
    --ssh-host-key) export ACC_SSH_HOST_KEY=$value ;;
    --org) export ACC_ORG=$value ;;
    *) usage >&2; die "unknown option $flag" ;;
  esac
done

# ---- prerequisites: all problems at once, before anything is created --------------------------------
TSX=node_modules/.bin/tsx
problems=()
missing=()
for prog in pulumi node ssh openvpn ip iptables sysctl socat ping; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("$prog")
done
if ((${#missing[@]})); then
  problems+=("missing programs: ${missing[*]} (Pulumi CLI: https://www.pulumi.com/docs/install/; Debian: apt-get install openssh-client openvpn iproute2 iptables procps socat iputils-ping)")
fi
[[ -x $TSX ]] || problems+=("$TSX is missing: run npm ci first")
[[ -n ${PVE_PASSWORD:-} ]] || problems+=("PVE_PASSWORD is not set: export root@pam's password (root@pam with a password is what VM args need)")
if [[ -n ${ACC_SSH_KEY_FILE:-} ]]; then
  [[ -r $ACC_SSH_KEY_FILE ]] || problems+=("--ssh-key (ACC_SSH_KEY_FILE): cannot read $ACC_SSH_KEY_FILE")
elif [[ -z ${PVE_SSH_PRIVATE_KEY:-} ]]; then
  problems+=("no SSH key: pass --ssh-key FILE (ACC_SSH_KEY_FILE) or put the key text in PVE_SSH_PRIVATE_KEY")
fi
if ((EUID != 0)) && ! sudo -n true 2>/dev/null; then
  problems+=("needs root or passwordless sudo: the client runs in a network namespace (sudo -n true failed)")
fi
inputs=""
if [[ -x $TSX ]] && ! inputs=$("$TSX" acceptance/cli.ts check-inputs 2>&1); then
  mapfile -t bad_inputs <<<"$inputs"
  problems+=("${bad_inputs[@]}")
  inputs=""
fi
if command -v pulumi >/dev/null 2>&1 && ! pulumi whoami --non-interactive >/dev/null 2>&1; then
  problems+=("pulumi is not logged in: run pulumi login (Pulumi Cloud) or pulumi login file://… / s3://…; a passphrase backend also needs PULUMI_CONFIG_PASSPHRASE")
fi
if ((${#problems[@]})); then
  echo "acceptance: cannot start (nothing was created):" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 2
fi
PVE_HOST=$(sed -n 's/^host //p' <<<"$inputs")
PVE_HOST_KEY=$(sed -n 's/^host-key //p' <<<"$inputs")
if ((CHECK_ONLY)); then
  echo "acceptance: prerequisites and inputs OK (host $PVE_HOST); nothing was created (--check)"
  exit 0
fi

# ---- state and teardown ------------------------------------------------------------------------------
# A JSON preview in the streaming format would not be the PreviewDigest acceptance/preview-json.ts reads.
unset PULUMI_ENABLE_STREAMING_JSON_PREVIEW
PROJECT=$(sed -n 's/^name: *//p' Pulumi.yaml)
STACK="acceptance-$(date -u +%Y%m%d-%H%M%S)"
STACK_REF="${ACC_ORG:+$ACC_ORG/}$STACK"
STACK_FILE="Pulumi.$STACK.yaml"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lr-acceptance.XXXXXX") # 0700: holds the key, the bundles, the secrets
NS="lracc$$"
VETH="lracc$$h"
NS_UP=0
STACK_CREATED=0
CLIENT_PID_FILE="$WORK/openvpn.pid"
RESULTS=()
FAILED=0

# Plain command prefixes, not functions: set -e keeps working wherever they run in a condition.
ROOT=()
((EUID == 0)) || ROOT=(sudo -n --)
PULUMI=(pulumi --non-interactive)
ON_STACK=(--stack "$STACK_REF")
step() {
  printf '\n==> %s\n' "$*"
}
record() { # name ok|FAIL detail
  RESULTS+=("$(printf '%-28s %-4s %s' "$1" "$2" "$3")")
  [[ $2 == ok ]] || FAILED=1
  printf '    %-28s %-4s %s\n' "$1" "$2" "$3"
}

stop_client() {
  [[ -e $CLIENT_PID_FILE ]] || return 0
  local pid
  pid=$("${ROOT[@]}" cat "$CLIENT_PID_FILE")
  "${ROOT[@]}" kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    "${ROOT[@]}" kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  rm -f "$CLIENT_PID_FILE"
}

NAT_RULE=(POSTROUTING -t nat -s 100.127.254.2/32 -m comment --comment "$NS" -j MASQUERADE)
FWD_OUT=(FORWARD -i "$VETH" -m comment --comment "$NS" -j ACCEPT)
FWD_IN=(FORWARD -o "$VETH" -m conntrack --ctstate "ESTABLISHED,RELATED" -m comment --comment "$NS" -j ACCEPT)
OLD_FORWARD=""

netns_up() {
  # The client's own namespace, NATed out through the runner: its routes and tun never touch the runner's.
  "${ROOT[@]}" ip netns add "$NS"
  NS_UP=1
  "${ROOT[@]}" ip link add "$VETH" type veth peer name eth0 netns "$NS"
  "${ROOT[@]}" ip addr add 100.127.254.1/30 dev "$VETH"
  "${ROOT[@]}" ip link set "$VETH" up
  "${ROOT[@]}" ip -n "$NS" addr add 100.127.254.2/30 dev eth0
  "${ROOT[@]}" ip -n "$NS" link set eth0 up
  "${ROOT[@]}" ip -n "$NS" link set lo up
  "${ROOT[@]}" ip -n "$NS" route add default via 100.127.254.1
  OLD_FORWARD=$(sysctl -n net.ipv4.ip_forward)
  "${ROOT[@]}" sysctl -q -w net.ipv4.ip_forward=1
  "${ROOT[@]}" iptables -A "${NAT_RULE[@]}"
  "${ROOT[@]}" iptables -I "${FWD_OUT[@]}"
  "${ROOT[@]}" iptables -I "${FWD_IN[@]}"
}

netns_down() {
  ((NS_UP)) || return 0
  stop_client
  "${ROOT[@]}" iptables -D "${FWD_IN[@]}" 2>/dev/null || true
  "${ROOT[@]}" iptables -D "${FWD_OUT[@]}" 2>/dev/null || true
  "${ROOT[@]}" iptables -D "${NAT_RULE[@]}" 2>/dev/null || true
  if [[ -n $OLD_FORWARD ]]; then "${ROOT[@]}" sysctl -q -w "net.ipv4.ip_forward=$OLD_FORWARD" || true; fi
  "${ROOT[@]}" ip netns del "$NS" 2>/dev/null || true # takes the veth pair with it
  NS_UP=0
}

teardown() {
  step "teardown: unprotect, lift Proxmox protection, destroy, remove stack $STACK_REF"
  "${PULUMI[@]}" state unprotect --all --yes "${ON_STACK[@]}" || true
  # Proxmox-level `protection` on the tenant VMs: qm refuses to delete them until it is lifted.
  local ids=() kind id
  if [[ -s $WORK/targets ]]; then
    while read -r kind _ id _; do
      if [[ $kind == tenant ]]; then ids+=("$id"); fi
    done <"$WORK/targets"
  fi
  if ((${#ids[@]})) && ! ssh -F "$WORK/ssh_config" pve sh -s -- "${ids[@]}" <<'EOF'; then
for id in "$@"; do
  if qm status "$id" >/dev/null 2>&1; then qm set "$id" --protection 0; fi
done
EOF
    echo "acceptance: could not lift the VMs' protection over SSH; destroy will refuse them" >&2
  fi
  if ! "${PULUMI[@]}" destroy --yes --skip-preview --parallel 8 "${ON_STACK[@]}"; then
    echo "acceptance: destroy FAILED: stack $STACK_REF and what it created are left. Fix the cause, then:" >&2
    echo "  pulumi state unprotect --all --yes -s $STACK_REF; qm set <vmid> --protection 0 (tenant VMs);" >&2
    echo "  pulumi destroy --yes -s $STACK_REF && pulumi stack rm --yes $STACK_REF" >&2
    return 1
  fi
  pulumi --non-interactive stack rm --yes "$STACK_REF" # also removes Pulumi.<stack>.yaml
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e # every part of the cleanup runs, whatever fails before it
  netns_down
  if ((STACK_CREATED)); then
    if ((KEEP)); then
      echo "acceptance: --keep: stack $STACK_REF is left (config in $STACK_FILE). Tear down with:"
      echo "  pulumi state unprotect --all --yes -s $STACK_REF; qm set <vmid> --protection 0 on the host;"
      echo "  pulumi destroy --yes -s $STACK_REF && pulumi stack rm --yes $STACK_REF"
    else
      # shellcheck disable=SC2310 # set +e above: teardown reports its own failure, cleanup goes on
      teardown || rc=1
    fi
  fi
  rm -rf "$WORK"
  if ((${#RESULTS[@]})); then
    printf '\n%-28s %-4s %s\n' check ok? detail
    printf '%s\n' "${RESULTS[@]}"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- SSH: the host as root, the guests through it ----------------------------------------------------
KEY="$WORK/id"
if [[ -n ${ACC_SSH_KEY_FILE:-} ]]; then
  install -m 600 "$ACC_SSH_KEY_FILE" "$KEY"
else
  (umask 077 && printf '%s\n' "$PVE_SSH_PRIVATE_KEY" >"$KEY")
fi
HOST_CHECK=accept-new
if [[ -n $PVE_HOST_KEY ]]; then
  printf '%s %s\n' "$PVE_HOST" "$PVE_HOST_KEY" >"$WORK/known_hosts"
  HOST_CHECK=yes
fi
write_ssh_config() { # after the plan: one Host entry per VPN server, at its management address
  {
    printf 'Host pve\n  HostName %s\n  StrictHostKeyChecking %s\n' "$PVE_HOST" "$HOST_CHECK"
    awk -v cfg="$WORK/ssh_config" '$1 == "server" {
      printf "Host %s\n  HostName %s\n  StrictHostKeyChecking accept-new\n  ProxyCommand ssh -F %s -W %%h:%%p pve\n", $2, $3, cfg
    }' "$WORK/targets"
    printf 'Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  BatchMode yes\n' "$KEY"
    printf '  UserKnownHostsFile %s\n  ConnectTimeout 15\n' "$WORK/known_hosts"
  } >"$WORK/ssh_config"
}

# ---- 1. a throwaway stack, pulumi up -----------------------------------------------------------------
step "1. stack $STACK_REF: two tenants, pulumi up --parallel 8"
pulumi --non-interactive stack init "$STACK_REF"
STACK_CREATED=1
"$TSX" acceptance/cli.ts stack-file --file "$STACK_FILE"
printf '%s' "$PVE_PASSWORD" | "${PULUMI[@]}" config set --secret proxmoxPassword "${ON_STACK[@]}"
"${PULUMI[@]}" config set --secret sshPrivateKey "${ON_STACK[@]}" <"$KEY"
npm run --silent plan -- --stack "$STACK" --format json >"$WORK/plan.json"
"$TSX" acceptance/cli.ts targets --plan "$WORK/plan.json" >"$WORK/targets"
write_ssh_config
count=$(grep -c '^tenant ' "$WORK/targets")
if ! "${PULUMI[@]}" up --yes --parallel 8 "${ON_STACK[@]}"; then
  record "pulumi-up" FAIL "pulumi up failed (its output is above); tearing down"
  exit 1
fi
record "pulumi-up" ok "$count tenants"

# ---- 2. the data plane on the real host ---------------------------------------------------------------
step "2. OpenVPN instances, and a client through each (UDP first, then TCP/443)"
while read -r kind name _; do
  [[ $kind == server ]] || continue
  if out=$(ssh -n -F "$WORK/ssh_config" "$name" systemctl is-active openvpn-server@udp openvpn-server@tcp 2>&1); then
    record "openvpn-$name" ok "openvpn-server@udp and @tcp active"
  else
    record "openvpn-$name" FAIL "${out//$'\n'/ }"
  fi
done <"$WORK/targets"

"${PULUMI[@]}" stack output --show-secrets --json tenantSecrets "${ON_STACK[@]}" >"$WORK/secrets.json"
# Read once into arrays: the checks below run commands that must not eat the loop's stdin.
TENANTS=()
INSTANCES=()
declare -A ROUTER GATEWAY
while read -r kind a _ c _ e; do # tenant <key> <vmid> <router>; instance <id> <server> <proto> <port> <gateway>
  case $kind in
    tenant) TENANTS+=("$a"); ROUTER[$a]=$c ;;
    instance) INSTANCES+=("$a"); GATEWAY[$a]=$e ;;
    *) ;;
  esac
done <"$WORK/targets"
for key in "${TENANTS[@]}"; do
  "$TSX" acceptance/cli.ts client-files --plan "$WORK/plan.json" --secrets "$WORK/secrets.json" --key "$key" --dir "$WORK"
done
netns_up

# connect KEY INSTANCE: the tenant's launcher with a bundle narrowed to one instance; waits for the tunnel.
connect() {
  local log="$WORK/openvpn-$1-$2.log"
  "${ROOT[@]}" ip netns exec "$NS" sh "$WORK/lr-connect-$1" "$WORK/$1-$2.ovpn" \
    --daemon "lracc-$1-$2" --writepid "$CLIENT_PID_FILE" --log "$log" || return 1
  # openvpn creates its log and pid file as root (the log 0600): read them as root too.
  for _ in $(seq 120); do
    if "${ROOT[@]}" grep -q 'Initialization Sequence Completed' "$log" 2>/dev/null; then return 0; fi
    if "${ROOT[@]}" grep -qE 'AUTH_FAILED|Exiting due to fatal error' "$log" 2>/dev/null; then break; fi
    sleep 0.5
  done
  "${ROOT[@]}" tail -n 5 "$log" 2>/dev/null | tr '\n' ' '
  return 1
}

# client_check KEY INSTANCE GATEWAY [OTHER_ROUTER]: connect, own router answers, own console, other router silent.
client_check() {
  local key=$1 inst=$2 gw=$3 other=${4:-} why
  # shellcheck disable=SC2310 # connect returns its status explicitly
  if ! why=$(connect "$key" "$inst"); then
    record "client-$key-$inst" FAIL "no tunnel: $why"
    stop_client
    return 0
  fi
  record "client-$key-$inst" ok "connected"
  if "${ROOT[@]}" ip netns exec "$NS" ping -q -c 3 -W 2 "${ROUTER[$key]}" >/dev/null; then
    record "router-$key-$inst" ok "${ROUTER[$key]} answers"
  else
    record "router-$key-$inst" FAIL "${ROUTER[$key]} does not answer ping through the tunnel"
  fi
  if why=$("${ROOT[@]}" env "PATH=$PATH" "$TSX" acceptance/cli.ts console --ns "$NS" --host "$gw" --port 5900 \
    --secrets "$WORK/secrets.json" --key "$key" 2>&1); then
    record "console-$key-$inst" ok "$why"
  else
    record "console-$key-$inst" FAIL "$why"
  fi
  if [[ -n $other ]]; then
    if "${ROOT[@]}" ip netns exec "$NS" ping -q -c 2 -W 1 "$other" >/dev/null 2>&1; then
      record "isolation-$key-$inst" FAIL "another tenant's router $other answers through $key's tunnel"
    else
      record "isolation-$key-$inst" ok "another tenant's router $other is unreachable"
    fi
  fi
  stop_client
}

# The first tenant through all four instances (UDP, then TCP/443), the second through the first one;
# isolation checked once each way.
first=${TENANTS[0]}
second=${TENANTS[1]}
client_check "$first" "${INSTANCES[0]}" "${GATEWAY[${INSTANCES[0]}]}" "${ROUTER[$second]}"
client_check "$second" "${INSTANCES[0]}" "${GATEWAY[${INSTANCES[0]}]}" "${ROUTER[$first]}"
for inst in "${INSTANCES[@]:1}"; do
  client_check "$first" "$inst" "${GATEWAY[$inst]}"
done
netns_down

# ---- 3. adding a tenant creates only that tenant's resources ------------------------------------------
step "3. add a tenant: pulumi preview --json may only create its resources"
"$TSX" acceptance/cli.ts stack-file --file "$STACK_FILE" --with-added-tenant
prc=0
"${PULUMI[@]}" preview --json --parallel 8 "${ON_STACK[@]}" >"$WORK/preview.json" 2>"$WORK/preview.err" || prc=$?
if verdict=$("$TSX" acceptance/cli.ts check-preview --preview "$WORK/preview.json" --stack "$STACK" --project "$PROJECT" 2>&1); then
  record "add-tenant-preview" ok "${verdict%%$'\n'*}"
  sed -n '2,$p' <<<"$verdict"
else
  record "add-tenant-preview" FAIL "${verdict%%$'\n'*}"
  sed -n '2,$p' <<<"$verdict" >&2
  ((prc == 0)) || tail -n 20 "$WORK/preview.err" >&2
fi

((FAILED == 0)) || exit 1
echo "acceptance: every check passed"

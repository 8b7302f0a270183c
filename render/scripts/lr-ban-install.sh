# The ban grid on one machine, after the rendered header set LR_BAN_* and defined lr_ban_files (writes our files
# with lr_write, owned by LR_BAN_OWNER, so it runs once that user exists).
# Offline: Debian's packages, the hub items Debian vendors (linked, never downloaded), our own files.
# Needs: LR_BAN_ETC, LR_BAN_HUB, LR_BAN_PATTERNS, LR_BAN_OWNER (user:group the daemons run as), LR_BAN_ITEMS (array),
# LR_BAN_FAMILY ("" or inet|bridge), LR_BAN_ALLOW (comma-separated CIDRs), LR_BAN_UNITS (array), LR_BAN_DATA,
# LR_BAN_LOCAL_MACHINE (services VM only: its own agent's machine name), LR_BAN_LAPI_URL, LR_BAN_CA, LR_SERVICES.

# crowdsec's postinst runs `cscli capi register` unless this file is non-empty, and fails offline without it.
if [[ ! -s /etc/crowdsec/online_api_credentials.yaml ]]; then
  mkdir -p /etc/crowdsec
  echo '# librerouter-hosting: no Central API (offline ban grid)' >/etc/crowdsec/online_api_credentials.yaml
fi

# The daemons' user: a system account without login, its home the data dir; made once, before any file is its.
ban_user=${LR_BAN_OWNER%%:*}
ban_group=${LR_BAN_OWNER#*:}
if ! id -u "$ban_user" >/dev/null 2>&1; then
  if [[ $ban_group == "$ban_user" ]]; then group_opt=(--user-group); else group_opt=(--gid "$ban_group"); fi
  useradd --system --no-create-home --home-dir "$LR_BAN_DATA" --shell /usr/sbin/nologin "${group_opt[@]}" "$ban_user"
  echo "lr-ban-install: user $ban_user created"
fi
lr_ban_files
# Before crowdsec is installed: its postinst may start the unit, whose ReadWritePaths= must exist.
mkdir -p "$LR_BAN_DATA"
chown -R "$LR_BAN_OWNER" "$LR_BAN_DATA"
if [[ $LR_SERVICES == systemd ]] && ! dpkg-query -W -f '${Status}' crowdsec 2>/dev/null | grep -q 'ok installed'; then
  apt-get install -y -q crowdsec crowdsec-firewall-bouncer
fi

# Vendored hub items: a link each (what `cscli ... install` does, minus the download); stale links go.
mkdir -p "$LR_BAN_ETC/parsers/s00-raw" "$LR_BAN_ETC/parsers/s01-parse" "$LR_BAN_ETC/parsers/s02-enrich" "$LR_BAN_ETC/scenarios" "$LR_BAN_ETC/postoverflows"
find "$LR_BAN_ETC/parsers" "$LR_BAN_ETC/scenarios" -type l -delete
for item in "${LR_BAN_ITEMS[@]}"; do
  src=$LR_BAN_HUB/$item
  [[ -e $src ]] || { echo "lr-ban-install: $src is missing (is crowdsec installed?)" >&2; exit 1; }
  dir=${item%/*}
  ln -sfn "$src" "$LR_BAN_ETC/${dir%/*}/${item##*/}"
done
ln -sfn "$LR_BAN_PATTERNS" "$LR_BAN_ETC/patterns"

# The services VM's own agent talks to the LAPI in the same process: its machine is made here, with a password
# nobody else needs (never on a command line, never leaving the VM), once. cscli runs as the LAPI's user (as root
# it could create the database root's); it prints the credentials, which only ever land in a 0600 file.
if [[ -n $LR_BAN_LOCAL_MACHINE && ! -s $LR_BAN_ETC/local_api_credentials.yaml ]]; then
  creds=$LR_BAN_ETC/local_api_credentials.yaml
  (
    umask 077
    runuser -u "$ban_user" -- cscli -c "$LR_BAN_ETC/config.yaml" machines add "$LR_BAN_LOCAL_MACHINE" --auto --force -u "$LR_BAN_LAPI_URL" -f - >"$creds.lrtmp"
    echo "ca_cert_path: $LR_BAN_CA" >>"$creds.lrtmp"
  )
  chown "$LR_BAN_OWNER" "$creds.lrtmp"
  mv -f "$creds.lrtmp" "$creds"
fi

# Our nft table: created when missing; when present only allow4 is replaced (in one transaction), so a re-run
# never lifts a ban.
if [[ -n $LR_BAN_FAMILY ]]; then
  if nft list table "$LR_BAN_FAMILY" lrban >/dev/null 2>&1; then
    printf 'flush set %s lrban allow4\nadd element %s lrban allow4 { %s }\n' "$LR_BAN_FAMILY" "$LR_BAN_FAMILY" "$LR_BAN_ALLOW" | nft -f -
  else
    nft -f "$LR_BAN_ETC/lrban.nft"
  fi
fi

# The data tree is the daemons' own (again: a root's cscli may have left files there). Our config tree stays root's;
# each file lr_write wrote there is the owner's.
chown -R "$LR_BAN_OWNER" "$LR_BAN_DATA"

if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  for unit in "${LR_BAN_UNITS[@]}"; do
    systemctl enable "$unit"
    systemctl restart --no-block "$unit"
  done
fi
echo "lr-ban-install: ${#LR_BAN_ITEMS[@]} hub items linked, ${#CHANGED[@]} files changed"

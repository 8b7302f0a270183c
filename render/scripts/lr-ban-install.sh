# The ban grid on one machine, after the rendered header set LR_BAN_* and wrote the files with lr_write.
# Offline: Debian's packages, the hub items Debian vendors (linked, never downloaded), our own files.
# Needs: LR_BAN_ETC, LR_BAN_HUB, LR_BAN_PATTERNS, LR_BAN_OWNER, LR_BAN_ITEMS (array), LR_BAN_FAMILY ("" or inet|bridge),
# LR_BAN_ALLOW (comma-separated CIDRs), LR_BAN_UNITS (array), LR_BAN_DATA, LR_BAN_LOCAL_MACHINE (services VM only:
# its own agent's machine name), LR_BAN_LAPI_URL, LR_BAN_CA, LR_SERVICES.

# crowdsec's postinst runs `cscli capi register` unless this file is non-empty, and fails offline without it.
if [[ ! -s /etc/crowdsec/online_api_credentials.yaml ]]; then
  mkdir -p /etc/crowdsec
  echo '# librerouter-hosting: no Central API (offline ban grid)' >/etc/crowdsec/online_api_credentials.yaml
fi
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
mkdir -p "$LR_BAN_DATA"

# The services VM's own agent talks to the LAPI in the same process: its machine is made here, with a password
# nobody else needs (never on a command line, never leaving the VM), once.
if [[ -n $LR_BAN_LOCAL_MACHINE && ! -s $LR_BAN_ETC/local_api_credentials.yaml ]]; then
  cscli -c "$LR_BAN_ETC/config.yaml" machines add "$LR_BAN_LOCAL_MACHINE" --auto --force -u "$LR_BAN_LAPI_URL" -f "$LR_BAN_ETC/local_api_credentials.yaml" >/dev/null
  echo "ca_cert_path: $LR_BAN_CA" >>"$LR_BAN_ETC/local_api_credentials.yaml"
  chmod 0600 "$LR_BAN_ETC/local_api_credentials.yaml"
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

chown -R "$LR_BAN_OWNER" "$LR_BAN_ETC" "$LR_BAN_DATA"

if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  for unit in "${LR_BAN_UNITS[@]}"; do
    systemctl enable "$unit"
    systemctl restart --no-block "$unit"
  done
fi
echo "lr-ban-install: ${#LR_BAN_ITEMS[@]} hub items linked, ${#CHANGED[@]} files changed"

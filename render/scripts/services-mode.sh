LR_SERVICES=${LR_SERVICES:-systemd}
case $LR_SERVICES in
  systemd | none) ;;
  *) echo "LR_SERVICES must be systemd or none, got $LR_SERVICES" >&2; exit 2 ;;
esac

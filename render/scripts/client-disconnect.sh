# Also called for rejected sessions (duration 0): it must not undo anything the real session relies on.
printf 'lr-disconnect: cn=%s tunnel=%s from=%s duration=%ss rx=%s tx=%s\n' "${common_name:-?}" "${ifconfig_pool_remote_ip:-?}" "${trusted_ip:-?}" "${time_duration:-0}" "${bytes_received:-0}" "${bytes_sent:-0}" >&2
exit 0

# The hardware check is in auth-user-pass-verify and routing is static, so this never fails a session.
printf 'lr-connect: cn=%s tunnel=%s from=%s dev=%s\n' "${common_name:-?}" "${ifconfig_pool_remote_ip:-?}" "${trusted_ip:-?}" "${dev:-?}" >&2
exit 0

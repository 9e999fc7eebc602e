#!/bin/bash
# vetred-crear-admin: the compose one-shot `admin`.  Makes the first
# network administrator, VETRED_ADMIN_EMAIL, with the password in
# VETRED_ADMIN_PASSWORD or, when that is empty, a random one written to
# $VETRED_BOOTSTRAP_DIR/admin-password (owner-only).  An active
# administrator already there (exit 3 of crear-admin: every later `up`)
# is not an error.  vetred-admin logs what happened as JSON lines.
set -uo pipefail
dir="${VETRED_BOOTSTRAP_DIR:-/var/lib/vetred/bootstrap}"
email="${VETRED_ADMIN_EMAIL:-admin@vetred.local}"
umask 077
if [ -n "${VETRED_ADMIN_PASSWORD:-}" ]; then
  printf '%s\n' "$VETRED_ADMIN_PASSWORD" | vetred-admin crear-admin "$email"
  rc=$?
else
  # Kept only when the administrator was made with it.
  tmp="$(mktemp "$dir/admin-password.XXXXXX")" || exit 2
  openssl rand -base64 18 >"$tmp" || { rm -f "$tmp"; exit 2; }
  vetred-admin crear-admin "$email" <"$tmp"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    mv -f "$tmp" "$dir/admin-password"
    printf '{"time":"%s","level":"info","service":"admin","msg":"password of the new administrator written","file":"%s"}\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$dir/admin-password" >&2
  else
    rm -f "$tmp"
  fi
fi
[ "$rc" -eq 3 ] && exit 0
exit "$rc"

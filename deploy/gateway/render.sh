#!/bin/sh
# Render nginx.conf.template into $1: each @@NAME@@ becomes the environment variable NAME. POSIX sh,
# so the nginx container image can run it too. The template asks for RUN_DIR, LISTEN and one
# <SERVICE>_UPSTREAM per service it routes to; RATE_PER_SECOND and RATE_BURST have defaults.
set -eu
template="$(dirname "$0")/nginx.conf.template"
: "${RATE_PER_SECOND:=200}" "${RATE_BURST:=400}"
script=""
for name in $(grep -o '@@[A-Z_]*@@' "$template" | tr -d @ | sort -u); do
  # An unset name stays a placeholder, and the check below names it.
  eval "known=\${$name+yes}"
  [ -n "$known" ] || continue
  eval "value=\$$name"
  value=$(printf '%s' "$value" | sed 's/[#&\\]/\\&/g')
  script="$script s#@@$name@@#$value#g;"
done
sed -e "$script" "$template" >"$1"
if grep -q '@@[A-Z_]*@@' "$1"; then
  echo "render.sh: placeholders left in $1: $(grep -o '@@[A-Z_]*@@' "$1" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi

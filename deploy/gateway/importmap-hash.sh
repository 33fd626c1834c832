#!/bin/sh
# Print the base64 SHA-256 of the console's inline import map (the text between its <script> tags,
# which index.html keeps on one line), as a Content-Security-Policy 'sha256-…' source names it.
# POSIX sh with sed and openssl.
set -eu
page="$1"
[ -f "$page" ] || exit 1
map=$(sed -n 's/.*<script type="importmap">\(.*\)<\/script>.*/\1/p' "$page")
[ -n "$map" ] || exit 1
printf '%s' "$map" | openssl dgst -sha256 -binary | openssl base64 -A

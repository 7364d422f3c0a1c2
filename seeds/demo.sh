#!/bin/sh
# The main job on the sample article: record v1, v2 and v3 with the times they
# were observed, print the history, then the v1 -> v2 diff. Safe to run again:
# unchanged versions are not recorded twice.
set -eu
here=$(dirname "$0")/rudaw-coalition-ceasefire
article=rudaw-coalition-ceasefire
tab=$(printf '\t')
tail -n +2 "$here/versions.tsv" | while IFS="$tab" read -r file at url; do
  revtrack snapshot "$here/$file" --article "$article" --url "$url" --at "$at"
done
revtrack log "$article"
revtrack diff "$article" 1 2

#!/bin/bash
# The answering agent (zcboot-answer.service). For every new ask file whose Id= starts with
# "cryptsetup:" it takes the next line of /etc/zcboot/answers (the last line repeats once the
# list runs out), logs the question to /run/zcboot/asks and replies on the file's Socket=.
set -u
dir=/run/systemd/ask-password
mkdir -p /run/zcboot "$dir"
declare -A seen
n=0
while :; do
  for f in "$dir"/ask.*; do
    [[ -f $f && -z ${seen[$f]:-} ]] || continue
    seen[$f]=1
    id=$(sed -n 's/^Id=//p' "$f") socket=$(sed -n 's/^Socket=//p' "$f")
    [[ $id == cryptsetup:* && -n $socket ]] || continue
    n=$((n + 1))
    answer=$(sed -n "${n}p" /etc/zcboot/answers 2>/dev/null)
    [[ -n $answer ]] || answer=$(tail -n 1 /etc/zcboot/answers 2>/dev/null)
    echo "$id" >> /run/zcboot/asks
    echo "ZCBOOT agent: question $n, Id=$id, answering with answer line $n"
    printf '%s' "$answer" | /lib/systemd/systemd-reply-password 1 "$socket"
  done
  sleep 0.2
done

#!/bin/sh
# make demo: plant a canary secret in a throwaway HOME, then run real
# commands in the sandbox and show what they can and cannot reach.
set -u
BUILD=${BUILD:-build}
STOCKADE=$(cd "$BUILD" && pwd)/stockade
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/home/.aws" "$demo/project"
echo "aws_secret_access_key = demo-canary-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" > "$demo/home/.aws/credentials"
echo 'int main(void) { return 0; }' > "$demo/project/main.c"
cd "$demo/project"
export HOME="$demo/home"

step() { printf '\n$ stockade run -- %s\n' "$*"; "$STOCKADE" run -- "$@"; echo "(exit $?)"; }

echo "A canary secret sits in $HOME/.aws/credentials on the host."
step sh -c 'cat ~/.aws/credentials || echo "-> refused: the secret is not in the sandbox"'
step sh -c 'echo built > out.txt && cat out.txt && echo "-> the workspace is writable"'
step sh -c 'touch /etc/x 2>&1; touch /usr/x 2>&1; echo "-> the system is read-only"'
step sh -c 'ps -e | wc -l; echo "-> only the sandbox processes are visible"'
step python3 -c '
import socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
except OSError as e:
    print("connect 1.1.1.1:53:", e, "-> no network")'
step sh -c 'unshare -U true 2>&1; echo "-> no new namespaces, no ptrace, no mount"'
printf '\n$ stockade run --timeout 1 -- sleep 10\n'
"$STOCKADE" run --timeout 1 -- sleep 10; echo "(exit $?)"
printf '\n$ stockade run --verbose -- true\n'
"$STOCKADE" run --verbose -- true

# A session: a refusal is a stop across turns, whatever path is tried next.
SESSION="demo-$$"
turn() { printf '\n$ stockade run --session %s -- sh -c %s\n' "$SESSION" "'$1'"; "$STOCKADE" run --session "$SESSION" -- sh -c "$1"; echo "(exit $?)"; }
turn 'cat ~/.aws/credentials'
turn 'ln -sf ~/.aws/credentials creds.link && cat creds.link'
turn 'python3 -c "print(open(\"/proc/self/root$HOME/.aws/credentials\").read())"'
turn 'cat ~/.aws/../.aws/credentials'
printf '\n$ stockade session show %s\n' "$SESSION"
"$STOCKADE" session show "$SESSION"

# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shell scripts of the build pod, run with /bin/sh -c: a module of their own, so that they can be read,
run in tests and shellchecked (SHELL_SCRIPTS) apart from the renderer (pod/render.py), which only places them.

The init and export containers run CLONE_SCRIPT, RECEIVE_SCRIPT and EXPORT_SCRIPT; the module runs the
*_EXEC scripts through exec in those containers, with their values as arguments ($1, $2, ...), never
inside the script. The paths below are those the scripts name; pod/render.py mounts the volumes there.
"""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import WORKSPACE

TERMINATION_LOG = '/dev/termination-log'
GIT_SECRET_DIR = '/var/run/kiln/git-secret'
# The receive container ends once this file exists; the module's exec makes it after unpacking the context.
RECEIVED = WORKSPACE + '/.kiln-received'
# The export container ends once this file exists (release_command).
EXPORT_STATE_DIR = '/kiln/state'
RELEASED = EXPORT_STATE_DIR + '/released'

# Runs in the clone container with /bin/sh -c. Everything it needs comes from KILN_* variables
# and the files of the git.secret Secret; it holds no value of its own. kiln.kaniko.container_build runs
# it on the module's host, naming its own private directories in KILN_GIT_SECRET_DIR and
# KILN_TERMINATION_LOG instead of the pod's mounts.
CLONE_SCRIPT = r'''set -eu
secret_dir=${KILN_GIT_SECRET_DIR:-/var/run/kiln/git-secret}
termination=${KILN_TERMINATION_LOG:-/dev/termination-log}
err="$HOME/git-stderr"

fail() {
    printf 'kiln clone: %s\n' "$*" >&2
    printf '%s\n' "$*" >"$termination" || :
    exit 1
}

git_logged() {
    status=0
    git "$@" 2>"$err" || status=$?
    cat "$err" >&2
    [ "$status" -eq 0 ] && return 0
    last=$(grep -v '^[[:space:]]*$' "$err" | tail -n 1)
    return "$status"
}

last=
mkdir -p "$HOME/.ssh"
chmod 700 "$HOME/.ssh"
git config --global init.defaultBranch main
git config --global advice.detachedHead false

case "$KILN_GIT_TRANSPORT" in
ssh)
    [ -n "$KILN_GIT_SECRET" ] ||
        fail "git.repo is an SSH URL: name a Secret with the keys ssh-privatekey and known_hosts in git.secret"
    [ -f "$secret_dir/ssh-privatekey" ] ||
        fail "Secret '$KILN_GIT_SECRET' (git.secret) has no key ssh-privatekey, which an SSH URL needs"
    [ -f "$secret_dir/known_hosts" ] ||
        fail "Secret '$KILN_GIT_SECRET' (git.secret) has ssh-privatekey but no known_hosts;" \
            "add the server's host keys (ssh-keyscan HOST) under the key known_hosts"
    grep -q "^[^:]*:[^:]*:$(id -u):" /etc/passwd ||
        fail "uid $(id -u) has no entry in /etc/passwd of git_image, and ssh needs one"
    cp "$secret_dir/ssh-privatekey" "$HOME/.ssh/id"
    chmod 600 "$HOME/.ssh/id"
    GIT_SSH_COMMAND="ssh -F /dev/null -i $HOME/.ssh/id -o IdentitiesOnly=yes -o BatchMode=yes"
    GIT_SSH_COMMAND="$GIT_SSH_COMMAND -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$secret_dir/known_hosts"
    export GIT_SSH_COMMAND
    echo "kiln clone: SSH key from Secret '$KILN_GIT_SECRET'"
    ;;
*)
    if [ -n "$KILN_GIT_SECRET" ]; then
        if [ -f "$secret_dir/token" ]; then
            echo "kiln clone: token from Secret '$KILN_GIT_SECRET'"
        elif [ -f "$secret_dir/username" ] && [ -f "$secret_dir/password" ]; then
            echo "kiln clone: username and password from Secret '$KILN_GIT_SECRET'"
        else
            fail "Secret '$KILN_GIT_SECRET' (git.secret) has neither a key token nor the keys username and password"
        fi
        helper="$HOME/git-credential-kiln"
        printf '#!/bin/sh\nd="%s"\n' "$secret_dir" >"$helper"
        cat >>"$helper" <<'HELPER'
[ "$1" = get ] || exit 0
if [ -f "$d/token" ]; then
    user=x-access-token
    [ -f "$d/username" ] && user=$(cat "$d/username")
    printf 'username=%s\npassword=%s\n' "$user" "$(cat "$d/token")"
else
    printf 'username=%s\npassword=%s\n' "$(cat "$d/username")" "$(cat "$d/password")"
fi
HELPER
        chmod 700 "$helper"
        rest=${KILN_GIT_REPO#*://}
        host=${rest%%/*}
        host=${host##*@}
        git config --global "credential.${KILN_GIT_REPO%%://*}://$host.helper" "$helper"
    fi
    ;;
esac

is_commit() {
    case "$1" in *[!0-9a-f]*) return 1 ;; esac
    [ ${#1} -ge 7 ] && [ ${#1} -le 64 ]
}

depth=
[ "$KILN_GIT_DEPTH" -gt 0 ] && depth="--depth=$KILN_GIT_DEPTH"
git init -q "$KILN_SRC"
cd "$KILN_SRC"
git remote add origin "$KILN_GIT_REPO"
echo "kiln clone: fetching $KILN_GIT_VERSION from $KILN_GIT_REPO"
# shellcheck disable=SC2086
if git_logged fetch --no-tags $depth origin "$KILN_GIT_VERSION"; then
    git checkout -q --detach FETCH_HEAD
elif is_commit "$KILN_GIT_VERSION"; then
    echo "kiln clone: $KILN_GIT_VERSION was not served directly; fetching all branches and tags"
    git_logged fetch origin '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*' ||
        fail "could not fetch $KILN_GIT_REPO: $last"
    git checkout -q --detach "$KILN_GIT_VERSION^{commit}" ||
        fail "commit $KILN_GIT_VERSION (git.version) is not in $KILN_GIT_REPO"
else
    fail "could not fetch '$KILN_GIT_VERSION' (git.version) from $KILN_GIT_REPO: $last"
fi

# The module resolved git.version before the build and labelled the image with that commit:
# build that commit, also when the branch has moved since.
if [ -n "${KILN_GIT_COMMIT:-}" ] && [ "$(git rev-parse HEAD)" != "$KILN_GIT_COMMIT" ]; then
    echo "kiln clone: $KILN_GIT_VERSION has moved since the build started; fetching $KILN_GIT_COMMIT"
    # shellcheck disable=SC2086
    git_logged fetch --no-tags $depth origin "$KILN_GIT_COMMIT" ||
        git_logged fetch origin '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*' ||
        fail "could not fetch $KILN_GIT_REPO: $last"
    git checkout -q --detach "$KILN_GIT_COMMIT^{commit}" ||
        fail "commit $KILN_GIT_COMMIT ($KILN_GIT_VERSION when the build started) is not in $KILN_GIT_REPO"
fi

if [ "$KILN_GIT_SUBMODULES" = true ]; then
    echo "kiln clone: updating submodules"
    # shellcheck disable=SC2086
    git_logged submodule update --init --recursive $depth ||
        git_logged submodule update --init --recursive ||
        fail "could not update the submodules: $last"
fi

commit=$(git rev-parse HEAD)
echo "kiln clone: checked out $commit"
printf '%s' "$commit" >"$termination"
'''

RECEIVE_SCRIPT = 'until [ -e {0} ]; do sleep 0.2; done; echo "kiln receive: build context received"'.format(RECEIVED)
EXPORT_SCRIPT = 'until [ -e {0} ]; do sleep 0.5; done'.format(RELEASED)

# Run through exec, with their values as arguments ($1, $2, ...), never inside the script.
# The exec protocol cannot close stdin, so head reads exactly the tar's size; cat drains what tar
# leaves after its end-of-archive blocks, so that head never writes into a closed pipe.
RECEIVE_EXEC = 'mkdir -p "$1" && head -c "$2" | { tar -x -f - -C "$1" && cat >/dev/null; } && touch "$3"'
# The tarball's size on stderr, then its bytes on stdout.
FETCH_EXEC = 'stat -c %s "$1" >&2 && exec cat "$1"'
# On the claim: size and sha256 of the partial file, then rename it to the name asked for.
KEEP_EXEC = ('cd "$1" && test -f "$2" && stat -c %s "$2" && sha256sum "$2" | cut -d " " -f 1 && '
             'mv -f "$2" "$3"')
DISCARD_EXEC = 'rm -f "$1"'
RELEASE_EXEC = 'touch "$1"'

# Every script, by a name for messages: what a shell linter checks.
SHELL_SCRIPTS = (
    ('clone', CLONE_SCRIPT),
    ('receive', RECEIVE_SCRIPT),
    ('export', EXPORT_SCRIPT),
    ('receive exec', RECEIVE_EXEC),
    ('fetch exec', FETCH_EXEC),
    ('keep exec', KEEP_EXEC),
    ('discard exec', DISCARD_EXEC),
    ('release exec', RELEASE_EXEC),
)

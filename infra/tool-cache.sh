# Sourced by the scripts that install tools (infra/tools.sh, tests/services.sh, tests/tools.sh,
# tests/fuzz.sh): where the tools go. Each tool at each pinned version gets a directory of its
# own in a cache of the machine's, outside the clone, so a second clone on the same machine (a
# fresh CI checkout, a colleague's worktree) finds tansu and the rest built:
#
#   $TOOLS_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/shared-carts/tools)/<tool>-<version>/
#
# Nothing there is trusted blindly: a tool is used only once it answers with its pinned version,
# and is installed again otherwise. Installs hold the cache's lock (flock), so two runs on one
# machine never install into one directory at once.

TOOLS_CACHE="${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shared-carts/tools}"

# tool_dir NAME VERSION: the cache's directory for that tool at that version.
tool_dir() { printf '%s/%s-%s' "$TOOLS_CACHE" "$1" "$2"; }

# ensure_tool CHECK INSTALL: runs the function INSTALL, holding the lock, unless the function
# CHECK passes (it is asked again once the lock is held: another run may have installed it), and
# fails unless CHECK passes afterwards.
ensure_tool() {
  "$1" >/dev/null 2>&1 && return 0
  mkdir -p "$TOOLS_CACHE"
  (
    flock 9
    "$1" >/dev/null 2>&1 || "$2"
  ) 9>"$TOOLS_CACHE/.lock"
  "$1" >/dev/null 2>&1 || { echo "$2 ran, and $1 still fails" >&2; return 1; }
}

# A Python virtualenv at DIR holding exactly these pins (pip freeze lines): checked, or made.
venv_has() { # dir pin...
  local dir="$1" frozen pin
  shift
  frozen="$("$dir/bin/pip" freeze 2>/dev/null)" || return 1
  for pin in "$@"; do grep -qix "$pin" <<<"$frozen" || return 1; done
}
venv_install() { # dir pin...
  local dir="$1"
  shift
  # A virtualenv whose Python went away (the system's was upgraded) is made again.
  "$dir/bin/python" -c '' 2>/dev/null || python3 -m venv --clear "$dir" >&2
  "$dir/bin/pip" install -q "$@" >&2
}

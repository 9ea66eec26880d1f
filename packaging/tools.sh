# shellcheck shell=bash
# The list of tools (packaging/tools) for shell scripts: source it, then
#   tools [KIND]        the names, in order (KIND: agent or command)
#   tool_crate NAME     its crate (cargo -p)
#   tool_summary NAME   its one-line summary
#   tool_kind NAME      agent or command
#   tool_packages       -p CRATE for every tool (cargo build)
_tools_file=$(dirname "${BASH_SOURCE[0]}")/tools
_tools_rows() { grep -v '^[[:space:]]*\(#\|$\)' "$_tools_file"; }
tools() { _tools_rows | awk -v k="${1:-}" 'k == "" || $3 == k { print $1 }'; }
tool_crate() { _tools_rows | awk -v n="$1" '$1 == n { print $2 }'; }
tool_summary() { _tools_rows | awk -v n="$1" '$1 == n { $1 = $2 = $3 = ""; sub(/^ +/, ""); print }'; }
tool_kind() { _tools_rows | awk -v n="$1" '$1 == n { print $3 }'; }
# `-p CRATE` for every tool, for cargo build
tool_packages() { _tools_rows | awk '{ printf "-p %s ", $2 }'; }

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# steps.sh (sourced): numbered, timed steps for the long commands
# (make check, make demo, make bench).
#
#   steps_begin NAME TOTAL      e.g. steps_begin check 12
#   step TITLE -- COMMAND...    runs COMMAND, prints its number, title and time;
#                               stops the script with COMMAND's status on failure
#   steps_end                   prints every step's time
#
# One line before and one after each step, so that a long run says where it
# is, and a failure says which step failed and after how long.

steps_name='' steps_total=0 steps_n=0 steps_t0=0
steps_log=()

steps_begin() {
	steps_name=$1
	steps_total=$2
	steps_n=0
	steps_t0=$(date +%s)
	steps_log=()
}

steps_fmt() {
	local s=$1
	if [ "$s" -ge 60 ]; then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

step() {
	local title=$1 t0 rc=0 el
	shift
	[ "${1:-}" = -- ] && shift
	steps_n=$((steps_n + 1))
	echo
	echo "==== [$steps_name $steps_n/$steps_total] $title"
	t0=$(date +%s)
	"$@" || rc=$?
	el=$(($(date +%s) - t0))
	if [ "$rc" -ne 0 ]; then
		echo "**** [$steps_name $steps_n/$steps_total] $title: FAILED (exit $rc) after $(steps_fmt "$el")" >&2
		steps_log+=("$(printf '%8s  %s  FAILED' "$(steps_fmt "$el")" "$title")")
		steps_summary >&2
		exit "$rc"
	fi
	echo "---- [$steps_name $steps_n/$steps_total] $title: done in $(steps_fmt "$el")"
	steps_log+=("$(printf '%8s  %s' "$(steps_fmt "$el")" "$title")")
}

steps_summary() {
	local l
	echo
	echo "==== $steps_name: steps and their times"
	for l in "${steps_log[@]}"; do
		echo "  $l"
	done
	echo "  $(printf '%8s' "$(steps_fmt $(($(date +%s) - steps_t0)))")  total"
}

steps_end() {
	steps_summary
	echo "$steps_name: all $steps_n steps passed"
}

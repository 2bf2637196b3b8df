#!/usr/bin/env bash
# git: init, many commits, gc, fsck, under kmem and under glibc; the commit
# and tree hashes must be the same (dates and authors are fixed).
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd git

export GIT_AUTHOR_NAME=kmem GIT_AUTHOR_EMAIL=kmem@example.org
export GIT_COMMITTER_NAME=kmem GIT_COMMITTER_EMAIL=kmem@example.org
export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 HOME="$tmp"

# The job, the same under both allocators; every git in it inherits the
# preload (git gc alone runs pack-objects, repack, prune, ...).
cat >"$tmp/job.sh" <<'JOB'
set -e
d=$1
git init -q -b main "$d"
cd "$d"
git config gc.auto 0
git config pack.threads 1
for c in $(seq 1 25); do
	mkdir -p dir0 dir1 dir2 dir3 dir4 dir5 dir6
	for f in $(seq 1 80); do
		seq $((c * f)) $((c * f + f * 3)) >"dir$((f % 7))/file$f.txt"
	done
	printf 'commit %d\n' "$c" >>log.txt
	git add -A
	git commit -q -m "commit $c"
done
git gc -q --aggressive
git fsck --full --strict --no-progress
git log --format='%H %T %s'
git count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
git rev-list --objects --all | wc -l
JOB
run_glibc "$tmp/g.out" "$tmp/g.err" bash "$tmp/job.sh" "$tmp/g" ||
	{ tail "$tmp/g.err"; fail "git job under glibc"; }
run_kmem "$tmp/k.out" "$tmp/k.err" bash "$tmp/job.sh" "$tmp/k" ||
	{ grep -v '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' "$tmp/k.err" | tail; fail "git job under kmem"; }
check_loaded "$tmp/k.err"
[ "$(grep -c ' commit ' "$tmp/k.out")" = 25 ] || fail "git log does not list 25 commits"
same "$tmp/g.out" "$tmp/k.out" "commit/tree hashes, fsck, object counts"

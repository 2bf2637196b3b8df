#!/usr/bin/env bash
# A C++ program: operator new/delete (plain, sized, aligned), containers,
# std::bad_alloc, under kmem and under glibc.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd g++
g++ -O1 -std=c++17 "$root/tests/progs/cxx_new.cc" -o "$tmp/cxx_new" ||
	fail "g++ cannot build tests/progs/cxx_new.cc"
run_glibc "$tmp/g.out" "$tmp/g.err" "$tmp/cxx_new" || { cat "$tmp/g.out"; fail "under glibc"; }
run_kmem "$tmp/k.out" "$tmp/k.err" "$tmp/cxx_new" || { cat "$tmp/k.out"; tail "$tmp/k.err"; fail "under kmem"; }
check_loaded "$tmp/k.err"
same "$tmp/g.out" "$tmp/k.out" "C++ program output"

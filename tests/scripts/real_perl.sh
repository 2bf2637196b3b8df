#!/usr/bin/env bash
# perl on a heavy text job (20 MB of generated text: word frequencies,
# regex substitutions, a big sort, hashes of arrays) under kmem and glibc.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd perl

# The text: deterministic, generated once with glibc.
run_glibc "$tmp/text" "$tmp/gen.err" perl -e '
	my @syl = qw(ka lo mi nu pe ra si to vu we xa yo ze an el in on ur);
	my $x = 12345; my $bytes = 0;
	while ($bytes < 20_000_000) {
		my @w;
		for (1 .. 12) {
			$x = ($x * 1103515245 + 12345) % 2147483648;
			my $n = 1 + $x % 4; my $w = "";
			$w .= $syl[($x >> ($_ * 4)) % @syl] for 1 .. $n;
			push @w, $w;
		}
		my $line = join(" ", @w) . ($x % 5 ? ".\n" : ", 42 and 7.\n");
		print $line; $bytes += length $line;
	}' || fail "generating the text"

job='
	my (%freq, %pos, $lines, $subs);
	while (my $l = <STDIN>) {
		$lines++;
		$subs += ($l =~ s/\b(\w)(\w*)\b/\u$1\L$2/g);
		$subs += ($l =~ s/(\d+)/<$1>/g);
		for my $w (split /\W+/, lc $l) {
			next unless length $w;
			$freq{$w}++;
			push @{$pos{substr($w, 0, 2)}}, $lines if $freq{$w} < 3;
		}
	}
	my @top = sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq;
	print "lines $lines, substitutions $subs, distinct ", scalar(@top), "\n";
	print "$_ $freq{$_}\n" for @top[0 .. 199];
	my @keys = sort { scalar(@{$pos{$b}}) <=> scalar(@{$pos{$a}}) || $a cmp $b } keys %pos;
	print "$_ ", scalar(@{$pos{$_}}), " ", join(",", @{$pos{$_}}[0 .. 4]), "\n" for @keys[0 .. 49];
	my $joined = join("", map { $_ x 3 } @top[0 .. 999]);
	print "joined ", length($joined), "\n";
'
run_glibc "$tmp/g.out" "$tmp/g.err" perl -e "$job" <"$tmp/text" ||
	{ tail "$tmp/g.err"; fail "perl under glibc"; }
run_kmem "$tmp/k.out" "$tmp/k.err" perl -e "$job" <"$tmp/text" ||
	{ tail "$tmp/k.err"; fail "perl under kmem"; }
check_loaded "$tmp/k.err"
[ "$(wc -l <"$tmp/k.out")" = 252 ] || fail "perl printed $(wc -l <"$tmp/k.out") lines, not 252"
head -1 "$tmp/k.out" | sed 's/^/  /'
same "$tmp/g.out" "$tmp/k.out" "perl output"
show_totals "$tmp/k.err"

#!/usr/bin/env bash
# sqlite3 builds and queries a sizeable database (200k + 50k rows, indexes,
# joins, group by, sort, a vacuum) under kmem and under glibc.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd sqlite3

cat >"$tmp/build.sql" <<'SQL'
PRAGMA journal_mode = OFF;
PRAGMA cache_size = -65536;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL, note TEXT);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT, region TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO item SELECT x, (x * 7919) % 5000, printf('item-%06d-%s', x, hex(x * 31)),
	((x * 104729) % 100000) / 100.0, substr(printf('%.*c', 1 + x % 300, 'n'), 1)
	FROM c;
WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 49999)
INSERT INTO grp SELECT x, printf('group %d', x), char(65 + x % 26) || char(65 + x % 7) FROM c;
CREATE INDEX item_grp ON item(grp, price);
CREATE INDEX item_name ON item(name);
CREATE INDEX grp_region ON grp(region);
UPDATE item SET note = note || upper(name) WHERE id % 3 = 0;
DELETE FROM item WHERE id % 17 = 0;
VACUUM;
SQL
cat >"$tmp/query.sql" <<'SQL'
SELECT count(*), sum(price), min(name), max(name), sum(length(note)) FROM item;
SELECT g.region, count(*), round(avg(i.price), 4), max(length(i.note))
	FROM item i JOIN grp g ON g.id = i.grp GROUP BY g.region ORDER BY g.region;
SELECT grp, count(*) AS n, group_concat(id, ',') FROM
	(SELECT grp, id FROM item WHERE price BETWEEN 100 AND 101 ORDER BY id)
	GROUP BY grp ORDER BY n DESC, grp LIMIT 50;
SELECT name, price FROM item ORDER BY price DESC, name LIMIT 100;
SELECT count(DISTINCT substr(name, 1, 9)), count(DISTINCT note) FROM item;
PRAGMA integrity_check;
SQL

for who in glibc kmem; do
	run_$who "$tmp/$who.build.out" "$tmp/$who.build.err" \
		sqlite3 "$tmp/$who.db" ".read $tmp/build.sql" ||
		{ cat "$tmp/$who.build.err" | tail; fail "sqlite3 build under $who"; }
	run_$who "$tmp/$who.q" "$tmp/$who.q.err" \
		sqlite3 "$tmp/$who.db" ".read $tmp/query.sql" ||
		{ tail "$tmp/$who.q.err"; fail "sqlite3 queries under $who"; }
	run_$who "$tmp/$who.dump" "$tmp/$who.dump.err" \
		sqlite3 "$tmp/$who.db" .dump || fail "sqlite3 .dump under $who"
done
check_loaded "$tmp/kmem.build.err"
check_loaded "$tmp/kmem.q.err"
grep -q '^ok$' "$tmp/kmem.q" || fail "integrity_check under kmem"
[ "$(head -1 "$tmp/kmem.q" | cut -d'|' -f1)" = 188236 ] ||
	fail "unexpected row count: $(head -1 "$tmp/kmem.q")"
same "$tmp/glibc.q" "$tmp/kmem.q" "query results"
same "$tmp/glibc.dump" "$tmp/kmem.dump" "database dump"
show_totals "$tmp/kmem.build.err"

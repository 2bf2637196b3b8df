-- SPDX-License-Identifier: MIT
-- bench/sqlite_workload.sql - sqlite3 workload for the allocator benchmarks.
-- bench/run.py replaces @ROWS@ and feeds this to `sqlite3 :memory:`.
-- Rows come from a recursive CTE, so the work is deterministic.
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL,
               payload BLOB);
CREATE INDEX t_grp ON t(grp, name);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @ROWS@)
INSERT INTO t(grp, name, val, payload)
  SELECT (i * 7919) % 1000, printf('name-%08d-%s', (i * 104729) % @ROWS@,
         substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26)),
         (i * 31337 % 100000) / 100.0, zeroblob(16 + i % 200)
  FROM n;
COMMIT;
SELECT grp, count(*), avg(val), max(name) FROM t GROUP BY grp
  ORDER BY 3 DESC LIMIT 3;
SELECT count(DISTINCT name), sum(length(payload)) FROM t;
SELECT a.grp, count(*) FROM t a JOIN t b ON b.id = a.id + 1
  WHERE b.grp > a.grp GROUP BY a.grp ORDER BY 2 DESC LIMIT 3;
UPDATE t SET name = name || '-u' WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*) FROM t;

-- The workload of traces/real-sqlite.rep: a small schema, inserts, an
-- index, joins, grouping and string functions, all in memory.
CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT, born INTEGER);
CREATE TABLE book(id INTEGER PRIMARY KEY, author INTEGER, title TEXT,
                  pages INTEGER, tags TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO author SELECT i, 'author ' || i || ' ' || substr('abcdefghij', 1 + i % 10),
                          1900 + (i * 37) % 120 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO book SELECT i, 1 + (i * 7) % 300, 'title number ' || i,
                        50 + (i * 13) % 900,
                        printf('%s,%s,%s', i % 5, i % 7, i % 11) FROM n;
CREATE INDEX book_author ON book(author);
SELECT a.name, count(*), sum(b.pages), group_concat(b.id, ' ')
  FROM author a JOIN book b ON b.author = a.id
 GROUP BY a.id ORDER BY sum(b.pages) DESC LIMIT 5;
SELECT born / 10 * 10 AS decade, count(*), avg(length(name))
  FROM author GROUP BY decade ORDER BY decade;
UPDATE book SET title = upper(title) || ' (2nd ed.)' WHERE pages > 600;
DELETE FROM book WHERE id % 9 = 0;
SELECT count(*), max(length(title)), min(tags) FROM book;
SELECT tags, count(*) FROM book GROUP BY tags ORDER BY count(*) DESC LIMIT 3;

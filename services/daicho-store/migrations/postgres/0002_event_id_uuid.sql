-- Event ids as the uuid type (16 bytes, compared byte by byte) instead of
-- text. The unique index on them is about half the size, and it no longer
-- depends on the database's collation: under a locale collation a text
-- index compares with the C library's rules, which are slower and can
-- change with the library's version. The table is rewritten once, in this
-- migration's transaction; the rows keep their seq and bytes, and the text
-- form of a uuid is the canonical form event ids already have.
ALTER TABLE entries ALTER COLUMN event_id TYPE uuid USING event_id::uuid;

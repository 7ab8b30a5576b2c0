-- Drops procrastinate's tables, functions and types from the current schema: the
-- downgrade of 0009, and a demo reset on PostgreSQL.
DO $$
DECLARE thing record;
BEGIN
    FOR thing IN SELECT tablename FROM pg_tables
        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', thing.tablename);
    END LOOP;
    FOR thing IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', thing.signature);
    END LOOP;
    FOR thing IN SELECT t.typname FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
            AND t.typtype IN ('e', 'c')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', thing.typname);
    END LOOP;
END $$;

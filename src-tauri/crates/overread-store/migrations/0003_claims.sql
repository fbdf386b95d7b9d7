-- One worklist for several readers: a study opened at a workstation is
-- claimed for its reader by a lease that the workstation renews while the
-- study is open. A lease that is not renewed (the reader left, the
-- workstation died) expires by the server's clock, never the workstations'.
-- Leases are working state, not a record: the record of a take-over is the
-- taking workstation's audit row, which reaches the store by the sync.

CREATE TABLE overread.claims (
    study_uid   text PRIMARY KEY CHECK (length(study_uid) BETWEEN 1 AND 64),
    workstation text NOT NULL CHECK (length(workstation) BETWEEN 1 AND 200),
    reader_id   text NOT NULL CHECK (length(reader_id) <= 200),
    reader_name text NOT NULL CHECK (length(reader_name) <= 200),
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- The reader finished the study: it is read, whatever the lease says.
    done        boolean NOT NULL DEFAULT false
);

CREATE INDEX claims_expiry ON overread.claims (expires_at);

-- Claims (or renews) a study for a reader at a workstation for `ttl`
-- seconds. A claim marked done (the reader finished the study and moved
-- on) stays, so that no other reader takes the study as unread; it counts
-- as held. Granted when nobody holds a live lease on it, when this
-- workstation holds it already, or when `take_over` says so; otherwise the
-- live holder is returned. `taken_from_*` name the live holder a take-over
-- displaced.
CREATE FUNCTION overread.claim(
    p_study text, p_ws text, p_reader_id text, p_reader_name text,
    p_ttl double precision, p_take_over boolean)
RETURNS TABLE (granted boolean, workstation text, reader_id text, reader_name text,
               claimed_at text, expires_in double precision, done boolean,
               taken_from_ws text, taken_from_reader text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, overread AS $$
#variable_conflict use_column
DECLARE
    c overread.claims;
    live boolean;
    mine boolean;
    from_ws text;
    from_reader text;
BEGIN
    IF p_ttl IS NULL OR p_ttl <= 0 OR p_ttl > 3600 THEN
        RAISE EXCEPTION 'a lease lasts between 0 and 3600 seconds, not %', p_ttl;
    END IF;
    INSERT INTO overread.claims AS k (study_uid, workstation, reader_id, reader_name, expires_at)
    VALUES (p_study, p_ws, p_reader_id, p_reader_name, now() + make_interval(secs => p_ttl))
    ON CONFLICT (study_uid) DO NOTHING;
    SELECT * INTO c FROM overread.claims k WHERE k.study_uid = p_study FOR UPDATE;
    live := c.done OR c.expires_at > now();
    mine := c.workstation = p_ws;
    IF live AND NOT mine THEN
        from_ws := c.workstation;
        from_reader := c.reader_name;
    END IF;
    IF mine OR NOT live OR p_take_over THEN
        UPDATE overread.claims k
           SET workstation = p_ws, reader_id = p_reader_id, reader_name = p_reader_name,
               claimed_at = CASE WHEN mine AND live THEN k.claimed_at ELSE now() END,
               expires_at = now() + make_interval(secs => p_ttl),
               done = false
         WHERE k.study_uid = p_study
        RETURNING * INTO STRICT c;
        RETURN QUERY SELECT true, c.workstation, c.reader_id, c.reader_name,
            to_char(c.claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            extract(epoch FROM c.expires_at - now())::double precision, c.done,
            from_ws, from_reader;
        RETURN;
    END IF;
    RETURN QUERY SELECT false, c.workstation, c.reader_id, c.reader_name,
        to_char(c.claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        extract(epoch FROM c.expires_at - now())::double precision, c.done,
        NULL::text, NULL::text;
END $$;

-- Gives up a workstation's lease on a study (the reader moved on); `done`:
-- the reader finished it, so the claim stays as the record that it is read.
CREATE FUNCTION overread.release(p_study text, p_ws text, p_done boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, overread AS $$
#variable_conflict use_column
BEGIN
    IF p_done THEN
        UPDATE overread.claims k SET done = true, expires_at = now()
         WHERE k.study_uid = p_study AND k.workstation = p_ws;
    ELSE
        DELETE FROM overread.claims k WHERE k.study_uid = p_study AND k.workstation = p_ws;
    END IF;
    RETURN FOUND;
END $$;

-- The department's copy of every workstation's audit log. The database
-- itself checks each row as it arrives: its hash recomputed from its
-- contents, its previous hash equal to the stored head of that workstation.
-- A row that does not extend the head (a local log rewritten, truncated or
-- replaced after it was synced) is refused and kept aside in the quarantine
-- with the reason. Nothing in these tables is ever updated or deleted.

CREATE TABLE overread.audit_rows (
    workstation            text   NOT NULL,
    seq                    bigint NOT NULL,
    recorded_at            text   NOT NULL,
    kind                   text   NOT NULL,
    reader_id              text,
    reader_name            text,
    reader_role            text,
    workstation_id         text,
    patient_id             text,
    accession_number       text,
    study_uid              text,
    series_uid             text,
    sop_uid                text,
    model_name             text,
    model_version          text,
    model_sha256           text,
    execution_provider     text,
    finding                text,
    ai_score               float8,
    threshold              float8,
    ai_flagged             bigint,
    decision               text,
    region                 text,
    reason                 text,
    display_to_decision_ms bigint,
    supersedes             bigint,
    app_version            text   NOT NULL,
    detail                 text,
    prev_hash              text   NOT NULL,
    row_hash               text   NOT NULL,
    received_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workstation, seq)
);

-- One row as a workstation sends it: the columns of its local log.
CREATE TYPE overread.row_in AS (
    seq                    bigint,
    recorded_at            text,
    kind                   text,
    reader_id              text,
    reader_name            text,
    reader_role            text,
    workstation_id         text,
    patient_id             text,
    accession_number       text,
    study_uid              text,
    series_uid             text,
    sop_uid                text,
    model_name             text,
    model_version          text,
    model_sha256           text,
    execution_provider     text,
    finding                text,
    ai_score               float8,
    threshold              float8,
    ai_flagged             bigint,
    decision               text,
    region                 text,
    reason                 text,
    display_to_decision_ms bigint,
    supersedes             bigint,
    app_version            text,
    detail                 text,
    prev_hash              text,
    row_hash               text
);

CREATE TABLE overread.quarantine (
    id          bigserial   PRIMARY KEY,
    workstation text        NOT NULL,
    seq         bigint      NOT NULL,
    row_hash    text        NOT NULL,
    reason      text        NOT NULL,
    row_in      overread.row_in NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workstation, seq, row_hash)
);

CREATE FUNCTION overread.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'overread: % on % refused: the department store is append-only', TG_OP, TG_TABLE_NAME;
END $$;

CREATE TRIGGER audit_rows_append_only BEFORE UPDATE OR DELETE ON overread.audit_rows
    FOR EACH ROW EXECUTE FUNCTION overread.refuse_change();
CREATE TRIGGER audit_rows_no_truncate BEFORE TRUNCATE ON overread.audit_rows
    FOR EACH STATEMENT EXECUTE FUNCTION overread.refuse_change();
CREATE TRIGGER quarantine_append_only BEFORE UPDATE OR DELETE ON overread.quarantine
    FOR EACH ROW EXECUTE FUNCTION overread.refuse_change();
CREATE TRIGGER quarantine_no_truncate BEFORE TRUNCATE ON overread.quarantine
    FOR EACH STATEMENT EXECUTE FUNCTION overread.refuse_change();

-- The canonical encoding of overread-audit's row.rs, column by column: a
-- type tag, then a big-endian payload (text length-prefixed, UTF-8).
CREATE FUNCTION overread.enc_text(v text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x00'::bytea
        ELSE '\x03'::bytea || int8send(octet_length(convert_to(v, 'UTF8'))::bigint) || convert_to(v, 'UTF8') END
$$;
CREATE FUNCTION overread.enc_int(v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int8send(v) END
$$;
CREATE FUNCTION overread.enc_real(v float8) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x00'::bytea ELSE '\x02'::bytea || float8send(v) END
$$;

-- SHA-256(prev_hash ‖ canonical bytes), hex: the hash the row must carry.
CREATE FUNCTION overread.row_hash(r overread.row_in) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(
        convert_to(r.prev_hash, 'UTF8')
        || convert_to('overread-audit-row-v1', 'UTF8') || '\x00'::bytea
        || int8send(r.seq)
        || overread.enc_text(r.recorded_at) || overread.enc_text(r.kind)
        || overread.enc_text(r.reader_id) || overread.enc_text(r.reader_name)
        || overread.enc_text(r.reader_role) || overread.enc_text(r.workstation_id)
        || overread.enc_text(r.patient_id) || overread.enc_text(r.accession_number)
        || overread.enc_text(r.study_uid) || overread.enc_text(r.series_uid)
        || overread.enc_text(r.sop_uid) || overread.enc_text(r.model_name)
        || overread.enc_text(r.model_version) || overread.enc_text(r.model_sha256)
        || overread.enc_text(r.execution_provider) || overread.enc_text(r.finding)
        || overread.enc_real(r.ai_score) || overread.enc_real(r.threshold)
        || overread.enc_int(r.ai_flagged) || overread.enc_text(r.decision)
        || overread.enc_text(r.region) || overread.enc_text(r.reason)
        || overread.enc_int(r.display_to_decision_ms) || overread.enc_int(r.supersedes)
        || overread.enc_text(r.app_version) || overread.enc_text(r.detail)
    ), 'hex')
$$;

-- Takes a workstation's rows in order. Rows the store holds already (the
-- same hash) are skipped, so a replay after a crash or a lost reply inserts
-- nothing twice. The first row that does not extend the stored head is
-- quarantined with the reason, and the rest of the batch is left: the
-- workstation's chain is broken there until an administrator looks.
CREATE FUNCTION overread.ingest(ws text, batch overread.row_in[])
RETURNS TABLE (inserted bigint, duplicates bigint, refused_seq bigint, refused_reason text,
               head_seq bigint, head_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, overread AS $$
DECLARE
    r overread.row_in;
    h_seq bigint := 0;
    h_hash text := '0000000000000000000000000000000000000000000000000000000000000000';
    stored text;
    why text;
    n_ins bigint := 0;
    n_dup bigint := 0;
BEGIN
    IF ws IS NULL OR length(ws) = 0 OR length(ws) > 200 THEN
        RAISE EXCEPTION 'overread: a workstation id of 1 to 200 characters is required';
    END IF;
    -- One ingest per workstation at a time.
    PERFORM pg_advisory_xact_lock(hashtextextended('overread.ingest:' || ws, 0));
    SELECT a.seq, a.row_hash INTO h_seq, h_hash
        FROM overread.audit_rows a WHERE a.workstation = ws ORDER BY a.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        h_seq := 0;
        h_hash := '0000000000000000000000000000000000000000000000000000000000000000';
    END IF;
    FOREACH r IN ARRAY coalesce(batch, ARRAY[]::overread.row_in[]) LOOP
        why := NULL;
        IF r.seq IS NULL OR r.row_hash IS NULL OR r.prev_hash IS NULL THEN
            why := 'a row without its sequence number or hashes';
        ELSIF r.seq <= h_seq THEN
            SELECT a.row_hash INTO stored FROM overread.audit_rows a
                WHERE a.workstation = ws AND a.seq = r.seq;
            IF stored = r.row_hash THEN
                n_dup := n_dup + 1;
                CONTINUE;
            END IF;
            why := format('row %s differs from the row %s the store already holds: the local log was changed after it was synced', r.seq, r.seq);
        ELSIF r.seq <> h_seq + 1 THEN
            why := format('row %s does not follow the stored head, row %s: rows are missing', r.seq, h_seq);
        ELSIF r.prev_hash <> h_hash THEN
            why := format('row %s does not extend the stored head (its previous hash is not the hash of row %s): the local log was rewritten or replaced', r.seq, h_seq);
        ELSIF overread.row_hash(r) <> r.row_hash THEN
            why := format('row %s: its hash does not match its contents', r.seq);
        END IF;
        IF why IS NOT NULL THEN
            INSERT INTO overread.quarantine (workstation, seq, row_hash, reason, row_in)
                VALUES (ws, coalesce(r.seq, -1), coalesce(r.row_hash, ''), why, r)
                ON CONFLICT DO NOTHING;
            RETURN QUERY SELECT n_ins, n_dup, r.seq, why, h_seq, h_hash;
            RETURN;
        END IF;
        INSERT INTO overread.audit_rows (
            workstation, seq, recorded_at, kind, reader_id, reader_name, reader_role,
            workstation_id, patient_id, accession_number, study_uid, series_uid, sop_uid,
            model_name, model_version, model_sha256, execution_provider, finding, ai_score,
            threshold, ai_flagged, decision, region, reason, display_to_decision_ms,
            supersedes, app_version, detail, prev_hash, row_hash)
        VALUES (
            ws, r.seq, r.recorded_at, r.kind, r.reader_id, r.reader_name, r.reader_role,
            r.workstation_id, r.patient_id, r.accession_number, r.study_uid, r.series_uid, r.sop_uid,
            r.model_name, r.model_version, r.model_sha256, r.execution_provider, r.finding, r.ai_score,
            r.threshold, r.ai_flagged, r.decision, r.region, r.reason, r.display_to_decision_ms,
            r.supersedes, r.app_version, r.detail, r.prev_hash, r.row_hash);
        h_seq := r.seq;
        h_hash := r.row_hash;
        n_ins := n_ins + 1;
    END LOOP;
    RETURN QUERY SELECT n_ins, n_dup, NULL::bigint, NULL::text, h_seq, h_hash;
END $$;

-- Workstations reach the tables only through ingest and the read-only views
-- an administrator grants (SECURITY.md).
REVOKE ALL ON overread.audit_rows, overread.quarantine FROM PUBLIC;
REVOKE ALL ON FUNCTION overread.ingest(text, overread.row_in[]) FROM PUBLIC;

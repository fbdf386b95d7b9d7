-- A workstation's chain walked in the store: every row's hash recomputed
-- from its columns and each row's previous hash equal to the row before.
-- What governance runs to show the copy it reports on is intact.

CREATE FUNCTION overread.verify(ws text)
RETURNS TABLE (verified bigint, bad_seq bigint, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, overread AS $$
DECLARE
    a overread.audit_rows;
    prev text := '0000000000000000000000000000000000000000000000000000000000000000';
    expect bigint := 1;
    n bigint := 0;
BEGIN
    FOR a IN SELECT * FROM overread.audit_rows r WHERE r.workstation = ws ORDER BY r.seq LOOP
        IF a.seq <> expect THEN
            RETURN QUERY SELECT n, a.seq, format('row %s follows row %s: rows are missing', a.seq, expect - 1);
            RETURN;
        END IF;
        IF a.prev_hash <> prev THEN
            RETURN QUERY SELECT n, a.seq, format('row %s does not extend row %s', a.seq, expect - 1);
            RETURN;
        END IF;
        IF overread.row_hash(ROW(
            a.seq, a.recorded_at, a.kind, a.reader_id, a.reader_name, a.reader_role,
            a.workstation_id, a.patient_id, a.accession_number, a.study_uid, a.series_uid, a.sop_uid,
            a.model_name, a.model_version, a.model_sha256, a.execution_provider, a.finding, a.ai_score,
            a.threshold, a.ai_flagged, a.decision, a.region, a.reason, a.display_to_decision_ms,
            a.supersedes, a.app_version, a.detail, a.prev_hash, a.row_hash)::overread.row_in) <> a.row_hash THEN
            RETURN QUERY SELECT n, a.seq, format('row %s: its hash does not match its contents', a.seq);
            RETURN;
        END IF;
        prev := a.row_hash;
        expect := expect + 1;
        n := n + 1;
    END LOOP;
    RETURN QUERY SELECT n, NULL::bigint, NULL::text;
END $$;

REVOKE ALL ON FUNCTION overread.verify(text) FROM PUBLIC;

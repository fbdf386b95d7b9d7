//! One worklist for several readers: leases on studies, kept by the
//! database's clock (`overread.claim` in the migrations). A workstation
//! claims the study its reader opens and renews the claim while it is open;
//! a claim nobody renews expires.

use crate::{Result, Store};

/// Who holds a study.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub study_uid: String,
    pub workstation: String,
    pub reader_id: String,
    pub reader_name: String,
    /// When this holder claimed it (RFC 3339, UTC).
    pub claimed_at: String,
    /// Seconds until the lease expires unless renewed.
    pub expires_in: f64,
    /// The reader finished the study and moved on: it is read.
    pub done: bool,
}

/// What asking for a study got.
#[derive(Debug, Clone, PartialEq)]
pub enum Claimed {
    /// The lease is this workstation's; a take-over names whom it displaced
    /// (workstation, reader name).
    Granted {
        claim: Claim,
        taken_from: Option<(String, String)>,
    },
    /// Somebody else holds a live lease.
    HeldBy(Claim),
}

/// What a workstation asks for.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    pub study_uid: &'a str,
    pub workstation: &'a str,
    pub reader_id: &'a str,
    pub reader_name: &'a str,
    /// How long the lease lasts unless renewed, in seconds.
    pub ttl: f64,
    /// Take the study over from a live holder.
    pub take_over: bool,
}

impl Store {
    /// Claims or renews a study (see [`ClaimRequest`]).
    pub async fn claim(&self, r: ClaimRequest<'_>) -> Result<Claimed> {
        let row = self
            .timed(self.client.query_one(
                "SELECT granted, workstation, reader_id, reader_name, claimed_at, expires_in, done, \
                 taken_from_ws, taken_from_reader FROM overread.claim($1, $2, $3, $4, $5, $6)",
                &[
                    &r.study_uid,
                    &r.workstation,
                    &r.reader_id,
                    &r.reader_name,
                    &r.ttl,
                    &r.take_over,
                ],
            ))
            .await?;
        let claim = Claim {
            study_uid: r.study_uid.to_string(),
            workstation: row.get(1),
            reader_id: row.get(2),
            reader_name: row.get(3),
            claimed_at: row.get(4),
            expires_in: row.get(5),
            done: row.get(6),
        };
        let from_ws: Option<String> = row.get(7);
        let from_reader: Option<String> = row.get(8);
        Ok(if row.get(0) {
            Claimed::Granted {
                claim,
                taken_from: from_ws.zip(from_reader),
            }
        } else {
            Claimed::HeldBy(claim)
        })
    }

    /// Gives up this workstation's lease on a study; `done`: the reader
    /// finished it, and the claim stays as the mark that it is read. False
    /// when this workstation held none.
    pub async fn release(&self, study_uid: &str, workstation: &str, done: bool) -> Result<bool> {
        let row = self
            .timed(self.client.query_one(
                "SELECT overread.release($1, $2, $3)",
                &[&study_uid, &workstation, &done],
            ))
            .await?;
        Ok(row.get(0))
    }

    /// The live or done claims on the given studies (Study Instance UIDs).
    pub async fn claims(&self, study_uids: &[String]) -> Result<Vec<Claim>> {
        let rows = self
            .timed(self.client.query(
                "SELECT study_uid, workstation, reader_id, reader_name, \
                 to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                 extract(epoch FROM expires_at - now())::double precision, done \
                 FROM overread.claims WHERE study_uid = ANY($1) AND (done OR expires_at > now()) \
                 ORDER BY claimed_at",
                &[&study_uids],
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Claim {
                study_uid: r.get(0),
                workstation: r.get(1),
                reader_id: r.get(2),
                reader_name: r.get(3),
                claimed_at: r.get(4),
                expires_in: r.get(5),
                done: r.get(6),
            })
            .collect())
    }
}

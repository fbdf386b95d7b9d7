//! DIMSE client (PS3.7, PS3.4 Annex C) on dicom-ul: C-ECHO, C-STORE of our
//! results objects, C-FIND at
//! study, series and image level (Study Root), C-GET of single instances,
//! whose C-STORE sub-operations arrive on the same association, and C-MOVE
//! of single instances to our own storage SCP ([`crate::scp`]). Either way
//! the instance is streamed into the cache. Data sets are encoded and
//! parsed by `overread-dicom::net`; this module only moves PDUs.
//!
//! Calls block; the async [`Client`](crate::Client) runs them on tokio's
//! blocking pool.

use crate::cache::{Cache, StoredObject};
use crate::config::{DimseSource, Source};
use crate::error::{Error, Result};
use crate::query::*;
use dicom_ul::ClientAssociationOptions;
use dicom_ul::association::client::{ClientAssociation, TlsStream};
use dicom_ul::association::{CloseSocket, SyncAssociation};
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu};
use overread_dicom::net::{self, EXPLICIT_VR_LE, IMPLICIT_VR_LE, NetDataset};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const VERIFICATION: &str = "1.2.840.10008.1.1";
const FIND_STUDY_ROOT: &str = "1.2.840.10008.5.1.4.1.2.2.1";
const GET_STUDY_ROOT: &str = "1.2.840.10008.5.1.4.1.2.2.3";
const MOVE_STUDY_ROOT: &str = "1.2.840.10008.5.1.4.1.2.2.2";
/// Storage SOP classes accepted from C-GET and C-MOVE: CR, DX (presentation
/// and processing), secondary capture, and the Comprehensive 3D SR our
/// results are read back as.
pub(crate) const STORAGE: [&str; 5] = [
    "1.2.840.10008.5.1.4.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.1.1",
    "1.2.840.10008.5.1.4.1.1.7",
    "1.2.840.10008.5.1.4.1.1.88.34",
];
/// One presentation context per group, so the PACS can send each instance
/// in the syntax it is stored in instead of transcoding it.
pub(crate) const SYNTAX_GROUPS: [&[&str]; 15] = [
    &[EXPLICIT_VR_LE, IMPLICIT_VR_LE],
    &["1.2.840.10008.1.2.4.90"],
    &["1.2.840.10008.1.2.4.91"],
    // HTJ2K lossless, lossless RPCL, and lossy (PS3.5 A.4.11).
    &["1.2.840.10008.1.2.4.201"],
    &["1.2.840.10008.1.2.4.202"],
    &["1.2.840.10008.1.2.4.203"],
    &["1.2.840.10008.1.2.4.50"],
    &["1.2.840.10008.1.2.4.51"],
    &["1.2.840.10008.1.2.4.57"],
    &["1.2.840.10008.1.2.4.70"],
    &["1.2.840.10008.1.2.4.80"],
    &["1.2.840.10008.1.2.4.81"],
    &["1.2.840.10008.1.2.5"],
    &["1.2.840.10008.1.2.1.99"],
    &["1.2.840.10008.1.2.2"],
];

/// Receives a message's data set fragments: (its command, context id, bytes).
type DataSink<'a> = dyn FnMut(&NetDataset, u8, &[u8]) -> Result<()> + 'a;

/// Largest PDU we accept.
pub(crate) const MAX_PDU: u32 = 65_536;

/// What arrived on an association.
pub(crate) enum Incoming {
    /// A message: its command set and the context it came on.
    Message(NetDataset, u8),
    /// The peer asked to release the association.
    Released,
}

/// A message received by [`DimseClient::receive_storing`]: a C-STORE-RQ's
/// data set has been streamed into the cache (`stored`).
pub(crate) struct StoreMessage {
    pub command: NetDataset,
    pub pc: u8,
    pub stored: Option<Result<StoredObject>>,
}

// Command set attributes (PS3.7 §E.1).
const AFFECTED_SOP_CLASS: u32 = 0x0000_0002;
pub(crate) const COMMAND_FIELD: u32 = 0x0000_0100;
const MESSAGE_ID: u32 = 0x0000_0110;
const RESPONDED_TO: u32 = 0x0000_0120;
const PRIORITY: u32 = 0x0000_0700;
const DATA_SET_TYPE: u32 = 0x0000_0800;
const STATUS: u32 = 0x0000_0900;
const AFFECTED_SOP_INSTANCE: u32 = 0x0000_1000;
const MOVE_DESTINATION: u32 = 0x0000_0600;
const NO_DATA_SET: u16 = 0x0101;
const QR_LEVEL: u32 = 0x0008_0052;

#[derive(Debug, Clone)]
pub struct DimseClient {
    pub(crate) name: String,
    pub(crate) source: DimseSource,
    connect: Duration,
    pub(crate) idle: Duration,
    pub(crate) overall: Duration,
}

/// An association, in the clear or over DICOM TLS.
enum Assoc {
    Plain(ClientAssociation<TcpStream>),
    Tls(Box<ClientAssociation<TlsStream>>),
}

/// Runs `$body` with `$a` bound to the association, whichever it is.
macro_rules! on_assoc {
    ($assoc:expr, |$a:ident| $body:expr) => {
        match $assoc {
            Assoc::Plain($a) => $body,
            Assoc::Tls($a) => {
                let $a = *$a;
                $body
            }
        }
    };
}

/// The TLS client configuration for a source: its CA bundle (and client
/// certificate when it has one), with rustls's safe defaults.
fn tls_config(name: &str, tls: &crate::config::DimseTls) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &std::path::Path, e: &dyn std::fmt::Display| Error::Config {
        reason: format!("source {name:?}: TLS {}: {e}", what.display()),
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.ca_bundle)
        .map_err(|e| bad(&tls.ca_bundle, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(&tls.ca_bundle, &e))?;
    if certs.is_empty() {
        return Err(bad(&tls.ca_bundle, &"no certificate in the CA bundle"));
    }
    for cert in certs {
        roots.add(cert).map_err(|e| bad(&tls.ca_bundle, &e))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&tls.ca_bundle, &e))?
        .with_root_certificates(roots);
    let config = match (&tls.client_certificate, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| bad(cert, &e))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(cert, &e))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad(cert, &e))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The plain-words meaning of a DIMSE status (PS3.7 Annex C, PS3.4 C.4).
pub fn status_meaning(status: u16) -> &'static str {
    match status {
        0x0000 => "success",
        0xFF00 | 0xFF01 => "pending",
        0xFE00 => "cancelled",
        0xA700 => "out of resources",
        0xA701 => "out of resources: unable to calculate the number of matches",
        0xA702 => "out of resources: unable to perform sub-operations",
        0xA801 => "move destination unknown",
        0xA900 => "identifier does not match SOP class",
        0xB000 => "some sub-operations failed",
        0x0122 => "SOP class not supported",
        0x0124 => "not authorised",
        0x0211 => "unrecognised operation",
        s if s & 0xF000 == 0xC000 => "unable to process",
        _ => "failure",
    }
}

impl DimseClient {
    pub fn new(source: &Source, dimse: &DimseSource) -> Self {
        DimseClient {
            name: source.name.clone(),
            source: dimse.clone(),
            connect: source.timeouts.connect(),
            idle: source.timeouts.idle(),
            overall: source.timeouts.overall(),
        }
    }

    pub fn retrieve_mode(&self) -> crate::config::DimseRetrieve {
        self.source.retrieve
    }

    pub(crate) fn ul_error(&self, e: dicom_ul::association::Error) -> Error {
        use dicom_ul::association::Error as E;
        let name = self.name.clone();
        match e {
            E::Rejected { association_rj, .. } => Error::Rejected {
                source_name: name,
                reason: association_rj.source.to_string(),
            },
            E::Connect { source, .. } | E::ToAddress { source, .. } => {
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) {
                    Error::Timeout {
                        source_name: name,
                        phase: "connecting",
                    }
                } else {
                    Error::Unreachable {
                        source_name: name,
                        message: source.to_string(),
                    }
                }
            }
            E::NoAcceptedPresentationContexts { .. } => Error::Rejected {
                source_name: name,
                reason: "no presentation context accepted".into(),
            },
            E::Aborted { .. } => Error::Protocol {
                source_name: name,
                message: "the PACS aborted the association".into(),
            },
            other => {
                let text = chain(&other);
                if text.contains("timed out") || text.contains("Resource temporarily unavailable") {
                    Error::Timeout {
                        source_name: name,
                        phase: "waiting for data",
                    }
                } else if text.contains("reset")
                    || text.contains("closed")
                    || text.contains("end of file")
                {
                    Error::ConnectionLost {
                        source_name: name,
                        message: text,
                    }
                } else {
                    Error::Protocol {
                        source_name: name,
                        message: text,
                    }
                }
            }
        }
    }

    pub(crate) fn protocol(&self, message: impl Into<String>) -> Error {
        Error::Protocol {
            source_name: self.name.clone(),
            message: message.into(),
        }
    }

    fn associate(&self, contexts: &[(&str, &[&str])], scp_roles: &[&str]) -> Result<Assoc> {
        let mut opts = ClientAssociationOptions::new()
            .calling_ae_title(self.source.calling_ae.clone())
            .called_ae_title(self.source.called_ae.clone())
            .max_pdu_length(MAX_PDU)
            .connection_timeout(self.connect)
            .read_timeout(self.idle)
            .write_timeout(self.idle);
        for (abstract_syntax, syntaxes) in contexts {
            opts = opts.with_presentation_context(*abstract_syntax, syntaxes.to_vec());
        }
        for sop in scp_roles {
            opts = opts.with_role_selection(*sop, false, true);
        }
        let address = (self.source.host.as_str(), self.source.port);
        // A command and its data set go out as two writes; without
        // TCP_NODELAY, Nagle's algorithm holds the second until the first
        // is acknowledged (a delayed ACK: about 40 ms per request).
        Ok(match &self.source.tls {
            None => {
                let mut assoc = opts.establish(address).map_err(|e| self.ul_error(e))?;
                let _ = SyncAssociation::inner_stream(&mut assoc).set_nodelay(true);
                Assoc::Plain(assoc)
            }
            Some(tls) => {
                let server_name = tls
                    .server_name
                    .clone()
                    .unwrap_or_else(|| self.source.host.clone());
                let mut assoc = opts
                    .tls_config(tls_config(&self.name, tls)?)
                    .server_name(&server_name)
                    .establish_tls(address)
                    .map_err(|e| self.ul_error(e))?;
                let _ = SyncAssociation::inner_stream(&mut assoc)
                    .sock
                    .set_nodelay(true);
                Assoc::Tls(Box::new(assoc))
            }
        })
    }

    fn context_id<S: Read + Write + CloseSocket>(
        &self,
        assoc: &ClientAssociation<S>,
        abstract_syntax: &str,
    ) -> Result<(u8, String)> {
        assoc
            .presentation_contexts()
            .iter()
            .find(|pc| {
                pc.abstract_syntax == abstract_syntax
                    && pc.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance
            })
            .map(|pc| (pc.id, pc.transfer_syntax.clone()))
            .ok_or_else(|| Error::Rejected {
                source_name: self.name.clone(),
                reason: format!("the PACS does not accept {abstract_syntax}"),
            })
    }

    fn send<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut impl SyncAssociation<S>,
        pc: u8,
        command: &NetDataset,
        data: Option<Vec<u8>>,
    ) -> Result<()> {
        let cmd = net::encode_command(command).map_err(|e| self.protocol(e.to_string()))?;
        let pdv = |value_type, data| PDataValue {
            presentation_context_id: pc,
            value_type,
            is_last: true,
            data,
        };
        let pdu = Pdu::PData {
            data: vec![pdv(PDataValueType::Command, cmd)],
        };
        SyncAssociation::send(assoc, &pdu).map_err(|e| self.ul_error(e))?;
        if let Some(d) = data {
            let pdu = Pdu::PData {
                data: vec![pdv(PDataValueType::Data, d)],
            };
            SyncAssociation::send(assoc, &pdu).map_err(|e| self.ul_error(e))?;
        }
        Ok(())
    }

    /// Receives one message: its command set, and its data set when it has
    /// one, handed to `data` fragment by fragment. A release request from
    /// the peer is an error here (the operation was not finished).
    fn receive<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut impl SyncAssociation<S>,
        data: &mut DataSink<'_>,
    ) -> Result<NetDataset> {
        match self.receive_any(assoc, data)? {
            Incoming::Message(command, _) => Ok(command),
            Incoming::Released => {
                Err(self.protocol("the PACS released the association mid-operation"))
            }
        }
    }

    pub(crate) fn receive_any<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut impl SyncAssociation<S>,
        data: &mut DataSink<'_>,
    ) -> Result<Incoming> {
        let mut command_bytes = Vec::new();
        let mut command: Option<(NetDataset, u8)> = None;
        loop {
            let pdu = SyncAssociation::receive(assoc).map_err(|e| self.ul_error(e))?;
            let values = match pdu {
                Pdu::PData { data } => data,
                Pdu::AbortRQ { .. } => {
                    return Err(self.protocol("the peer aborted the association"));
                }
                Pdu::ReleaseRQ if command.is_none() && command_bytes.is_empty() => {
                    return Ok(Incoming::Released);
                }
                other => {
                    return Err(self.protocol(format!("unexpected {}", other.short_description())));
                }
            };
            for v in values {
                match (v.value_type, &command) {
                    (PDataValueType::Command, None) => {
                        if command_bytes.len() + v.data.len() > net::MAX_NET_DATASET {
                            return Err(self.protocol("command set too large"));
                        }
                        command_bytes.extend_from_slice(&v.data);
                        if v.is_last {
                            let c = net::decode(&command_bytes, IMPLICIT_VR_LE)
                                .map_err(|e| self.protocol(format!("bad command set: {e}")))?;
                            if c.int(DATA_SET_TYPE) == Some(u32::from(NO_DATA_SET)) {
                                return Ok(Incoming::Message(c, v.presentation_context_id));
                            }
                            command = Some((c, v.presentation_context_id));
                        }
                    }
                    (PDataValueType::Data, Some((c, _))) => {
                        data(c, v.presentation_context_id, &v.data)?;
                        if v.is_last {
                            let (c, pc) = command.take().unwrap_or_default();
                            return Ok(Incoming::Message(c, pc));
                        }
                    }
                    _ => return Err(self.protocol("data before its command")),
                }
            }
        }
    }

    /// Receives one message; the data set of a C-STORE-RQ is streamed into
    /// the cache as a Part-10 file in the transfer syntax of its context,
    /// provided its SOP Instance UID passes `wanted`.
    pub(crate) fn receive_storing<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut impl SyncAssociation<S>,
        cache: &Cache,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<Option<StoreMessage>> {
        let syntax_of: Vec<(u8, String)> = assoc
            .presentation_contexts()
            .iter()
            .map(|p| (p.id, p.transfer_syntax.clone()))
            .collect();
        let mut writer: Option<crate::cache::ObjectWriter> = None;
        let mut failure: Option<Error> = None;
        let incoming = self.receive_any(assoc, &mut |c, pcid, bytes| {
            if writer.is_none() && failure.is_none() {
                let class = c.text(AFFECTED_SOP_CLASS).unwrap_or_default();
                let sop = c.text(AFFECTED_SOP_INSTANCE).unwrap_or_default();
                let syntax = syntax_of
                    .iter()
                    .find(|(i, _)| *i == pcid)
                    .map(|(_, t)| t.as_str());
                match syntax {
                    _ if c.int(COMMAND_FIELD) != Some(0x0001) => {}
                    Some(ts) if net::is_valid_uid(sop) && net::is_valid_uid(class) => {
                        if wanted(sop) {
                            let mut w = cache.writer()?;
                            net::write_part10(&mut w, class, sop, ts, &[])
                                .map_err(|e| self.protocol(e.to_string()))?;
                            writer = Some(w);
                        } else {
                            failure = Some(self.protocol(format!("{sop} was not asked for")));
                        }
                    }
                    _ => failure = Some(self.protocol("a C-STORE with invalid UIDs or context")),
                }
            }
            if let Some(w) = &mut writer {
                w.write_all(bytes)
                    .map_err(|e| crate::error::cache_err(cache.dir(), e))?;
            }
            Ok(())
        })?;
        let Incoming::Message(command, pc) = incoming else {
            return Ok(None);
        };
        let stored =
            (command.int(COMMAND_FIELD) == Some(0x0001)).then(|| match (writer, failure) {
                (_, Some(e)) => Err(e),
                (Some(w), None) => w.finish(),
                (None, None) => Err(self.protocol("a C-STORE without a data set")),
            });
        Ok(Some(StoreMessage {
            command,
            pc,
            stored,
        }))
    }

    /// Answers a C-ECHO-RQ (a PACS may check its C-MOVE destination first).
    pub(crate) fn answer_echo<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut impl SyncAssociation<S>,
        msg: &StoreMessage,
    ) -> Result<()> {
        let mut rsp = NetDataset::new();
        rsp.set_text(AFFECTED_SOP_CLASS, VERIFICATION)
            .set_u16(COMMAND_FIELD, 0x8030)
            .set_u16(
                RESPONDED_TO,
                msg.command.int(MESSAGE_ID).unwrap_or(0) as u16,
            )
            .set_u16(DATA_SET_TYPE, NO_DATA_SET)
            .set_u16(STATUS, 0x0000);
        self.send(assoc, msg.pc, &rsp, None)
    }

    /// Answers a C-STORE-RQ on the context it came in on.
    pub(crate) fn answer_store<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut impl SyncAssociation<S>,
        msg: &StoreMessage,
    ) -> Result<()> {
        let rq = &msg.command;
        let mut rsp = NetDataset::new();
        rsp.set_text(
            AFFECTED_SOP_CLASS,
            rq.text(AFFECTED_SOP_CLASS).unwrap_or_default(),
        )
        .set_u16(COMMAND_FIELD, 0x8001)
        .set_u16(RESPONDED_TO, rq.int(MESSAGE_ID).unwrap_or(0) as u16)
        .set_u16(DATA_SET_TYPE, NO_DATA_SET)
        // 0xA700: out of resources (we could not keep it); 0xC000: cannot
        // understand (not a valid or wanted instance).
        .set_u16(
            STATUS,
            match &msg.stored {
                Some(Ok(_)) => 0x0000,
                Some(Err(Error::Cache { .. })) => 0xA700,
                _ => 0xC000,
            },
        )
        .set_text(
            AFFECTED_SOP_INSTANCE,
            rq.text(AFFECTED_SOP_INSTANCE).unwrap_or_default(),
        );
        self.send(assoc, msg.pc, &rsp, None)
    }

    fn release<S: Read + Write + CloseSocket>(&self, assoc: ClientAssociation<S>) {
        let _ = assoc.release();
    }

    /// C-ECHO.
    pub fn echo(&self) -> Result<()> {
        let assoc = self.associate(&[(VERIFICATION, &[IMPLICIT_VR_LE])], &[])?;
        on_assoc!(assoc, |a| self.echo_on(a))
    }

    fn echo_on<S: Read + Write + CloseSocket>(
        &self,
        mut assoc: ClientAssociation<S>,
    ) -> Result<()> {
        let (pc, _) = self.context_id(&assoc, VERIFICATION)?;
        let mut cmd = NetDataset::new();
        cmd.set_text(AFFECTED_SOP_CLASS, VERIFICATION)
            .set_u16(COMMAND_FIELD, 0x0030)
            .set_u16(MESSAGE_ID, 1)
            .set_u16(DATA_SET_TYPE, NO_DATA_SET);
        self.send(&mut assoc, pc, &cmd, None)?;
        let rsp = self.receive(&mut assoc, &mut |_, _, _| Ok(()))?;
        self.release(assoc);
        self.check_status("C-ECHO", &rsp)
    }

    /// C-STORE (PS3.4 Annex B) of Part-10 files on one association, each
    /// data set in the transfer syntax it is encoded in (nothing is
    /// transcoded). Returns once every file is stored; the first refusal is
    /// an error with its status. Warnings (0xB000, 0xB006, 0xB007) count as
    /// stored: the PACS kept the object.
    pub fn store(&self, files: &[net::StoreFile]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let mut wanted: Vec<(&str, [&str; 1])> = Vec::new();
        for f in files {
            let pair = (f.sop_class_uid.as_str(), [f.transfer_syntax.as_str()]);
            if !wanted.contains(&pair) {
                wanted.push(pair);
            }
        }
        let contexts: Vec<(&str, &[&str])> = wanted.iter().map(|(c, t)| (*c, &t[..])).collect();
        let assoc = self.associate(&contexts, &[])?;
        on_assoc!(assoc, |a| self.store_on(a, files))
    }

    fn store_on<S: Read + Write + CloseSocket>(
        &self,
        mut assoc: ClientAssociation<S>,
        files: &[net::StoreFile],
    ) -> Result<()> {
        for (i, f) in files.iter().enumerate() {
            let pc = assoc
                .presentation_contexts()
                .iter()
                .find(|pc| {
                    pc.abstract_syntax == f.sop_class_uid
                        && pc.transfer_syntax == f.transfer_syntax
                        && pc.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance
                })
                .map(|pc| pc.id)
                .ok_or_else(|| Error::Rejected {
                    source_name: self.name.clone(),
                    reason: format!(
                        "the PACS does not accept {} in {}",
                        f.sop_class_uid, f.transfer_syntax
                    ),
                })?;
            let mut cmd = NetDataset::new();
            cmd.set_text(AFFECTED_SOP_CLASS, f.sop_class_uid.clone())
                .set_u16(COMMAND_FIELD, 0x0001)
                .set_u16(MESSAGE_ID, (i % 0xFFFF + 1) as u16)
                .set_u16(PRIORITY, 0)
                .set_u16(DATA_SET_TYPE, 0x0000)
                .set_text(AFFECTED_SOP_INSTANCE, f.sop_instance_uid.clone());
            self.send(&mut assoc, pc, &cmd, None)?;
            // The data set in as many P-DATA PDUs as the PACS's maximum asks.
            let mut writer = assoc.send_pdata(pc);
            writer
                .write_all(&f.dataset)
                .and_then(|()| writer.finish())
                .map_err(|e| Error::ConnectionLost {
                    source_name: self.name.clone(),
                    message: e.to_string(),
                })?;
            let rsp = self.receive(&mut assoc, &mut |_, _, _| Ok(()))?;
            let status = rsp.int(STATUS).unwrap_or(0xFFFF_FFFF) as u16;
            if !matches!(status, 0x0000 | 0xB000 | 0xB006 | 0xB007) {
                self.release(assoc);
                return Err(Error::Dimse {
                    source_name: self.name.clone(),
                    operation: "C-STORE",
                    status,
                    meaning: status_meaning(status).into(),
                });
            }
        }
        self.release(assoc);
        Ok(())
    }

    fn check_status(&self, operation: &'static str, rsp: &NetDataset) -> Result<()> {
        let status = rsp.int(STATUS).unwrap_or(0xFFFF_FFFF) as u16;
        if status == 0 {
            Ok(())
        } else {
            Err(Error::Dimse {
                source_name: self.name.clone(),
                operation,
                status,
                meaning: status_meaning(status).into(),
            })
        }
    }

    /// C-FIND (Study Root) with an identifier; returns the matches.
    pub fn find(&self, identifier: &NetDataset) -> Result<Vec<NetDataset>> {
        let assoc = self.associate(&[(FIND_STUDY_ROOT, &[EXPLICIT_VR_LE, IMPLICIT_VR_LE])], &[])?;
        on_assoc!(assoc, |a| self.find_on(a, identifier))
    }

    fn find_on<S: Read + Write + CloseSocket>(
        &self,
        mut assoc: ClientAssociation<S>,
        identifier: &NetDataset,
    ) -> Result<Vec<NetDataset>> {
        let (pc, ts) = self.context_id(&assoc, FIND_STUDY_ROOT)?;
        let mut cmd = NetDataset::new();
        cmd.set_text(AFFECTED_SOP_CLASS, FIND_STUDY_ROOT)
            .set_u16(COMMAND_FIELD, 0x0020)
            .set_u16(MESSAGE_ID, 1)
            .set_u16(PRIORITY, 0)
            .set_u16(DATA_SET_TYPE, 0x0000);
        let id = net::encode(identifier, &ts).map_err(|e| self.protocol(e.to_string()))?;
        self.send(&mut assoc, pc, &cmd, Some(id))?;
        let mut matches = Vec::new();
        loop {
            let mut buf = Vec::new();
            let rsp = self.receive(&mut assoc, &mut |_, _, bytes| {
                if buf.len() + bytes.len() > net::MAX_NET_DATASET {
                    return Err(self.protocol("C-FIND answer too large"));
                }
                buf.extend_from_slice(bytes);
                Ok(())
            })?;
            let status = rsp.int(STATUS).unwrap_or(0xFFFF_FFFF) as u16;
            if status == 0xFF00 || status == 0xFF01 {
                matches.push(
                    net::decode(&buf, &ts)
                        .map_err(|e| self.protocol(format!("bad C-FIND answer: {e}")))?,
                );
                if matches.len() > 100_000 {
                    return Err(self.protocol("too many C-FIND matches"));
                }
                continue;
            }
            self.release(assoc);
            self.check_status("C-FIND", &rsp)?;
            return Ok(matches);
        }
    }

    pub fn search_studies(&self, q: &StudyQuery) -> Result<Vec<StudyMatch>> {
        let mut id = NetDataset::new();
        id.set_text(QR_LEVEL, "STUDY");
        for (tag, v) in [
            (PATIENT_ID, &q.patient_id),
            (PATIENT_NAME, &q.patient_name),
            (STUDY_DATE, &q.study_date),
            (ACCESSION, &q.accession_number),
            (STUDY_UID, &q.study_uid),
        ] {
            id.set_text(tag, v.clone().unwrap_or_default());
        }
        id.set_text(MODALITIES, q.modalities.join("\\"))
            .set_text(DESCRIPTION, "")
            .set_text(N_SERIES, "")
            .set_text(N_INSTANCES, "");
        let mut out: Vec<StudyMatch> = self
            .find(&id)?
            .iter()
            .filter_map(|m| {
                Some(StudyMatch {
                    study_uid: m.text(STUDY_UID)?.to_string(),
                    patient_id: m.text(PATIENT_ID).map(str::to_string),
                    patient_name: m.text(PATIENT_NAME).map(str::to_string),
                    study_date: m.text(STUDY_DATE).map(str::to_string),
                    accession_number: m.text(ACCESSION).map(str::to_string),
                    description: m.text(DESCRIPTION).map(str::to_string),
                    modalities: m
                        .text(MODALITIES)
                        .map(|s| s.split('\\').map(|p| p.trim().to_string()).collect())
                        .unwrap_or_default(),
                    series: m.int(N_SERIES),
                    instances: m.int(N_INSTANCES),
                })
            })
            .collect();
        let offset = q.offset.unwrap_or(0) as usize;
        out.drain(..offset.min(out.len()));
        if let Some(limit) = q.limit {
            out.truncate(limit as usize);
        }
        Ok(out)
    }

    /// Every instance of a study: C-FIND at series level, then image level.
    pub fn search_instances(&self, study_uid: &str) -> Result<Vec<InstanceRef>> {
        crate::dicomweb::check_uid(&self.name, study_uid)?;
        let mut id = NetDataset::new();
        id.set_text(QR_LEVEL, "SERIES")
            .set_text(STUDY_UID, study_uid)
            .set_text(SERIES_UID, "");
        let mut out = Vec::new();
        for series in self.find(&id)? {
            let Some(series_uid) = series.text(SERIES_UID) else {
                continue;
            };
            let mut id = NetDataset::new();
            id.set_text(QR_LEVEL, "IMAGE")
                .set_text(STUDY_UID, study_uid)
                .set_text(SERIES_UID, series_uid)
                .set_text(SOP_UID, "")
                .set_text(SOP_CLASS_UID, "");
            for inst in self.find(&id)? {
                let Some(sop) = inst.text(SOP_UID) else {
                    continue;
                };
                out.push(InstanceRef {
                    study_uid: study_uid.to_string(),
                    series_uid: series_uid.to_string(),
                    sop_uid: sop.to_string(),
                    sop_class_uid: inst.text(SOP_CLASS_UID).map(str::to_string),
                });
            }
        }
        Ok(out)
    }

    /// The Study Root identifier of one instance, at image level.
    fn image_identifier(&self, inst: &InstanceRef) -> Result<NetDataset> {
        for uid in [&inst.study_uid, &inst.series_uid, &inst.sop_uid] {
            crate::dicomweb::check_uid(&self.name, uid)?;
        }
        let mut id = NetDataset::new();
        id.set_text(QR_LEVEL, "IMAGE")
            .set_text(STUDY_UID, inst.study_uid.clone())
            .set_text(SERIES_UID, inst.series_uid.clone())
            .set_text(SOP_UID, inst.sop_uid.clone());
        Ok(id)
    }

    /// Sends a C-GET or C-MOVE request with `identifier` on `assoc`.
    fn request<S: Read + Write + CloseSocket>(
        &self,
        assoc: &mut ClientAssociation<S>,
        sop_class: &str,
        command_field: u16,
        destination: Option<&str>,
        identifier: &NetDataset,
    ) -> Result<()> {
        let (pc, ts) = self.context_id(assoc, sop_class)?;
        let mut cmd = NetDataset::new();
        cmd.set_text(AFFECTED_SOP_CLASS, sop_class)
            .set_u16(COMMAND_FIELD, command_field)
            .set_u16(MESSAGE_ID, 1)
            .set_u16(PRIORITY, 0)
            .set_u16(DATA_SET_TYPE, 0x0000);
        if let Some(ae) = destination {
            cmd.set_text(MOVE_DESTINATION, ae);
        }
        let id = net::encode(identifier, &ts).map_err(|e| self.protocol(e.to_string()))?;
        self.send(assoc, pc, &cmd, Some(id))
    }

    /// C-GET of one instance; its C-STORE sub-operation is written to the
    /// cache as a Part-10 file, in the transfer syntax it arrived in.
    pub fn get_instance(&self, inst: &InstanceRef, cache: &Cache) -> Result<StoredObject> {
        let id = self.image_identifier(inst)?;
        let (mut stored, outcome) = self.get(&id, &|sop| sop == inst.sop_uid, cache);
        outcome?;
        stored
            .pop()
            .ok_or_else(|| self.protocol("C-GET succeeded but sent no instance"))
    }

    /// C-GET of a whole study on one association. Returns the instances
    /// that arrived (each checked later against the study's listing) and
    /// how the operation ended.
    pub fn get_study(&self, study_uid: &str, cache: &Cache) -> (Vec<StoredObject>, Result<()>) {
        if let Err(e) = crate::dicomweb::check_uid(&self.name, study_uid) {
            return (Vec::new(), Err(e));
        }
        let mut id = NetDataset::new();
        id.set_text(QR_LEVEL, "STUDY")
            .set_text(STUDY_UID, study_uid);
        self.get(&id, &|_| true, cache)
    }

    /// C-GET: the C-STORE sub-operations for the instances `wanted` lets
    /// through are written to the cache as Part-10 files, in the transfer
    /// syntax they arrived in; the others are refused.
    fn get(
        &self,
        identifier: &NetDataset,
        wanted: &dyn Fn(&str) -> bool,
        cache: &Cache,
    ) -> (Vec<StoredObject>, Result<()>) {
        let mut stored = Vec::new();
        let outcome = self.get_into(identifier, wanted, cache, &mut stored);
        (stored, outcome)
    }

    fn get_into(
        &self,
        identifier: &NetDataset,
        wanted: &dyn Fn(&str) -> bool,
        cache: &Cache,
        stored: &mut Vec<StoredObject>,
    ) -> Result<()> {
        let mut contexts: Vec<(&str, &[&str])> =
            vec![(GET_STUDY_ROOT, &[EXPLICIT_VR_LE, IMPLICIT_VR_LE])];
        for sop in STORAGE {
            for group in SYNTAX_GROUPS {
                contexts.push((sop, group));
            }
        }
        let assoc = self.associate(&contexts, &STORAGE)?;
        on_assoc!(assoc, |a| self.get_on(a, identifier, wanted, cache, stored))
    }

    fn get_on<S: Read + Write + CloseSocket>(
        &self,
        mut assoc: ClientAssociation<S>,
        identifier: &NetDataset,
        wanted: &dyn Fn(&str) -> bool,
        cache: &Cache,
        stored: &mut Vec<StoredObject>,
    ) -> Result<()> {
        self.request(&mut assoc, GET_STUDY_ROOT, 0x0010, None, identifier)?;
        loop {
            let Some(mut msg) = self.receive_storing(&mut assoc, cache, wanted)? else {
                return Err(self.protocol("the PACS released the association mid-operation"));
            };
            match msg.command.int(COMMAND_FIELD) {
                // C-STORE-RQ: keep the instance, answer it.
                Some(0x0001) => {
                    self.answer_store(&mut assoc, &msg)?;
                    if let Some(Ok(obj)) = msg.stored.take() {
                        stored.push(obj);
                    }
                }
                // C-GET-RSP.
                Some(0x8010) => {
                    let status = msg.command.int(STATUS).unwrap_or(0xFFFF_FFFF) as u16;
                    if status == 0xFF00 {
                        continue;
                    }
                    self.release(assoc);
                    return self.check_status("C-GET", &msg.command);
                }
                other => {
                    return Err(
                        self.protocol(format!("unexpected command 0x{:04X}", other.unwrap_or(0)))
                    );
                }
            }
        }
    }

    /// C-MOVE of one instance to our own storage SCP, which is listening
    /// only for the length of the call and keeps only the instance asked
    /// for, from the PACS's AE title.
    pub fn move_instance(&self, inst: &InstanceRef, cache: &Cache) -> Result<StoredObject> {
        let Some(dest) = &self.source.storage_scp else {
            return Err(Error::Config {
                reason: format!(
                    "source {:?}: C-MOVE needs a storage_scp (AE title and port)",
                    self.name
                ),
            });
        };
        let id = self.image_identifier(inst)?;
        let scp = crate::scp::StorageScp::start(self, cache, &inst.sop_uid)?;
        let Assoc::Plain(mut assoc) =
            self.associate(&[(MOVE_STUDY_ROOT, &[EXPLICIT_VR_LE, IMPLICIT_VR_LE])], &[])?
        else {
            return Err(Error::Config {
                reason: format!("source {:?}: C-MOVE is not offered over TLS", self.name),
            });
        };
        let ae = dest.ae_title(&self.source);
        self.request(&mut assoc, MOVE_STUDY_ROOT, 0x0021, Some(ae), &id)?;
        loop {
            let rsp = self.receive(&mut assoc, &mut |_, _, _| Ok(()))?;
            let status = rsp.int(STATUS).unwrap_or(0xFFFF_FFFF) as u16;
            if status == 0xFF00 {
                continue;
            }
            self.release(assoc);
            return match status {
                0x0000 => scp.take(),
                0xA801 => Err(Error::Dimse {
                    source_name: self.name.clone(),
                    operation: "C-MOVE",
                    status,
                    meaning: format!(
                        "the PACS does not know our AE title {ae}: add it, with this machine's address and port {}, to its DICOM nodes",
                        dest.port
                    ),
                }),
                // The sub-operation failed: say why, from our side when we can.
                _ => match scp.take() {
                    Err(Error::Protocol { message, .. }) if !message.is_empty() => {
                        Err(Error::Dimse {
                            source_name: self.name.clone(),
                            operation: "C-MOVE",
                            status,
                            meaning: format!("{}: {message}", status_meaning(status)),
                        })
                    }
                    _ => self.check_status("C-MOVE", &rsp).and_then(|()| scp.take()),
                },
            };
        }
    }
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every syntax we decode is proposed on C-GET and accepted on C-MOVE,
    /// each in a group of its own, so the PACS can send instances as stored.
    #[test]
    fn every_syntax_we_decode_is_proposed() {
        for ts in overread_dicom::syntax::SUPPORTED {
            assert!(
                SYNTAX_GROUPS.iter().any(|g| g.contains(&ts.uid)),
                "{} ({}) is not proposed",
                ts.name,
                ts.uid
            );
        }
        // At most 128 presentation contexts in one association (PS3.8 9.3.2.2).
        assert!(SYNTAX_GROUPS.len() * STORAGE.len() < 128);
    }
}

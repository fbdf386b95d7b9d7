//! Our storage SCP (PS3.4 Annex B), the destination of a C-MOVE.
//!
//! It listens only while one C-MOVE runs, accepts connections only from the
//! PACS's address (its `host`, resolved, and any listed in `allow`: an AE
//! title is not authentication), at most `max_associations` at once, each
//! closed when idle for the source's idle time-out, and associations only
//! from the PACS's AE title to ours; it accepts the storage SOP classes in every
//! syntax Overread reads (so nothing is transcoded), and keeps only the
//! instance asked for, written to the cache like any other. A PACS may open
//! several associations for one move; each is served on its own thread.
//! Files are named by the cache (a SHA-256 of their content), never by a
//! UID or a name from the peer.

use crate::cache::{Cache, StoredObject};
use crate::dimse::{DimseClient, MAX_PDU, STORAGE, SYNTAX_GROUPS};
use crate::error::{Error, Result};
use dicom_ul::ServerAssociationOptions;
use dicom_ul::association::server::AccessControl;
use dicom_ul::pdu::{AssociationRJServiceUserReason, Pdu, UserIdentity};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the received instance may trail the final C-MOVE response.
const TRAIL: Duration = Duration::from_secs(3);

/// Associations are accepted only from the PACS to our AE title.
struct OnlyFrom {
    pacs_ae: String,
}

impl AccessControl for OnlyFrom {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> std::result::Result<(), AssociationRJServiceUserReason> {
        if called_ae_title.trim() != this_ae_title.trim() {
            Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized)
        } else if calling_ae_title.trim() != self.pacs_ae.trim() {
            Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized)
        } else {
            Ok(())
        }
    }
}

/// A storage SCP listening for the length of one C-MOVE; it stops when
/// dropped.
pub(crate) struct StorageScp {
    wake: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    received: mpsc::Receiver<Result<StoredObject>>,
    client: DimseClient,
    ae_title: String,
}

impl StorageScp {
    /// Starts listening on the source's `storage_scp` address for `sop_uid`.
    pub fn start(client: &DimseClient, cache: &Cache, sop_uid: &str) -> Result<StorageScp> {
        let Some(dest) = &client.source.storage_scp else {
            return Err(Error::Config {
                reason: format!("source {:?} has no storage_scp", client.name),
            });
        };
        let ip: IpAddr = dest.bind.parse().map_err(|_| Error::Config {
            reason: format!("storage_scp bind {:?} is not an IP address", dest.bind),
        })?;
        let listener = TcpListener::bind((ip, dest.port)).map_err(|e| Error::Config {
            reason: format!(
                "cannot listen on {}:{} for C-MOVE: {e}",
                dest.bind, dest.port
            ),
        })?;
        let wake = if ip.is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), dest.port)
        } else {
            SocketAddr::new(ip, dest.port)
        };
        let ae_title = dest.ae_title(&client.source).to_string();
        let allowed = allowed_peers(&client.source.host, client.source.port, &dest.allow);
        let max = dest.max_associations;
        let active = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, received) = mpsc::channel();
        let source_name = client.name.clone();
        let accept = {
            let (stop, client, cache) = (stop.clone(), client.clone(), cache.clone());
            let (sop, ae) = (sop_uid.to_string(), ae_title.clone());
            std::thread::Builder::new()
                .name("overread-scp".into())
                .spawn(move || {
                    for conn in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = conn else { continue };
                        let peer = stream.peer_addr().ok().map(|a| a.ip());
                        if let Err(why) = admit(peer, &allowed, active.load(Ordering::SeqCst), max)
                        {
                            let _ = tx.send(Err(client.protocol(why)));
                            continue; // dropping the stream closes it
                        }
                        active.fetch_add(1, Ordering::SeqCst);
                        let (client, cache, sop, ae, tx, served) = (
                            client.clone(),
                            cache.clone(),
                            sop.clone(),
                            ae.clone(),
                            tx.clone(),
                            active.clone(),
                        );
                        let spawned = std::thread::Builder::new()
                            .name("overread-scp-assoc".into())
                            .spawn(move || {
                                serve(&client, &ae, stream, &cache, &sop, &tx);
                                served.fetch_sub(1, Ordering::SeqCst);
                            });
                        if spawned.is_err() {
                            active.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
                .map_err(|e| Error::Protocol {
                    source_name,
                    message: format!("cannot start the storage SCP: {e}"),
                })?
        };
        Ok(StorageScp {
            wake,
            stop,
            accept: Some(accept),
            received,
            client: client.clone(),
            ae_title,
        })
    }

    /// The instance received, waiting briefly for it; otherwise why not.
    pub fn take(&self) -> Result<StoredObject> {
        let deadline = Instant::now() + TRAIL;
        let mut why = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(Ok(obj)) => return Ok(obj),
                Ok(Err(e)) => why = Some(e),
                Err(_) => {
                    return Err(why.unwrap_or_else(|| {
                        self.client.protocol(format!(
                            "nothing arrived at our storage SCP ({}, port {}): check the address the PACS has for it",
                            self.ae_title,
                            self.wake.port()
                        ))
                    }));
                }
            }
        }
    }
}

impl Drop for StorageScp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and closes the socket.
        let _ = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// The addresses that may connect: the source's host, resolved, and the
/// listed ones.
fn allowed_peers(host: &str, port: u16, listed: &[String]) -> Vec<IpAddr> {
    let mut allowed: Vec<IpAddr> = listed.iter().filter_map(|a| a.parse().ok()).collect();
    if let Ok(addrs) = (host, port).to_socket_addrs() {
        allowed.extend(addrs.map(|a| a.ip()));
    }
    allowed
}

/// Whether a connection from `peer` is served, given those already served.
fn admit(
    peer: Option<IpAddr>,
    allowed: &[IpAddr],
    active: usize,
    max: usize,
) -> std::result::Result<(), String> {
    let Some(peer) = peer else {
        return Err("closed a connection to the storage SCP without a peer address".into());
    };
    let same = |a: &IpAddr| match (a, peer) {
        (IpAddr::V4(a), IpAddr::V6(p)) => p.to_ipv4_mapped() == Some(*a),
        _ => *a == peer,
    };
    if !allowed.iter().any(same) {
        return Err(format!(
            "closed a connection to the storage SCP from {peer}: not the PACS's address (add it to storage_scp.allow if it is)"
        ));
    }
    if active >= max {
        return Err(format!(
            "closed a connection to the storage SCP from {peer}: {max} associations are already being served"
        ));
    }
    Ok(())
}

/// Serves one association: C-STORE requests (kept when they are the
/// instance asked for) and C-ECHO, until the PACS releases it.
fn serve(
    client: &DimseClient,
    ae_title: &str,
    stream: TcpStream,
    cache: &Cache,
    sop_uid: &str,
    tx: &mpsc::Sender<Result<StoredObject>>,
) {
    let mut options = ServerAssociationOptions::new()
        .ae_access_control(OnlyFrom {
            pacs_ae: client.source.called_ae.clone(),
        })
        .ae_title(ae_title)
        .max_pdu_length(MAX_PDU)
        .read_timeout(client.idle)
        .write_timeout(client.idle);
    for sop in STORAGE {
        options = options.with_abstract_syntax(sop);
    }
    options = options.with_abstract_syntax(crate::dimse::VERIFICATION);
    for ts in SYNTAX_GROUPS.iter().flat_map(|g| g.iter()) {
        options = options.with_transfer_syntax(*ts);
    }
    let _ = stream.set_nodelay(true);
    // A peer that connects and says nothing is closed after the idle time,
    // and no association outlives the source's overall time-out: a
    // watchdog shuts the socket down (a blocked read then ends), whatever
    // the association layer does with socket time-outs.
    let (progress, watched) = mpsc::channel::<()>();
    if let Ok(socket) = stream.try_clone() {
        let (idle, overall) = (client.idle, client.overall);
        let _ = std::thread::Builder::new()
            .name("overread-scp-watchdog".into())
            .spawn(move || {
                let cut = match watched.recv_timeout(idle) {
                    Err(mpsc::RecvTimeoutError::Timeout) => true,
                    Err(mpsc::RecvTimeoutError::Disconnected) => false,
                    Ok(()) => matches!(
                        watched.recv_timeout(overall),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    ),
                };
                if cut {
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                }
            });
    }
    let mut assoc = match options.establish(stream) {
        Ok(a) => a,
        Err(e) => {
            let _ = tx.send(Err(client.ul_error(e)));
            return;
        }
    };
    let _ = progress.send(()); // established: now the overall limit applies
    let wanted = |sop: &str| sop == sop_uid;
    loop {
        match client.receive_storing(&mut assoc, cache, &wanted) {
            Ok(None) => {
                let _ = assoc.send(&Pdu::ReleaseRP);
                return;
            }
            Ok(Some(mut msg)) => {
                let answered = match msg.command.int(crate::dimse::COMMAND_FIELD) {
                    Some(0x0001) => client.answer_store(&mut assoc, &msg),
                    Some(0x0030) => client.answer_echo(&mut assoc, &msg),
                    other => Err(client.protocol(format!(
                        "unexpected command 0x{:04X} on the storage SCP",
                        other.unwrap_or(0)
                    ))),
                };
                if let Some(stored) = msg.stored.take() {
                    let _ = tx.send(stored);
                }
                if let Err(e) = answered {
                    let _ = tx.send(Err(e));
                    let _ = assoc.abort();
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                let _ = assoc.abort();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the PACS's address may connect, and only so many at once
    /// (#12): AE titles alone are not authentication.
    #[test]
    fn only_the_pacs_address_and_so_many_at_once() {
        let pacs: IpAddr = "10.1.2.3".parse().expect("ip");
        let allowed = vec![pacs, "127.0.0.1".parse().expect("ip")];
        assert!(admit(Some(pacs), &allowed, 0, 4).is_ok());
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().expect("ip");
        assert!(admit(Some(mapped), &allowed, 0, 4).is_ok());
        let other: IpAddr = "10.1.2.4".parse().expect("ip");
        let refused = admit(Some(other), &allowed, 0, 4).expect_err("other host");
        assert!(refused.contains("10.1.2.4"), "{refused}");
        assert!(admit(Some(pacs), &allowed, 4, 4).is_err(), "cap");
        assert!(admit(None, &allowed, 0, 4).is_err());
        assert_eq!(
            allowed_peers("127.0.0.1", 104, &["10.9.9.9".into()]).len(),
            2
        );
    }

    /// A real listener: a connection from an address that is not the
    /// PACS's is closed at once and reported; one from the PACS that says
    /// nothing is closed after the idle time-out.
    #[test]
    fn strangers_are_closed_and_idle_peers_time_out() {
        use std::io::Read;
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path(), 1 << 30).expect("cache");
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let scp_for = |host: &str| {
            let text = format!(
                "[[source]]\nname = \"p\"\nkind = \"dimse\"\nhost = \"{host}\"\nport = 4242\ncalled_ae = \"PACS\"\nretrieve = \"move\"\nstorage_scp = {{ port = {port}, bind = \"127.0.0.1\" }}\ntimeouts = {{ idle_s = 0.5 }}\n"
            );
            let config = crate::config::PacsConfig::parse(&text).expect("config");
            let source = config.sources[0].clone();
            let crate::config::SourceKind::Dimse(d) = &source.kind else {
                panic!("dimse")
            };
            DimseClient::new(&source, d)
        };
        // The PACS is elsewhere: our own connection is a stranger's.
        let scp = StorageScp::start(&scp_for("10.255.255.1"), &cache, "2.25.1").expect("scp");
        let mut stranger = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stranger
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 16];
        assert_eq!(stranger.read(&mut buf).unwrap_or(0), 0, "closed at once");
        let err = scp.take().expect_err("nothing stored");
        assert!(err.to_string().contains("not the PACS's address"), "{err}");
        drop(scp);

        // The PACS is here, but says nothing: closed after the idle time.
        let scp = StorageScp::start(&scp_for("127.0.0.1"), &cache, "2.25.1").expect("scp");
        let mut silent = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        silent
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let t0 = Instant::now();
        let read = silent.read(&mut buf);
        // Closed by the SCP (EOF or reset), not by our own read time-out;
        // generous bounds: the suite runs this beside many other tests.
        assert!(
            matches!(read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock
                        && e.kind() != std::io::ErrorKind::TimedOut),
            "{read:?}"
        );
        assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
        drop(scp);
    }

    #[test]
    fn only_the_pacs_may_store_to_us() {
        let acl = OnlyFrom {
            pacs_ae: "ORTHANC".into(),
        };
        assert!(
            acl.check_access("OVERREAD", "ORTHANC", "OVERREAD ", None)
                .is_ok()
        );
        assert_eq!(
            acl.check_access("OVERREAD", "ORTHANC", "SOMEONE", None),
            Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized)
        );
        assert_eq!(
            acl.check_access("OVERREAD", "MODALITY1", "OVERREAD", None),
            Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized)
        );
    }
}

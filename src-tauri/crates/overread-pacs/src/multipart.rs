//! A streaming parser for `multipart/related` bodies (RFC 2387, as WADO-RS
//! returns them, PS3.18 §8.7): bytes go in as they arrive from the network
//! and come out part by part to a [`PartSink`], so a study is never held in
//! memory. Headers of a part are capped; the sink caps part sizes.

use memchr::memmem;

/// Largest header block of one part.
pub const MAX_PART_HEADERS: usize = 16 * 1024;

/// Receives the parts of a multipart body.
pub trait PartSink {
    type Error;
    fn start_part(&mut self, content_type: Option<&str>) -> Result<(), Self::Error>;
    fn data(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    fn end_part(&mut self) -> Result<(), Self::Error>;
}

/// What can be wrong with a body, or the sink's own error.
#[derive(Debug, PartialEq, Eq)]
pub enum MultipartError<E> {
    Malformed(&'static str),
    Sink(E),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    AfterDelimiter,
    Headers,
    Body,
    End,
}

#[derive(Debug)]
pub struct MultipartParser {
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
    parts: usize,
}

/// The boundary parameter of a Content-Type, unquoted.
pub fn boundary_of(content_type: &str) -> Option<String> {
    let (media, params) = content_type.split_once(';')?;
    if !media.trim().eq_ignore_ascii_case("multipart/related") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

impl MultipartParser {
    pub fn new(boundary: &str) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        MultipartParser {
            delimiter,
            // The first delimiter may open the body without a CRLF before it.
            buf: b"\r\n".to_vec(),
            state: State::Preamble,
            parts: 0,
        }
    }

    /// Parts completed so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    pub fn is_finished(&self) -> bool {
        self.state == State::End
    }

    /// Feeds the next bytes of the body.
    pub fn feed<S: PartSink>(
        &mut self,
        chunk: &[u8],
        sink: &mut S,
    ) -> Result<(), MultipartError<S::Error>> {
        if self.state == State::End {
            return Ok(());
        }
        self.buf.extend_from_slice(chunk);
        let mut at = 0;
        loop {
            let rest = &self.buf[at..];
            match self.state {
                State::Preamble => match memmem::find(rest, &self.delimiter) {
                    Some(i) => {
                        at += i + self.delimiter.len();
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        at += rest.len().saturating_sub(self.delimiter.len());
                        break;
                    }
                },
                State::AfterDelimiter => {
                    if rest.len() < 2 {
                        break;
                    }
                    if rest.starts_with(b"--") {
                        self.state = State::End;
                        at = self.buf.len();
                        break;
                    }
                    // Transport padding, then CRLF.
                    match memmem::find(rest, b"\r\n") {
                        Some(i) if rest[..i].iter().all(|b| *b == b' ' || *b == b'\t') => {
                            at += i + 2;
                            self.state = State::Headers;
                        }
                        Some(_) => return Err(MultipartError::Malformed("junk after a boundary")),
                        None if rest.len() > 256 => {
                            return Err(MultipartError::Malformed("junk after a boundary"));
                        }
                        None => break,
                    }
                }
                State::Headers => {
                    // An empty header block is a bare CRLF.
                    let end = if rest.starts_with(b"\r\n") {
                        Some((0, 2))
                    } else {
                        memmem::find(rest, b"\r\n\r\n").map(|i| (i, i + 4))
                    };
                    match end {
                        Some((i, skip)) => {
                            let headers = String::from_utf8_lossy(&rest[..i]);
                            let content_type = headers.split("\r\n").find_map(|line| {
                                let (k, v) = line.split_once(':')?;
                                k.trim()
                                    .eq_ignore_ascii_case("content-type")
                                    .then(|| v.trim().to_string())
                            });
                            sink.start_part(content_type.as_deref())
                                .map_err(MultipartError::Sink)?;
                            at += skip;
                            self.state = State::Body;
                        }
                        None if rest.len() > MAX_PART_HEADERS => {
                            return Err(MultipartError::Malformed("part headers too long"));
                        }
                        None => break,
                    }
                }
                State::Body => match memmem::find(rest, &self.delimiter) {
                    Some(i) => {
                        sink.data(&rest[..i]).map_err(MultipartError::Sink)?;
                        sink.end_part().map_err(MultipartError::Sink)?;
                        self.parts += 1;
                        at += i + self.delimiter.len();
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        // Keep what could be the start of a delimiter.
                        let safe = rest.len().saturating_sub(self.delimiter.len() - 1);
                        if safe > 0 {
                            sink.data(&rest[..safe]).map_err(MultipartError::Sink)?;
                            at += safe;
                        }
                        break;
                    }
                },
                State::End => break,
            }
        }
        self.buf.drain(..at);
        Ok(())
    }

    /// Checks that the body ended with its closing delimiter.
    pub fn finish<E>(&self) -> Result<(), MultipartError<E>> {
        if self.state == State::End {
            Ok(())
        } else {
            Err(MultipartError::Malformed(
                "body ended before its closing boundary",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        parts: Vec<(Option<String>, Vec<u8>)>,
        limit: usize,
    }

    impl PartSink for Collect {
        type Error = &'static str;
        fn start_part(&mut self, ct: Option<&str>) -> Result<(), Self::Error> {
            self.parts.push((ct.map(str::to_string), Vec::new()));
            Ok(())
        }
        fn data(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
            let part = self.parts.last_mut().ok_or("data outside a part")?;
            part.1.extend_from_slice(bytes);
            if self.limit > 0 && part.1.len() > self.limit {
                return Err("part too large");
            }
            Ok(())
        }
        fn end_part(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn body(parts: &[&[u8]]) -> Vec<u8> {
        let mut b = b"preamble\r\n".to_vec();
        for p in parts {
            b.extend_from_slice(b"--XyZ\r\nContent-Type: application/dicom\r\n\r\n");
            b.extend_from_slice(p);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        b
    }

    #[test]
    fn parts_come_out_whole_whatever_the_chunking() {
        // A part that contains a near-boundary and CRLFs.
        let a: &[u8] = b"DICM\r\n--XyY\r\n-- body";
        let b: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let whole = body(&[a, &b]);
        for chunk in [1, 2, 3, 7, 64, 4096, whole.len()] {
            let mut p = MultipartParser::new("XyZ");
            let mut sink = Collect::default();
            for c in whole.chunks(chunk) {
                p.feed(c, &mut sink).expect("feed");
            }
            p.finish::<()>().expect("finished");
            assert_eq!(sink.parts.len(), 2, "chunk {chunk}");
            assert_eq!(sink.parts[0].0.as_deref(), Some("application/dicom"));
            assert_eq!(sink.parts[0].1, a, "chunk {chunk}");
            assert_eq!(sink.parts[1].1, b, "chunk {chunk}");
        }
    }

    #[test]
    fn a_truncated_body_is_an_error() {
        let whole = body(&[b"abc"]);
        let mut p = MultipartParser::new("XyZ");
        let mut sink = Collect::default();
        p.feed(&whole[..whole.len() - 12], &mut sink).expect("feed");
        assert!(p.finish::<()>().is_err());
    }

    #[test]
    fn the_sink_caps_part_size() {
        let big = vec![7u8; 10_000];
        let whole = body(&[&big]);
        let mut p = MultipartParser::new("XyZ");
        let mut sink = Collect {
            limit: 1000,
            ..Default::default()
        };
        let r = whole.chunks(512).try_for_each(|c| p.feed(c, &mut sink));
        assert_eq!(r, Err(MultipartError::Sink("part too large")));
    }

    #[test]
    fn endless_headers_are_refused() {
        let mut whole = b"--XyZ\r\n".to_vec();
        whole.extend(std::iter::repeat_n(b'a', MAX_PART_HEADERS + 10));
        let mut p = MultipartParser::new("XyZ");
        let mut sink = Collect::default();
        assert!(p.feed(&whole, &mut sink).is_err());
    }

    #[test]
    fn boundaries_are_read_from_the_content_type() {
        assert_eq!(
            boundary_of(r#"multipart/related; type="application/dicom"; boundary="a:b""#),
            Some("a:b".into())
        );
        assert_eq!(
            boundary_of("multipart/related;boundary=x"),
            Some("x".into())
        );
        assert_eq!(boundary_of("application/dicom"), None);
    }
}

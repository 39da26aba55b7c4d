//! Frames of the executor protocol, both directions (integers u32 big-endian):
//! `N` (length of the rest), `H` (length of the JSON header), the header, the binary parts.

use std::io::{self, BufReader, Read, Write};
use std::ops::Range;
use std::os::unix::net::UnixStream;
use std::path::Path;

use serde::Serialize;

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A received frame: the whole body, the header's range in it and the parts' ranges.
pub(crate) struct Frame {
    pub body: Vec<u8>,
    pub header: Range<usize>,
}

impl Frame {
    pub fn header(&self) -> &[u8] {
        &self.body[self.header.clone()]
    }

    /// The ranges of the binary parts whose lengths the header listed.
    pub fn part_ranges(&self, lengths: &[usize]) -> io::Result<Vec<Range<usize>>> {
        let mut offset = self.header.end;
        let mut ranges = Vec::with_capacity(lengths.len());
        for &n in lengths {
            let end = offset
                .checked_add(n)
                .filter(|&end| end <= self.body.len())
                .ok_or_else(|| invalid("'parts' do not match the frame".into()))?;
            ranges.push(offset..end);
            offset = end;
        }
        if offset != self.body.len() {
            return Err(invalid("frame has bytes beyond its parts".into()));
        }
        Ok(ranges)
    }
}

/// One connection to the governor.
pub(crate) struct Connection {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Reused for every frame sent.
    out: Vec<u8>,
}

impl Connection {
    pub fn connect(path: &Path) -> io::Result<Self> {
        Connection::from_stream(UnixStream::connect(path)?)
    }

    pub fn from_stream(stream: UnixStream) -> io::Result<Self> {
        let writer = stream.try_clone()?;
        Ok(Connection {
            reader: BufReader::with_capacity(64 * 1024, stream),
            writer,
            out: Vec::with_capacity(64 * 1024),
        })
    }

    /// The next frame, or `None` when the governor closed the connection.
    pub fn read(&mut self) -> io::Result<Option<Frame>> {
        let mut length = [0u8; 4];
        match self.reader.read_exact(&mut length) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let n = u32::from_be_bytes(length) as usize;
        if n < 4 {
            return Err(invalid(format!("frame of {} bytes is too short", n)));
        }
        let mut body = vec![0u8; n];
        self.reader.read_exact(&mut body)?;
        let h = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
        if h > n - 4 {
            return Err(invalid("frame header exceeds the frame".into()));
        }
        Ok(Some(Frame { body, header: 4..4 + h }))
    }

    /// Sends one frame in one write: `header` must list the parts' lengths in its `parts`.
    pub fn send<H: Serialize>(&mut self, header: &H, parts: &[&[u8]]) -> io::Result<()> {
        let out = &mut self.out;
        out.clear();
        out.extend_from_slice(&[0u8; 8]);
        serde_json::to_writer(&mut *out, header).map_err(io::Error::from)?;
        let header_length = out.len() - 8;
        for part in parts {
            out.extend_from_slice(part);
        }
        let total = u32::try_from(out.len() - 4)
            .map_err(|_| invalid(format!("frame of {} bytes is too large", out.len() - 4)))?;
        out[0..4].copy_from_slice(&total.to_be_bytes());
        out[4..8].copy_from_slice(&(header_length as u32).to_be_bytes());
        self.writer.write_all(out)?;
        // Do not hold on to the room a huge output needed.
        if out.capacity() > 4 * 1024 * 1024 {
            *out = Vec::with_capacity(64 * 1024);
        }
        Ok(())
    }
}

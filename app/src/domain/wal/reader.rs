//! Reading a segment as the engine's reader does (`surrealkv::wal::reader::Reader::next`):
//! where its complete records end, and whether what follows is a torn tail or damage.

use std::io::{self, Read, Seek, SeekFrom};

use super::{
    BLOCK_SIZE, HEADER_SIZE, SegmentScan, SegmentState, TYPE_EMPTY, TYPE_FIRST, TYPE_FULL,
    TYPE_LAST, TYPE_MIDDLE, TYPE_SET_COMPRESSION, TrimReason,
};

/// How the block walk ended.
pub(super) enum Stop {
    /// Reached end of file without a reader error.
    Eof {
        /// A First/Middle chain was open at EOF.
        in_fragment: bool,
        /// The final partial block ended with 1–6 bytes, some of them non-zero.
        trailing_nonzero: bool,
    },
    /// A header in the final partial block announces a payload past EOF.
    TornPayload,
    /// The reader would reject the record at `offset`.
    Bad {
        offset: u64,
        /// Where the malformed record's bytes end, as far as can be told.
        /// Everything from here to EOF must be zero for the damage to count as
        /// a tail.
        resume_at: u64,
        /// The rejected record is itself a valid, complete physical record
        /// (for example a `Full` right after an orphaned `First`). Then data
        /// definitely follows the damage and the file must not be trimmed.
        valid_record_follows: bool,
        reason: &'static str,
    },
}

pub(super) fn crc_of(record_type: u8, data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[record_type]);
    h.update(data);
    h.finalize()
}

/// Reads up to `buf.len()` bytes, stopping early only at EOF.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// True if every byte from `from` to EOF is zero.
fn zero_from<R: Read + Seek>(r: &mut R, from: u64) -> io::Result<bool> {
    r.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; BLOCK_SIZE];
    loop {
        let n = read_full(r, &mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
    }
}

/// Walks the segment the way `surrealkv::wal::reader::Reader::next` does.
fn walk<R: Read>(r: &mut R) -> io::Result<(u64, u64, Stop)> {
    let mut buf = vec![0u8; BLOCK_SIZE];
    let mut block_start: u64 = 0;
    let mut frag: usize = 0;
    let mut records: u64 = 0;
    let mut last_end: u64 = 0;

    loop {
        let n = read_full(r, &mut buf)?;
        if n == 0 {
            let stop = Stop::Eof {
                in_fragment: frag > 0,
                trailing_nonzero: false,
            };
            return Ok((records, last_end, stop));
        }
        let blk = &buf[..n];
        let partial = n < BLOCK_SIZE;
        let mut pos = 0usize;

        loop {
            if n - pos < HEADER_SIZE {
                if partial {
                    let trailing_nonzero = blk[pos..].iter().any(|&b| b != 0);
                    let stop = Stop::Eof {
                        in_fragment: frag > 0,
                        trailing_nonzero,
                    };
                    return Ok((records, last_end, stop));
                }
                break; // block-tail padding, skipped by the reader
            }
            let at = block_start + pos as u64;
            let crc = u32::from_be_bytes([blk[pos], blk[pos + 1], blk[pos + 2], blk[pos + 3]]);
            let len = u16::from_be_bytes([blk[pos + 4], blk[pos + 5]]) as usize;
            let ty = blk[pos + 6];
            let body = pos + HEADER_SIZE;
            let avail = n - body;
            let fits_in_file_block = len <= avail;
            let bad = |reason: &'static str, valid_record_follows: bool| Stop::Bad {
                offset: at,
                resume_at: if fits_in_file_block {
                    block_start + (body + len) as u64
                } else {
                    block_start + body as u64
                },
                valid_record_follows,
                reason,
            };
            // A header in the last (partial) block whose payload would still
            // fit in a full block: the file simply stops inside it.
            let torn_here = partial && !fits_in_file_block && body + len <= BLOCK_SIZE;
            // A record that runs past the file's end: torn there, or malformed.
            let past_end = |reason: &'static str| {
                if torn_here {
                    Stop::TornPayload
                } else {
                    bad(reason, false)
                }
            };

            match ty {
                TYPE_EMPTY => {
                    if blk[body..].iter().any(|&b| b != 0) {
                        return Ok((
                            records,
                            last_end,
                            bad("non-zero byte in padding area", false),
                        ));
                    }
                    pos = n; // reader discards the rest of the block
                }
                TYPE_SET_COMPRESSION => {
                    if !fits_in_file_block {
                        return Ok((
                            records,
                            last_end,
                            past_end("truncated compression type record"),
                        ));
                    }
                    if len > 0 && blk[body] > 1 {
                        return Ok((records, last_end, bad("invalid compression type", false)));
                    }
                    pos = body + len;
                    if frag == 0 {
                        last_end = block_start + pos as u64;
                    }
                }
                TYPE_FULL | TYPE_FIRST | TYPE_MIDDLE | TYPE_LAST => {
                    let seq_err = match ty {
                        TYPE_FULL if frag != 0 => {
                            Some("unexpected full record: first record expected")
                        }
                        TYPE_FIRST if frag != 0 => {
                            Some("unexpected first record: no previous records expected")
                        }
                        TYPE_MIDDLE if frag == 0 => {
                            Some("unexpected middle record: missing previous records")
                        }
                        TYPE_LAST if frag == 0 => {
                            Some("unexpected last record: missing previous records")
                        }
                        _ => None,
                    };
                    if let Some(reason) = seq_err {
                        let valid = fits_in_file_block && crc_of(ty, &blk[body..body + len]) == crc;
                        return Ok((records, last_end, bad(reason, valid)));
                    }
                    if !fits_in_file_block {
                        return Ok((
                            records,
                            last_end,
                            past_end("bad record length - exceeds block boundary"),
                        ));
                    }
                    if crc_of(ty, &blk[body..body + len]) != crc {
                        return Ok((records, last_end, bad("checksum mismatch", false)));
                    }
                    pos = body + len;
                    if ty == TYPE_FULL || ty == TYPE_LAST {
                        frag = 0;
                        records += 1;
                        last_end = block_start + pos as u64;
                    } else {
                        frag += 1;
                    }
                }
                _ => return Ok((records, last_end, bad("invalid record type", false))),
            }
        }
        block_start += n as u64;
    }
}

/// Scans any seekable byte source holding one WAL segment.
pub(super) fn scan<R: Read + Seek>(r: &mut R) -> io::Result<SegmentScan> {
    let len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let (records, last_complete_end, stop) = walk(r)?;
    let state = match stop {
        Stop::Eof {
            in_fragment,
            trailing_nonzero,
        } => {
            if len == last_complete_end {
                SegmentState::Clean
            } else {
                let reason = if trailing_nonzero {
                    TrimReason::TornHeader
                } else if in_fragment {
                    TrimReason::IncompleteFragmentedRecord
                } else {
                    TrimReason::ZeroFilledTail
                };
                SegmentState::TornTail {
                    new_len: last_complete_end,
                    reason,
                }
            }
        }
        Stop::TornPayload => SegmentState::TornTail {
            new_len: last_complete_end,
            reason: TrimReason::TornPayload,
        },
        Stop::Bad {
            offset,
            resume_at,
            valid_record_follows,
            reason,
        } => {
            if !valid_record_follows && zero_from(r, resume_at)? {
                SegmentState::TornTail {
                    new_len: last_complete_end,
                    reason: TrimReason::CorruptFinalRecord,
                }
            } else {
                SegmentState::MidFileCorruption { offset, reason }
            }
        }
    };
    Ok(SegmentScan {
        len,
        records,
        last_complete_end,
        state,
    })
}

//! One record on disk: the frame (length, CRC32C, body) and the body's v1 encoding, written and checked here only.

use crate::record::{known_event_name, Message, Record};

/// Largest body (encoded record) the spool stores or accepts when reading.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Bytes of a frame before its body: length and CRC.
pub(crate) const FRAME_HEADER: usize = 8;
const RECORD_VERSION: u8 = 1;
const FLAG_FIRST_FAILURE: u8 = 1;
/// version + flags + event time + attempts + four length prefixes.
const MIN_BODY: usize = 1 + 1 + 8 + 4 + 4 * 4;

/// The length of `r`'s body once encoded (what [`MAX_RECORD_BYTES`] caps).
pub(crate) fn encoded_body_len(r: &Record) -> usize {
  let m = &r.message;
  MIN_BODY
    + if r.first_failure_ms.is_some() { 8 } else { 0 }
    + m.key.len()
    + m.event_name.len()
    + m.message_id.len()
    + m.payload.len()
}

/// Appends one frame (header + body) to `out`. The caller checked the body fits [`MAX_RECORD_BYTES`].
///
/// ```text
/// length: u32 LE (of the body) | crc32c(body): u32 LE | body
/// body v1: version u8 = 1 | flags u8 (bit 0: first_failure_ms present) | event_time_ms i64 LE | attempts u32 LE
///          | [first_failure_ms i64 LE] | key, event_name, message_id, payload: each u32 LE length + bytes
/// ```
///
/// A length under the smallest possible body or over [`MAX_RECORD_BYTES`] is "impossible" ([`plausible_len`]).
pub(crate) fn encode_frame(r: &Record, out: &mut Vec<u8>) {
  let m = &r.message;
  let start = out.len();
  out.extend_from_slice(&[0u8; FRAME_HEADER]);
  out.push(RECORD_VERSION);
  out.push(if r.first_failure_ms.is_some() { FLAG_FIRST_FAILURE } else { 0 });
  out.extend_from_slice(&m.event_time_ms.to_le_bytes());
  out.extend_from_slice(&r.attempts.to_le_bytes());
  if let Some(t) = r.first_failure_ms {
    out.extend_from_slice(&t.to_le_bytes());
  }
  for field in [m.key.as_bytes(), m.event_name.as_bytes(), m.message_id.as_bytes(), &m.payload[..]] {
    out.extend_from_slice(&(field.len() as u32).to_le_bytes());
    out.extend_from_slice(field);
  }
  let body_len = (out.len() - start - FRAME_HEADER) as u32;
  let crc = crc32c::crc32c(&out[start + FRAME_HEADER..]);
  out[start..start + 4].copy_from_slice(&body_len.to_le_bytes());
  out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A decoded body, borrowing its strings from the read buffer.
pub(crate) struct RecordRef<'a> {
  key: &'a str,
  payload: &'a [u8],
  event_name: &'a str,
  message_id: &'a str,
  pub(crate) event_time_ms: i64,
  attempts: u32,
  first_failure_ms: Option<i64>,
}

impl RecordRef<'_> {
  pub(crate) fn to_owned(&self) -> Record {
    Record {
      message: Message {
        key: self.key.to_owned(),
        payload: self.payload.to_vec(),
        event_name: known_event_name(self.event_name),
        message_id: self.message_id.to_owned(),
        event_time_ms: self.event_time_ms,
      },
      attempts: self.attempts,
      first_failure_ms: self.first_failure_ms,
    }
  }
}

struct Decoder<'a> {
  rest: &'a [u8],
}

impl<'a> Decoder<'a> {
  fn take(&mut self, n: usize) -> Option<&'a [u8]> {
    if self.rest.len() < n {
      return None;
    }
    let (head, tail) = self.rest.split_at(n);
    self.rest = tail;
    Some(head)
  }
  fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
    let mut a = [0u8; N];
    a.copy_from_slice(self.take(N)?);
    Some(a)
  }
  fn u8(&mut self) -> Option<u8> {
    Some(self.array::<1>()?[0])
  }
  fn u32(&mut self) -> Option<u32> {
    Some(u32::from_le_bytes(self.array()?))
  }
  fn i64(&mut self) -> Option<i64> {
    Some(i64::from_le_bytes(self.array()?))
  }
  fn bytes(&mut self) -> Option<&'a [u8]> {
    let n = self.u32()? as usize;
    self.take(n)
  }
  fn str(&mut self) -> Option<&'a str> {
    std::str::from_utf8(self.bytes()?).ok()
  }
}

/// Decodes a body whose CRC already matched; None when it is not a well-formed v1 record.
pub(crate) fn decode(body: &[u8]) -> Option<RecordRef<'_>> {
  let mut d = Decoder { rest: body };
  if d.u8()? != RECORD_VERSION {
    return None;
  }
  let flags = d.u8()?;
  if flags & !FLAG_FIRST_FAILURE != 0 {
    return None;
  }
  let event_time_ms = d.i64()?;
  let attempts = d.u32()?;
  let first_failure_ms = if flags & FLAG_FIRST_FAILURE != 0 { Some(d.i64()?) } else { None };
  let key = d.str()?;
  let event_name = d.str()?;
  let message_id = d.str()?;
  let payload = d.bytes()?;
  if !d.rest.is_empty() {
    return None;
  }
  Some(RecordRef { key, payload, event_name, message_id, event_time_ms, attempts, first_failure_ms })
}

/// A body length a frame can have: from the smallest body to [`MAX_RECORD_BYTES`].
pub(crate) fn plausible_len(len: u64) -> bool {
  (MIN_BODY as u64..=MAX_RECORD_BYTES as u64).contains(&len)
}

/// The body length and CRC of a frame header (`h` is [`FRAME_HEADER`] bytes).
pub(crate) fn parse_header(h: &[u8]) -> (u64, u32) {
  let mut len = [0u8; 4];
  let mut crc = [0u8; 4];
  len.copy_from_slice(&h[0..4]);
  crc.copy_from_slice(&h[4..8]);
  (u32::from_le_bytes(len) as u64, u32::from_le_bytes(crc))
}

#[cfg(test)]
mod tests {
  use super::*;
  use proptest::prelude::*;

  fn record() -> impl Strategy<Value = Record> {
    (
      ".{0,20}",
      prop::collection::vec(any::<u8>(), 0..200),
      prop::sample::select(vec!["Workflow Started", "Node Failed", "Workflow Event"]),
      ".{0,20}",
      any::<i64>(),
      any::<u32>(),
      any::<Option<i64>>(),
    )
      .prop_map(|(key, payload, event_name, message_id, event_time_ms, attempts, first_failure_ms)| Record {
        message: Message { key, payload, event_name, message_id, event_time_ms },
        attempts,
        first_failure_ms,
      })
  }

  proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every record survives encode + decode, and the header states the body's length and CRC.
    #[test]
    fn frame_round_trip(r in record(), prefix in prop::collection::vec(any::<u8>(), 0..16)) {
      let mut out = prefix.clone();
      encode_frame(&r, &mut out);
      let frame = &out[prefix.len()..];
      let (len, crc) = parse_header(&frame[..FRAME_HEADER]);
      let body = &frame[FRAME_HEADER..];
      prop_assert_eq!(len as usize, body.len());
      prop_assert_eq!(body.len(), encoded_body_len(&r));
      prop_assert!(plausible_len(len));
      prop_assert_eq!(crc, crc32c::crc32c(body));
      prop_assert_eq!(decode(body).map(|d| d.to_owned()), Some(r));
    }

    /// No byte content makes the decoder panic.
    #[test]
    fn frame_decode_never_panics(body in prop::collection::vec(any::<u8>(), 0..120)) {
      let _ = decode(&body);
    }
  }

  #[test]
  fn frame_decode_rejects_what_v1_never_writes() {
    let r = Record::new(Message {
      key: "k".into(),
      payload: b"{}".to_vec(),
      event_name: "e",
      message_id: "m".into(),
      event_time_ms: 1,
    });
    let mut out = Vec::new();
    encode_frame(&r, &mut out);
    let body = out[FRAME_HEADER..].to_vec();
    assert!(decode(&body).is_some());
    let with = |i: usize, b: u8| {
      let mut v = body.clone();
      v[i] = b;
      v
    };
    assert!(decode(&with(0, 2)).is_none(), "unknown version");
    assert!(decode(&with(1, 2)).is_none(), "unknown flag");
    assert!(decode(&[&body[..], &[0]].concat()).is_none(), "trailing byte");
    assert!(decode(&body[..body.len() - 1]).is_none(), "cut short");
    assert!(!plausible_len(MIN_BODY as u64 - 1) && !plausible_len(MAX_RECORD_BYTES as u64 + 1));
  }
}

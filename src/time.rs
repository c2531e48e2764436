//! Clocks and ISO-8601 times: the wall clock in milliseconds and the hand-written formatter (a leaf module).

use chrono::{DateTime, SecondsFormat, Utc};

/// The wall clock, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
  chrono::Utc::now().timestamp_millis()
}

/// `ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (chrono's rendering outside the years `Iso` covers).
pub fn iso_millis(ms: i64) -> String {
  match Iso::new(ms) {
    Some(iso) => iso.0.iter().map(|&b| b as char).collect(),
    None => iso_millis_chrono(ms),
  }
}

/// chrono's rendering, for the years `Iso` does not cover (and as its reference in tests).
pub(crate) fn iso_millis_chrono(ms: i64) -> String {
  DateTime::<Utc>::from_timestamp_millis(ms)
    .unwrap_or(DateTime::UNIX_EPOCH)
    .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0 to 9999 (chrono's `to_rfc3339_opts(Millis, true)` there).
pub struct Iso(pub [u8; 24]);

impl Iso {
  pub fn new(ms: i64) -> Option<Iso> {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
      return None;
    }
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut digits = |at: usize, width: usize, mut value: i64| {
      for i in (at..at + width).rev() {
        b[i] = b'0' + (value % 10) as u8;
        value /= 10;
      }
    };
    digits(0, 4, year);
    digits(5, 2, month);
    digits(8, 2, day);
    digits(11, 2, in_day / 3_600_000);
    digits(14, 2, in_day / 60_000 % 60);
    digits(17, 2, in_day / 1_000 % 60);
    digits(20, 3, in_day % 1_000);
    Some(Iso(b))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn times_match_chrono() {
    for ms in
      [0, 1, -1, 1_700_000_001_500, -62_135_596_800_000, 253_402_300_799_999, 951_782_400_000, 4_107_542_400_000]
    {
      let ours = Iso::new(ms).map(|i| String::from_utf8(i.0.to_vec()).unwrap());
      assert_eq!(ours.as_deref(), Some(iso_millis_chrono(ms).as_str()), "{ms}");
    }
    assert!(Iso::new(253_402_300_800_000).is_none());
    assert!(Iso::new(i64::MIN).is_none());
  }
}

//! The fast path's tests: cutting packed text, reading any `nums`, and fast_log.js against the layout tables.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::event::ExecutionInput;
use crate::packed::{ERROR_MESSAGE, SLOT_NAMES};

fn pieces(text: &str, units: &[f64]) -> Option<Vec<String>> {
  let mut cut = Units { text, at: 0, ascii: text.len() == units.iter().sum::<f64>() as usize };
  units.iter().map(|&n| cut.take(n).map(str::to_owned)).collect()
}

#[test]
fn packed_strings_are_cut_by_utf16_lengths() {
  assert_eq!(pieces("abcde", &[2.0, 0.0, 3.0]).unwrap(), ["ab", "", "cde"]);
  // é: 1 unit, 2 bytes; 😀: 2 units, 4 bytes; U+FFFD stands for a lone surrogate: 1 unit.
  assert_eq!(pieces("é😀x\u{FFFD}y", &[1.0, 3.0, 2.0]).unwrap(), ["é", "😀x", "\u{FFFD}y"]);
  assert!(pieces("ab", &[3.0]).is_none());
}

#[test]
fn a_surrogate_pair_across_two_fields_takes_the_exact_path() {
  // "a\ud83d" + "\ude00b" concatenate to "a😀b": the first field ends inside a character.
  assert!(pieces("a😀b", &[2.0, 2.0]).is_none());
}

proptest::proptest! {
  /// Whatever fast_log.js put in `nums`, reading it never panics, and what it accepts splits without one.
  #[test]
  fn any_packed_call_is_read_or_left_to_the_exact_reader(
    text in "\\PC{0,60}",
    picks in proptest::collection::vec((0usize..NUMS, proptest::num::f64::ANY), 0..40),
    kind in 0u8..5,
  ) {
    let mut nums = [0.0; NUMS];
    for (i, v) in picks {
      nums[i] = v;
    }
    let kind = packed_kind(kind as f64).flatten();
    if let Some(Ok(input)) = from_packed(&text, &nums, kind) {
      let mut scratch = ExecutionInput::new(EventKind::Started, String::new(), String::new(), 0);
      let queued = Queued::Packed(input);
      let input = queued.input(&mut scratch, 0, Instant::now());
      proptest::prop_assert!(!input.execution_id.trim().is_empty());
    }
  }
}

/// What fast_log.js does for one property it reads: the mask bits it sets and the `nums` offsets it writes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Writes {
  bits: BTreeSet<u32>,
  nums: BTreeSet<usize>,
}

/// The integer after `prefix` in `js` (`const LEN = 7;` and the like).
fn number_after(js: &str, prefix: &str) -> usize {
  let at = js.find(prefix).unwrap_or_else(|| panic!("fast_log.js has no `{prefix}`")) + prefix.len();
  let digits: String = js[at..].chars().take_while(char::is_ascii_digit).collect();
  digits.parse().unwrap_or_else(|_| panic!("fast_log.js: no number after `{prefix}`"))
}

fn literal(text: &str) -> u32 {
  let text = text.trim();
  match text.strip_prefix("0x") {
    Some(hex) => u32::from_str_radix(hex, 16),
    None => text.parse(),
  }
  .unwrap_or_else(|_| panic!("fast_log.js: {text:?} is not a number literal"))
}

/// `pack()` of fast_log.js cut at each property it reads (`v = o.x`, `v = e.x` for `error.x`, `const e =
/// o.error`), with what each piece writes; the order in which string slots are appended; and the final writes.
fn parse_pack(js: &str, len: usize, tag_len: usize) -> (BTreeMap<String, Writes>, Vec<usize>) {
  let body = &js[js.find("function pack(").expect("pack()")..js.find("function define(").expect("define()")];
  let mut marks: Vec<(usize, String)> = Vec::new();
  for (marker, prefix) in [("v = o.", ""), ("v = e.", "error."), ("const e = o.", ""), ("if (o.dimensions", "")] {
    for (at, _) in body.match_indices(marker) {
      let name: String = body[at + marker.len()..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
      let name = if marker.starts_with("if") { "(end)".to_string() } else { format!("{prefix}{name}") };
      marks.push((at, name));
    }
  }
  marks.sort();
  let mut found: BTreeMap<String, Writes> = BTreeMap::new();
  let mut slot_order = Vec::new();
  for (i, (at, name)) in marks.iter().enumerate() {
    let end = marks.get(i + 1).map_or(body.len(), |(next, _)| *next);
    let piece = &body[*at..end];
    let writes = found.entry(name.clone()).or_default();
    for (m, _) in piece.match_indices("m |= ") {
      let expr = &piece[m + 5..m + 5 + piece[m + 5..].find(';').expect("m |= ...;")];
      writes.bits.extend(expr.split('|').map(literal));
    }
    for (n, _) in piece.match_indices("nums[") {
      let index = &piece[n + 5..n + 5 + piece[n + 5..].find(']').expect("nums[...]")];
      let offset = match index.split_once(" + ") {
        _ if index == "LEN" => len,
        Some(("LEN", k)) => len + literal(k) as usize,
        Some(("TAG_LEN", _)) => tag_len,
        _ => literal(index) as usize,
      };
      writes.nums.insert(offset);
      if let Some(slot) = offset.checked_sub(len).filter(|s| index.starts_with("LEN") && *s < SLOT_COUNT) {
        slot_order.push(slot);
      }
    }
  }
  (found, slot_order)
}

/// What the Rust tables say fast_log.js must do for each property.
fn expected() -> BTreeMap<String, Writes> {
  let mut expected: BTreeMap<String, Writes> = BTreeMap::new();
  for (slot, name) in SLOT_NAMES.iter().enumerate() {
    let writes = expected.entry(name.to_string()).or_default();
    writes.bits.insert(1 << slot);
    writes.nums.insert(N_LEN + slot);
  }
  for (name, at, bit) in NUMBERS {
    let writes = expected.entry(name.to_string()).or_default();
    writes.bits.insert(bit);
    writes.nums.insert(at);
  }
  // `error`: a string is the error's message; an object only sets its bit, its fields are `error.x`.
  let error = expected.entry("error".into()).or_default();
  error.bits.extend([B_ERROR_STRING, B_ERROR_OBJECT, 1 << ERROR_MESSAGE]);
  error.nums.insert(N_LEN + ERROR_MESSAGE);
  expected.entry("tags".into()).or_default().nums.insert(N_TAG_LEN);
  expected.entry("(end)".into()).or_default().nums.extend([N_MASK, N_TAGS, N_UNITS]);
  expected
}

/// fast_log.js writes the layout as literal numbers (V8 folds nothing faster); this holds it to the Rust tables.
fn check_layout(js: &str) -> Result<(), String> {
  let mut problems = Vec::new();
  let mut same = |what: &str, js: usize, rust: usize| {
    if js != rust {
      problems.push(format!("{what}: fast_log.js has {js}, the Rust table {rust}"));
    }
  };
  same("LEN (string lengths)", number_after(js, "const LEN = "), N_LEN);
  same("TAG_LEN (tag lengths)", number_after(js, "const TAG_LEN = "), N_TAG_LEN);
  same("MAX (longest packed string)", number_after(js, "const MAX = "), MAX_UNITS);
  same("the tag count cap", number_after(js, "v.length < 100 ? v.length : "), MAX_TAGS);
  let kind_at = js.find("] = kind;").expect("fast_log.js sets nums[...] = kind");
  same("nums[...] = kind", literal(&js[js[..kind_at].rfind("nums[").expect("nums[") + 5..kind_at]) as usize, N_KIND);
  let (found, slot_order) = parse_pack(js, N_LEN, N_TAG_LEN);
  let expected = expected();
  for name in found.keys().chain(expected.keys()).collect::<BTreeSet<_>>() {
    match (found.get(name), expected.get(name)) {
      (Some(f), Some(e)) if f == e => {}
      (f, e) => problems.push(format!("{name}: fast_log.js writes {f:?}, the Rust tables say {e:?}")),
    }
  }
  // Every name pack() reads must be one `polluted()` looks for on Object.prototype, or an inherited value of it
  // would be packed as the input's own.
  let checked: BTreeSet<String> = {
    let body = &js[js.find("function polluted(").expect("polluted()")..js.find("function pack(").expect("pack()")];
    body
      .match_indices("p.")
      .map(|(at, _)| body[at + 2..].chars().take_while(char::is_ascii_alphanumeric).collect())
      .collect()
  };
  let read = found.keys().filter(|n| *n != "(end)").map(|n| n.trim_start_matches("error.").to_string());
  for name in read.chain(["dimensions", "metrics", "flags"].map(String::from)) {
    if !checked.contains(&name) {
      problems.push(format!("{name}: pack() reads it, polluted() does not look for it on Object.prototype"));
    }
  }
  if !slot_order.windows(2).all(|w| w[0] <= w[1]) {
    problems.push(format!("string slots are appended out of slot order: {slot_order:?}"));
  }
  let defines: Vec<(String, usize)> = js
    .match_indices("define('")
    .map(|(at, _)| {
      let rest = &js[at + 8..];
      let name = rest[..rest.find('\'').unwrap()].to_string();
      (name.clone(), number_after(rest, &format!("{name}', ")))
    })
    .collect();
  let kinds: Vec<(String, usize)> =
    KINDS.iter().enumerate().map(|(code, (name, _))| (name.to_string(), code)).collect();
  if defines != kinds {
    problems.push(format!("log methods and kinds: fast_log.js {defines:?}, the Rust table {kinds:?}"));
  }
  if problems.is_empty() {
    Ok(())
  } else {
    Err(problems.join("\n"))
  }
}

#[test]
fn fast_log_js_follows_the_layout_tables() {
  if let Err(problems) = check_layout(FAST_LOG_JS) {
    panic!("src/napi/fast_log.js and the layout tables (fast_log.rs, packed.rs) differ:\n{problems}");
  }
}

#[test]
fn the_layout_check_catches_a_wrong_offset_bit_or_name() {
  for (from, to) in [
    ("nums[LEN + 5] = v.length", "nums[LEN + 6] = v.length"),
    ("m |= 0x800000;", "m |= 0x1000000;"),
    ("v = o.userId;", "v = o.userID;"),
    ("const TAG_LEN = 31;", "const TAG_LEN = 32;"),
    ("m |= 0x10000000; nums[7] = v;", "m |= 0x10000000; nums[3] = v;"),
    ("define('logWorkflowResumed', 1", "define('logWorkflowResumed', 2"),
    ("p.retryOf !== undefined", "p.retryof !== undefined"),
    ("p.stack !== undefined", "p.stac !== undefined"),
  ] {
    assert!(FAST_LOG_JS.contains(from), "{from}");
    assert!(check_layout(&FAST_LOG_JS.replacen(from, to, 1)).is_err(), "{from} -> {to} went unnoticed");
  }
}

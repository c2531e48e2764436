//! What of an error's free text may reach an event: ERROR_DETAIL (full, message, type) and REDACT (patterns).

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

/// How much of an error's text an event carries (README: What an event can carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDetail {
  /// Message and stack, as the fork sent them.
  Full,
  /// The message without the stack.
  Message,
  /// No free text: the error's class and the failing node only.
  Type,
}

impl ErrorDetail {
  pub fn name(self) -> &'static str {
    match self {
      Self::Full => "full",
      Self::Message => "message",
      Self::Type => "type",
    }
  }
}

/// What a match becomes.
pub const REDACTED: &str = "[redacted]";
/// More patterns than any operator writes by hand; each one is one more pass over the text.
pub const MAX_PATTERNS: usize = 32;
/// Compiled size of one pattern. The `regex` crate's matching is linear in the text (no backtracking), so a
/// hostile pattern can cost memory only, and this bounds it: `a{1000}{1000}` is refused, not built.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// The lazy DFA's cache per pattern, on the worker thread.
const DFA_SIZE_LIMIT: usize = 1 << 20;

/// REDACT's compiled patterns: every match in an error's free text becomes `[redacted]`.
#[derive(Debug, Clone)]
pub struct Redaction {
  patterns: Vec<Regex>,
}

impl Redaction {
  /// A JSON array of regular expressions (`["sk-[A-Za-z0-9]+", "\\d{16}"]`): JSON, so a comma or a newline in a
  /// pattern needs no escaping of its own. An empty array is no redaction. Err says what is wrong, naming the
  /// entry (1-based) and its compile error.
  pub fn parse(value: &str) -> Result<Option<Self>, String> {
    let entries: Vec<String> = serde_json::from_str(value).map_err(|e| format!("not a JSON array of strings: {e}"))?;
    if entries.len() > MAX_PATTERNS {
      return Err(format!("{} patterns, at most {MAX_PATTERNS}", entries.len()));
    }
    let mut patterns = Vec::with_capacity(entries.len());
    for (n, entry) in entries.iter().enumerate() {
      if entry.is_empty() {
        return Err(format!("entry {} is empty", n + 1));
      }
      let compiled = RegexBuilder::new(entry).size_limit(PATTERN_SIZE_LIMIT).dfa_size_limit(DFA_SIZE_LIMIT).build();
      patterns.push(compiled.map_err(|e| format!("entry {} is not a valid regular expression: {e}", n + 1))?);
    }
    Ok((!patterns.is_empty()).then_some(Self { patterns }))
  }

  pub fn pattern_count(&self) -> usize {
    self.patterns.len()
  }

  /// `text` with every match of every pattern replaced by `[redacted]`. Matches of different patterns that
  /// overlap or touch become one `[redacted]`, so no part of either is left between them. Borrowed when
  /// nothing matched.
  pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
    let mut spans: Vec<(usize, usize)> = self
      .patterns
      .iter()
      .flat_map(|p| p.find_iter(text).map(|m| (m.start(), m.end())))
      .filter(|(start, end)| start < end)
      .collect();
    if spans.is_empty() {
      return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut spans = spans.into_iter().peekable();
    while let Some((start, mut end)) = spans.next() {
      while let Some(&(next_start, next_end)) = spans.peek() {
        if next_start > end {
          break;
        }
        end = end.max(next_end);
        spans.next();
      }
      out.push_str(&text[copied..start]);
      out.push_str(REDACTED);
      copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn redact(patterns: &[&str], text: &str) -> String {
    Redaction::parse(&serde_json::to_string(patterns).unwrap()).unwrap().unwrap().apply(text).into_owned()
  }

  #[test]
  fn every_match_of_every_pattern_is_replaced() {
    assert_eq!(redact(&["sk-[a-z0-9]+"], "key sk-abc1 and sk-def2."), "key [redacted] and [redacted].");
    assert_eq!(redact(&["\\d{4}", "secret"], "pin 1234, secret word"), "pin [redacted], [redacted] word");
    assert_eq!(redact(&["absent"], "nothing here"), "nothing here");
    assert!(matches!(Redaction::parse(r#"["x"]"#).unwrap().unwrap().apply("none"), Cow::Borrowed(_)));
  }

  #[test]
  fn overlapping_and_touching_matches_become_one_redaction() {
    // abc-123 is matched by both; the union is hidden, nothing of either left between two markers.
    assert_eq!(redact(&["abc-\\d", "c-123"], "x abc-1234 y"), "x [redacted]4 y");
    assert_eq!(redact(&["ab", "bcd", "d"], "abcde"), "[redacted]e");
    assert_eq!(redact(&["ab", "cd"], "abcd"), "[redacted]");
    assert_eq!(redact(&["a", "a"], "aXa"), "[redacted]X[redacted]");
  }

  #[test]
  fn patterns_may_hold_commas_newlines_and_unicode() {
    assert_eq!(redact(&["a,b"], "1 a,b 2"), "1 [redacted] 2");
    assert_eq!(redact(&["(?m)^token=.*$"], "x\ntoken=abc\ny"), "x\n[redacted]\ny");
    assert_eq!(redact(&["é+"], "caféé!"), "caf[redacted]!");
    // A pattern that can match nothing leaves the text as it is.
    assert_eq!(redact(&["z*"], "abc"), "abc");
  }

  #[test]
  fn bad_lists_and_patterns_name_the_entry() {
    let err = |v: &str| Redaction::parse(v).unwrap_err();
    assert!(err("sk-.*").starts_with("not a JSON array of strings"), "{}", err("sk-.*"));
    assert!(err("[1]").starts_with("not a JSON array of strings"));
    assert_eq!(err(r#"["ok", ""]"#), "entry 2 is empty");
    let e = err(r#"["ok", "a(b"]"#);
    assert!(e.starts_with("entry 2 is not a valid regular expression: ") && e.contains("unclosed group"), "{e}");
    // A pattern whose compiled form would take too much memory is refused, not built.
    let e = err(r#"["a{1000}{1000}"]"#);
    assert!(e.starts_with("entry 1 is not a valid regular expression: ") && e.contains("size limit"), "{e}");
    let many = serde_json::to_string(&vec!["x"; MAX_PATTERNS + 1]).unwrap();
    assert_eq!(err(&many), format!("{} patterns, at most {MAX_PATTERNS}", MAX_PATTERNS + 1));
    assert!(Redaction::parse("[]").unwrap().is_none());
  }
}

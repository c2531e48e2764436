//! The one-way dependency rule of issue 16, checked on every `crate::` path in src/ (`use` lines and inline).
//!
//! napi -> logger -> {intake, delivery} -> {transport, spool, event, telemetry} -> {record, config, time}: a module may
//! use its own group and the groups below it, nothing above and nothing beside it, except where EXCEPTIONS says
//! why. To add a module, give it a group in MODULES; to add a group, give it a row in RULE.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each group and the groups it may use (besides itself). Groups of one tier do not use each other.
const RULE: &[(&str, &[&str])] = &[
  ("napi", &["logger", "intake", "delivery", "transport", "spool", "event", "telemetry", "record", "config", "time"]),
  ("logger", &["intake", "delivery", "transport", "spool", "event", "telemetry", "record", "config", "time"]),
  ("intake", &["transport", "spool", "event", "telemetry", "record", "config", "time"]),
  ("delivery", &["transport", "spool", "event", "telemetry", "record", "config", "time"]),
  ("transport", &["record", "config", "time"]),
  ("spool", &["record", "config", "time"]),
  ("event", &["record", "config", "time"]),
  ("telemetry", &["record", "config", "time"]),
  ("record", &[]),
  ("config", &[]),
  ("time", &[]),
];

/// The group of each top-level module of src/ (a file `src/x.rs` or a folder `src/x/`).
const MODULES: &[(&str, &str)] = &[
  ("napi", "napi"),
  ("logger", "logger"),
  // The command-line tools' Kafka access: an API beside the logger's, used by the napi layer.
  ("tools", "logger"),
  ("packed", "intake"),
  ("intake", "intake"),
  ("delivery", "delivery"),
  ("error_kind", "transport"),
  ("transport", "transport"),
  ("spool", "spool"),
  ("event", "event"),
  ("telemetry", "telemetry"),
  ("record", "record"),
  ("config", "config"),
  ("time", "time"),
];

/// Uses the rule does not allow, each with its reason: (module, module it uses, why). A listed use that no
/// longer occurs fails the test too, so this list only shrinks as the tree is fixed.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
  (
    "delivery",
    "intake",
    "the worker drains the intake's queue and splits its packed slots: the two halves of one hand-off",
  ),
  ("delivery", "packed", "the worker splits the queued slots (packed is the intake's format)"),
  ("telemetry", "error_kind", "lastError.kind is an ErrorKind, classified beside librdkafka's codes"),
  ("telemetry", "spool", "the health snapshot's spool section shows the spool's own slot status"),
  ("transport", "spool", "the in-flight record carries the spool position its delivery report acks"),
  (
    "transport",
    "telemetry",
    "librdkafka's callbacks report broker state, delivery counts and log lines into telemetry",
  ),
];

fn group(module: &str) -> Option<&'static str> {
  MODULES.iter().find(|(m, _)| *m == module).map(|(_, g)| *g)
}

fn allowed(from: &str, to: &str) -> bool {
  from == to || RULE.iter().any(|(g, uses)| *g == from && uses.contains(&to))
}

/// The top-level modules named by the `crate::` paths of `text` (comment lines left out).
fn crate_paths(text: &str) -> BTreeSet<String> {
  let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
  let ident =
    |s: &str| s.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
  let mut found = BTreeSet::new();
  for (at, _) in code.match_indices("crate::") {
    if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
      continue;
    }
    let rest = &code[at + "crate::".len()..];
    if let Some(group) = rest.strip_prefix('{') {
      // `use crate::{a, b::c, d::{e, f}}`: the first name of each item at depth 0.
      let (mut depth, mut start) = (0, 0);
      for (i, c) in group.char_indices() {
        match c {
          '{' => depth += 1,
          '}' if depth == 0 => {
            found.insert(ident(&group[start..i]));
            break;
          }
          '}' => depth -= 1,
          ',' if depth == 0 => {
            found.insert(ident(&group[start..i]));
            start = i + 1;
          }
          _ => {}
        }
      }
    } else {
      found.insert(ident(rest));
    }
  }
  found.remove("");
  found
}

/// Every `.rs` file under `dir` with the top-level module it belongs to.
fn sources(src: &Path, dir: &Path, out: &mut Vec<(String, String, String)>) {
  for entry in std::fs::read_dir(dir).expect("src/ is readable") {
    let path = entry.expect("a directory entry").path();
    if path.is_dir() {
      sources(src, &path, out);
    } else if path.extension().is_some_and(|e| e == "rs") {
      let relative = path.strip_prefix(src).unwrap();
      let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
      let module = first.trim_end_matches(".rs").to_string();
      let text = std::fs::read_to_string(&path).expect("a readable source file");
      out.push((format!("src/{}", relative.display()), module, text));
    }
  }
}

/// The rule's violations in the tree at `src`, and the exceptions it no longer needs.
fn check(src: &Path) -> Vec<String> {
  let mut files = Vec::new();
  sources(src, src, &mut files);
  let mut problems = Vec::new();
  let mut used_exceptions = BTreeSet::new();
  for (file, module, text) in &files {
    if module == "lib" {
      continue; // the root declares every module
    }
    let Some(from) = group(module) else {
      problems.push(format!("{file}: module `{module}` has no group in MODULES"));
      continue;
    };
    for target in crate_paths(text) {
      let Some(to) = group(&target) else {
        problems.push(format!("{file}: uses crate::{target}, which has no group in MODULES"));
        continue;
      };
      if allowed(from, to) {
        continue;
      }
      match EXCEPTIONS.iter().find(|(m, t, _)| m == module && *t == target) {
        Some(exception) => drop(used_exceptions.insert(*exception)),
        None => {
          problems.push(format!("{file}: `{module}` ({from}) uses crate::{target} ({to}): {from} may not use {to}"))
        }
      }
    }
  }
  for exception in EXCEPTIONS.iter().filter(|e| !used_exceptions.contains(*e)) {
    problems.push(format!("EXCEPTIONS lists {} -> {}, which is no longer needed: remove it", exception.0, exception.1));
  }
  problems
}

#[test]
fn the_rule_is_one_way() {
  // Every group reachable from a group must not reach it back.
  let uses: BTreeMap<&str, &[&str]> = RULE.iter().copied().collect();
  for (start, _) in RULE {
    let mut seen = BTreeSet::new();
    let mut next: Vec<&str> = uses[start].to_vec();
    while let Some(g) = next.pop() {
      assert_ne!(g, *start, "the rule lets {start} reach itself");
      if seen.insert(g) {
        next.extend(uses.get(g).copied().unwrap_or_else(|| panic!("{g} has no row in RULE")));
      }
    }
  }
  for (module, g) in MODULES {
    assert!(uses.contains_key(g), "{module}'s group {g} has no row in RULE");
  }
}

#[test]
fn every_crate_path_follows_the_dependency_rule() {
  let problems = check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
  assert!(
    problems.is_empty(),
    "the dependency rule (tests/module_dependencies.rs) is broken:\n{}",
    problems.join("\n")
  );
}

#[test]
fn crate_paths_are_found_in_use_groups_and_inline() {
  let text =
    "use crate::{a, b::{c, d}, e::f};\n// use crate::comment;\nlet x = crate::g::h(); $crate::i; other_crate::j;";
  let found: Vec<String> = crate_paths(text).into_iter().collect();
  assert_eq!(found, ["a", "b", "e", "g"]);
}

//! The fast path's native half: installs `fast_log.js` on the class and reads what it packed into a `PackedInput`.
//!
//! Per field, the N-API reader pays a C-string internalization, an uncached V8 property lookup and several
//! checked N-API calls: ~5 us per n8n-shaped event. The log methods of fast_log.js, installed on the class when
//! the addon loads, load the same properties with V8's inline caches and call the logger's native `logPacked`
//! function with the strings concatenated into one, copied out with a single N-API call; lengths, numbers and
//! presence bits come through a shared Float64Array `nums`. Anything they are not sure about (a wrong type, a long
//! string, extras, a throw) goes to the native method and the exact reader (js_input.rs), so results and rejection
//! reasons are the same on both paths (both apply `event::rules`). The accepted text is queued whole and split into
//! fields on the worker (src/packed.rs).
//!
//! The layout of `nums` is the table below; the string slots are `packed::SLOT_NAMES`. fast_log.js writes literal
//! numbers for speed, and the test at the end of this file parses it and fails on any difference in names, bits or
//! offsets.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use napi::sys;

use super::raw::{Env, Value};
use crate::event::rules::{self, Rejection};
use crate::event::EventKind;
use crate::intake::Intake;
use crate::packed::{self, capped, PackedInput, Queued, SLOT_COUNT};

/// The most tags either reader takes; fast_log.js stops at the same count.
pub const MAX_TAGS: usize = 100;
/// The longest string (UTF-16 units) fast_log.js packs; a longer one takes the exact reader, which caps it.
#[cfg_attr(not(test), allow(dead_code))]
const MAX_UNITS: usize = 4096;

/// Offsets in `nums`.
const N_MASK: usize = 0;
const N_STARTED_MS: usize = 1;
const N_STOPPED_MS: usize = 2;
const N_NODE_COUNT: usize = 3;
const N_TAGS: usize = 4;
const N_KIND: usize = 5;
const N_UNITS: usize = 6;
const N_RUN_INDEX: usize = 7;
/// `nums[N_LEN + slot]`: the length of string slot `slot`; `nums[N_TAG_LEN + i]`: of tag `i`.
const N_LEN: usize = 8;
const N_TAG_LEN: usize = N_LEN + SLOT_COUNT;
const NUMS: usize = N_TAG_LEN + MAX_TAGS;

/// Bits of `nums[N_MASK]`: bit `slot` says string slot `slot` is present; these flags follow them.
const B_STARTED_MS: u32 = 1 << SLOT_COUNT;
const B_STOPPED_MS: u32 = 1 << (SLOT_COUNT + 1);
const B_NODE_COUNT: u32 = 1 << (SLOT_COUNT + 2);
const B_ERROR_STRING: u32 = 1 << (SLOT_COUNT + 3);
const B_ERROR_OBJECT: u32 = 1 << (SLOT_COUNT + 4);
const B_RUN_INDEX: u32 = 1 << (SLOT_COUNT + 5);
// fast_log.js builds the mask with int32 bit operations: bit 31 would make it negative.
const _: () = assert!(B_RUN_INDEX < 1 << 31);

/// The properties read as numbers (or Dates): where their value goes and the bit that says it is there.
/// runIndex is read on node events only.
const NUMBERS: [(&str, usize, u32); 4] = [
  ("startedAt", N_STARTED_MS, B_STARTED_MS),
  ("stoppedAt", N_STOPPED_MS, B_STOPPED_MS),
  ("nodeCount", N_NODE_COUNT, B_NODE_COUNT),
  ("runIndex", N_RUN_INDEX, B_RUN_INDEX),
];

/// `nums[N_KIND]`: which log method packed the input (None: a node event, whose phase is in the input).
const KINDS: [(&str, Option<EventKind>); 4] = [
  ("logWorkflowStarted", Some(EventKind::Started)),
  ("logWorkflowResumed", Some(EventKind::Resumed)),
  ("logWorkflowFinished", Some(EventKind::Finished)),
  ("logNodeEvent", None),
];

/// Replaces the log methods of the class with the JS ones of fast_log.js, which call `logPacked`.
const FAST_LOG_JS: &str = include_str!("fast_log.js");

thread_local! {
  /// The `nums` array of this JS thread's env (the main thread, each worker_thread).
  static NUMS_OF: Cell<Option<(Env, *const f64)>> = const { Cell::new(None) };
  /// Reused for the packed string.
  static PACKED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn forget_nums(_: *mut c_void) {
  NUMS_OF.set(None);
}

/// Installs the JS log methods on `class` (at module load). On failure, e.g. with code generation from strings
/// disallowed, the native methods stay and every input takes the exact reader: slower, same results.
pub fn install(env: Env, class: Value) -> bool {
  let installed = env.float64_array(NUMS).and_then(|(array, nums)| {
    // The methods' closure keeps the array, and so its memory, alive as long as the class.
    let done = env.run_and_call(FAST_LOG_JS, &[class, array])?;
    env.boolean(done).then_some(nums)
  });
  let Some(nums) = installed else {
    env.clear_exception();
    return false;
  };
  NUMS_OF.set(Some((env, nums)));
  env.on_teardown(forget_nums);
  true
}

/// The fast path's native function for one logger: its data is that logger's intake, so a call needs no
/// instance lookup or borrow tracking, only the argument. The function owns one reference to the intake.
pub fn packed_log_function(env: Env, intake: Arc<Intake>) -> Option<Value> {
  let data = Arc::into_raw(intake).cast_mut().cast();
  let function = env.function_with_finalizer(c"logPacked", Some(log_packed), data, Some(release_intake));
  if function.is_none() {
    // Nothing can call a function that was never handed out: its reference is ours to drop.
    // SAFETY: `data` came from Arc::into_raw above and was handed to no one.
    drop(unsafe { Arc::from_raw(data.cast::<Intake>()) });
  }
  function
}

unsafe extern "C" fn release_intake(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: `data` is the reference packed_log_function gave the function; V8 finalizes it once.
  drop(unsafe { Arc::from_raw(data.cast::<Intake>()) });
}

/// `logPacked(packed)`: true or false as the log method returns, null when the exact reader must decide.
unsafe extern "C" fn log_packed(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this with the env of the call it makes.
  let env = unsafe { Env::from_raw(env) };
  let Some((packed, data)) = env.first_argument(info).filter(|(_, data)| !data.is_null()) else {
    return env.null();
  };
  // SAFETY: alive: the function being called holds a reference, released only by its finalizer.
  let intake = unsafe { &*data.cast::<Intake>() };
  let read = catch_unwind(AssertUnwindSafe(|| read_packed(env, packed))).ok().flatten();
  // A panic once the input is read answers false: the exact path could queue the event a second time.
  let accepted =
    read.map(|read| catch_unwind(AssertUnwindSafe(|| intake.settle(read.map(Queued::Packed)))).unwrap_or(false));
  match accepted {
    Some(accepted) => env.boolean_value(accepted),
    None => env.null(),
  }
}

/// A log call packed by fast_log.js. None when the input needs the exact reader after all.
fn read_packed(env: Env, packed: Value) -> Option<Result<PackedInput, Rejection>> {
  let (nums_env, nums) = NUMS_OF.get()?;
  if nums_env != env {
    return None;
  }
  // SAFETY: the array lives as long as the class (install); fast_log.js filled it just before this call, and
  // no JS runs until we return.
  let nums = unsafe { std::slice::from_raw_parts(nums, NUMS) };
  let kind = packed_kind(nums[N_KIND])?;
  PACKED.with_borrow_mut(|buffer| {
    let text = packed_text(env, packed, buffer)?;
    from_packed(text, nums, kind)
  })
}

/// Copies the packed string into `buffer`; one N-API call unless it is longer than the buffer.
fn packed_text(env: Env, value: Value, buffer: &mut Vec<u8>) -> Option<&str> {
  if buffer.len() < 4096 {
    buffer.resize(4096, 0);
  }
  let mut written = env.string_into(value, buffer)?;
  if written + 1 >= buffer.len() {
    buffer.resize(env.string_len(value)? + 1, 0);
    written = env.string_into(value, buffer)?;
  }
  // V8 writes valid UTF-8 (lone surrogates become U+FFFD); anything else takes the exact path.
  std::str::from_utf8(&buffer[..written]).ok()
}

/// Which log method packed the input (`nums[N_KIND]`, set by fast_log.js).
fn packed_kind(code: f64) -> Option<Option<EventKind>> {
  KINDS.get(code as u8 as usize).map(|(_, kind)| *kind)
}

/// Cuts the UTF-8 copy of a packed JS string into pieces of known UTF-16 lengths.
struct Units<'t> {
  text: &'t str,
  at: usize,
  /// As many UTF-8 bytes as UTF-16 units: all ASCII, so lengths are byte lengths and nothing is scanned.
  ascii: bool,
}

impl<'t> Units<'t> {
  /// The next `units` UTF-16 units; None when that ends inside a character (a surrogate pair made of the
  /// end of one field and the start of the next).
  fn take(&mut self, units: f64) -> Option<&'t str> {
    let units = units as usize;
    let start = self.at;
    if self.ascii {
      let piece = self.text.get(start..start.checked_add(units)?)?;
      self.at += units;
      return Some(piece);
    }
    let mut left = units;
    let mut end = start;
    for c in self.text.get(start..)?.chars() {
      if left == 0 {
        break;
      }
      // V8 writes lone surrogates as U+FFFD: one unit, like the surrogate itself.
      left = left.checked_sub(c.len_utf16())?;
      end += c.len_utf8();
    }
    if left > 0 {
      return None;
    }
    self.at = end;
    Some(&self.text[start..end])
  }
}

/// Cuts the packed text into its slots and validates them in the exact reader's order; the fields themselves
/// are split off on the worker (src/packed.rs).
fn from_packed(text: &str, nums: &[f64], kind: Option<EventKind>) -> Option<Result<PackedInput, Rejection>> {
  let mask = nums[N_MASK] as u32;
  let mut units = Units { text, at: 0, ascii: text.len() == nums[N_UNITS] as usize };
  let mut slots: [Option<&str>; SLOT_COUNT] = [None; SLOT_COUNT];
  let mut lens = [0u32; SLOT_COUNT];
  for (i, slot) in slots.iter_mut().enumerate() {
    if mask & (1 << i) != 0 {
      let piece = units.take(nums[N_LEN + i])?;
      lens[i] = piece.len() as u32;
      *slot = Some(piece);
    }
  }
  let tag_count = (nums[N_TAGS] as usize).min(MAX_TAGS);
  let mut tag_lens = Vec::with_capacity(tag_count);
  for i in 0..tag_count {
    tag_lens.push(units.take(nums[N_TAG_LEN + i])?.len() as u32);
  }
  let (kind, run_index, started_at_ms, stopped_at_ms, node_count) = match validate_packed(&slots, nums, kind) {
    Ok(checked) => checked,
    Err(reason) => return Some(Err(reason)),
  };
  Some(Ok(PackedInput {
    kind,
    text: text[..units.at].into(),
    present: mask & ((1 << SLOT_COUNT) - 1),
    lens,
    tag_lens: tag_lens.into_boxed_slice(),
    started_at_ms,
    stopped_at_ms,
    node_count,
    run_index,
    has_error: mask & (B_ERROR_STRING | B_ERROR_OBJECT) != 0,
    accepted_at: Instant::now(),
  }))
}

/// The event kind, runIndex, startedAt, stoppedAt and nodeCount of a valid input.
type Checked = (EventKind, Option<u32>, Option<i64>, Option<i64>, Option<f64>);

/// A time given as a number or Date (its bit set, the value in `nums`) or as text (its string slot).
fn packed_time(
  nums: &[f64],
  mask: u32,
  (field, at, bit): (&str, usize, u32),
  text: Option<&str>,
) -> Result<Option<i64>, Rejection> {
  match (mask & bit != 0, text) {
    (true, _) => rules::time(nums[at], field).map(Some),
    (false, Some(text)) => rules::time_text(capped(text, 64), field).map(Some),
    (false, None) => Ok(None),
  }
}

/// The exact reader's checks, in its order: required ids, the node's phase, name and run index, times, nodeCount.
fn validate_packed(
  slots: &[Option<&str>; SLOT_COUNT],
  nums: &[f64],
  kind: Option<EventKind>,
) -> Result<Checked, Rejection> {
  let mask = nums[N_MASK] as u32;
  // A fast-path field is at most MAX_UNITS UTF-16 units, within the cap, so the checks need no copy.
  rules::required(slots[packed::EXECUTION_ID], "executionId")?;
  rules::required(slots[packed::WORKFLOW_ID], "workflowId")?;
  let [started, stopped, count, run] = NUMBERS;
  let (kind, run_index) = match kind {
    Some(kind) => (kind, None),
    None => {
      let phase = rules::node_phase(slots[packed::NODE_EVENT].map(|s| capped(s, 32)))?;
      rules::required(slots[packed::NODE_NAME], "nodeName")?;
      let run_index = (mask & run.2 != 0).then(|| rules::run_index(nums[run.1], run.0)).transpose()?;
      (EventKind::Node(phase), run_index)
    }
  };
  let started_at_ms = packed_time(nums, mask, started, slots[packed::STARTED_AT])?;
  let stopped_at_ms = packed_time(nums, mask, stopped, slots[packed::STOPPED_AT])?;
  let node_count = (mask & count.2 != 0).then(|| rules::finite(nums[count.1], count.0)).transpose()?;
  Ok((kind, run_index, started_at_ms, stopped_at_ms, node_count))
}

#[cfg(test)]
mod tests;

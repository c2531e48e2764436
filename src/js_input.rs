//! Reads a log call's JS object into `ExecutionInput`: a fast path (fast_log.js packs the plain fields in JS
//! into one string) and the exact N-API reader, which handles everything else, gives the rejection reasons,
//! and clears every JS exception (throwing getters, proxies).

use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;
use std::time::Instant;

use napi::sys;

use crate::event::{ErrorInput, EventKind, ExecutionInput, Extras, NodeInput, NodePhase};
use crate::time::now_ms;
use crate::packed::{self, capped, PackedInput, Queued, MAX_STACK_BYTES, MAX_TEXT_BYTES, SLOT_COUNT};
use crate::intake::Intake;

/// Why an input was rejected; shown in the health snapshot as `lastRejection.reason`.
pub type Rejection = String;

const MAX_LIST_ITEMS: u32 = 100;
const MAX_EXTRAS: u32 = 64;
/// Dates the ISO-8601 output can show: years 0001 to 9999.
const MIN_TIME_MS: f64 = -62_135_596_800_000.0;
const MAX_TIME_MS: f64 = 253_402_300_799_999.0;

pub struct Reader {
  env: sys::napi_env,
}

// ---- Fast path -------------------------------------------------------------------------------------------
//
// Per field, the N-API reader pays a C-string internalization, an uncached V8 property lookup and several
// checked N-API calls: ~5 us per n8n-shaped event. The log methods of fast_log.js, installed on the class when
// the addon loads, load the same properties with V8's inline caches and call the logger's native `logPacked`
// function with the strings concatenated into one, copied out with a single N-API call; lengths, numbers and
// presence bits come through a shared Float64Array. Anything they are not sure about (a wrong type, a long
// string, extras, a throw) goes to the native method and the N-API reader, so results and rejection reasons are
// the same on both paths. The accepted text is queued whole and split into fields on the worker (src/packed.rs).

/// Bits of `nums[N_MASK]`: which slots hold a value. String slots first, in packing order (src/packed.rs), then
/// these flags. src/fast_log.js writes the same bits and offsets: keep in step.
const B_STARTED_MS: u32 = 1 << SLOT_COUNT;
const B_STOPPED_MS: u32 = 1 << (SLOT_COUNT + 1);
const B_NODE_COUNT: u32 = 1 << (SLOT_COUNT + 2);
const B_ERROR_STRING: u32 = 1 << (SLOT_COUNT + 3);
const B_ERROR_OBJECT: u32 = 1 << (SLOT_COUNT + 4);
// fast_log.js builds the mask with int32 bit operations: bit 31 would make it negative.
const _: () = assert!(B_ERROR_OBJECT < 1 << 31);
/// The layout of `nums`, shared with src/fast_log.js.
const N_MASK: usize = 0;
const N_STARTED_MS: usize = 1;
const N_STOPPED_MS: usize = 2;
const N_NODE_COUNT: usize = 3;
const N_TAGS: usize = 4;
const N_KIND: usize = 5;
const N_UNITS: usize = 6;
const N_LEN: usize = 7;
const N_TAG_LEN: usize = N_LEN + SLOT_COUNT;
const NUMS: usize = N_TAG_LEN + MAX_LIST_ITEMS as usize;

/// Replaces the log methods of the class with the JS ones of fast_log.js, which call `logPacked`.
const FAST_LOG_JS: &str = include_str!("fast_log.js");

thread_local! {
  /// The `nums` array of this JS thread's env (the main thread, each worker_thread).
  static NUMS_OF: std::cell::Cell<Option<(sys::napi_env, *const f64)>> = const { std::cell::Cell::new(None) };
  /// Reused for the packed string.
  static PACKED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

unsafe extern "C" fn forget_nums(_: *mut std::ffi::c_void) {
  NUMS_OF.set(None);
}

/// The fast path's native function for one logger: its data is that logger's intake, so a call needs no
/// instance lookup or borrow tracking, only the argument. The function owns one reference to the intake.
pub fn packed_log_function(env: sys::napi_env, intake: Arc<Intake>) -> Option<sys::napi_value> {
  let data = Arc::into_raw(intake).cast_mut().cast();
  let mut function = ptr::null_mut();
  let name = c"logPacked";
  let created = unsafe {
    sys::napi_create_function(env, name.as_ptr(), name.count_bytes() as isize, Some(log_packed), data, &mut function)
      == sys::Status::napi_ok
      && sys::napi_add_finalizer(env, function, data, Some(release_intake), ptr::null_mut(), ptr::null_mut())
        == sys::Status::napi_ok
  };
  if !created {
    // Nothing can call a function that was never handed out: its reference is ours to drop.
    drop(unsafe { Arc::from_raw(data.cast::<Intake>()) });
    return None;
  }
  Some(function)
}

unsafe extern "C" fn release_intake(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  drop(unsafe { Arc::from_raw(data.cast::<Intake>()) });
}

/// `logPacked(packed)`: true or false as the log method returns, null when the exact reader must decide.
unsafe extern "C" fn log_packed(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let mut argc = 1usize;
  let mut packed = ptr::null_mut();
  let mut data = ptr::null_mut();
  let mut result = ptr::null_mut();
  unsafe {
    if sys::napi_get_cb_info(env, info, &mut argc, &mut packed, ptr::null_mut(), &mut data) != sys::Status::napi_ok
      || argc < 1
      || data.is_null()
    {
      sys::napi_get_null(env, &mut result);
      return result;
    }
  }
  // Alive: the function being called holds a reference, released only by its finalizer.
  let intake = unsafe { &*data.cast::<Intake>() };
  let read = catch_unwind(AssertUnwindSafe(|| Reader::new(env).packed(packed))).ok().flatten();
  // A panic once the input is read answers false: the exact path could queue the event a second time.
  let accepted =
    read.map(|read| catch_unwind(AssertUnwindSafe(|| intake.settle(read.map(Queued::Packed)))).unwrap_or(false));
  unsafe {
    match accepted {
      Some(accepted) => sys::napi_get_boolean(env, accepted, &mut result),
      None => sys::napi_get_null(env, &mut result),
    };
  }
  result
}

/// Installs the JS log methods on `class` (at module load). On failure, e.g. with code generation from strings
/// disallowed, the native methods stay and every input takes the exact reader: slower, same results.
pub fn install(env: sys::napi_env, class: sys::napi_value) -> bool {
  let ok = |status: sys::napi_status| status == sys::Status::napi_ok;
  let mut source = ptr::null_mut();
  let mut factory = ptr::null_mut();
  let mut data = ptr::null_mut();
  let mut buffer = ptr::null_mut();
  let mut array = ptr::null_mut();
  let mut global = ptr::null_mut();
  let mut installed = ptr::null_mut();
  let mut done = false;
  let created = unsafe {
    ok(sys::napi_create_string_utf8(env, FAST_LOG_JS.as_ptr().cast(), FAST_LOG_JS.len() as isize, &mut source))
      && ok(sys::napi_run_script(env, source, &mut factory))
      && ok(sys::napi_create_arraybuffer(env, NUMS * 8, &mut data, &mut buffer))
      && ok(sys::napi_create_typedarray(env, sys::TypedarrayType::float64_array, NUMS, buffer, 0, &mut array))
      && ok(sys::napi_get_global(env, &mut global))
      // The methods' closure keeps the array, and so its memory, alive as long as the class.
      && ok(sys::napi_call_function(env, global, factory, 2, [class, array].as_ptr(), &mut installed))
      && ok(sys::napi_get_value_bool(env, installed, &mut done))
  };
  if !created || !done || data.is_null() {
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    return false;
  }
  NUMS_OF.set(Some((env, data.cast())));
  unsafe { sys::napi_add_env_cleanup_hook(env, Some(forget_nums), ptr::null_mut()) };
  true
}

fn invalid_time(field: &str) -> Rejection {
  format!("{field} must be a valid Date, ISO-8601 string or epoch milliseconds")
}

fn checked_time(ms: f64, field: &str) -> Result<i64, Rejection> {
  if !ms.is_finite() || !(MIN_TIME_MS..=MAX_TIME_MS).contains(&ms) {
    return Err(invalid_time(field));
  }
  Ok(ms.trunc() as i64)
}

fn time_from_text(text: &str, field: &str) -> Result<i64, Rejection> {
  let ms = chrono::DateTime::parse_from_rfc3339(capped(text, 64).trim()).map_err(|_| invalid_time(field))?.timestamp_millis();
  checked_time(ms as f64, field)
}

/// A fast-path field is at most 4096 UTF-16 units, within the cap, so the check needs no copy.
fn required(value: Option<&str>, field: &str) -> Result<(), Rejection> {
  match value {
    Some(s) if !s.trim().is_empty() => Ok(()),
    _ => Err(format!("{field} must be a non-empty string")),
  }
}

/// Which log method packed the input (`nums[N_KIND]`, set by fast_log.js).
fn packed_kind(code: f64) -> Option<Option<EventKind>> {
  match code as u8 {
    0 => Some(Some(EventKind::Started)),
    1 => Some(Some(EventKind::Resumed)),
    2 => Some(Some(EventKind::Finished)),
    3 => Some(None),
    _ => None,
  }
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

impl Reader {
  /// A log call packed by fast_log.js. None when the input needs the exact reader after all.
  pub fn packed(&self, packed: sys::napi_value) -> Option<Result<PackedInput, Rejection>> {
    let (env, nums) = NUMS_OF.get()?;
    if env != self.env {
      return None;
    }
    // Safe to read: fast_log.js filled it just before this call, and no JS runs until we return.
    let nums = unsafe { std::slice::from_raw_parts(nums, NUMS) };
    let kind = packed_kind(nums[N_KIND])?;
    PACKED.with_borrow_mut(|buffer| {
      let text = self.packed_text(packed, buffer)?;
      from_packed(text, nums, kind)
    })
  }

  /// Copies the packed string into `buffer`; one N-API call unless it is longer than the buffer.
  fn packed_text<'b>(&self, value: sys::napi_value, buffer: &'b mut Vec<u8>) -> Option<&'b str> {
    if buffer.len() < 4096 {
      buffer.resize(4096, 0);
    }
    let mut written = 0usize;
    let status = unsafe {
      sys::napi_get_value_string_utf8(self.env, value, buffer.as_mut_ptr().cast(), buffer.len(), &mut written)
    };
    if status != sys::Status::napi_ok {
      return None;
    }
    if written + 1 >= buffer.len() {
      let mut length = 0usize;
      unsafe { sys::napi_get_value_string_utf8(self.env, value, ptr::null_mut(), 0, &mut length) };
      buffer.resize(length + 1, 0);
      let status = unsafe {
        sys::napi_get_value_string_utf8(self.env, value, buffer.as_mut_ptr().cast(), buffer.len(), &mut written)
      };
      if status != sys::Status::napi_ok {
        return None;
      }
    }
    // V8 writes valid UTF-8 (lone surrogates become U+FFFD); anything else takes the exact path.
    std::str::from_utf8(&buffer[..written]).ok()
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
  let tag_count = (nums[N_TAGS] as usize).min(MAX_LIST_ITEMS as usize);
  let mut tag_lens = Vec::with_capacity(tag_count);
  for i in 0..tag_count {
    tag_lens.push(units.take(nums[N_TAG_LEN + i])?.len() as u32);
  }
  let (kind, started_at_ms, stopped_at_ms, node_count) = match validate_packed(&slots, nums, kind) {
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
    has_error: mask & (B_ERROR_STRING | B_ERROR_OBJECT) != 0,
    accepted_at: Instant::now(),
  }))
}

/// The event kind, startedAt, stoppedAt and nodeCount of a valid input.
type Checked = (EventKind, Option<i64>, Option<i64>, Option<f64>);

/// The exact reader's checks, in its order: required ids, the node's phase and name, times, nodeCount.
fn validate_packed(
  slots: &[Option<&str>; SLOT_COUNT],
  nums: &[f64],
  kind: Option<EventKind>,
) -> Result<Checked, Rejection> {
  let mask = nums[N_MASK] as u32;
  required(slots[packed::EXECUTION_ID], "executionId")?;
  required(slots[packed::WORKFLOW_ID], "workflowId")?;
  let kind = match kind {
    Some(kind) => kind,
    None => {
      let phase = match slots[packed::NODE_EVENT].map(|s| capped(s, 32)) {
        Some("started") => NodePhase::Started,
        Some("completed") => NodePhase::Completed,
        Some("failed") => NodePhase::Failed,
        _ => return Err("event must be one of started, completed, failed".into()),
      };
      required(slots[packed::NODE_NAME], "nodeName")?;
      EventKind::Node(phase)
    }
  };
  let started_at_ms = match (mask & B_STARTED_MS != 0, slots[packed::STARTED_AT]) {
    (true, _) => Some(checked_time(nums[N_STARTED_MS], "startedAt")?),
    (false, Some(text)) => Some(time_from_text(text, "startedAt")?),
    (false, None) => None,
  };
  let stopped_at_ms = match (mask & B_STOPPED_MS != 0, slots[packed::STOPPED_AT]) {
    (true, _) => Some(checked_time(nums[N_STOPPED_MS], "stoppedAt")?),
    (false, Some(text)) => Some(time_from_text(text, "stoppedAt")?),
    (false, None) => None,
  };
  let node_count = match mask & B_NODE_COUNT != 0 {
    true if !nums[N_NODE_COUNT].is_finite() => return Err("nodeCount must be a finite number".into()),
    true => Some(nums[N_NODE_COUNT]),
    false => None,
  };
  Ok((kind, started_at_ms, stopped_at_ms, node_count))
}

fn field_name(key: &CStr) -> &str {
  key.to_str().unwrap_or("?")
}

impl Reader {
  pub fn new(env: sys::napi_env) -> Self {
    Self { env }
  }

  fn ok(&self, status: sys::napi_status, what: &str) -> Result<(), Rejection> {
    if status == sys::Status::napi_ok {
      return Ok(());
    }
    // A getter or proxy trap threw: swallow the exception, it must never reach n8n.
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut exception) };
    Err(format!("could not read {what}"))
  }

  fn type_of(&self, value: sys::napi_value) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    unsafe { sys::napi_typeof(self.env, value, &mut t) };
    t
  }

  fn is_object(&self, value: sys::napi_value) -> bool {
    self.type_of(value) == sys::ValueType::napi_object
  }

  /// The property and its type, or None when it is undefined or null.
  fn get(&self, object: sys::napi_value, key: &CStr) -> Result<Option<(sys::napi_value, sys::napi_valuetype)>, Rejection> {
    let mut value = ptr::null_mut();
    self.ok(unsafe { sys::napi_get_named_property(self.env, object, key.as_ptr(), &mut value) }, field_name(key))?;
    let t = self.type_of(value);
    Ok((t != sys::ValueType::napi_undefined && t != sys::ValueType::napi_null).then_some((value, t)))
  }

  /// Copies at most `max` bytes; a short string takes a single call into V8.
  fn string_value(&self, value: sys::napi_value, max: usize) -> Result<String, Rejection> {
    let mut small = [0u8; 256];
    let mut written = 0usize;
    let status = unsafe {
      sys::napi_get_value_string_utf8(self.env, value, small.as_mut_ptr().cast(), small.len(), &mut written)
    };
    self.ok(status, "a string")?;
    let bytes = if written + 1 < small.len() {
      small[..written].to_vec()
    } else {
      // Straight into a capped buffer: asking V8 for the full UTF-8 length would scan a 10 MB string.
      let mut buffer = vec![0u8; max + 1];
      let status = unsafe {
        sys::napi_get_value_string_utf8(self.env, value, buffer.as_mut_ptr().cast(), buffer.len(), &mut written)
      };
      self.ok(status, "a string")?;
      buffer.truncate(written);
      buffer
    };
    // V8 replaces lone surrogates with U+FFFD, so this is valid UTF-8; stay safe regardless.
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
  }

  fn opt_string(&self, object: sys::napi_value, key: &CStr, max: usize) -> Result<Option<String>, Rejection> {
    let Some((value, t)) = self.get(object, key)? else { return Ok(None) };
    if t != sys::ValueType::napi_string {
      return Err(format!("{} must be a string", field_name(key)));
    }
    self.string_value(value, max).map(Some)
  }

  fn required_string(&self, object: sys::napi_value, key: &CStr) -> Result<String, Rejection> {
    match self.opt_string(object, key, MAX_TEXT_BYTES)? {
      Some(s) if !s.trim().is_empty() => Ok(s),
      _ => Err(format!("{} must be a non-empty string", field_name(key))),
    }
  }

  /// Lenient reading for nested, best-effort fields (error details): anything but a string is ignored.
  fn loose_string(&self, object: sys::napi_value, key: &CStr, max: usize) -> Option<String> {
    let (value, t) = self.get(object, key).ok()??;
    (t == sys::ValueType::napi_string).then(|| self.string_value(value, max).ok()).flatten()
  }

  fn number_value(&self, value: sys::napi_value) -> f64 {
    let mut n = f64::NAN;
    unsafe { sys::napi_get_value_double(self.env, value, &mut n) };
    n
  }

  fn opt_number(&self, object: sys::napi_value, key: &CStr) -> Result<Option<f64>, Rejection> {
    let Some((value, t)) = self.get(object, key)? else { return Ok(None) };
    let n = if t == sys::ValueType::napi_number { self.number_value(value) } else { f64::NAN };
    if !n.is_finite() {
      return Err(format!("{} must be a finite number", field_name(key)));
    }
    Ok(Some(n))
  }

  /// A Date, an ISO-8601 string or epoch milliseconds.
  fn opt_time(&self, object: sys::napi_value, key: &CStr) -> Result<Option<i64>, Rejection> {
    let Some((value, t)) = self.get(object, key)? else { return Ok(None) };
    let invalid = || format!("{} must be a valid Date, ISO-8601 string or epoch milliseconds", field_name(key));
    let ms = match t {
      sys::ValueType::napi_number => self.number_value(value),
      sys::ValueType::napi_string => {
        let text = self.string_value(value, 64)?;
        chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|_| invalid())?.timestamp_millis() as f64
      }
      sys::ValueType::napi_object => {
        let mut is_date = false;
        unsafe { sys::napi_is_date(self.env, value, &mut is_date) };
        if !is_date {
          return Err(invalid());
        }
        let mut ms = f64::NAN;
        unsafe { sys::napi_get_date_value(self.env, value, &mut ms) };
        ms
      }
      _ => return Err(invalid()),
    };
    if !ms.is_finite() || !(MIN_TIME_MS..=MAX_TIME_MS).contains(&ms) {
      return Err(invalid());
    }
    Ok(Some(ms.trunc() as i64))
  }

  fn array_items(&self, array: sys::napi_value, max: u32) -> Result<Vec<sys::napi_value>, Rejection> {
    let mut length = 0u32;
    self.ok(unsafe { sys::napi_get_array_length(self.env, array, &mut length) }, "an array")?;
    (0..length.min(max))
      .map(|i| {
        let mut item = ptr::null_mut();
        self.ok(unsafe { sys::napi_get_element(self.env, array, i, &mut item) }, "an array element")?;
        Ok(item)
      })
      .collect()
  }

  fn is_array(&self, value: sys::napi_value) -> bool {
    let mut is_array = false;
    unsafe { sys::napi_is_array(self.env, value, &mut is_array) };
    is_array
  }

  fn tags(&self, object: sys::napi_value) -> Result<Vec<String>, Rejection> {
    let Some((value, _)) = self.get(object, c"tags")? else { return Ok(Vec::new()) };
    if !self.is_array(value) {
      return Err("tags must be an array of strings".into());
    }
    let items = self.array_items(value, MAX_LIST_ITEMS)?;
    Ok(items
      .into_iter()
      .filter(|item| self.type_of(*item) == sys::ValueType::napi_string)
      .filter_map(|item| self.string_value(item, MAX_TEXT_BYTES).ok())
      .collect())
  }

  fn error(&self, object: sys::napi_value) -> Result<Option<Box<ErrorInput>>, Rejection> {
    let Some((value, t)) = self.get(object, c"error")? else { return Ok(None) };
    if t == sys::ValueType::napi_string {
      let message = self.string_value(value, MAX_TEXT_BYTES)?;
      return Ok(Some(Box::new(ErrorInput { message: Some(message), ..Default::default() })));
    }
    if t != sys::ValueType::napi_object {
      return Err("error must be an object like {message, name, stack, nodeName, nodeId, nodeType}".into());
    }
    Ok(Some(Box::new(ErrorInput {
      message: self.loose_string(value, c"message", MAX_TEXT_BYTES),
      name: self.loose_string(value, c"name", MAX_TEXT_BYTES),
      stack: self.loose_string(value, c"stack", MAX_STACK_BYTES),
      node_name: self.loose_string(value, c"nodeName", MAX_TEXT_BYTES),
      node_id: self.loose_string(value, c"nodeId", MAX_TEXT_BYTES),
      node_type: self.loose_string(value, c"nodeType", MAX_TEXT_BYTES),
    })))
  }

  /// Own enumerable string keys with their values, at most MAX_EXTRAS.
  fn entries(&self, object: sys::napi_value, key: &CStr) -> Result<Vec<(String, sys::napi_value)>, Rejection> {
    let Some((map, t)) = self.get(object, key)? else { return Ok(Vec::new()) };
    if t != sys::ValueType::napi_object || self.is_array(map) {
      return Err(format!("{} must be a plain object", field_name(key)));
    }
    let mut names = ptr::null_mut();
    let status = unsafe {
      sys::napi_get_all_property_names(
        self.env,
        map,
        sys::KeyCollectionMode::own_only,
        sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
        sys::KeyConversion::numbers_to_strings,
        &mut names,
      )
    };
    self.ok(status, field_name(key))?;
    let mut out = Vec::new();
    for name in self.array_items(names, MAX_EXTRAS)? {
      let mut value = ptr::null_mut();
      self.ok(unsafe { sys::napi_get_property(self.env, map, name, &mut value) }, field_name(key))?;
      out.push((self.string_value(name, 256)?, value));
    }
    Ok(out)
  }

  /// Extras are sanitised, not rejected: values of the wrong type are left out.
  fn extras(&self, object: sys::napi_value) -> Result<Option<Box<Extras>>, Rejection> {
    let mut extras = Extras::default();
    for (k, v) in self.entries(object, c"dimensions")? {
      let text = match self.type_of(v) {
        sys::ValueType::napi_string => self.string_value(v, MAX_TEXT_BYTES).ok(),
        sys::ValueType::napi_number => Some(self.number_value(v)).filter(|n| n.is_finite()).map(|n| n.to_string()),
        sys::ValueType::napi_boolean => Some(self.bool_value(v).to_string()),
        _ => None,
      };
      extras.dimensions.extend(text.map(|t| (k, t)));
    }
    for (k, v) in self.entries(object, c"metrics")? {
      let n = if self.type_of(v) == sys::ValueType::napi_number { self.number_value(v) } else { f64::NAN };
      if n.is_finite() {
        extras.metrics.push((k, n));
      }
    }
    for (k, v) in self.entries(object, c"flags")? {
      if self.type_of(v) == sys::ValueType::napi_boolean {
        extras.flags.push((k, self.bool_value(v)));
      }
    }
    let empty = extras.dimensions.is_empty() && extras.metrics.is_empty() && extras.flags.is_empty();
    Ok((!empty).then(|| Box::new(extras)))
  }

  fn bool_value(&self, value: sys::napi_value) -> bool {
    let mut b = false;
    unsafe { sys::napi_get_value_bool(self.env, value, &mut b) };
    b
  }

  fn node(&self, object: sys::napi_value) -> Result<(NodePhase, Box<NodeInput>), Rejection> {
    let phase = match self.opt_string(object, c"event", 32)?.as_deref() {
      Some("started") => NodePhase::Started,
      Some("completed") => NodePhase::Completed,
      Some("failed") => NodePhase::Failed,
      _ => return Err("event must be one of started, completed, failed".into()),
    };
    let node = NodeInput {
      name: self.required_string(object, c"nodeName")?,
      node_type: self.opt_string(object, c"nodeType", MAX_TEXT_BYTES)?,
      id: self.opt_string(object, c"nodeId", MAX_TEXT_BYTES)?,
    };
    Ok((phase, Box::new(node)))
  }

  /// Reads one log call's argument. `kind` is None for node events, whose phase comes from the input.
  pub fn execution(&self, value: sys::napi_value, kind: Option<EventKind>) -> Result<ExecutionInput, Rejection> {
    if !self.is_object(value) || self.is_array(value) {
      return Err("the input must be an object with executionId and workflowId".into());
    }
    let accepted_at_ms = now_ms();
    let execution_id = self.required_string(value, c"executionId")?;
    let workflow_id = self.required_string(value, c"workflowId")?;
    let (kind, node) = match kind {
      Some(kind) => (kind, None),
      None => {
        let (phase, node) = self.node(value)?;
        (EventKind::Node(phase), Some(node))
      }
    };
    let mut input = ExecutionInput::new(kind, execution_id, workflow_id, accepted_at_ms);
    input.node = node;
    input.workflow_name = self.opt_string(value, c"workflowName", MAX_TEXT_BYTES)?;
    input.mode = self.opt_string(value, c"mode", 64)?;
    input.status = self.opt_string(value, c"status", 64)?;
    input.started_at_ms = self.opt_time(value, c"startedAt")?;
    input.stopped_at_ms = self.opt_time(value, c"stoppedAt")?;
    input.node_count = self.opt_number(value, c"nodeCount")?;
    input.retry_of = self.opt_string(value, c"retryOf", MAX_TEXT_BYTES)?;
    input.parent_execution_id = self.opt_string(value, c"parentExecutionId", MAX_TEXT_BYTES)?;
    input.trigger_node = self.opt_string(value, c"triggerNode", MAX_TEXT_BYTES)?;
    input.trigger_node_type = self.opt_string(value, c"triggerNodeType", MAX_TEXT_BYTES)?;
    input.workflow_version_id = self.opt_string(value, c"workflowVersionId", MAX_TEXT_BYTES)?;
    input.user_id = self.opt_string(value, c"userId", MAX_TEXT_BYTES)?;
    input.tags = self.tags(value)?;
    input.error = self.error(value)?;
    input.extras = self.extras(value)?;
    Ok(input)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

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
}

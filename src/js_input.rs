//! Reads a log call's JS object into `ExecutionInput`: a fast path (one call into a cached JS reader that packs
//! the plain fields into one string) and the exact N-API reader, which handles everything else, gives the
//! rejection reasons, and clears every JS exception (throwing getters, proxies).

use std::ffi::CStr;
use std::ptr;

use napi::sys;

use crate::event::{ErrorInput, EventKind, ExecutionInput, Extras, NodeInput, NodePhase};
use crate::metrics::now_ms;

/// Why an input was rejected; shown in the health snapshot as `lastRejection.reason`.
pub type Rejection = String;

const MAX_STACK_BYTES: usize = 64 * 1024;
const MAX_TEXT_BYTES: usize = 16 * 1024;
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
// checked N-API calls: ~5 us per n8n-shaped event. The JS reader below loads the same properties with V8's
// inline caches and packs the strings, NUL-separated, into one string copied out with a single N-API call;
// numbers and presence bits come back through a shared Float64Array. Anything it is not sure about (a wrong
// type, a NUL inside a string, a long string, extras, a throw) makes it return undefined, and the caller then
// reads the input again with the N-API reader, so results and rejection reasons are the same on both paths.

/// Bits of `nums[0]`: which slots hold a value. String slots first, in packing order.
const SLOT_COUNT: u32 = 22;
const B_STARTED_MS: u32 = 1 << 22;
const B_STOPPED_MS: u32 = 1 << 23;
const B_NODE_COUNT: u32 = 1 << 24;
const B_ERROR_STRING: u32 = 1 << 25;
const B_ERROR_OBJECT: u32 = 1 << 26;
/// nums: [bits, startedAt ms, stoppedAt ms, nodeCount, tag count, 22 slot lengths (UTF-16), packed length].
const NUMS: usize = 28;


const FAST_READER_JS: &str = r#"(function (nums) {
  'use strict';
  const getTime = Date.prototype.getTime; // throws for anything but a real Date, like napi_get_date_value
  const isArray = Array.isArray;
  const MAX = 4096; // UTF-16 units; a longer string takes the exact path, which copies it capped
  // 0 absent, 1 usable string, 2 anything else (take the exact path).
  function kind(v) {
    if (v === undefined || v === null) return 0;
    return typeof v === 'string' && v.length <= MAX && v.indexOf('\0') === -1 ? 1 : 2;
  }
  let busy = false;
  return function read(o, node) {
    // A getter that logs would overwrite nums: nested calls take the exact path.
    if (busy) return;
    busy = true;
    try {
      let s = '', m = 0, k = 0, v, t1 = 0, t2 = 0, n = 0, tags = 0;
      v = o.executionId; k = kind(v); if (k === 2) return; if (k === 1) { m |= 1; s += v; nums[5] = v.length; } s += '\0';
      v = o.workflowId; k = kind(v); if (k === 2) return; if (k === 1) { m |= 2; s += v; nums[6] = v.length; } s += '\0';
      v = o.workflowName; k = kind(v); if (k === 2) return; if (k === 1) { m |= 4; s += v; nums[7] = v.length; } s += '\0';
      v = o.mode; k = kind(v); if (k === 2) return; if (k === 1) { m |= 8; s += v; nums[8] = v.length; } s += '\0';
      v = o.status; k = kind(v); if (k === 2) return; if (k === 1) { m |= 16; s += v; nums[9] = v.length; } s += '\0';
      v = o.startedAt;
      if (typeof v === 'number') { m |= 0x400000; t1 = v; }
      else if (typeof v === 'object' && v !== null) { m |= 0x400000; t1 = getTime.call(v); }
      else { k = kind(v); if (k === 2) return; if (k === 1) { m |= 32; s += v; nums[10] = v.length; } }
      s += '\0';
      v = o.stoppedAt;
      if (typeof v === 'number') { m |= 0x800000; t2 = v; }
      else if (typeof v === 'object' && v !== null) { m |= 0x800000; t2 = getTime.call(v); }
      else { k = kind(v); if (k === 2) return; if (k === 1) { m |= 64; s += v; nums[11] = v.length; } }
      s += '\0';
      v = o.nodeCount; if (typeof v === 'number') { m |= 0x1000000; n = v; } else if (v !== undefined && v !== null) return;
      v = o.retryOf; k = kind(v); if (k === 2) return; if (k === 1) { m |= 128; s += v; nums[12] = v.length; } s += '\0';
      v = o.parentExecutionId; k = kind(v); if (k === 2) return; if (k === 1) { m |= 256; s += v; nums[13] = v.length; } s += '\0';
      v = o.triggerNode; k = kind(v); if (k === 2) return; if (k === 1) { m |= 512; s += v; nums[14] = v.length; } s += '\0';
      v = o.workflowVersionId; k = kind(v); if (k === 2) return; if (k === 1) { m |= 1024; s += v; nums[15] = v.length; } s += '\0';
      v = o.userId; k = kind(v); if (k === 2) return; if (k === 1) { m |= 2048; s += v; nums[16] = v.length; } s += '\0';
      if (node) {
        v = o.event; k = kind(v); if (k === 2) return; if (k === 1) { m |= 4096; s += v; nums[17] = v.length; } s += '\0';
        v = o.nodeName; k = kind(v); if (k === 2) return; if (k === 1) { m |= 8192; s += v; nums[18] = v.length; } s += '\0';
        v = o.nodeType; k = kind(v); if (k === 2) return; if (k === 1) { m |= 16384; s += v; nums[19] = v.length; } s += '\0';
        v = o.nodeId; k = kind(v); if (k === 2) return; if (k === 1) { m |= 32768; s += v; nums[20] = v.length; } s += '\0';
      } else {
        s += '\0\0\0\0';
      }
      const e = o.error;
      if (e === undefined || e === null) {
        s += '\0\0\0\0\0\0';
      } else if (typeof e === 'string') {
        if (kind(e) !== 1) return;
        m |= 0x2000000 | 65536; s += e; nums[21] = e.length; s += '\0\0\0\0\0\0';
      } else if (typeof e === 'object') {
        m |= 0x4000000;
        // Loose fields: a value that is not a string is ignored, as on the exact path.
        v = e.message; if (typeof v === 'string') { if (kind(v) !== 1) return; m |= 65536; s += v; nums[21] = v.length; } s += '\0';
        v = e.name; if (typeof v === 'string') { if (kind(v) !== 1) return; m |= 131072; s += v; nums[22] = v.length; } s += '\0';
        v = e.stack; if (typeof v === 'string') { if (kind(v) !== 1) return; m |= 262144; s += v; nums[23] = v.length; } s += '\0';
        v = e.nodeName; if (typeof v === 'string') { if (kind(v) !== 1) return; m |= 524288; s += v; nums[24] = v.length; } s += '\0';
        v = e.nodeId; if (typeof v === 'string') { if (kind(v) !== 1) return; m |= 1048576; s += v; nums[25] = v.length; } s += '\0';
        v = e.nodeType; if (typeof v === 'string') { if (kind(v) !== 1) return; m |= 2097152; s += v; nums[26] = v.length; } s += '\0';
      } else {
        return;
      }
      v = o.tags;
      if (v !== undefined && v !== null) {
        if (!isArray(v)) return;
        const len = v.length < 100 ? v.length : 100;
        for (let i = 0; i < len; i++) {
          const tag = v[i];
          if (typeof tag === 'string') { if (kind(tag) !== 1) return; s += tag; s += '\0'; tags++; }
        }
      }
      v = o.dimensions; if (v !== undefined && v !== null) return;
      v = o.metrics; if (v !== undefined && v !== null) return;
      v = o.flags; if (v !== undefined && v !== null) return;
      nums[0] = m; nums[1] = t1; nums[2] = t2; nums[3] = n; nums[4] = tags; nums[27] = s.length;
      return s;
    } catch (_) {
      return undefined;
    } finally {
      busy = false;
    }
  };
})"#;

/// The JS reader of one env and the memory of its Float64Array.
struct FastReader {
  env: sys::napi_env,
  read: sys::napi_ref,
  nums: *const f64,
}

thread_local! {
  /// One per JS thread (the main thread, each worker_thread); `Err` once creating it failed there.
  static FAST: std::cell::Cell<Option<Result<&'static FastReader, sys::napi_env>>> = const { std::cell::Cell::new(None) };
  /// Reused for the packed string.
  static PACKED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

unsafe extern "C" fn forget_fast_reader(_: *mut std::ffi::c_void) {
  FAST.set(None);
}

fn fast_reader(env: sys::napi_env) -> Option<&'static FastReader> {
  match FAST.get() {
    Some(Ok(reader)) if reader.env == env => return Some(reader),
    Some(Err(failed)) if failed == env => return None,
    _ => {}
  }
  let created = unsafe { create_fast_reader(env) };
  FAST.set(Some(created.ok_or(env)));
  created
}

unsafe fn create_fast_reader(env: sys::napi_env) -> Option<&'static FastReader> {
  let ok = |status: sys::napi_status| status == sys::Status::napi_ok;
  let mut source = ptr::null_mut();
  let mut factory = ptr::null_mut();
  let mut data = ptr::null_mut();
  let mut buffer = ptr::null_mut();
  let mut array = ptr::null_mut();
  let mut global = ptr::null_mut();
  let mut read = ptr::null_mut();
  let mut reference = ptr::null_mut();
  let created = ok(sys::napi_create_string_utf8(env, FAST_READER_JS.as_ptr().cast(), FAST_READER_JS.len() as isize, &mut source))
    && ok(sys::napi_run_script(env, source, &mut factory))
    && ok(sys::napi_create_arraybuffer(env, NUMS * 8, &mut data, &mut buffer))
    && ok(sys::napi_create_typedarray(env, sys::TypedarrayType::float64_array, NUMS, buffer, 0, &mut array))
    && ok(sys::napi_get_global(env, &mut global))
    && ok(sys::napi_call_function(env, global, factory, 1, &array, &mut read))
    // The reader's closure keeps the array, and so its memory, alive; the reference keeps the reader.
    && ok(sys::napi_create_reference(env, read, 1, &mut reference));
  if !created || data.is_null() {
    let mut exception = ptr::null_mut();
    sys::napi_get_and_clear_last_exception(env, &mut exception);
    return None;
  }
  sys::napi_add_env_cleanup_hook(env, Some(forget_fast_reader), ptr::null_mut());
  // Leaked on purpose: a few bytes per JS thread; the env deletes the reference when it is torn down.
  Some(Box::leak(Box::new(FastReader { env, read: reference, nums: data.cast() })))
}

/// The longest prefix of `s` that ends on a character boundary and has at most `max` bytes.
fn prefix(s: &str, max: usize) -> &str {
  if s.len() <= max {
    return s;
  }
  let mut end = max;
  while !s.is_char_boundary(end) {
    end -= 1;
  }
  &s[..end]
}

/// What `Reader::string_value(value, max)` keeps of a string: the whole of it when it fits the 256-byte
/// first copy, else at most `max` bytes.
fn capped(s: &str, max: usize) -> String {
  let first = prefix(s, 255);
  if first.len() < 255 { first } else { prefix(s, max) }.to_owned()
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

fn required(value: Option<String>, field: &str) -> Result<String, Rejection> {
  match value {
    Some(s) if !s.trim().is_empty() => Ok(s),
    _ => Err(format!("{field} must be a non-empty string")),
  }
}

impl Reader {
  /// The fast path; None when the input needs the exact reader.
  fn fast(&self, value: sys::napi_value, kind: Option<EventKind>) -> Option<Result<ExecutionInput, Rejection>> {
    let reader = fast_reader(self.env)?;
    let env = self.env;
    let mut packed = ptr::null_mut();
    unsafe {
      let mut read = ptr::null_mut();
      let mut node = ptr::null_mut();
      let args = [value, ptr::null_mut()];
      let mut args = args;
      if sys::napi_get_reference_value(env, reader.read, &mut read) != sys::Status::napi_ok
        || read.is_null()
        || sys::napi_get_boolean(env, kind.is_none(), &mut node) != sys::Status::napi_ok
      {
        return None;
      }
      args[1] = node;
      if sys::napi_call_function(env, value, read, 2, args.as_ptr(), &mut packed) != sys::Status::napi_ok {
        let mut exception = ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut exception);
        return None;
      }
    }
    if self.type_of(packed) != sys::ValueType::napi_string {
      return None;
    }
    // Safe to read now: no JS runs between the reader's return and here.
    let nums: [f64; NUMS] = unsafe { std::ptr::read(reader.nums.cast::<[f64; NUMS]>()) };
    PACKED.with_borrow_mut(|buffer| {
      let text = self.packed_text(packed, buffer)?;
      Some(self.from_packed(text, &nums, kind))
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

  /// Builds the input from the packed slots, checking values in the exact reader's order.
  fn from_packed(&self, text: &str, nums: &[f64; NUMS], kind: Option<EventKind>) -> Result<ExecutionInput, Rejection> {
    let accepted_at_ms = now_ms();
    let mask = nums[0] as u32;
    let mut slots: [Option<&str>; SLOT_COUNT as usize] = [None; SLOT_COUNT as usize];
    let tags_text = if text.len() == nums[27] as usize {
      // As many UTF-8 bytes as UTF-16 units: all ASCII, so the slot lengths are byte lengths; no scan.
      let mut at = 0usize;
      for (i, slot) in slots.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
          let end = (at + nums[5 + i] as usize).min(text.len());
          *slot = text.get(at..end);
          at = end;
        }
        at += 1;
      }
      text.get(at.min(text.len())..).unwrap_or("")
    } else {
      let mut parts = text.splitn(SLOT_COUNT as usize + 1, '\0');
      for (i, slot) in slots.iter_mut().enumerate() {
        let part = parts.next().unwrap_or("");
        if mask & (1 << i) != 0 {
          *slot = Some(part);
        }
      }
      parts.next().unwrap_or("")
    };
    let parts = tags_text.split('\0');
    let text_slot = |i: usize| slots[i].map(|s| capped(s, MAX_TEXT_BYTES));
    let execution_id = required(text_slot(0), "executionId")?;
    let workflow_id = required(text_slot(1), "workflowId")?;
    let (kind, node) = match kind {
      Some(kind) => (kind, None),
      None => {
        let phase = match slots[12].map(|s| capped(s, 32)).as_deref() {
          Some("started") => NodePhase::Started,
          Some("completed") => NodePhase::Completed,
          Some("failed") => NodePhase::Failed,
          _ => return Err("event must be one of started, completed, failed".into()),
        };
        let node = NodeInput { name: required(text_slot(13), "nodeName")?, node_type: text_slot(14), id: text_slot(15) };
        (EventKind::Node(phase), Some(Box::new(node)))
      }
    };
    let mut input = ExecutionInput::new(kind, execution_id, workflow_id, accepted_at_ms);
    input.node = node;
    input.workflow_name = text_slot(2);
    input.mode = slots[3].map(|s| capped(s, 64));
    input.status = slots[4].map(|s| capped(s, 64));
    input.started_at_ms = match (mask & B_STARTED_MS != 0, slots[5]) {
      (true, _) => Some(checked_time(nums[1], "startedAt")?),
      (false, Some(text)) => Some(time_from_text(text, "startedAt")?),
      (false, None) => None,
    };
    input.stopped_at_ms = match (mask & B_STOPPED_MS != 0, slots[6]) {
      (true, _) => Some(checked_time(nums[2], "stoppedAt")?),
      (false, Some(text)) => Some(time_from_text(text, "stoppedAt")?),
      (false, None) => None,
    };
    if mask & B_NODE_COUNT != 0 {
      if !nums[3].is_finite() {
        return Err("nodeCount must be a finite number".into());
      }
      input.node_count = Some(nums[3]);
    }
    input.retry_of = text_slot(7);
    input.parent_execution_id = text_slot(8);
    input.trigger_node = text_slot(9);
    input.workflow_version_id = text_slot(10);
    input.user_id = text_slot(11);
    input.tags = parts.take(nums[4] as usize).map(|t| capped(t, MAX_TEXT_BYTES)).collect();
    if mask & (B_ERROR_STRING | B_ERROR_OBJECT) != 0 {
      input.error = Some(Box::new(ErrorInput {
        message: text_slot(16),
        name: text_slot(17),
        stack: slots[18].map(|s| capped(s, MAX_STACK_BYTES)),
        node_name: text_slot(19),
        node_id: text_slot(20),
        node_type: text_slot(21),
      }));
    }
    Ok(input)
  }
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
    if let Some(result) = self.fast(value, kind) {
      return result;
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
    input.workflow_version_id = self.opt_string(value, c"workflowVersionId", MAX_TEXT_BYTES)?;
    input.user_id = self.opt_string(value, c"userId", MAX_TEXT_BYTES)?;
    input.tags = self.tags(value)?;
    input.error = self.error(value)?;
    input.extras = self.extras(value)?;
    Ok(input)
  }
}

//! Every `unsafe` call of the napi boundary, each behind a small safe function with its SAFETY argument.
//!
//! The rest of `napi/` holds no `unsafe`. The one invariant the arguments below rest on: an [`Env`] is only made
//! (by [`Env::from_raw`]) from the env Node handed to the call running now on this JS thread, and every `napi_value`
//! passed with it is a handle made in that call's scope; both stay valid until the call returns, and none of
//! these functions keeps them.

use std::ffi::{c_void, CStr};
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, Error, JsError, Result, Status, ValueType};

pub type Value = sys::napi_value;
pub type ValueKind = sys::napi_valuetype;

/// The env of the call in progress on this JS thread.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Env(sys::napi_env);

#[inline]
fn ok(status: sys::napi_status) -> bool {
  status == sys::Status::napi_ok
}

impl Env {
  /// # Safety
  /// `env` is the env Node passed to the call in progress on this thread, or one napi-rs handed to it.
  #[inline]
  pub unsafe fn from_raw(env: sys::napi_env) -> Self {
    Self(env)
  }

  /// The env of a napi-rs call in progress.
  #[inline]
  pub fn of(env: &napi::Env) -> Self {
    // SAFETY: napi-rs hands an `Env` only to the call it belongs to, which is the one running.
    unsafe { Self::from_raw(env.raw()) }
  }

  /// Clears a pending JS exception (a throwing getter or proxy trap): it must never reach n8n.
  #[inline]
  pub fn clear_exception(self) {
    let mut exception = ptr::null_mut();
    // SAFETY: valid env (module invariant); the out-pointer is a local.
    unsafe { sys::napi_get_and_clear_last_exception(self.0, &mut exception) };
  }

  #[inline]
  pub fn type_of(self, value: Value) -> ValueKind {
    let mut t = sys::ValueType::napi_undefined;
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local. A failure leaves undefined.
    unsafe { sys::napi_typeof(self.0, value, &mut t) };
    t
  }

  /// `object[key]`; None when a getter or proxy threw (the exception is left pending for the caller).
  #[inline]
  pub fn named_property(self, object: Value, key: &CStr) -> Option<Value> {
    let mut value = ptr::null_mut();
    // SAFETY: valid env and handle (module invariant); `key` is NUL-terminated; the out-pointer is a local.
    ok(unsafe { sys::napi_get_named_property(self.0, object, key.as_ptr(), &mut value) }).then_some(value)
  }

  /// Whether `key` is an own property of `object`, not one it inherits; None when a proxy trap threw (the
  /// exception is left pending for the caller).
  pub fn has_own(self, object: Value, key: &CStr) -> Option<bool> {
    let mut name = ptr::null_mut();
    let mut has = false;
    let len = key.to_bytes().len() as isize;
    // SAFETY: valid env and handle (module invariant); `key` holds `len` bytes; the out-pointers are locals, and
    // `name` is read only once napi made it.
    let done = unsafe {
      ok(sys::napi_create_string_utf8(self.0, key.as_ptr(), len, &mut name))
        && ok(sys::napi_has_own_property(self.0, object, name, &mut has))
    };
    done.then_some(has)
  }

  /// Whether `value` is an Error (of any class), as `napi_is_error` says.
  pub fn is_error(self, value: Value) -> bool {
    let mut is_error = false;
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local.
    unsafe { sys::napi_is_error(self.0, value, &mut is_error) };
    is_error
  }

  /// `object[key]` for a key that is itself a JS value.
  #[inline]
  pub fn property(self, object: Value, key: Value) -> Option<Value> {
    let mut value = ptr::null_mut();
    // SAFETY: valid env and handles (module invariant); the out-pointer is a local.
    ok(unsafe { sys::napi_get_property(self.0, object, key, &mut value) }).then_some(value)
  }

  /// Copies a string's UTF-8 into `buffer` (NUL-terminated, cut at its end); the bytes written without the NUL.
  #[inline]
  pub fn string_into(self, value: Value, buffer: &mut [u8]) -> Option<usize> {
    let mut written = 0usize;
    // SAFETY: valid env and handle (module invariant); V8 writes at most `buffer.len()` bytes into `buffer`.
    let status =
      unsafe { sys::napi_get_value_string_utf8(self.0, value, buffer.as_mut_ptr().cast(), buffer.len(), &mut written) };
    ok(status).then_some(written)
  }

  /// A string's full UTF-8 length, without copying it.
  #[inline]
  pub fn string_len(self, value: Value) -> Option<usize> {
    let mut length = 0usize;
    // SAFETY: valid env and handle (module invariant); a null buffer asks for the length only.
    ok(unsafe { sys::napi_get_value_string_utf8(self.0, value, ptr::null_mut(), 0, &mut length) }).then_some(length)
  }

  /// A number's value; NaN when it is not one.
  #[inline]
  pub fn number(self, value: Value) -> f64 {
    let mut n = f64::NAN;
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local, left NaN on failure.
    unsafe { sys::napi_get_value_double(self.0, value, &mut n) };
    n
  }

  /// A boolean's value; false when it is not one.
  #[inline]
  pub fn boolean(self, value: Value) -> bool {
    let mut b = false;
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local, left false on failure.
    unsafe { sys::napi_get_value_bool(self.0, value, &mut b) };
    b
  }

  #[inline]
  pub fn is_array(self, value: Value) -> bool {
    let mut is_array = false;
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local.
    unsafe { sys::napi_is_array(self.0, value, &mut is_array) };
    is_array
  }

  /// A Date's epoch milliseconds; None when the value is not a Date.
  #[inline]
  pub fn date(self, value: Value) -> Option<f64> {
    let mut is_date = false;
    let mut ms = f64::NAN;
    // SAFETY: valid env and handle (module invariant); the out-pointers are locals; the value is read as a Date
    // only after napi_is_date said it is one.
    unsafe {
      sys::napi_is_date(self.0, value, &mut is_date);
      if is_date {
        sys::napi_get_date_value(self.0, value, &mut ms);
      }
    }
    is_date.then_some(ms)
  }

  #[inline]
  pub fn array_length(self, array: Value) -> Option<u32> {
    let mut length = 0u32;
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local.
    ok(unsafe { sys::napi_get_array_length(self.0, array, &mut length) }).then_some(length)
  }

  #[inline]
  pub fn element(self, array: Value, index: u32) -> Option<Value> {
    let mut item = ptr::null_mut();
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local.
    ok(unsafe { sys::napi_get_element(self.0, array, index, &mut item) }).then_some(item)
  }

  /// The own enumerable string keys of `object` (numbers as strings), as a JS array.
  pub fn own_keys(self, object: Value) -> Option<Value> {
    let mut names = ptr::null_mut();
    // SAFETY: valid env and handle (module invariant); the out-pointer is a local.
    let status = unsafe {
      sys::napi_get_all_property_names(
        self.0,
        object,
        sys::KeyCollectionMode::own_only,
        sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
        sys::KeyConversion::numbers_to_strings,
        &mut names,
      )
    };
    ok(status).then_some(names)
  }

  pub fn null(self) -> Value {
    let mut result = ptr::null_mut();
    // SAFETY: valid env (module invariant); the out-pointer is a local.
    unsafe { sys::napi_get_null(self.0, &mut result) };
    result
  }

  pub fn boolean_value(self, b: bool) -> Value {
    let mut result = ptr::null_mut();
    // SAFETY: valid env (module invariant); the out-pointer is a local.
    unsafe { sys::napi_get_boolean(self.0, b, &mut result) };
    result
  }

  /// The first argument of a callback and the data its function was created with; None without an argument.
  pub fn first_argument(self, info: sys::napi_callback_info) -> Option<(Value, *mut c_void)> {
    let mut argc = 1usize;
    let mut argument = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: valid env (module invariant) and the `info` of the callback running now; room for one argument.
    let status = unsafe { sys::napi_get_cb_info(self.0, info, &mut argc, &mut argument, ptr::null_mut(), &mut data) };
    (ok(status) && argc >= 1).then_some((argument, data))
  }

  /// A JS function named `name` calling `callback` with `data`, and `finalize(data)` once V8 collects it. None,
  /// with the finalizer never called, when either step fails.
  pub fn function_with_finalizer(
    self,
    name: &CStr,
    callback: sys::napi_callback,
    data: *mut c_void,
    finalize: sys::napi_finalize,
  ) -> Option<Value> {
    let mut function = ptr::null_mut();
    // SAFETY: valid env (module invariant); `name` is NUL-terminated with its length given; `data` is handed
    // back to `callback` and `finalize` only, which are the caller's to keep consistent with it.
    let created = unsafe {
      ok(sys::napi_create_function(self.0, name.as_ptr(), name.count_bytes() as isize, callback, data, &mut function))
        && ok(sys::napi_add_finalizer(self.0, function, data, finalize, ptr::null_mut(), ptr::null_mut()))
    };
    created.then_some(function)
  }

  /// Evaluates `source` (a script whose value is a function) and calls it with `args`; its result.
  pub fn run_and_call(self, source: &str, args: &[Value]) -> Option<Value> {
    let mut script = ptr::null_mut();
    let mut function = ptr::null_mut();
    let mut global = ptr::null_mut();
    let mut result = ptr::null_mut();
    // SAFETY: valid env and handles (module invariant); `source` is passed with its length; `args` is a live
    // slice of handles whose length is given; the out-pointers are locals.
    let done = unsafe {
      ok(sys::napi_create_string_utf8(self.0, source.as_ptr().cast(), source.len() as isize, &mut script))
        && ok(sys::napi_run_script(self.0, script, &mut function))
        && ok(sys::napi_get_global(self.0, &mut global))
        && ok(sys::napi_call_function(self.0, global, function, args.len(), args.as_ptr(), &mut result))
    };
    done.then_some(result)
  }

  /// A new Float64Array of `len` zeros and the address of its memory, which V8 keeps in place while the array
  /// is alive (it is created with its buffer, never detached or resized).
  pub fn float64_array(self, len: usize) -> Option<(Value, *const f64)> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut array = ptr::null_mut();
    // SAFETY: valid env (module invariant); the out-pointers are locals; the byte length is `len` f64s.
    let created = unsafe {
      ok(sys::napi_create_arraybuffer(self.0, len * 8, &mut data, &mut buffer))
        && ok(sys::napi_create_typedarray(self.0, sys::TypedarrayType::float64_array, len, buffer, 0, &mut array))
    };
    (created && !data.is_null()).then_some((array, data.cast_const().cast()))
  }

  /// Runs `hook` when this env is torn down (a worker_thread exits).
  pub fn on_teardown(self, hook: unsafe extern "C" fn(*mut c_void)) {
    // SAFETY: valid env (module invariant); the hook takes no data.
    unsafe { sys::napi_add_env_cleanup_hook(self.0, Some(hook), ptr::null_mut()) };
  }

  /// The value napi-rs wraps as `Unknown`, for returning a handle made here.
  pub fn unknown(self, value: Value) -> Unknown<'static> {
    // SAFETY: a handle of the running call (module invariant), returned to JS before the call ends.
    unsafe { Unknown::from_raw_unchecked(self.0, value) }
  }

  /// Throws an Error whose `code` is `code`, and returns napi-rs's marker that an exception is pending.
  pub fn throw(self, code: &str, message: &str) -> Error {
    // SAFETY: valid env (module invariant); napi-rs builds and throws the Error object in it.
    unsafe { JsError::from(Error::new(code, message.to_string())).throw_into(self.0) };
    Error::new(Status::PendingException, message.to_string())
  }
}

/// `value` as `T` once its JS type is `expected`; an error for any other type.
pub fn cast<T: FromNapiValue>(value: &Unknown, expected: ValueType) -> Result<T> {
  if value.get_type()? != expected {
    return Err(Error::new(Status::InvalidArg, format!("expected a {expected}")));
  }
  // SAFETY: napi-rs's `cast` is unchecked; the type was checked just above, and `value` is a live handle.
  unsafe { value.cast::<T>() }
}

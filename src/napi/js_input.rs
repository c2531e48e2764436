//! The exact N-API reader: a log call's JS object into `ExecutionInput`, for every input the fast path leaves
//! to it (fast_log.rs). It gives the rejection reasons (the rules of `event::rules`, shared with the fast path)
//! and clears every JS exception (throwing getters, proxies).

use std::ffi::CStr;

use super::fast_log::MAX_TAGS;
use super::raw::{Env, Value, ValueKind};
use crate::event::rules::{self, Rejection};
use crate::event::{ErrorInput, EventKind, ExecutionInput, Extras, NodeInput, NodePhase};
use crate::packed::{MAX_STACK_BYTES, MAX_TEXT_BYTES};
use crate::time::now_ms;

use napi::sys::ValueType as T;

const MAX_EXTRAS: u32 = 64;

pub struct Reader {
  env: Env,
}

fn field_name(key: &CStr) -> &str {
  key.to_str().unwrap_or("?")
}

impl Reader {
  pub fn new(env: Env) -> Self {
    Self { env }
  }

  /// `Ok(value)`, or the exception a getter or proxy trap threw swallowed (it must never reach n8n) and a reason.
  fn ok<V>(&self, value: Option<V>, what: &str) -> Result<V, Rejection> {
    value.ok_or_else(|| {
      self.env.clear_exception();
      format!("could not read {what}")
    })
  }

  fn type_of(&self, value: Value) -> ValueKind {
    self.env.type_of(value)
  }

  /// The property and its type, or None when it is undefined or null, through the prototype chain.
  fn get_inherited(&self, object: Value, key: &CStr) -> Result<Option<(Value, ValueKind)>, Rejection> {
    let value = self.ok(self.env.named_property(object, key), field_name(key))?;
    let t = self.type_of(value);
    Ok((t != T::napi_undefined && t != T::napi_null).then_some((value, t)))
  }

  /// The object's own property and its type, or None when it is undefined, null or inherited: a polluted
  /// `Object.prototype.dimensions` must neither inject into nor reject every event. Asked only of what is there.
  fn get(&self, object: Value, key: &CStr) -> Result<Option<(Value, ValueKind)>, Rejection> {
    let Some(found) = self.get_inherited(object, key)? else { return Ok(None) };
    let own = self.ok(self.env.has_own(object, key), field_name(key))?;
    Ok(own.then_some(found))
  }

  /// Copies at most `max` bytes; a short string takes a single call into V8.
  fn string_value(&self, value: Value, max: usize) -> Result<String, Rejection> {
    let mut small = [0u8; 256];
    let written = self.ok(self.env.string_into(value, &mut small), "a string")?;
    let bytes = if written + 1 < small.len() {
      small[..written].to_vec()
    } else {
      // Straight into a capped buffer: asking V8 for the full UTF-8 length would scan a 10 MB string.
      let mut buffer = vec![0u8; max + 1];
      let written = self.ok(self.env.string_into(value, &mut buffer), "a string")?;
      buffer.truncate(written);
      buffer
    };
    // V8 replaces lone surrogates with U+FFFD, so this is valid UTF-8; stay safe regardless.
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
  }

  fn opt_string(&self, object: Value, key: &CStr, max: usize) -> Result<Option<String>, Rejection> {
    let Some((value, t)) = self.get(object, key)? else { return Ok(None) };
    if t != T::napi_string {
      return Err(format!("{} must be a string", field_name(key)));
    }
    self.string_value(value, max).map(Some)
  }

  fn required_string(&self, object: Value, key: &CStr) -> Result<String, Rejection> {
    let value = self.opt_string(object, key, MAX_TEXT_BYTES)?;
    rules::required(value.as_deref(), field_name(key))?;
    Ok(value.unwrap_or_default())
  }

  /// Lenient reading for nested, best-effort fields (error details): anything but a string is ignored.
  fn loose_string(&self, object: Value, key: &CStr, max: usize) -> Option<String> {
    self.loose_text(self.get(object, key), max)
  }

  fn loose_text(&self, found: Result<Option<(Value, ValueKind)>, Rejection>, max: usize) -> Option<String> {
    let (value, t) = found.ok()??;
    (t == T::napi_string).then(|| self.string_value(value, max).ok()).flatten()
  }

  /// A number checked by `rule` (anything but a number is NaN to it).
  fn opt_number<N>(
    &self,
    object: Value,
    key: &CStr,
    rule: fn(f64, &str) -> Result<N, Rejection>,
  ) -> Result<Option<N>, Rejection> {
    let Some((value, t)) = self.get(object, key)? else { return Ok(None) };
    let n = if t == T::napi_number { self.env.number(value) } else { f64::NAN };
    rule(n, field_name(key)).map(Some)
  }

  /// A Date, an ISO-8601 string or epoch milliseconds.
  fn opt_time(&self, object: Value, key: &CStr) -> Result<Option<i64>, Rejection> {
    let Some((value, t)) = self.get(object, key)? else { return Ok(None) };
    let field = field_name(key);
    let ms = match t {
      T::napi_number => self.env.number(value),
      T::napi_string => return rules::time_text(&self.string_value(value, 64)?, field).map(Some),
      T::napi_object => self.env.date(value).ok_or_else(|| rules::invalid_time(field))?,
      _ => return Err(rules::invalid_time(field)),
    };
    rules::time(ms, field).map(Some)
  }

  fn array_items(&self, array: Value, max: u32) -> Result<Vec<Value>, Rejection> {
    let length = self.ok(self.env.array_length(array), "an array")?;
    (0..length.min(max)).map(|i| self.ok(self.env.element(array, i), "an array element")).collect()
  }

  fn tags(&self, object: Value) -> Result<Vec<String>, Rejection> {
    let Some((value, _)) = self.get(object, c"tags")? else { return Ok(Vec::new()) };
    if !self.env.is_array(value) {
      return Err("tags must be an array of strings".into());
    }
    let items = self.array_items(value, MAX_TAGS as u32)?;
    Ok(
      items
        .into_iter()
        .filter(|item| self.type_of(*item) == T::napi_string)
        .filter_map(|item| self.string_value(item, MAX_TEXT_BYTES).ok())
        .collect(),
    )
  }

  fn error(&self, object: Value) -> Result<Option<Box<ErrorInput>>, Rejection> {
    let Some((value, t)) = self.get(object, c"error")? else { return Ok(None) };
    if t == T::napi_string {
      let message = self.string_value(value, MAX_TEXT_BYTES)?;
      return Ok(Some(Box::new(ErrorInput { message: Some(message), ..Default::default() })));
    }
    if t != T::napi_object {
      return Err("error must be an object like {message, name, stack, nodeName, nodeId, nodeType}".into());
    }
    // An Error's name comes from its class (TypeError.prototype.name): read through the chain, which stops at
    // the class's own `name` before Object.prototype.
    let name = if self.env.is_error(value) { self.get_inherited(value, c"name") } else { self.get(value, c"name") };
    Ok(Some(Box::new(ErrorInput {
      message: self.loose_string(value, c"message", MAX_TEXT_BYTES),
      name: self.loose_text(name, MAX_TEXT_BYTES),
      stack: self.loose_string(value, c"stack", MAX_STACK_BYTES),
      node_name: self.loose_string(value, c"nodeName", MAX_TEXT_BYTES),
      node_id: self.loose_string(value, c"nodeId", MAX_TEXT_BYTES),
      node_type: self.loose_string(value, c"nodeType", MAX_TEXT_BYTES),
    })))
  }

  /// Own enumerable string keys with their values, at most MAX_EXTRAS.
  fn entries(&self, object: Value, key: &CStr) -> Result<Vec<(String, Value)>, Rejection> {
    let Some((map, t)) = self.get(object, key)? else { return Ok(Vec::new()) };
    if t != T::napi_object || self.env.is_array(map) {
      return Err(format!("{} must be a plain object", field_name(key)));
    }
    let names = self.ok(self.env.own_keys(map), field_name(key))?;
    let mut out = Vec::new();
    for name in self.array_items(names, MAX_EXTRAS)? {
      let value = self.ok(self.env.property(map, name), field_name(key))?;
      out.push((self.string_value(name, 256)?, value));
    }
    Ok(out)
  }

  /// Extras are sanitised, not rejected: values of the wrong type are left out.
  fn extras(&self, object: Value) -> Result<Option<Box<Extras>>, Rejection> {
    let mut extras = Extras::default();
    for (k, v) in self.entries(object, c"dimensions")? {
      let text = match self.type_of(v) {
        T::napi_string => self.string_value(v, MAX_TEXT_BYTES).ok(),
        T::napi_number => Some(self.env.number(v)).filter(|n| n.is_finite()).map(|n| n.to_string()),
        T::napi_boolean => Some(self.env.boolean(v).to_string()),
        _ => None,
      };
      extras.dimensions.extend(text.map(|t| (k, t)));
    }
    for (k, v) in self.entries(object, c"metrics")? {
      let n = if self.type_of(v) == T::napi_number { self.env.number(v) } else { f64::NAN };
      if n.is_finite() {
        extras.metrics.push((k, n));
      }
    }
    for (k, v) in self.entries(object, c"flags")? {
      if self.type_of(v) == T::napi_boolean {
        extras.flags.push((k, self.env.boolean(v)));
      }
    }
    let empty = extras.dimensions.is_empty() && extras.metrics.is_empty() && extras.flags.is_empty();
    Ok((!empty).then(|| Box::new(extras)))
  }

  fn node(&self, object: Value) -> Result<(NodePhase, Box<NodeInput>), Rejection> {
    let phase = rules::node_phase(self.opt_string(object, c"event", 32)?.as_deref())?;
    let node = NodeInput {
      name: self.required_string(object, c"nodeName")?,
      node_type: self.opt_string(object, c"nodeType", MAX_TEXT_BYTES)?,
      id: self.opt_string(object, c"nodeId", MAX_TEXT_BYTES)?,
      run_index: self.opt_number(object, c"runIndex", rules::run_index)?,
    };
    Ok((phase, Box::new(node)))
  }

  /// Reads one log call's argument. `kind` is None for node events, whose phase comes from the input.
  pub fn execution(&self, value: Value, kind: Option<EventKind>) -> Result<ExecutionInput, Rejection> {
    if self.type_of(value) != T::napi_object || self.env.is_array(value) {
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
    input.node_count = self.opt_number(value, c"nodeCount", rules::finite)?;
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

// The log methods of KafkaExecutionLogger, installed on its prototype when the addon loads (fast_log.rs).
// Reading the fields here uses V8's inline caches; the strings go to the addon as one packed string, their
// lengths and the numbers through the shared Float64Array `nums`. Anything unusual (a wrong type, a long string,
// dimensions/metrics/flags, a prototype other than Object.prototype or a polluted one, a throw, a nested log
// call) is left to the addon's exact reader, which gives the same result and the rejection reason.
(function install(Class, nums) {
  'use strict';
  const proto = Class.prototype;
  const packedLogFunction = proto.packedLogFunction;
  if (typeof packedLogFunction !== 'function') return false;
  delete proto.packedLogFunction;
  // Each logger's native `logPacked(packed)`, bound to it in the addon. Only this closure can reach them, so
  // nothing else can hand the addon a function or `this` it did not make.
  const natives = new WeakMap();
  function nativeOf(logger) {
    let f = natives.get(logger);
    if (f === undefined) {
      if (typeof logger !== 'object' || logger === null) return null;
      try { f = packedLogFunction.call(logger); } catch (_) { f = null; } // not a logger: the exact path decides
      natives.set(logger, f);
    }
    return f;
  }
  const getTime = Date.prototype.getTime; // throws for anything but a real Date, like napi_get_date_value
  const isArray = Array.isArray;
  const getPrototypeOf = Object.getPrototypeOf;
  const ObjectProto = Object.prototype;
  // Only own properties count (a polluted Object.prototype.dimensions must neither inject into nor reject every
  // event). Plain reads are own reads when the object inherits from Object.prototype (or nothing) and that holds
  // none of the names read here; anything else goes to the exact reader, which asks for each property. Once
  // optimized, V8 folds these reads of absent properties of Object.prototype to constants: no cost per call.
  function inherits(x) {
    const p = getPrototypeOf(x);
    return p !== ObjectProto && p !== null;
  }
  function polluted() {
    const p = ObjectProto;
    return p.executionId !== undefined || p.workflowId !== undefined || p.workflowName !== undefined ||
      p.mode !== undefined || p.status !== undefined || p.startedAt !== undefined || p.stoppedAt !== undefined ||
      p.nodeCount !== undefined || p.retryOf !== undefined || p.parentExecutionId !== undefined ||
      p.triggerNode !== undefined || p.workflowVersionId !== undefined || p.userId !== undefined ||
      p.event !== undefined || p.nodeName !== undefined || p.nodeType !== undefined || p.nodeId !== undefined ||
      p.error !== undefined || p.triggerNodeType !== undefined || p.tags !== undefined ||
      p.dimensions !== undefined || p.metrics !== undefined || p.flags !== undefined ||
      p.message !== undefined || p.name !== undefined || p.stack !== undefined || p.runIndex !== undefined;
  }
  const MAX = 4096; // UTF-16 units; a longer string takes the exact path, which copies it capped
  // nums: [0] presence bits, [1] startedAt, [2] stoppedAt, [3] nodeCount, [4] tags, [5] kind,
  // [6] packed length, [7] runIndex, [8 + slot] string lengths, [31 + i] tag lengths (UTF-16 units). Bits 0-22
  // of [0]: string slots 0-22 in packing order; 0x800000 startedAt, 0x1000000 stoppedAt, 0x2000000 nodeCount as
  // numbers, 0x4000000 error as a string, 0x8000000 as an object, 0x10000000 runIndex. The layout is the Rust
  // tables' (fast_log.rs, the slots of src/packed.rs); a test there parses this file and fails on any other
  // name, bit or offset.
  const LEN = 8;
  const TAG_LEN = 31;
  let busy = false;

  /** The packed string, or undefined when the exact reader must decide. */
  function pack(o, node) {
    if (busy) return; // a getter that logs would overwrite nums
    busy = true;
    try {
      if (isArray(o) || inherits(o) || polluted()) return;
      let s = '', m = 0, v;
      v = o.executionId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 1; s += v; nums[LEN] = v.length; } else if (v != null) return;
      v = o.workflowId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 2; s += v; nums[LEN + 1] = v.length; } else if (v != null) return;
      v = o.workflowName; if (typeof v === 'string') { if (v.length > MAX) return; m |= 4; s += v; nums[LEN + 2] = v.length; } else if (v != null) return;
      v = o.mode; if (typeof v === 'string') { if (v.length > MAX) return; m |= 8; s += v; nums[LEN + 3] = v.length; } else if (v != null) return;
      v = o.status; if (typeof v === 'string') { if (v.length > MAX) return; m |= 16; s += v; nums[LEN + 4] = v.length; } else if (v != null) return;
      v = o.startedAt;
      if (typeof v === 'number') { m |= 0x800000; nums[1] = v; }
      else if (typeof v === 'object' && v !== null) { m |= 0x800000; nums[1] = getTime.call(v); }
      else if (typeof v === 'string') { if (v.length > MAX) return; m |= 32; s += v; nums[LEN + 5] = v.length; } else if (v != null) return;
      v = o.stoppedAt;
      if (typeof v === 'number') { m |= 0x1000000; nums[2] = v; }
      else if (typeof v === 'object' && v !== null) { m |= 0x1000000; nums[2] = getTime.call(v); }
      else if (typeof v === 'string') { if (v.length > MAX) return; m |= 64; s += v; nums[LEN + 6] = v.length; } else if (v != null) return;
      v = o.nodeCount; if (typeof v === 'number') { m |= 0x2000000; nums[3] = v; } else if (v != null) return;
      v = o.retryOf; if (typeof v === 'string') { if (v.length > MAX) return; m |= 128; s += v; nums[LEN + 7] = v.length; } else if (v != null) return;
      v = o.parentExecutionId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 256; s += v; nums[LEN + 8] = v.length; } else if (v != null) return;
      v = o.triggerNode; if (typeof v === 'string') { if (v.length > MAX) return; m |= 512; s += v; nums[LEN + 9] = v.length; } else if (v != null) return;
      v = o.workflowVersionId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 1024; s += v; nums[LEN + 10] = v.length; } else if (v != null) return;
      v = o.userId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 2048; s += v; nums[LEN + 11] = v.length; } else if (v != null) return;
      if (node) {
        v = o.event; if (typeof v === 'string') { if (v.length > MAX) return; m |= 4096; s += v; nums[LEN + 12] = v.length; } else if (v != null) return;
        v = o.nodeName; if (typeof v === 'string') { if (v.length > MAX) return; m |= 8192; s += v; nums[LEN + 13] = v.length; } else if (v != null) return;
        v = o.nodeType; if (typeof v === 'string') { if (v.length > MAX) return; m |= 16384; s += v; nums[LEN + 14] = v.length; } else if (v != null) return;
        v = o.nodeId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 32768; s += v; nums[LEN + 15] = v.length; } else if (v != null) return;
        v = o.runIndex; if (typeof v === 'number') { m |= 0x10000000; nums[7] = v; } else if (v != null) return;
      }
      const e = o.error;
      if (typeof e === 'string') {
        if (e.length > MAX) return;
        m |= 0x4000000 | 65536; s += e; nums[LEN + 16] = e.length;
      } else if (typeof e === 'object' && e !== null) {
        if (inherits(e)) return; // an Error instance, say: its name comes from its class
        m |= 0x8000000;
        // Loose fields: a value that is not a string is ignored, as on the exact path.
        v = e.message; if (typeof v === 'string') { if (v.length > MAX) return; m |= 65536; s += v; nums[LEN + 16] = v.length; }
        v = e.name; if (typeof v === 'string') { if (v.length > MAX) return; m |= 131072; s += v; nums[LEN + 17] = v.length; }
        v = e.stack; if (typeof v === 'string') { if (v.length > MAX) return; m |= 262144; s += v; nums[LEN + 18] = v.length; }
        v = e.nodeName; if (typeof v === 'string') { if (v.length > MAX) return; m |= 524288; s += v; nums[LEN + 19] = v.length; }
        v = e.nodeId; if (typeof v === 'string') { if (v.length > MAX) return; m |= 1048576; s += v; nums[LEN + 20] = v.length; }
        v = e.nodeType; if (typeof v === 'string') { if (v.length > MAX) return; m |= 2097152; s += v; nums[LEN + 21] = v.length; }
      } else if (e !== undefined && e !== null) {
        return;
      }
      // Slot 22 follows the error's slots: the text is split in slot order.
      v = o.triggerNodeType; if (typeof v === 'string') { if (v.length > MAX) return; m |= 0x400000; s += v; nums[LEN + 22] = v.length; } else if (v != null) return;
      let tags = 0;
      v = o.tags;
      if (v !== undefined && v !== null) {
        if (!isArray(v)) return;
        const len = v.length < 100 ? v.length : 100;
        for (let i = 0; i < len; i++) {
          const tag = v[i];
          if (typeof tag === 'string') { if (tag.length > MAX) return; s += tag; nums[TAG_LEN + tags++] = tag.length; }
        }
      }
      if (o.dimensions != null || o.metrics != null || o.flags != null) return;
      nums[0] = m; nums[4] = tags; nums[6] = s.length;
      return s;
    } catch (_) {
      return undefined;
    } finally {
      busy = false;
    }
  }

  function define(name, kind, node) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    const exact = descriptor.value;
    descriptor.value = {
      [name](input) {
        if (typeof input === 'object' && input !== null) {
          const s = pack(input, node);
          if (s !== undefined) {
            const logPacked = nativeOf(this);
            if (logPacked !== null) {
              nums[5] = kind;
              const accepted = logPacked(s);
              if (accepted !== null) return accepted;
            }
          }
        }
        return exact.call(this, input);
      },
    }[name];
    Object.defineProperty(proto, name, descriptor);
  }
  // Kinds as in fast_log.rs (KINDS): 0 started, 1 resumed, 2 finished, 3 node event.
  define('logWorkflowStarted', 0, false);
  define('logWorkflowResumed', 1, false);
  define('logWorkflowFinished', 2, false);
  define('logNodeEvent', 3, true);
  return true;
})

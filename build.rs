//! Build script: lets napi-rs set up the linker flags a Node addon needs.
fn main() {
  napi_build::setup();
}

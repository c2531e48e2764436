// Every recognisable secret the tests configure, by name: tests take their values from here, and
// scripts/check-secrets.mjs fails `npm test` when one shows up in anything the run printed or left behind.
export const SECRETS = Object.freeze({
  // The test broker's SASL user (PLAIN and SCRAM): SASL_PASSWORD in scripts/kafka/broker.sh, read by the tests
  // through `broker.sh info`; __test__/check-secrets.test.mjs proves the two agree.
  BROKER_SASL_PASSWORD: 'alice-secret',
  // Wrong passwords still are configured secrets: __test__/faults.test.mjs, scripts/reliability/cases.mjs.
  WRONG_SASL_PASSWORD: 'wrong-password-123',
  RELIABILITY_WRONG_PASSWORD: 'not-the-password',
  // __test__/config.test.mjs: one value as SASL password, SSL key password, health token and
  // N8N_KAFKA_LOGGER_RDKAFKA_SSL_KEYSTORE_PASSWORD (a librdkafka passthrough).
  CONFIG_SECRET: 'S3cr3t-pa55word-xyz',
  // N8N_KAFKA_LOGGER_HEALTH_TOKEN of every e2e n8n (__test__/e2e/helpers/harness.mjs), sent as a bearer token.
  HEALTH_TOKEN: 'e2e-health-token',
  // The Rust unit tests' secrets (src/telemetry/diag.rs, src/config/parse.rs, src/transport/config.rs): scrubbing, inline keys, passthroughs.
  RUST_DIAG_SECRET: 'hunter2',
  RUST_INLINE_KEY_BODY: 'secret-key-body',
  RUST_RDKAFKA_KEY_PASSWORD: 'pw-secret',
  RUST_RDKAFKA_CLIENT_SECRET: 'topsecret',
  // src/config/parse.rs: part of every passthrough value of its default-deny test.
  RUST_PASSTHROUGH_VALUE: 'oauth-value-1',
  // __test__/config.test.mjs: librdkafka passthroughs that carry credentials without a telling name.
  OAUTHBEARER_CONFIG: 'principal=svc oauth-cfg-7Hq2',
  OAUTHBEARER_EXTENSIONS: 'traceId=oauth-ext-7Hq2',
  KINIT_CMD: 'kinit -kt /etc/kinit-7Hq2.keytab svc',
  UNLISTED_PROPERTY: 'unlisted-7Hq2',
  // __test__/config.test.mjs: a misspelt variable's value, never echoed in its warning.
  MISSPELT_VALUE: 'misspelt-value-7Hq2',
});

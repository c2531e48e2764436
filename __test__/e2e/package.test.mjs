// The published package: what `npm pack` ships, and the release tarballs installed into a clean n8n folder with one
// `npm install`, then used from there by Node, by a real n8n (events read back from Kafka) and by tsc.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import * as I from '../../scripts/n8n/n8n-instance.mjs';
import { cliOutcome, FIXTURES } from './helpers/harness.mjs';
import { assertExecution } from './helpers/expect.mjs';
import { kafkaUp, readEvents, uniqueTopic } from './helpers/kafka.mjs';
import { inheritsNodeModules, installClean, packRelease, PLATFORM, PLATFORM_PACKAGE } from './helpers/packed.mjs';

const { PACKAGE_NAME, REPO } = I;
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const pkg = readJson(join(REPO, 'package.json'));

test('npm pack ships the loader, types, CLI, compiled n8n entry points and notices; the binary only in its platform package', () => {
  const [{ files }] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' }));
  const paths = files.map((f) => f.path);
  const wanted = ['index.js', 'index.d.ts', 'bin/cli.js', 'THIRD-PARTY-NOTICES', 'dist/n8n/hooks.js', 'dist/n8n/hooks.d.ts', 'dist/n8n/fork.js', 'dist/n8n/fork.d.ts', 'dist/n8n/mapping.js'];
  for (const f of wanted) assert.ok(paths.includes(f), f);
  assert.deepEqual(paths.filter((p) => p.endsWith('.node')), [], 'no binary in the main package: it comes from npm/<platform>');
  assert.ok(!paths.some((p) => /^(n8n|__test__|src|scripts|npm|fuzz)\//.test(p)), 'no sources, tests or platform folders in the package');
});

/** The CommonJS target of an exports entry (a string or a conditions object). */
const target = (e) => (typeof e === 'string' ? e : e?.require ?? e?.default);

test('exports name the two entry points', () => {
  assert.equal(target(pkg.exports?.['./hooks']), './dist/n8n/hooks.js');
  assert.equal(target(pkg.exports?.['./n8n']), './dist/n8n/fork.js');
  assert.ok(target(pkg.exports?.['.']), 'the core stays importable');
});

test("n8n's DI packages and prom-client are peers, never bundled dependencies", () => {
  for (const peer of ['@n8n/di', '@n8n/decorators', 'prom-client']) {
    assert.ok(pkg.peerDependencies?.[peer], `${peer} in peerDependencies`);
    assert.equal(pkg.peerDependenciesMeta?.[peer]?.optional, true, `${peer} optional: the stock hook file uses n8n's copies`);
    assert.equal(pkg.dependencies?.[peer], undefined, `${peer} not a dependency`);
  }
});

test(`npm/${PLATFORM} is the package the loader asks for, restricted to its platform`, () => {
  const p = readJson(join(REPO, 'npm', PLATFORM, 'package.json'));
  assert.equal(p.name, PLATFORM_PACKAGE);
  assert.equal(p.version, pkg.version, 'same version as the main package (pre-publish pins it exactly)');
  assert.deepEqual([p.os, p.cpu, p.libc], [['linux'], ['x64'], ['glibc']]);
  assert.deepEqual(p.files, [p.main]);
  assert.match(readFileSync(join(REPO, 'index.js'), 'utf8'), new RegExp(`require\\('${PLATFORM_PACKAGE}'\\)`));
});

describe('the release tarballs installed into a clean n8n folder', () => {
  let release;
  let dir;
  const installed = (...p) => join(dir, 'node_modules', ...p);

  before(() => {
    release = packRelease();
    dir = installClean([release.mainTarball, release.platformTarball]);
  });

  after(() => {
    for (const d of [release?.out, dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('one offline npm install: the main and the linux-x64-gnu package, no other platform, nothing inherited', () => {
    assert.equal(inheritsNodeModules(dir), undefined, 'no node_modules above the folder');
    const names = readdirSync(installed()).filter((n) => !n.startsWith('.'));
    assert.deepEqual(names.sort(), [PACKAGE_NAME, PLATFORM_PACKAGE].sort(), 'the other platforms\' optional packages are skipped');
    assert.equal(readJson(installed(PACKAGE_NAME, 'package.json')).optionalDependencies?.[PLATFORM_PACKAGE], pkg.version);
    assert.deepEqual(readdirSync(installed(PACKAGE_NAME)).filter((f) => f.endsWith('.node')), []);
    assert.ok(readdirSync(installed(PACKAGE_NAME)).includes('THIRD-PARTY-NOTICES'));
  });

  it('require() from the folder loads the binary of the platform package', () => {
    const env = { ...process.env };
    delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
    delete env.NODE_PATH;
    const script = `const m = require('${PACKAGE_NAME}');
      console.log(JSON.stringify({ addons: Object.keys(require.cache).filter((f) => f.endsWith('.node')), settings: m.KafkaExecutionLogger.settings().length,
        hooks: require.resolve('${PACKAGE_NAME}/hooks'), fork: require.resolve('${PACKAGE_NAME}/n8n') }))`;
    const r = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, env, encoding: 'utf8' }));
    assert.deepEqual(r.addons, [realpathSync(installed(PLATFORM_PACKAGE, release.binary))]);
    assert.ok(r.settings > 30, `${r.settings} settings from the native core`);
    assert.equal(r.hooks, realpathSync(installed(PACKAGE_NAME, 'dist', 'n8n', 'hooks.js')));
    assert.equal(r.fork, realpathSync(installed(PACKAGE_NAME, 'dist', 'n8n', 'fork.js')));
  });

  it('the CLI runs from node_modules/.bin', () => {
    const spool = join(release.out, 'empty-spool');
    mkdirSync(spool);
    const out = execFileSync(installed('.bin', PACKAGE_NAME), ['spool', 'status', '--dir', spool, '--json'], { cwd: dir, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out).slots, []);
  });

  it('a real n8n loads the installed hook file: one workflow run, Started + Completed on the broker', async () => {
    const brokers = await kafkaUp();
    const topic = uniqueTopic('package');
    const version = I.PINNED();
    const userFolder = join(release.out, 'n8n-user');
    const workflows = join(release.out, 'workflows');
    const probe = join(release.out, 'addons');
    mkdirSync(workflows);
    mkdirSync(probe);
    copyFileSync(join(FIXTURES, 'success.json'), join(workflows, 'success.json'));
    // Every process n8n starts records which copy of the addon it loaded (the staged copy in n8n's folder must not be it).
    const probeFile = join(release.out, 'addon-probe.cjs');
    writeFileSync(probeFile, `process.on('exit', () => {
      const loaded = Object.keys(require.cache).filter((f) => f.endsWith(${JSON.stringify(`/${release.binary}`)}));
      if (loaded.length) require('fs').writeFileSync(require('path').join(${JSON.stringify(probe)}, process.pid + '.json'), JSON.stringify(loaded));
    });\n`);
    const env = I.n8nEnv({
      userFolder,
      port: await I.freePort(),
      runnerPort: await I.freePort(),
      extra: {
        EXTERNAL_HOOK_FILES: installed(PACKAGE_NAME, 'dist', 'n8n', 'hooks.js'),
        N8N_KAFKA_LOGGER_ENABLED: 'true',
        N8N_KAFKA_LOGGER_BROKERS: brokers,
        N8N_KAFKA_LOGGER_TOPIC: topic,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(probeFile)}`.trim(),
      },
    });
    await I.importWorkflows(version, env, workflows);
    const r = await I.runCli(version, ['execute', '--id', 'klSuccess0000001'], env);
    assert.equal(cliOutcome(r), 'success');
    const events = await readEvents(topic, 2, { brokers });
    assertExecution(events, { workflowId: 'klSuccess0000001', names: ['Workflow Started', 'Workflow Completed'], mode: 'cli', status: 'success', version });
    const loaded = new Set(readdirSync(probe).flatMap((f) => readJson(join(probe, f))));
    assert.deepEqual([...loaded], [realpathSync(installed(PLATFORM_PACKAGE, release.binary))], 'n8n loaded the binary of the clean folder');
  });

  it('tsc type-checks a consumer of the three entry points against the installed declarations', () => {
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], skipLibCheck: false },
      files: ['consumer.ts'],
    }));
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    let listed;
    try {
      listed = execFileSync(process.execPath, [tsc, '-p', dir, '--listFiles'], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
    const declarations = listed.split('\n').filter((f) => f.includes(PACKAGE_NAME));
    for (const d of ['index.d.ts', 'dist/n8n/hooks.d.ts', 'dist/n8n/fork.d.ts']) assert.ok(declarations.includes(installed(PACKAGE_NAME, d)), `${d} from the installed package`);
    assert.deepEqual(declarations.filter((f) => !f.startsWith(dir)), [], 'no declaration from outside the folder');
  });
});

/** Uses each entry point's types; the @ts-expect-error line fails the check if the declarations were `any`. */
const CONSUMER_TS = `import { KafkaExecutionLogger, type ExecutionInput, type HealthSnapshot } from '${PACKAGE_NAME}';
import hooks = require('${PACKAGE_NAME}/hooks');
import { KafkaExecutionLoggerService, MODULE_NAME } from '${PACKAGE_NAME}/n8n';

const input: ExecutionInput = { executionId: '42', workflowId: 'wf-1', startedAt: new Date() };
const logger = new KafkaExecutionLogger({ brokers: ['127.0.0.1:9092'], topic: 'executions' });
export const accepted: boolean = logger.logWorkflowStarted(input);
export const status: HealthSnapshot['status'] = logger.getHealthMetrics().status;
export const onStop: Array<(...args: any[]) => unknown> | undefined = hooks.n8n?.stop;
export const moduleName: 'kafka-logger' = MODULE_NAME;
export const started: boolean = new KafkaExecutionLoggerService().init();
// @ts-expect-error an execution id is a string
export const wrong: ExecutionInput = { executionId: 42, workflowId: 'wf-1' };
`;

// The second scenario list (error workflow, schedule, editor run, continue on fail, timeout, concurrency queue, pinned data, failing sub-workflow, SIGTERM) on one real n8n and the real broker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, startMain, startSuiteN8n, waitForWebhook } from './helpers/harness.mjs';
import { assertExecution } from './helpers/expect.mjs';
import { byExecution, ofWorkflow } from './helpers/kafka.mjs';
import { n8nVersionOf, publicApi } from '../../scripts/n8n/n8n-instance.mjs';
import { CODE_NODE } from './scenarios.mjs';

const STARTED = 'Workflow Started';
/** The end event the package names after each status n8n records. */
const END_EVENT = { success: 'Workflow Completed', error: 'Workflow Failed', crashed: 'Workflow Failed', canceled: 'Workflow Cancelled' };
const ms = (iso) => new Date(iso).getTime();

/** Published in this suite's n8n only (webhooks of its scenarios); on 2.x also the error workflow and the sub-workflow, which 2.x runs only published. */
const OWN_WEBHOOKS = ['klErrSource00001', 'klContinueFail01', 'klTimeout0000001', 'klSubFailParent1', 'klQueued00000001'];
const PUBLISHED_ON_2X = ['klErrHandler0001', 'klSubFailChild01'];

async function setActive(url, apiKey, id, active) {
  const r = await publicApi(url, apiKey, 'POST', `/workflows/${id}/${active ? 'activate' : 'deactivate'}`);
  assert.equal(r.status, 200, `${active ? 'activate' : 'deactivate'} ${id}: ${r.text}`);
}

/** n8n's own record of an execution (public API): the status it stored. */
async function recorded(url, apiKey, id) {
  const r = await publicApi(url, apiKey, 'GET', `/executions/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/**
 * "Execute workflow" as the editor does it, with the owner's session. n8n up to 2.40 runs the workflow in the
 * body, newer ones the stored one (and drop the body's other keys): one body serves both.
 */
async function runFromEditor(ctx, url, workflowId, trigger = 'Start') {
  const got = await fetch(`${url}/rest/workflows/${workflowId}`, { headers: { cookie: ctx.cookie } });
  const gotText = await got.text();
  assert.equal(got.status, 200, gotText);
  const workflowData = JSON.parse(gotText).data;
  const res = await fetch(`${url}/rest/workflows/${workflowId}/run`, {
    method: 'POST',
    headers: { cookie: ctx.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ workflowData, triggerToStartFrom: { name: trigger } }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const executionId = JSON.parse(text).data?.executionId;
  assert.ok(executionId, `an execution was started: ${text}`);
  return String(executionId);
}

/** Every execution among `events` has exactly one start and one end, in that order; returns them by execution id. */
function startAndEndEach(events) {
  const executions = byExecution(events);
  for (const [id, evs] of executions) {
    assert.equal(evs.length, 2, `one start and one end for ${id}: ${evs.map((e) => e.event)}`);
    assert.equal(evs[0].event, STARTED, `${id} starts first`);
    assert.equal(evs[1].event, END_EVENT[evs[1].dimensions.status], `${id}: end event named after its status ${evs[1].dimensions.status}`);
  }
  return executions;
}

export function moreScenarios({ version, mode = 'stock', label }) {
  describe(`${label}: more scenarios on n8n ${version} via ${mode === 'stock' ? 'the hook file' : 'the fork module'}`, () => {
    let ctx;
    let main;
    let topic;
    let is1x;
    let url;
    const t0 = Date.now();

    before(async () => {
      ({ topic, ctx, main } = await startSuiteN8n({ label, version, mode }));
      url = main.p.url;
      is1x = n8nVersionOf(ctx.version).startsWith('1.');
      for (const id of [...(is1x ? [] : PUBLISHED_ON_2X), ...OWN_WEBHOOKS]) await setActive(url, ctx.apiKey, id, true);
      for (const path of ['kl-err-source', 'kl-continue', 'kl-timeout', 'kl-sub-fail', 'kl-queued']) await waitForWebhook(url, path);
      console.log(`# ${label}: n8n ready in ${main.readyMs} ms, setup ${Date.now() - t0} ms`);
    });

    after(async () => {
      await ctx?.cleanup();
      console.log(`# ${label}: suite ${Date.now() - t0} ms`);
    });

    it('manual run from the editor (REST, owner session): mode manual, is_manual_execution', async () => {
      const executionId = await runFromEditor(ctx, url, 'klSuccess0000001');
      const events = await topic.next(2);
      const id = assertExecution(events, { workflowId: 'klSuccess0000001', names: [STARTED, 'Workflow Completed'], mode: 'manual', status: 'success', tags: ['billing', 'kafka-e2e'] });
      assert.equal(id, executionId, 'the execution the REST call started');
      for (const e of events) {
        assert.equal(e.flags.is_manual_execution, true);
        assert.equal(e.flags.is_retry, false);
        assert.equal(e.flags.is_sub_execution, false);
        assert.equal(e.properties.parent_execution_id, undefined);
      }
    });

    it('pinned data: the pinned node is not run (its code would throw), normal events', async () => {
      const executionId = await runFromEditor(ctx, url, 'klPinned00000001');
      const events = await topic.next(2);
      assert.equal(assertExecution(events, { workflowId: 'klPinned00000001', names: [STARTED, 'Workflow Completed'], mode: 'manual', status: 'success' }), executionId);
      assert.equal(events[1].properties.error_node_name, undefined);
      assert.equal((await recorded(url, ctx.apiKey, executionId)).status, 'success', 'n8n used the pinned data');
    });

    it('"continue on fail" node error in a successful execution: Completed, no error node', async () => {
      const r = await post(url, '/webhook/kl-continue');
      const events = await topic.next(2);
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /boom from the code node/, 'the node failed and the run went on with its error as data');
      assertExecution(events, { workflowId: 'klContinueFail01', names: [STARTED, 'Workflow Completed'], mode: 'webhook', status: 'success' });
      for (const k of ['error_node_name', 'error_node_type', 'error_message']) assert.equal(events[1].properties[k], undefined, k);
      assert.equal(events[1].dimensions.error_type, undefined);
    });

    it('error workflow: the failed execution and the Error Trigger workflow\'s own run (mode error), each start + end, linked', async () => {
      const r = await post(url, '/webhook/kl-err-source');
      const events = await topic.next(4);
      assert.equal(r.status, 500, r.text);
      startAndEndEach(events);
      const failedId = assertExecution(ofWorkflow(events, 'klErrSource00001'), {
        workflowId: 'klErrSource00001', names: [STARTED, 'Workflow Failed'], mode: 'webhook', status: 'error', errorNode: CODE_NODE,
      });
      const handler = ofWorkflow(events, 'klErrHandler0001');
      const handlerId = assertExecution(handler, { workflowId: 'klErrHandler0001', names: [STARTED, 'Workflow Completed'], mode: 'error', status: 'success' });
      assert.notEqual(handlerId, failedId);
      for (const e of handler) assert.equal(e.properties.parent_execution_id, failedId, 'the error run links to the failed execution');
      assert.equal(handler[1].properties.trigger_node, 'On error');
      assert.equal((await recorded(url, ctx.apiKey, handlerId)).status, 'success');
    });

    it('sub-workflow fails inside a successful parent: child Failed with its parent link, parent Completed', async () => {
      const r = await post(url, '/webhook/kl-sub-fail');
      const events = await topic.next(4);
      assert.equal(r.status, 200, r.text);
      startAndEndEach(events);
      const parentId = assertExecution(ofWorkflow(events, 'klSubFailParent1'), { workflowId: 'klSubFailParent1', names: [STARTED, 'Workflow Completed'], mode: 'webhook', status: 'success' });
      const child = ofWorkflow(events, 'klSubFailChild01');
      assertExecution(child, { workflowId: 'klSubFailChild01', names: [STARTED, 'Workflow Failed'], mode: 'integrated', status: 'error', errorNode: CODE_NODE });
      for (const e of child) {
        assert.equal(e.properties.parent_execution_id, parentId);
        assert.equal(e.flags.is_sub_execution, true);
      }
      assert.equal(ofWorkflow(events, 'klSubFailParent1')[1].properties.error_node_name, undefined);
    });

    it('workflow timeout (executionTimeout 2 s on an 8 s wait): the end status n8n records, under its event name', async () => {
      const r = await post(url, '/webhook/kl-timeout');
      const events = await topic.next(2, 30_000);
      assert.equal(r.status, 200, r.text);
      const id = events[0].properties.execution_id;
      const record = await recorded(url, ctx.apiKey, id);
      assert.ok(['canceled', 'error'].includes(record.status), `n8n records a timed-out run as canceled or error, not ${record.status}`);
      assertExecution(events, { workflowId: 'klTimeout0000001', names: [STARTED, END_EVENT[record.status]], mode: 'webhook', status: record.status });
      const took = events[1].metrics.duration_ms;
      assert.ok(took >= 1_900 && took < 7_000, `stopped by the 2 s timeout, not after the 8 s wait: ${took} ms`);
      // the error of the run n8n hands its hooks (its database keeps none): 2.x ends a timed-out run with a
      // TimeoutExecutionCancelledError, 1.x cancels it like a stop, without an error; neither names a node
      const { error_message: message, error_node_name: node } = events[1].properties;
      if (is1x) assert.equal(message, undefined);
      else {
        assert.equal(message, 'The execution was cancelled because it timed out');
        assert.equal(events[1].dimensions.error_type, 'TimeoutExecutionCancelledError');
      }
      assert.equal(node, undefined);
      console.log(`# ${label}: timed-out run recorded as ${record.status} after ${took} ms: ${events[1].event}`);
    });

    it('schedule trigger every second (mode trigger): each run one start and one end, none after deactivation', async () => {
      await setActive(url, ctx.apiKey, 'klSchedule000001', true);
      const first = await topic.next(2, 30_000);
      await setActive(url, ctx.apiKey, 'klSchedule000001', false);
      await new Promise((r) => setTimeout(r, 3_000)); // runs begun before the deactivation end
      const events = [...first, ...(await topic.rest())];
      const executions = startAndEndEach(events);
      assert.ok(executions.size >= 1);
      for (const evs of executions.values()) {
        assertExecution(evs, { workflowId: 'klSchedule000001', names: [STARTED, 'Workflow Completed'], mode: 'trigger', status: 'success' });
        assert.equal(evs[1].properties.trigger_node, 'Every second');
        assert.equal(evs[0].flags.is_manual_execution, false);
      }
      await topic.assertNoMore(3_000);
      console.log(`# ${label}: ${executions.size} scheduled runs`);
    });

    it('SIGTERM with executions in flight: every accepted execution has its start and one end after n8n exits', async () => {
      const slow = await Promise.all([1, 2, 3].map(() => post(url, '/webhook/kl-slow')));
      const quick = await Promise.all([1, 2, 3].map(() => post(url, '/webhook/kl-ok')));
      for (const a of [...slow, ...quick]) assert.equal(a.status, 200, a.text);
      const sigtermAt = Date.now();
      const info = await main.p.stop('SIGTERM');
      assert.equal(info.code, 0, main.p.log.slice(-3000));
      const events = await topic.next(12, 30_000);
      const executions = startAndEndEach(events);
      assert.equal(executions.size, 6, 'six accepted executions');
      const slowEnds = ofWorkflow(events, 'klSlow0000000001').filter((e) => e.event !== STARTED);
      assert.equal(slowEnds.length, 3);
      for (const e of slowEnds) assert.ok(ms(e.timestamp) > sigtermAt, 'the slow runs were still in flight at SIGTERM');
      for (const evs of executions.values()) {
        const workflowId = evs[0].properties.workflow_id;
        assertExecution(evs, { workflowId, names: [STARTED, evs[1].event], mode: 'webhook', status: evs[1].dimensions.status });
      }
      ctx.inFlight = executions;
      console.log(`# ${label}: in flight at SIGTERM, ended as ${[...executions.values()].map((evs) => `${evs[0].properties.workflow_id}:${evs[1].dimensions.status}`).join(', ')}`);
    });

    it('after the restart n8n\'s records match the SIGTERM end events, and no event is sent twice', async () => {
      main = await startMain(ctx, { N8N_CONCURRENCY_PRODUCTION_LIMIT: '1' });
      url = main.p.url;
      for (const [id, evs] of ctx.inFlight) assert.equal((await recorded(url, ctx.apiKey, id)).status, evs[1].dimensions.status, `n8n's record of ${id}`);
      await topic.assertNoMore();
    });

    it('production concurrency limit 1: simultaneous webhook runs queue, each one start and one end, one at a time', async () => {
      await waitForWebhook(url, 'kl-queued');
      const answers = await Promise.all([1, 2, 3].map(() => post(url, '/webhook/kl-queued')));
      for (const a of answers) assert.equal(a.status, 200, a.text);
      const events = await topic.next(6, 60_000);
      const executions = [...startAndEndEach(events).values()];
      assert.equal(executions.length, 3);
      for (const evs of executions) assertExecution(evs, { workflowId: 'klQueued00000001', names: [STARTED, 'Workflow Completed'], mode: 'webhook', status: 'success' });
      executions.sort((a, b) => ms(a[0].timestamp) - ms(b[0].timestamp));
      for (let i = 1; i < executions.length; i++) {
        assert.ok(ms(executions[i][0].timestamp) >= ms(executions[i - 1][1].timestamp) - 50, `run ${i + 1} started after run ${i} ended (queued, not overlapping)`);
      }
    });

    it('SIGTERM: n8n stops cleanly, the topic holds nothing more', async () => {
      const info = await main.p.stop('SIGTERM');
      assert.equal(info.code, 0, main.p.log.slice(-3000));
      assert.doesNotMatch(main.p.log, /\[kafka-logger\].*(failed|skipped)/i);
      await topic.assertNoMore();
    });
  });
}

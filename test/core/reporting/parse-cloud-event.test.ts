import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCloudEvent } from '../../../functions/core/reporting/parse-cloud-event.ts';

// Attributes as Tekton Pipelines' cloudevent.go sets them: subject = name, source = the object's path, data = the run.
const data = { pipelineRun: { metadata: { name: 'build-run-7k2qx', namespace: 'ci' }, status: { conditions: [] } } };
const binary = {
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': '2c3a1f1e-0000-4000-8000-000000000001',
  'ce-source': '/apis///namespaces/ci//build-run-7k2qx',
  'ce-type': 'dev.tekton.event.pipelinerun.successful.v1',
  'ce-subject': 'build-run-7k2qx',
};
const structured = (event: Record<string, unknown>) => JSON.stringify({ specversion: '1.0', id: 'e1', source: '/apis/tekton.dev/v1beta1/namespaces/ci/TaskRun/unit-tests-x', type: 'dev.tekton.event.taskrun.failed.v1', ...event });

describe('parseCloudEvent', () => {
  it('binary mode: the run named by the data, the type kept', () => {
    assert.deepEqual(parseCloudEvent(binary, JSON.stringify(data)), {
      ok: true,
      event: { id: binary['ce-id'], type: 'dev.tekton.event.pipelinerun.successful.v1', kind: 'PipelineRun', namespace: 'ci', name: 'build-run-7k2qx' },
    });
  });

  it('structured mode, with the data inline, in base64, or absent (then the source and subject name the run)', () => {
    const headers = { 'content-type': 'application/cloudevents+json; charset=utf-8' };
    const inline = parseCloudEvent(headers, structured({ data: { taskRun: { metadata: { name: 'unit-tests-x', namespace: 'ci' } } } }));
    const base64 = parseCloudEvent(headers, structured({ data_base64: Buffer.from(JSON.stringify({ taskRun: { metadata: { name: 'unit-tests-x', namespace: 'ci' } } })).toString('base64') }));
    const none = parseCloudEvent(headers, structured({}));
    for (const parsed of [inline, base64, none]) {
      assert.deepEqual(parsed, { ok: true, event: { id: 'e1', type: 'dev.tekton.event.taskrun.failed.v1', kind: 'TaskRun', namespace: 'ci', name: 'unit-tests-x' } });
    }
  });

  it('every run event type of Tekton Pipelines is taken; CustomRun and other events are ignored with a reason', () => {
    for (const kind of ['pipelinerun', 'taskrun']) {
      for (const moment of ['queued', 'started', 'running', 'successful', 'failed', 'unknown']) {
        assert.equal(parseCloudEvent({ ...binary, 'ce-type': `dev.tekton.event.${kind}.${moment}.v1` }, JSON.stringify({ ...data, taskRun: data.pipelineRun })).ok, true, `${kind}.${moment}`);
      }
    }
    for (const type of ['dev.tekton.event.customrun.started.v1', 'com.example.push', 'dev.tekton.event.pipelinerun.successful.v2']) {
      const parsed = parseCloudEvent({ ...binary, 'ce-type': type }, JSON.stringify(data));
      assert.equal(parsed.ok, 'ignored', type);
    }
  });

  const malformed: Array<[string, Record<string, string>, string, RegExp]> = [
    ['no CloudEvent headers', { 'content-type': 'application/json' }, '{}', /not a CloudEvent/],
    ['no ce-id', { ...binary, 'ce-id': '' }, JSON.stringify(data), /no id/],
    ['specversion 0.3', { ...binary, 'ce-specversion': '0.3' }, JSON.stringify(data), /specversion/],
    ['data not JSON', binary, '{"pipelineRun":', /not valid JSON/],
    ['data of another type', { ...binary, 'content-type': 'text/plain' }, 'hello', /must be JSON/],
    ['structured body not JSON', { 'content-type': 'application/cloudevents+json' }, 'nope', /not valid JSON/],
    ['structured body a list', { 'content-type': 'application/cloudevents+json' }, '[]', /not a JSON object/],
    ['a batch', { 'content-type': 'application/cloudevents-batch+json' }, '[]', /batched/],
    ['a namespace with a slash', binary, JSON.stringify({ pipelineRun: { metadata: { name: 'x', namespace: '../kube-system' } } }), /namespace/],
    ['a name that is not a DNS name', binary, JSON.stringify({ pipelineRun: { metadata: { name: 'X/../y', namespace: 'ci' } } }), /run name/],
  ];
  for (const [name, headers, body, error] of malformed) {
    it(`400 for ${name}, never quoting the body`, () => {
      const parsed = parseCloudEvent(headers, body);
      assert.equal(parsed.ok, false);
      assert.equal(parsed.ok === false && parsed.status, 400);
      assert.match(parsed.ok === false ? parsed.error : '', error);
      if (body.length > 4) assert.ok(parsed.ok === false && !parsed.error.includes(body));
    });
  }
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { handleDelivery } from '../../../functions/core/handle-delivery.ts';
import { ConfigError } from '../../../functions/core/errors.ts';
import { groupLabelValue } from '../../../functions/core/concurrency/group-annotations.ts';
import { runSigningKey, verifyRunSignature } from '../../../functions/core/run-signature.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../../support/deliveries.ts';
import { pushToDefaultBranch } from '../../support/github-examples.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../../support/inline-config.ts';

const bindings = ['        - name: repo', '          value: $(body.repository.name)', '        - name: limit', '          value: $(body.head_commit.message)'].join('\n');
const annotations = (lines: string[]) => ['        annotations:', ...lines.map((l) => `          ${l}`)].join('\n');

function configWith(lines: string[], kind = 'PipelineRun') {
  const template = templateYaml(['repo', 'limit'], annotations(lines));
  return inlineConfig(listenerYaml('', bindings), kind === 'PipelineRun' ? template : template.replace('kind: PipelineRun', 'kind: TaskRun').replace('pipelineRef', 'taskRef'));
}

async function deliver(config: ReturnType<typeof configWith>, message = 'fix') {
  const push = pushToDefaultBranch();
  push.head_commit.message = message;
  return handleDelivery(asRequest(await signedDelivery('push', push)), { config, secrets: [TEST_SECRET], wallClock: Date.now });
}

describe('rendering a run of a concurrency group', () => {
  it('params are substituted in the annotations; the run is created waiting, labelled, ordered by its push and signed', async () => {
    // Prepare
    const config = configWith(['tekton-bridge/concurrency-group: "$(tt.params.repo)-main"', 'tekton-bridge/cancel-in-progress: "true"']);

    // Act
    const report = await deliver(config);

    // Assess
    const [run] = report.answer.body.rendered ?? [];
    assert.ok(run);
    assert.equal(run.metadata.annotations?.['tekton-bridge/concurrency-group'], 'Hello-World-main');
    assert.equal(run.metadata.labels?.['tekton-bridge/concurrency-group'], groupLabelValue('Hello-World-main'));
    assert.equal(run.metadata.labels?.['tekton-bridge/concurrency'], 'active');
    assert.equal((run.spec as { status?: string }).status, 'PipelineRunPending');
    assert.match(run.metadata.annotations?.['tekton-bridge/push-order'] ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z \S+$/);
    assert.deepEqual(verifyRunSignature(run, [runSigningKey(TEST_SECRET)]), { ok: true });
    assert.deepEqual(report.groups?.map((g) => g.group), ['Hello-World-main']);
  });

  it('a bad value that comes from a param fails the trigger, naming the annotation', async () => {
    const config = configWith(['tekton-bridge/concurrency-group: "$(tt.params.repo)"', 'tekton-bridge/max-running: "$(tt.params.limit)"']);

    const report = await deliver(config, 'three');

    assert.equal(report.answer.status, 503);
    assert.equal(report.answer.body.results?.[0]?.outcome, 'failed');
    assert.match(report.answer.body.results?.[0]?.reason ?? '', /TriggerTemplate\/echo resourcetemplates\[0\]: annotation tekton-bridge\/max-running expected a whole number from 1 to 9999, got "three"/);
    assert.deepEqual(report.groups, []);
  });

  it('check names file, object and field of a bad value written in the template', () => {
    let error: unknown;
    try {
      configWith(['tekton-bridge/concurrency-group: "g"', 'tekton-bridge/max-keep-runs: "0"', 'tekton-bridge/cancel-status: "Stop"']);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConfigError);
    const issues = error.issues.map((i) => `${i.file} ${i.object} ${i.field}: ${i.message}`);
    assert.ok(issues.some((i) => /^inline.yaml TriggerTemplate\/echo spec.resourcetemplates\[0\].metadata.annotations.tekton-bridge\/max-keep-runs: expected a whole number/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => /metadata.annotations.tekton-bridge\/cancel-status: a PipelineRun is cancelled with/.test(i)), issues.join('\n'));
  });

  it('check refuses spec.status on a run of a group, and warns that TaskRuns wait only on Tekton v1.12 and later', () => {
    assert.throws(() => inlineConfig(listenerYaml('', bindings), templateYaml(['repo', 'limit'], annotations(['tekton-bridge/concurrency-group: g'])).replace('      spec:\n', '      spec:\n        status: Cancelled\n')), /spec.status: is set on a run of a concurrency group/);
    const tasks = configWith(['tekton-bridge/concurrency-group: g'], 'TaskRun');
    assert.ok(tasks.warnings.some((w) => /TaskRunPending, which Tekton Pipelines accepts from v1.12.0 on/.test(w.message)));
  });
});

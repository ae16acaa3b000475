import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { handleDelivery } from '../../../functions/core/handle-delivery.ts';
import type { CreateResource } from '../../../functions/core/delivery-types.ts';
import { planDeliveryReports } from '../../../functions/core/reporting/delivery-reports.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../../support/deliveries.ts';
import { pushToDefaultBranch } from '../../support/github-examples.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../../support/inline-config.ts';

const celFilter = (expression: string) => `        - ref:\n            name: cel\n          params:\n            - name: filter\n              value: "${expression}"`;
const options = { reportSkipped: false, detailsUrlTemplate: 'https://d/{namespace}/{name}' };

async function deliver(config: ReturnType<typeof inlineConfig>, createResource: CreateResource, payload = pushToDefaultBranch()) {
  const delivery = await signedDelivery('push', payload, { deliveryId: 'd-1' });
  return handleDelivery(asRequest(delivery), { config, secrets: [TEST_SECRET], wallClock: Date.now, createResource });
}

describe('what a delivery reports', () => {
  it('renders each run with the report label, its context and the installation of an App delivery', async () => {
    const config = inlineConfig(listenerYaml('', '        - name: rev\n          value: $(body.after)'), templateYaml(['rev']));
    const created: unknown[] = [];
    const payload: Record<string, any> = { ...pushToDefaultBranch(), installation: { id: 4242 } };

    const report = await deliver(config, async (object) => (created.push(object), { outcome: 'created' }), payload);

    const [run] = created as Array<{ metadata: { labels: Record<string, string>; annotations: Record<string, string> } }>;
    assert.equal(run?.metadata.labels['tekton-bridge/report'], 'open');
    assert.equal(run?.metadata.annotations['tekton-bridge/context'], 'tekton-bridge/ci/t');
    assert.equal(run?.metadata.annotations['tekton-bridge/installation-id'], '4242');
    assert.equal(run?.metadata.annotations['tekton-bridge/commit'], payload.head_commit.id);
    assert.deepEqual(planDeliveryReports(report, options).map((i) => i.kind), ['run']);
  });

  it('a failed creation reports error with the reason; a queued one pending on each run; a duplicate nothing', async () => {
    const config = inlineConfig(listenerYaml('', '        []'), templateYaml([]));
    const failed = await deliver(config, async () => ({ outcome: 'failed', reason: 'the bridge\'s role lacks RBAC', retryable: false }));
    const duplicate = await deliver(config, async () => ({ outcome: 'duplicate' }));
    const queued = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
      config,
      secrets: [TEST_SECRET],
      wallClock: Date.now,
      createResource: async () => ({ outcome: 'failed', reason: '503', retryable: true }),
      enqueue: async () => ({ queued: true }),
    });

    const [error] = planDeliveryReports(failed, options);
    assert.equal(error?.kind, 'direct');
    assert.equal(error?.kind === 'direct' && error.report.state, 'error');
    assert.match(error?.kind === 'direct' ? error.report.description : '', /^Not created: PipelineRun ci\/echo-run-\w+ was not created: the bridge's role lacks RBAC/);
    assert.deepEqual(planDeliveryReports(duplicate, options), []);
    const [pending] = planDeliveryReports(queued, options);
    assert.equal(pending?.kind === 'direct' && pending.report.state, 'pending');
    assert.match(pending?.kind === 'direct' ? pending.report.detailsUrl ?? '' : '', /^https:\/\/d\/ci\/echo-run-/);
  });

  it('a skipped trigger reports success only when its EventListener opts in with tekton-bridge/report-skipped', async () => {
    const skip = celFilter("body.ref == 'refs/heads/never'");
    const quiet = inlineConfig(listenerYaml(skip, '        []'), templateYaml([]));
    const optedIn = inlineConfig(listenerYaml(skip, '        []', '    tekton-bridge/report-skipped: "true"'), templateYaml([]));
    const none = async (): Promise<never> => assert.fail('nothing is created');

    const quietReport = await deliver(quiet, none);
    const optedReport = await deliver(optedIn, none);
    const plan = planDeliveryReports(optedReport, { ...options, reportSkipped: optedIn.eventListeners[0]?.reportSkipped === true });

    assert.equal(quiet.eventListeners[0]?.reportSkipped, false);
    assert.deepEqual(planDeliveryReports(quietReport, options), []);
    assert.equal(plan.length, 1);
    assert.equal(plan[0]?.kind === 'direct' && plan[0].report.state, 'success');
    assert.match(plan[0]?.kind === 'direct' ? plan[0].report.description : '', /^Skipped: CEL filter/);
    assert.throws(() => inlineConfig(listenerYaml(skip, '        []', '    tekton-bridge/report-skipped: "yes"'), templateYaml([])), /report-skipped.*expected "true" or "false"/);
  });
});

import { createRunVerifier } from '../../functions/adapters/run-verifier.ts';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { runSigningKey, signRun } from '../../functions/core/run-signature.ts';
import { TEST_SECRET } from './deliveries.ts';

export const COMMIT = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

/** Checks run signatures as the bridge does with the webhook secret TEST_SECRET. */
export const verifyTestRun = createRunVerifier({ current: async () => [TEST_SECRET] });

/**
 * A PipelineRun as the bridge renders one for a push: the report label and the annotations the reporter reads, signed
 * with a key derived from TEST_SECRET (`unsigned`: as anyone else could create it).
 */
export function renderedRun(
  name: string,
  overrides: { installationId?: string; labels?: Record<string, string>; annotations?: Record<string, string>; unsigned?: boolean } = {},
): KubernetesObject {
  const run: KubernetesObject = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      name,
      namespace: 'ci',
      labels: {
        'triggers.tekton.dev/eventlistener': 'github-push',
        'triggers.tekton.dev/trigger': 'default-branch',
        'tekton-bridge/report': 'open',
        ...overrides.labels,
      },
      annotations: {
        'tekton-bridge/repository': 'Codertocat/Hello-World',
        'tekton-bridge/commit': COMMIT,
        'tekton-bridge/context': 'tekton-bridge/github-push/default-branch',
        ...(overrides.installationId !== undefined && { 'tekton-bridge/installation-id': overrides.installationId }),
        ...overrides.annotations,
      },
    },
    spec: { pipelineRef: { name: 'build-and-deploy' } },
  };
  return overrides.unsigned ? run : signRun(run, runSigningKey(TEST_SECRET));
}

/** What Tekton's controller writes through the status subresource. */
export const RUNNING = { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running', message: 'Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0' }] };
export const SUCCEEDED = { conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', message: 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0' }] };
export const FAILED = { conditions: [{ type: 'Succeeded', status: 'False', reason: 'Failed', message: 'Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1' }] };
export const TIMED_OUT = { conditions: [{ type: 'Succeeded', status: 'False', reason: 'PipelineRunTimeout', message: 'PipelineRun "x" failed to finish within "1h0m0s"' }] };

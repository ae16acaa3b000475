import type { KubernetesObject } from '../../functions/core/delivery-types.ts';

export const COMMIT = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

/** A PipelineRun as the bridge renders one for a push: the report label and the annotations the reporter reads. */
export function renderedRun(name: string, overrides: { installationId?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): KubernetesObject {
  return {
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
}

/** What Tekton's controller writes through the status subresource. */
export const RUNNING = { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running', message: 'Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0' }] };
export const SUCCEEDED = { conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', message: 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0' }] };
export const FAILED = { conditions: [{ type: 'Succeeded', status: 'False', reason: 'Failed', message: 'Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1' }] };
export const TIMED_OUT = { conditions: [{ type: 'Succeeded', status: 'False', reason: 'PipelineRunTimeout', message: 'PipelineRun "x" failed to finish within "1h0m0s"' }] };

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readRunStanding } from '../../../functions/core/reporting/run-state.ts';

// Conditions as Tekton Pipelines sets them (reasons from pkg/apis/pipeline/v1 pipelinerun_types.go and taskrun_types.go).
const rows: Array<[string, unknown, string]> = [
  ['no status yet', undefined, 'pending'],
  ['PipelineRunPending', { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'PipelineRunPending' }] }, 'pending'],
  ['Started', { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Started' }] }, 'running'],
  ['Running', { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }] }, 'running'],
  ['ResolvingPipelineRef', { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'ResolvingPipelineRef' }] }, 'running'],
  ['CancelledRunningFinally (still running finally tasks)', { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'CancelledRunningFinally' }] }, 'running'],
  ['Succeeded', { conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }] }, 'success'],
  ['Completed (some tasks skipped)', { conditions: [{ type: 'Succeeded', status: 'True', reason: 'Completed' }] }, 'success'],
  ['Failed', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'Failed' }] }, 'failure'],
  ['CouldntGetPipeline', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'CouldntGetPipeline' }] }, 'failure'],
  ['Cancelled', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'Cancelled' }] }, 'cancelled'],
  ['TaskRunCancelled', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'TaskRunCancelled' }] }, 'cancelled'],
  ['v1beta1 PipelineRunCancelled', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'PipelineRunCancelled' }] }, 'cancelled'],
  ['PipelineRunTimeout', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'PipelineRunTimeout' }] }, 'timed-out'],
  ['TaskRunTimeout', { conditions: [{ type: 'Succeeded', status: 'False', reason: 'TaskRunTimeout' }] }, 'timed-out'],
  ['another condition type only', { conditions: [{ type: 'Ready', status: 'True' }] }, 'pending'],
  ['conditions not a list', { conditions: 'yes' }, 'pending'],
];

describe('readRunStanding', () => {
  for (const [name, status, expected] of rows) {
    it(`${name} → ${expected}`, () => {
      assert.equal(readRunStanding({ status }).state, expected);
    });
  }

  it('keeps the condition message, trimmed, for the description', () => {
    const standing = readRunStanding({ status: { conditions: [{ type: 'Succeeded', status: 'False', reason: 'Failed', message: '  Tasks Completed: 2 (Failed: 1) ' }] } });
    assert.deepEqual(standing, { state: 'failure', reason: 'Failed', message: 'Tasks Completed: 2 (Failed: 1)' });
  });
});

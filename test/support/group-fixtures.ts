import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { joinGroup } from '../../functions/core/concurrency/group-annotations.ts';
import { runSigningKey, signRun } from '../../functions/core/run-signature.ts';
import { TEST_SECRET } from './deliveries.ts';
import type { KubeApiServer, StoredObject } from './kube-api-server.ts';
import { renderedRun } from './report-fixtures.ts';

/** Push times in these tests: seconds after this moment. */
export const PUSHED_FROM = Date.parse('2026-06-01T12:00:00Z');

/**
 * A run of a concurrency group as the bridge renders one for a push `push` seconds after PUSHED_FROM: waiting,
 * labelled, ordered, and signed with TEST_SECRET's key (`unsigned`: as anyone else could make one).
 */
export function groupRun(name: string, options: { push: number; settings?: Record<string, string>; group?: string; unsigned?: boolean; report?: boolean }): KubernetesObject {
  const base = renderedRun(name, { unsigned: true, annotations: { 'tekton-bridge/concurrency-group': options.group ?? 'app-main', ...options.settings } });
  if (options.report === false) delete base.metadata.labels?.['tekton-bridge/report'];
  const joined = joinGroup(base, `${new Date(PUSHED_FROM + options.push * 1000).toISOString()} -`);
  if (!joined.ok) throw new Error(joined.reason);
  return options.unsigned ? joined.object : signRun(joined.object, runSigningKey(TEST_SECRET));
}

/** The runs of group `group` that are running now: started (no spec.status) and not finished. */
export function runningIn(api: KubeApiServer, group = 'app-main'): StoredObject[] {
  return api.live().filter((run) => run.metadata.annotations?.['tekton-bridge/concurrency-group'] === group && isRunning(run));
}

export function isRunning(run: StoredObject): boolean {
  const spec = (run.spec ?? {}) as { status?: string };
  const condition = ((run.status ?? {}) as { conditions?: Array<{ type: string; status: string }> }).conditions?.find((c) => c.type === 'Succeeded');
  return spec.status === undefined && condition?.status !== 'True' && condition?.status !== 'False';
}

import assert from 'node:assert/strict';
import type { Answer } from '../../functions/core/delivery-types.ts';

/** The statuses the outside contract lets a delivery be answered with. */
export const CONTRACT_STATUSES = [200, 202, 400, 401, 403, 404, 413, 415, 503];
const OUTCOMES = ['created', 'skipped', 'duplicate', 'queued', 'failed'];

/** Asserts an answer is one the contract allows: a status of its table and the body shape that goes with it. */
export function assertContractAnswer(answer: Answer): void {
  const { status, body } = answer;
  assert.ok(CONTRACT_STATUSES.includes(status), `status ${status} is not in the contract`);
  assert.equal(typeof body, 'object');
  for (const key of ['deliveryId', 'event', 'eventListener', 'error', 'zen'] as const) {
    assert.ok(body[key] === undefined || typeof body[key] === 'string', `${key} is a string when present`);
  }
  if (body.error !== undefined) {
    assert.ok(status >= 400, 'an error comes with a 4xx or 5xx');
    assert.ok(body.error.length > 0 && body.error.length < 2000, 'a sentence, not a dump');
    assert.equal(body.results, undefined);
    return;
  }
  if (body.pong) {
    assert.equal(status, 200);
    return;
  }
  assert.ok(Array.isArray(body.results), `a ${status} without an error has results`);
  for (const result of body.results ?? []) {
    assert.equal(typeof result.trigger, 'string');
    assert.ok(OUTCOMES.includes(result.outcome), `outcome ${result.outcome}`);
    if (result.outcome !== 'created') assert.equal(typeof result.reason, 'string', `a ${result.outcome} result says why`);
    for (const ref of result.resources ?? []) for (const key of ['apiVersion', 'kind', 'namespace', 'name'] as const) assert.equal(typeof ref[key], 'string');
  }
  const outcomes = new Set((body.results ?? []).map((r) => r.outcome));
  const expected = outcomes.has('created') || outcomes.has('queued') ? 202 : outcomes.has('failed') ? 503 : 200;
  assert.equal(status, expected, `status ${status} for outcomes ${[...outcomes].join(', ')}`);
}

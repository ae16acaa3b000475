import { createCelFeatureModules } from '../../functions/adapters/cel-feature-modules.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { summarizeDelivery } from '../../functions/core/delivery-summary.ts';
import { ConfigError } from '../../functions/core/errors.ts';
import { evaluateTriggers, type TriggerDecision } from '../../functions/core/evaluate-triggers.ts';
import { decodeOwnersFile } from '../../functions/core/interceptors/github-owners.ts';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { loadTriggersConfig } from '../../functions/core/load-triggers-config.ts';
import { lookupKey, plannedGithubLookups, type GithubLookup, type GithubLookupAnswer, type GithubLookups } from '../../functions/core/interceptors/github-lookups.ts';
import { LABELS } from '../../functions/core/render-resources.ts';
import type { TriggersConfig } from '../../functions/core/triggers-config.ts';

// Tekton Triggers' own examples, and what Tekton creates for them: see test/fixtures/tekton-examples/cases.yaml.

const DIR = 'test/fixtures/tekton-examples';
const EVENT_ID = 'tekton-event-id';

interface Expected {
  trigger: string;
  serviceAccount?: string;
  creates?: KubernetesObject[];
  skipped?: string;
  failed?: string;
}

interface Case {
  name: string;
  files: string[];
  warnings?: string[];
  refused?: string;
  deliveries?: { event: string; contentType?: string; body: unknown; github?: GithubFixture; results: Expected[] }[];
}

/** What GitHub's API holds for a delivery, as the test server would: its answers to the github interceptor. */
interface GithubFixture {
  pullRequestFiles?: Record<string, string[]>;
  ownersFiles?: Record<string, string>;
  /** GitHub answers nothing but this. */
  down?: string;
}

function githubAnswers(listener: TriggersConfig['eventListeners'][number], event: string, body: unknown, fixture: GithubFixture = {}): GithubLookups {
  const yaml = createCelFeatureModules().yaml();
  const answer = (lookup: GithubLookup): GithubLookupAnswer => {
    const repository = `${lookup.repository.owner}/${lookup.repository.repo}`;
    if (fixture.down) return { ok: false, reason: fixture.down };
    if (lookup.kind === 'pull-request-files') return { ok: true, kind: lookup.kind, files: fixture.pullRequestFiles?.[`${repository}#${lookup.number}`] ?? [] };
    if (lookup.kind === 'owners-file') {
      const text = fixture.ownersFiles?.[repository];
      const owners = text === undefined ? undefined : decodeOwnersFile(yaml, text);
      if (owners && 'error' in owners) return { ok: false, reason: owners.error };
      return { ok: true, kind: lookup.kind, owners };
    }
    return { ok: true, kind: lookup.kind, member: false };
  };
  return new Map(plannedGithubLookups(listener, event, body).lookups.map((lookup) => [lookupKey(lookup), answer(lookup)]));
}

const { cases } = parse(readFileSync(join(DIR, 'cases.yaml'), 'utf8'), { maxAliasCount: -1 }) as { cases: Case[] };

function load(files: readonly string[]): TriggersConfig {
  return loadTriggersConfig(files.map((file) => ({ file, text: readFileSync(join(DIR, file), 'utf8') })), { celModules: createCelFeatureModules() });
}

/**
 * The bridge's object as Tekton would have sent it: its deterministic name back to the generateName it came from,
 * the annotations and the label only the bridge adds left out. (The event id is the delivery id in the bridge, Tekton's own UUID
 * in Tekton; both are the `triggers-eventid` label.)
 */
function asTektonSends(object: KubernetesObject, generateName: string | undefined): KubernetesObject {
  const { name, annotations, labels, ...rest } = object.metadata;
  const bridgeOnly = Object.keys(annotations ?? {}).every((key) => key.startsWith('tekton-bridge/'));
  // The bridge's own label (reporting to GitHub) is no part of what Tekton sends.
  const metadata = { ...rest, labels: Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => !key.startsWith('tekton-bridge/'))) };
  if (generateName !== undefined) assert.match(name, new RegExp(`^${generateName}[bcdfghjklmnpqrstvwxz2456789]{10}$`));
  return {
    ...object,
    metadata: {
      ...(generateName === undefined ? { name } : { generateName }),
      ...metadata,
      ...(bridgeOnly ? {} : { annotations }),
    } as KubernetesObject['metadata'],
  };
}

function expectedObject(object: KubernetesObject, listener: string, trigger: string): KubernetesObject {
  const labels = { ...(object.metadata.labels ?? {}), [LABELS.eventListener]: listener, [LABELS.trigger]: trigger, [LABELS.eventId]: EVENT_ID };
  return { ...object, metadata: { ...object.metadata, labels } };
}

function compare(decision: TriggerDecision | undefined, expected: Expected, listener: string): void {
  assert.equal(decision?.trigger, expected.trigger);
  if (expected.skipped !== undefined || expected.failed !== undefined) {
    assert.equal(decision?.outcome, expected.skipped !== undefined ? 'skipped' : 'failed', decision && 'reason' in decision ? decision.reason : '');
    assert.ok(decision && 'reason' in decision && decision.reason.includes((expected.skipped ?? expected.failed) as string), decision && 'reason' in decision ? decision.reason : '');
    return;
  }
  assert.equal(decision?.outcome, 'render', decision && 'reason' in decision ? decision.reason : '');
  if (decision?.outcome !== 'render') return;
  const account = decision.serviceAccount && `${decision.serviceAccount.namespace}/${decision.serviceAccount.name}`;
  assert.equal(account, expected.serviceAccount);
  const want = (expected.creates ?? []).map((object) => expectedObject(object, listener, expected.trigger));
  const got = decision.resources.map((object, i) => asTektonSends(object, want[i]?.metadata.generateName as string | undefined));
  assert.deepEqual(got, want);
}

describe("Tekton Triggers' examples: check, and what they create", () => {
  for (const example of cases) {
    it(example.name, () => {
      if (example.refused !== undefined) {
        assert.throws(() => load(example.files), (error) => error instanceof ConfigError && error.message.includes(example.refused as string));
        return;
      }
      const config = load(example.files);
      const warnings = config.warnings.map((w) => w.message);
      for (const warning of example.warnings ?? []) assert.ok(warnings.some((w) => w.includes(warning)), `no warning "${warning}" in:\n${warnings.join('\n')}`);
      assert.equal(warnings.length, (example.warnings ?? []).length, warnings.join('\n'));
      const [listener] = config.eventListeners;
      assert.ok(listener);
      for (const delivery of example.deliveries ?? []) {
        const headers = { 'content-type': delivery.contentType ?? 'application/json', 'x-github-event': delivery.event, 'x-github-delivery': EVENT_ID };
        const github = githubAnswers(listener, delivery.event, delivery.body, delivery.github);
        const decisions = evaluateTriggers({ listener, deliveryId: EVENT_ID, event: delivery.event, headers, payload: delivery.body, summary: summarizeDelivery(delivery.body), github });
        assert.equal(decisions.length, delivery.results.length);
        delivery.results.forEach((expected, i) => compare(decisions[i], expected, listener.name));
      }
    });
  }
});

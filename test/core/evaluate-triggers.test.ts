import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateTriggers, type TriggerDecision } from '../../functions/core/evaluate-triggers.ts';
import { summarizeDelivery } from '../../functions/core/delivery-summary.ts';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { bodyDigestOf } from '../../functions/core/resource-names.ts';
import { inlineConfig, listenerYaml, templateYaml, withOldEscape } from '../support/inline-config.ts';
import { deletedRef, githubExample, pushToDefaultBranch, tagPush } from '../support/github-examples.ts';

function evaluate(config: ReturnType<typeof inlineConfig>, payload: unknown, event = 'push', headers: Record<string, string> = {}, deliveryId = 'delivery-1'): TriggerDecision[] {
  const listener = config.eventListeners[0];
  assert.ok(listener);
  const lowerCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return evaluateTriggers({ listener, deliveryId, event, headers: { 'x-github-event': event, ...lowerCased }, payload, summary: summarizeDelivery(payload) });
}

function rendered(decisions: TriggerDecision[]): KubernetesObject[] {
  const [decision] = decisions;
  assert.equal(decision?.outcome, 'render', decision && 'reason' in decision ? decision.reason : '');
  return decision.outcome === 'render' ? decision.resources : [];
}

function paramValues(object: KubernetesObject | undefined): Record<string, unknown> {
  const params = (object?.spec as { params: { name: string; value: unknown }[] }).params;
  return Object.fromEntries(params.map((p) => [p.name, p.value]));
}

function reasonOf(decisions: TriggerDecision[]): string {
  const [decision] = decisions;
  return decision && decision.outcome !== 'render' ? `${decision.outcome}: ${decision.reason}` : 'render';
}

describe('evaluateTriggers with the default config and real GitHub payloads', () => {
  const config = loadTriggersDirectory('triggers');

  it('renders a PipelineRun for a push to the default branch', () => {
    const push = pushToDefaultBranch();
    const [run] = rendered(evaluate(config, push));
    assert.equal(run?.apiVersion, 'tekton.dev/v1');
    assert.equal(run?.kind, 'PipelineRun');
    assert.equal(run?.metadata.namespace, 'ci');
    assert.match(run?.metadata.name ?? '', /^build-and-deploy-run-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    assert.deepEqual(paramValues(run), { 'repo-url': push.repository.clone_url, revision: push.after, 'repo-name': push.repository.name });
    assert.deepEqual(run?.metadata.labels, {
      'triggers.tekton.dev/eventlistener': 'github-push',
      'triggers.tekton.dev/trigger': 'default-branch',
      'triggers.tekton.dev/triggers-eventid': 'delivery-1',
      'tekton-bridge/report': 'open',
    });
    assert.deepEqual(run?.metadata.annotations, {
      'tekton-bridge/repository': push.repository.full_name,
      'tekton-bridge/ref': push.ref,
      'tekton-bridge/commit': push.head_commit.id,
      'tekton-bridge/body-sha256': bodyDigestOf(JSON.stringify(push)),
      'tekton-bridge/context': 'tekton-bridge/github-push/default-branch',
      'tekton-bridge/installation-id': String(push.installation.id),
    });
    assert.equal((run?.spec as any).taskRunTemplate.serviceAccountName, 'build-bot');
    assert.equal((run?.spec as any).workspaces[0].volumeClaimTemplate.spec.resources.requests.storage, '1Gi');
  });

  it('skips a tag push with the CEL filter as the reason', () => {
    assert.match(reasonOf(evaluate(config, tagPush())), /^skipped: CEL filter is false: body\.ref == 'refs\/heads\/' \+ body\.repository\.default_branch$/);
  });

  it('skips a deleted branch before any interceptor runs', () => {
    assert.match(reasonOf(evaluate(config, deletedRef())), /^skipped: the push deletes refs\/tags\/simple-tag/);
  });

  it('skips an event no trigger handles, naming the event', () => {
    assert.match(reasonOf(evaluate(config, githubExample('issues'), 'issues')), /^skipped: github interceptor: event "issues" is not one of: push$/);
  });

  it('names runs after the signed body, not the delivery id: a replay under any id renders the same name and $(uid)', () => {
    const push = pushToDefaultBranch();
    const first = rendered(evaluate(config, push, 'push', {}, 'a'))[0];
    const replayed = rendered(evaluate(config, push, 'push', {}, 'a-fresh-delivery-id'))[0];
    assert.equal(replayed?.metadata.name, first?.metadata.name);
    assert.equal(replayed?.metadata.labels?.['triggers.tekton.dev/triggers-eventid'], 'a-fresh-delivery-id', 'the label stays the delivery id');
    assert.notEqual(rendered(evaluate(config, pushToDefaultBranch(), 'push', {}, 'a'))[0]?.metadata.name, first?.metadata.name, 'another push, another name');
    const uidConfig = inlineConfig(templateYaml(['v']).replace('generateName: echo-run-', 'name: run-$(uid)'), listenerYaml('', '        - name: v\n          value: $(body.after)'));
    const uidOf = (deliveryId: string, digest: string) =>
      evaluateTriggers({ listener: uidConfig.eventListeners[0]!, deliveryId, event: 'push', headers: {}, payload: push, summary: summarizeDelivery(push), bodyDigest: digest });
    const [one] = uidOf('x', 'a'.repeat(64));
    const [two] = uidOf('y', 'a'.repeat(64));
    const [other] = uidOf('x', 'b'.repeat(64));
    assert.ok(one?.outcome === 'render' && two?.outcome === 'render' && other?.outcome === 'render');
    assert.equal(one.resources[0]?.metadata.name, two.resources[0]?.metadata.name);
    assert.notEqual(one.resources[0]?.metadata.name, other.resources[0]?.metadata.name);
  });
});

describe('push hygiene', () => {
  const config = loadTriggersDirectory('triggers');
  for (const marker of ['[skip ci]', '[ci skip]', '[no ci]', '[skip actions]', '[actions skip]', '[SKIP CI]']) {
    it(`skips a head commit whose message carries ${marker}`, () => {
      const push = pushToDefaultBranch();
      push.head_commit.message = `Fix typo ${marker}\n\nbody`;
      assert.match(reasonOf(evaluate(config, push)), new RegExp(`skip CI with \\${marker.toLowerCase().slice(0, -1)}\\]`));
    });
  }
  it('skips a push whose after is all zeros even without deleted: true', () => {
    const push = pushToDefaultBranch();
    push.after = '0'.repeat(40);
    assert.match(reasonOf(evaluate(config, push)), /deletes/);
  });
  it('can be turned off per EventListener with annotations', () => {
    const off = inlineConfig(
      templateYaml(['revision']),
      listenerYaml('', '        - name: revision\n          value: $(body.after)', '    tekton-bridge/skip-deleted-branches: "false"\n    tekton-bridge/skip-ci-messages: "false"'),
    );
    const push = pushToDefaultBranch();
    push.head_commit.message = 'wip [skip ci]';
    assert.equal(reasonOf(evaluate(off, push)), 'render');
    assert.equal(paramValues(rendered(evaluate(off, deletedRef()))[0]).revision, '0'.repeat(40));
  });
});

describe('bindings', () => {
  // oldEscape: the template carries triggers.tekton.dev/old-escape-quotes, without which Tekton cannot splice JSON into a string.
  const cases: { name: string; value: string; expected: unknown; interceptors?: string; oldEscape?: true }[] = [
    { name: 'nested field', value: '$(body.repository.owner.login)', expected: 'Codertocat' },
    { name: 'array index', value: '$(body.commits[0].id)', expected: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' },
    { name: 'quoted key', value: `$(body['repository']['name'])`, expected: 'Hello-World' },
    { name: 'header, any case', value: '$(header.X-GitHub-Event)', expected: 'push' },
    { name: 'text around expressions', value: 'ref=$(body.ref);sha=$(body.after)', expected: 'ref=refs/heads/master;sha=6113728f27ae82c7b1a177c8d03f9e96e0adf246' },
    { name: 'whole object as JSON, keys sorted', value: '$(body.pusher)', expected: '{"email":"21031067+Codertocat@users.noreply.github.com","name":"Codertocat"}', oldEscape: true },
    { name: 'array as JSON', value: '$(body.commits[0].modified)', expected: '[]' },
    { name: 'number as JSON', value: '$(body.repository.id)', expected: '186853002' },
    { name: 'boolean as JSON', value: '$(body.forced)', expected: 'false' },
    { name: 'null as JSON', value: '$(body.base_ref)', expected: 'null' },
    { name: 'the ${} spelling, which Tekton leaves as written', value: '${body.repository.url}', expected: '${body.repository.url}' },
    { name: 'context.eventID', value: '$(context.eventID)', expected: 'delivery-1' },
    {
      name: 'extensions from a CEL overlay',
      value: '$(extensions.short_sha)',
      expected: '6113728',
      interceptors: '        - cel:\n            overlays:\n              - {key: short_sha, expression: "body.after.truncate(7)"}',
    },
  ];
  for (const { name, value, expected, interceptors, oldEscape } of cases) {
    it(`resolves ${name}: ${value}`, () => {
      const config = inlineConfig(oldEscape ? withOldEscape(templateYaml(['v'])) : templateYaml(['v']), listenerYaml(interceptors ?? '', `        - name: v\n          value: '${value.replaceAll("'", "''")}'`));
      assert.equal(paramValues(rendered(evaluate(config, pushToDefaultBranch(), 'push', { 'X-GitHub-Event': 'push' }))[0]).v, expected);
    });
  }

  it('fails the trigger where Tekton could not splice a JSON object into the template string', () => {
    const config = inlineConfig(templateYaml(['v']), listenerYaml('', '        - name: v\n          value: $(body.pusher)'));
    assert.match(
      reasonOf(evaluate(config, pushToDefaultBranch())),
      /^failed: TriggerTemplate\/echo resourcetemplates\[0\]\.spec\.params\[0\]\.value: the value of \$\(tt\.params\.v\) does not fit inside a JSON string/,
    );
  });

  it('fails the trigger, naming the binding and the missing field, when the payload lacks it and the template has no default', () => {
    const config = inlineConfig(templateYaml(['v']), listenerYaml('', '        - name: v\n          value: $(body.pull_request.head.sha)'));
    assert.equal(
      reasonOf(evaluate(config, pushToDefaultBranch())),
      'failed: binding param "v" (inline) cannot be resolved: $(body.pull_request.head.sha): pull_request is not found, and TriggerTemplate/echo has no default for it',
    );
  });

  it("takes the template param's default for an expression that finds nothing, keeping the text around it", () => {
    const config = inlineConfig(
      templateYaml(['v']).replace('    - name: v', '    - name: v\n      default: main'),
      listenerYaml('', '        - name: v\n          value: sha-$(body.head_commit.id)-$(body.pull_request.head.sha)'),
    );
    assert.equal(paramValues(rendered(evaluate(config, pushToDefaultBranch()))[0]).v, 'sha-6113728f27ae82c7b1a177c8d03f9e96e0adf246-main');
  });

  it('uses template defaults for params no binding sets', () => {
    const config = inlineConfig(
      templateYaml(['v', 'd']).replace('    - name: d', '    - name: d\n      default: fallback'),
      listenerYaml('', '        - name: v\n          value: $(body.after)'),
    );
    assert.equal(paramValues(rendered(evaluate(config, pushToDefaultBranch()))[0]).d, 'fallback');
  });
});

describe('CEL interceptor with the Tekton extensions', () => {
  const run = (filter: string, headers: Record<string, string> = {}, payload: unknown = pushToDefaultBranch()) =>
    reasonOf(evaluate(inlineConfig(templateYaml(['v']), listenerYaml(`        - cel:\n            filter: >-\n              ${filter}`, '        - name: v\n          value: $(body.after)')), payload, 'push', headers));
  const passing = [
    "header.match('X-GitHub-Event', 'push')",
    "header.match('x-github-event', 'push')",
    "header.canonical('X-GitHub-Event') == 'push'",
    "header['X-Github-Event'][0] == 'push'",
    "body.ref.split('/')[2] == 'master'",
    "body.after.truncate(7) == '6113728'",
    "'{\"a\": {\"b\": \"c\"}}'.parseJSON().a.b == 'c'",
    "'https://example.com/x?y=1'.parseURL().host == 'example.com'",
    "'aGVsbG8='.decodeb64() == 'hello'",
    "body.repository.marshalJSON().contains('\"full_name\":\"Codertocat/Hello-World\"')",
    "body.commits.exists(c, c.message.startsWith('Initial'))",
    "body.repository.name in ['Hello-World', 'other']",
  ];
  for (const filter of passing) {
    it(`passes: ${filter}`, () => {
      assert.equal(run(filter, { 'X-GitHub-Event': 'push' }), 'render');
    });
  }
  it('compareSecret compares with the key of the named trigger secret, and fails the trigger when it is missing', () => {
    const filter = "header.canonical('X-Secret-Token').compareSecret('secretToken', 'github-secret')";
    const config = inlineConfig(templateYaml(['v']), listenerYaml(`        - cel:\n            filter: >-\n              ${filter}`, '        - name: v\n          value: $(body.after)'));
    const listener = config.eventListeners[0]!;
    const push = pushToDefaultBranch();
    const withSecrets = (token: string, store: Record<string, Record<string, string>>) =>
      reasonOf(
        evaluateTriggers({
          listener,
          deliveryId: 'd',
          event: 'push',
          headers: { 'x-github-event': 'push', 'x-secret-token': token },
          payload: push,
          summary: summarizeDelivery(push),
          cel: { triggerSecrets: (name: string, key: string) => store[name]?.[key] },
        }),
      );
    assert.equal(withSecrets('s3cret', { 'github-secret': { secretToken: 's3cret' } }), 'render');
    assert.match(withSecrets('nope', { 'github-secret': { secretToken: 's3cret' } }), /CEL filter is false/);
    assert.match(withSecrets('s3cret', { other: { secretToken: 's3cret' } }), /^failed: .*no key "secretToken" in secret "github-secret"/);
    assert.ok(config.cel.usesTriggerSecrets);
  });
  it('skips with the expression when the filter is false', () => {
    assert.equal(run("body.ref == 'refs/heads/docs'"), "skipped: CEL filter is false: body.ref == 'refs/heads/docs'");
  });
  it('skips with the error when the filter cannot be evaluated (a field of another event)', () => {
    assert.match(run('body.pull_request.merged'), /^skipped: CEL filter could not be evaluated \(No such key: pull_request\): body\.pull_request\.merged$/);
  });
  it('skips when the filter is not a bool', () => {
    assert.match(run('body.ref'), /^skipped: CEL filter returned "refs\/heads\/master", not a bool/);
  });
  it('overlays nest dotted keys; a later cel interceptor sees what an earlier one added', () => {
    const config = inlineConfig(
      withOldEscape(templateYaml(['v'])),
      listenerYaml(
        "        - cel:\n            overlays:\n              - {key: git.branch, expression: \"body.ref.split('/')[2]\"}\n        - cel:\n            overlays:\n              - {key: tag, expression: \"extensions.git.branch + '-' + body.after.truncate(4)\"}",
        '        - name: v\n          value: $(extensions.tag)/$(extensions.git)',
      ),
    );
    assert.equal(paramValues(rendered(evaluate(config, pushToDefaultBranch()))[0]).v, 'master-6113/{"branch":"master"}');
  });

  it('an overlay does not see the overlays of its own interceptor, as in Tekton', () => {
    const config = inlineConfig(
      templateYaml(['v']),
      listenerYaml("        - cel:\n            overlays:\n              - {key: a, expression: \"'x'\"}\n              - {key: b, expression: \"extensions.a\"}", '        - name: v\n          value: $(extensions.b)'),
    );
    assert.match(reasonOf(evaluate(config, pushToDefaultBranch())), /^skipped: CEL overlay "b" could not be evaluated \(No such key: a\)/);
  });
});

describe('github interceptor addChangedFiles', () => {
  it("lists each commit's added, modified and removed files in turn, repeats kept, as Tekton does", () => {
    const config = inlineConfig(
      templateYaml(['files']),
      listenerYaml('        - ref: {name: github}\n          params:\n            - {name: addChangedFiles, value: {enabled: true}}', '        - name: files\n          value: $(extensions.changed_files)'),
    );
    const push = pushToDefaultBranch();
    push.commits = [
      { ...push.commits[0], added: ['a.txt'], modified: ['README.md'], removed: [] },
      { ...push.commits[0], added: [], modified: ['README.md', 'src/x.ts'], removed: ['old.txt'] },
    ];
    push.head_commit = push.commits[1];
    assert.equal(paramValues(rendered(evaluate(config, push))[0]).files, 'a.txt,README.md,README.md,src/x.ts,old.txt');
  });
});

describe('payload values stay values', () => {
  const hostile = [
    'x", "kind": "Secret',
    "}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: pwned}\n",
    '\u0000 ☃ 𝄞 \u202e <script>&amp;',
    "'; DROP TABLE runs; --",
    'C:\\path\\to "x" \\u0041 \\',
  ];
  for (const message of hostile) {
    it(`keeps a commit message as one string value: ${JSON.stringify(message).slice(0, 40)}`, () => {
      const config = inlineConfig(templateYaml(['v']), listenerYaml('', '        - name: v\n          value: $(body.head_commit.message)'));
      const push = pushToDefaultBranch();
      push.head_commit.message = message;
      const resources = rendered(evaluate(config, push));
      assert.equal(resources.length, 1);
      assert.equal(resources[0]?.kind, 'PipelineRun');
      assert.equal(paramValues(resources[0]).v, message);
    });
  }

  it('escapes Tekton variables in a value as Tekton does, so none reaches the Pipeline as a variable', () => {
    const config = inlineConfig(templateYaml(['v']), listenerYaml('', '        - name: v\n          value: $(body.head_commit.message)'));
    const push = pushToDefaultBranch();
    push.head_commit.message = '$(tasks.x.results.y) $(tt.params.v) ${body.after} $(uid)';
    const [run] = rendered(evaluate(config, push));
    const uid = /\$([0-9a-f-]{36})$/.exec(String(paramValues(run).v))?.[1];
    assert.ok(uid, String(paramValues(run).v));
    // Tekton replaces $(uid) after the params, inside their escaped values too: $$(uid) leaves one $ before it.
    assert.equal(paramValues(run).v, `$$(tasks.x.results.y) $$(tt.params.v) \${body.after} $${uid}`);
  });

  it('keeps names and label values valid for Kubernetes whatever the branch name holds', () => {
    const extra = '        labels:\n          branch: $(tt.params.v)\n        annotations:\n          branch: $(tt.params.v)';
    const config = inlineConfig(
      templateYaml(['v'], extra).replace('generateName: echo-run-', 'generateName: $(tt.params.v)-'),
      listenerYaml('', "        - name: v\n          value: $(body.ref)"),
    );
    const push = pushToDefaultBranch();
    push.ref = `refs/heads/Feature/ÜBER_"quoted"{braces}\n${'x'.repeat(120)}`;
    const [run] = rendered(evaluate(config, push));
    const name = run?.metadata.name ?? '';
    assert.ok(name.length <= 63, name);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const label = run?.metadata.labels?.branch ?? '';
    assert.ok(label.length <= 63);
    assert.match(label, /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
    assert.equal(run?.metadata.annotations?.branch, push.ref);
  });
});

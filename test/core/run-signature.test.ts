import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRunFacts, RUN_SIGNATURE_ANNOTATION, runSigningKey, signRun, verifyRunSignature } from '../../functions/core/run-signature.ts';
import { renderedRun } from '../support/report-fixtures.ts';

const key = runSigningKey('webhook-secret');
const unsigned = () => renderedRun('build-and-deploy-run-7k2qxbn4wd', { unsigned: true });

describe('run signatures', () => {
  it('a run the bridge signed verifies; its signature is a v1 HMAC-SHA256 under a key derived from the secret', () => {
    // Prepare
    const run = signRun(unsigned(), key);

    // Act
    const verdict = verifyRunSignature(run, [key]);

    // Assess
    assert.deepEqual(verdict, { ok: true });
    assert.match(run.metadata.annotations?.[RUN_SIGNATURE_ANNOTATION] ?? '', /^v1=[0-9a-f]{64}$/);
    assert.notDeepEqual(runSigningKey('webhook-secret'), Buffer.from('webhook-secret'), 'the secret itself is not the key');
    assert.equal(unsigned().metadata.annotations?.[RUN_SIGNATURE_ANNOTATION], undefined, 'signing leaves the object given alone');
  });

  // Each row changes one signed fact after signing, as someone who may patch or create runs could.
  const alterations: { name: string; alter: (run: ReturnType<typeof unsigned>) => void }[] = [
    { name: 'another name (the signature copied onto another run)', alter: (run) => (run.metadata.name = 'build-and-deploy-run-xxxxxxxxxx') },
    { name: 'another namespace', alter: (run) => (run.metadata.namespace = 'apps') },
    { name: 'another kind', alter: (run) => (run.kind = 'TaskRun') },
    { name: 'another repository', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/repository': 'victim/repo' }) },
    { name: 'another commit', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/commit': 'a'.repeat(40) }) },
    { name: 'another context', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/context': 'ci/required-check' }) },
    { name: 'an installation id added', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/installation-id': '42' }) },
    { name: 'another group', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/concurrency-group': 'prod' }) },
    { name: 'cancel-in-progress turned on', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/cancel-in-progress': 'true' }) },
    { name: 'max-keep-runs lowered', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/max-keep-runs': '1' }) },
    { name: 'a newer push order', alter: (run) => (run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/push-order': '2099-01-01T00:00:00.000Z -' }) },
    { name: 'another trigger label', alter: (run) => (run.metadata.labels = { ...run.metadata.labels, 'triggers.tekton.dev/trigger': 'other' }) },
    { name: 'another group label', alter: (run) => (run.metadata.labels = { ...run.metadata.labels, 'tekton-bridge/concurrency-group': 'f'.repeat(40) }) },
  ];
  for (const { name, alter } of alterations) {
    it(`does not verify with ${name}`, () => {
      const run = signRun(unsigned(), key);
      alter(run);
      const verdict = verifyRunSignature(run, [key]);
      assert.equal(verdict.ok, false);
      assert.equal(verdict.ok === false && verdict.mismatch, true);
      assert.match(verdict.ok === false ? verdict.reason : '', /does not verify/);
    });
  }

  it('what the bridge writes while reporting and settling is not signed: the run still verifies', () => {
    const run = signRun(unsigned(), key);
    run.metadata.labels = { ...run.metadata.labels, 'tekton-bridge/report': 'done', 'tekton-bridge/concurrency': 'retired' };
    run.metadata.annotations = { ...run.metadata.annotations, 'tekton-bridge/reported': 'success', 'tekton-bridge/queued': 'waiting', 'tekton-bridge/starting': 'x' };
    run.metadata.resourceVersion = '1234';
    assert.deepEqual(verifyRunSignature(run, [key]), { ok: true });
  });

  it('an absent, malformed or foreign signature is an answer with a reason, never an exception', () => {
    assert.deepEqual(verifyRunSignature(unsigned(), [key]), { ok: false, mismatch: false, reason: 'the run has no tekton-bridge/signature annotation: the bridge did not create it' });
    const garbled = signRun(unsigned(), key);
    garbled.metadata.annotations = { ...garbled.metadata.annotations, [RUN_SIGNATURE_ANNOTATION]: 'v1=nothex' };
    assert.deepEqual(verifyRunSignature(garbled, [key]), { ok: false, mismatch: false, reason: "the run's tekton-bridge/signature annotation is not a signature the bridge makes" });
    const foreign = signRun(unsigned(), runSigningKey('someone-elses-secret'));
    assert.equal(verifyRunSignature(foreign, [key]).ok, false);
    assert.deepEqual(verifyRunSignature(foreign, [key, runSigningKey('someone-elses-secret')]), { ok: true }, 'any of the keys given verifies');
  });

  it('absent and empty facts are told apart, so no value can be shifted into its neighbour', () => {
    const absent = unsigned();
    const empty = unsigned();
    empty.metadata.annotations = { ...empty.metadata.annotations, 'tekton-bridge/installation-id': '' };
    assert.notEqual(canonicalRunFacts(absent), canonicalRunFacts(empty));
    const shifted = unsigned();
    shifted.metadata.annotations = { ...shifted.metadata.annotations, 'tekton-bridge/repository': 'Codertocat/Hello-World","x' };
    assert.equal(JSON.parse(canonicalRunFacts(shifted)).length, JSON.parse(canonicalRunFacts(absent)).length);
  });
});

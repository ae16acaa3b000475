import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../infra/function-bundling.ts';
import { buildBotServiceAccount } from '../../infra/build-identity.ts';
import { bridgeKubernetesGroup } from '../../infra/tekton-bridge.ts';
import { gitCloneRelease } from './git-clone-release.ts';
import { checkRunAgainstPipeline, checkTektonV1, isPinnedImage, pipelineRunsIn, readManifests, type Manifest } from './tekton-rules.ts';

const tektonDir = path.join(projectRoot, 'tekton');
const manifests = readManifests(tektonDir);
const gitCloneInterface = readManifests(path.join(projectRoot, 'test', 'fixtures', 'tekton'));
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.name === name);
  assert.ok(found, `${kind}/${name} in tekton/`);
  return found;
};

describe('tekton/ manifests', () => {
  it('parse, and every object is named and lives in namespace ci (the CDK default), but the deployer’s Role in apps', () => {
    assert.ok(manifests.length >= 10, `${manifests.length} objects`);
    assert.deepEqual(manifests.filter((m) => m.kind === 'Namespace').map((m) => m.name), ['ci', 'apps']);
    for (const m of manifests.filter((m) => m.kind !== 'Namespace')) {
      assert.ok(m.name && m.name !== 'undefined', `${m.file}: ${m.kind} has a name`);
      const expected = m.name === 'app-deployer' ? 'apps' : 'ci';
      assert.equal(m.namespace, expected, `${m.file}: ${m.kind}/${m.name}`);
    }
  });

  it('enforce Pod Security baseline on both namespaces, and warn and audit restricted', () => {
    for (const name of ['ci', 'apps']) {
      assert.deepEqual(
        Object.fromEntries(Object.entries(find('Namespace', name).body.metadata.labels).filter(([key]) => key.startsWith('pod-security.kubernetes.io/'))),
        { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' },
        name,
      );
    }
  });

  it('are Tekton v1 with no v1alpha1/v1beta1 leftovers, PipelineResources or Conditions', () => {
    const tekton = manifests.filter((m) => m.apiVersion.startsWith('tekton.dev'));
    assert.ok(tekton.length >= 4);
    for (const m of tekton) assert.equal(m.apiVersion, 'tekton.dev/v1', `${m.file}: ${m.kind}/${m.name}`);
    assert.deepEqual(manifests.filter((m) => ['PipelineResource', 'Condition', 'ClusterTask'].includes(m.kind)), []);
  });

  it('pass the offline Tekton v1 rules (params, workspaces, results, volumes, pinned images, resolvers)', () => {
    assert.deepEqual(checkTektonV1(manifests, gitCloneInterface), []);
  });

  it('the rules catch what they claim to (a broken copy fails)', () => {
    const pipeline = structuredClone(find('Pipeline', 'build-and-deploy'));
    pipeline.body.spec.tasks[0].taskRef.params[1].value = 'main';
    pipeline.body.spec.tasks[1].params.push({ name: 'no-such-param', value: 'x' });
    pipeline.body.spec.tasks[2].workspaces = [];
    const task = structuredClone(find('Task', 'notify-slack'));
    task.apiVersion = 'tekton.dev/v1beta1';
    task.body.spec.steps[0].image = 'docker.io/curlimages/curl:latest';
    task.body.spec.steps[0].script = '#!/bin/sh\necho $(params.message)\n';
    const broken = [...manifests.filter((m) => m !== find('Pipeline', 'build-and-deploy') && m !== find('Task', 'notify-slack')), pipeline, task];
    const problems = checkTektonV1(broken, gitCloneInterface).join('\n');
    assert.match(problems, /taskRef\.params\.revision: pin a release tag or commit, not "main"/);
    assert.match(problems, /Task build-image has no param "no-such-param"/);
    assert.match(problems, /Task deploy-manifests needs workspace "source"/);
    assert.match(problems, /notify-slack: apiVersion: tekton\.dev\/v1beta1/);
    assert.match(problems, /image: pin a tag or digest/);
    assert.match(problems, /uses \$\(params\.…\) directly/);
  });

  it('clone with the catalog git-clone through the git resolver, pinned to the commit of its v1.7.0 release', () => {
    const fetch = find('Pipeline', 'build-and-deploy').body.spec.tasks.find((t: { name: string }) => t.name === 'fetch-source');
    assert.equal(fetch.taskRef.resolver, 'git');
    const params = Object.fromEntries(fetch.taskRef.params.map((p: { name: string; value: string }) => [p.name, p.value]));
    assert.equal(params.url, 'https://github.com/tektoncd-catalog/git-clone.git');
    assert.equal(params.revision, gitCloneRelease.commit);
    assert.equal(params.pathInRepo, 'task/git-clone/git-clone.yaml');
    assert.deepEqual(fetch.workspaces, [
      { name: 'output', workspace: 'source' },
      { name: 'basic-auth', workspace: 'basic-auth' },
    ]);
  });

  it('build with Kaniko to the ECR repository from build-settings, with no stored registry credentials', () => {
    const task = find('Task', 'build-image');
    const step = task.body.spec.steps[0];
    assert.match(step.image, /kaniko.*@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(step.env, [
      { name: 'IMAGE_REPOSITORY', valueFrom: { configMapKeyRef: { name: 'build-settings', key: 'image-repository' } } },
    ]);
    // Immutable tags: one per build, so a rebuild of the same commit pushes too.
    assert.ok(step.args.includes('--destination=$(IMAGE_REPOSITORY):$(params.revision)-$(context.taskRun.uid)'));
    assert.equal(step.args.filter((a: string) => a.startsWith('--destination=')).length, 1);
    assert.equal(task.body.spec.workspaces.some((w: { name: string }) => /docker|config/.test(w.name)), false, 'no docker config workspace');
    assert.equal(JSON.stringify(manifests).includes('dockerconfigjson'), false);
  });

  it('apply the repository’s k8s/ manifests and notify Slack in finally, from the slack-webhook Secret', () => {
    const pipeline = find('Pipeline', 'build-and-deploy').body.spec;
    assert.deepEqual(pipeline.tasks.map((t: { name: string }) => t.name), ['fetch-source', 'build-image', 'deploy']);
    const deploy = find('Task', 'deploy-manifests').body.spec;
    assert.equal(deploy.params.find((p: { name: string }) => p.name === 'manifests-dir').default, 'k8s');
    assert.equal(deploy.steps[1].command[0], 'kubectl');
    assert.ok(deploy.steps[1].args.includes('apply'));
    assert.deepEqual(pipeline.finally.map((t: { taskRef: { name: string } }) => t.taskRef.name), ['notify-slack']);
    assert.match(pipeline.finally[0].params[0].value, /\$\(tasks\.status\)/);
    const slackEnv = find('Task', 'notify-slack').body.spec.steps[0].env[0];
    assert.deepEqual(slackEnv.valueFrom.secretKeyRef, { name: 'slack-webhook', key: 'url', optional: true });
  });

  it('let the bridge’s group create, read, list, patch and delete PipelineRuns and TaskRuns in ci, and nothing else', () => {
    const role = find('Role', 'tekton-bridge');
    // create and get: creations; list and patch: reporting and concurrency groups; delete: max-keep-runs pruning.
    assert.deepEqual(role.body.rules, [{ apiGroups: ['tekton.dev'], resources: ['pipelineruns', 'taskruns'], verbs: ['create', 'get', 'list', 'patch', 'delete'] }]);
    assert.equal(role.namespace, 'ci');
    const binding = find('RoleBinding', 'tekton-bridge');
    assert.deepEqual(binding.body.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tekton-bridge' });
    // The group the CDK access entry maps the function's IAM role to.
    assert.deepEqual(binding.body.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: bridgeKubernetesGroup }]);
  });

  it('give build-bot no Kubernetes permission, and deploy-bot workloads in apps only: no DaemonSets, Secrets, RBAC or delete (the bridge deletes its own runs only)', () => {
    find('ServiceAccount', buildBotServiceAccount);
    find('ServiceAccount', 'deploy-bot');
    const bindings = manifests.filter((m) => m.kind === 'RoleBinding' || m.kind === 'ClusterRoleBinding');
    assert.equal(bindings.some((b) => JSON.stringify(b.body.subjects).includes(buildBotServiceAccount)), false, 'build-bot is bound to nothing');
    const deployer = find('RoleBinding', 'app-deployer');
    assert.equal(deployer.namespace, 'apps');
    assert.deepEqual(deployer.body.subjects, [{ kind: 'ServiceAccount', name: 'deploy-bot', namespace: 'ci' }]);
    assert.deepEqual(deployer.body.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'app-deployer' });
    const forbidden = ['daemonsets', 'secrets', 'serviceaccounts', 'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings', 'pods/exec', 'nodes', 'persistentvolumes'];
    for (const role of manifests.filter((m) => m.kind === 'Role' || m.kind === 'ClusterRole')) {
      for (const rule of role.body.rules) {
        for (const resource of forbidden) assert.equal(rule.resources.includes(resource), false, `${role.name} must not touch ${resource}`);
        assert.equal(rule.apiGroups.includes('rbac.authorization.k8s.io'), false, `${role.name} touches RBAC`);
        assert.equal([...rule.resources, ...rule.verbs, ...rule.apiGroups].includes('*'), false, `${role.name} has a wildcard`);
        for (const verb of ['deletecollection', 'escalate', 'bind', 'impersonate']) assert.equal(rule.verbs.includes(verb), false, `${role.name} may ${verb}`);
        const deletesRuns = role.name === 'tekton-bridge' && rule.apiGroups.join() === 'tekton.dev' && rule.resources.every((r: string) => r === 'pipelineruns' || r === 'taskruns');
        if (!deletesRuns) assert.equal(rule.verbs.includes('delete'), false, `${role.name} may delete ${rule.resources.join(', ')}`);
      }
    }
    assert.equal(manifests.some((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding'), false, 'namespaced only');
  });

  it('apply the application manifests into apps, never the CI namespace', () => {
    const deploy = find('Task', 'deploy-manifests').body.spec;
    assert.equal(deploy.params.find((p: { name: string }) => p.name === 'namespace').default, 'apps');
    assert.ok(deploy.steps[1].args.includes('--namespace=$(params.namespace)'));
    const pipeline = find('Pipeline', 'build-and-deploy').body.spec;
    assert.equal(pipeline.params.find((p: { name: string }) => p.name === 'app-namespace').default, 'apps');
    assert.deepEqual(pipeline.tasks.find((t: { name: string }) => t.name === 'deploy').params.find((p: { name: string }) => p.name === 'namespace'), { name: 'namespace', value: '$(params.app-namespace)' });
  });

  it('ship a default gp3 StorageClass per provisioner, outside what `kubectl apply -f tekton/` reads', () => {
    assert.equal(readdirSync(tektonDir).some((name) => /storage/i.test(name) && name.endsWith('.yaml')), false);
    const classes = readManifests(path.join(tektonDir, 'storage'));
    assert.deepEqual(classes.map((c) => [c.kind, c.name, c.body.provisioner]).sort(), [
      ['StorageClass', 'gp3', 'ebs.csi.aws.com'],
      ['StorageClass', 'gp3', 'ebs.csi.eks.amazonaws.com'],
    ]);
    for (const { body } of classes) {
      assert.equal(body.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
      assert.deepEqual(body.parameters, { type: 'gp3', encrypted: 'true' });
      assert.equal(body.volumeBindingMode, 'WaitForFirstConsumer');
    }
  });

  it('ask the README for the Tekton Pipelines the pinned git-clone needs', () => {
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    assert.ok(readme.includes(`**Tekton Pipelines** v${gitCloneRelease.pipelinesMinVersion} or newer`), 'README: Tekton Pipelines minimum');
  });

  it('pin every image by tag or digest', () => {
    assert.equal(isPinnedImage('registry.k8s.io/kubectl:v1.33.5'), true);
    assert.equal(isPinnedImage('alpine'), false);
    assert.equal(isPinnedImage('alpine:latest'), false);
  });
});

describe('build-and-deploy against the trigger configuration', () => {
  const pipeline = find('Pipeline', 'build-and-deploy');
  const configs = {
    'triggers/ (the default config)': path.join(projectRoot, 'triggers'),
    'test/fixtures/triggers/valid': path.join(projectRoot, 'test', 'fixtures', 'triggers', 'valid'),
  };

  for (const [name, dir] of Object.entries(configs)) {
    const runs = pipelineRunsIn(readManifests(dir), 'build-and-deploy');

    it(`accepts the PipelineRun ${name} creates: params, workspaces, build-bot, namespace`, () => {
      assert.ok(runs.length >= 1, `${name} creates a build-and-deploy PipelineRun`);
      for (const { context, run } of runs) {
        assert.deepEqual(checkRunAgainstPipeline(run, pipeline, context), []);
        assert.deepEqual(
          run.spec.params.map((p: { name: string }) => p.name).sort(),
          ['repo-name', 'repo-url', 'revision'],
          `${context}: the three params the bridge supplies`,
        );
        assert.ok(run.spec.workspaces.find((w: { name: string }) => w.name === 'source')?.volumeClaimTemplate, `${context}: source from a volumeClaimTemplate`);
        assert.equal(run.spec.taskRunTemplate?.serviceAccountName, buildBotServiceAccount, `${context}: runs as build-bot (Pod Identity pushes to ECR)`);
        if (name.startsWith('triggers/')) {
          assert.deepEqual(run.spec.taskRunSpecs, [{ pipelineTaskName: 'deploy', serviceAccountName: 'deploy-bot' }], `${context}: deploys as deploy-bot, not build-bot`);
        }
        assert.ok([undefined, 'ci'].includes(run.metadata?.namespace), `${context}: namespace ci`);
      }
    });

    it(`lets git-clone write the source volume in the PipelineRun ${name} creates (fsGroup 65532)`, () => {
      assert.ok(runs.length >= 1);
      for (const { context, run } of runs) {
        // The catalog git-clone runs as UID 65532: a fresh volume is root's, so without fsGroup the clone fails.
        assert.equal(
          run.spec.taskRunTemplate?.podTemplate?.securityContext?.fsGroup,
          65532,
          `${context}: set spec.taskRunTemplate.podTemplate.securityContext.fsGroup: 65532 so git-clone (UID 65532) can write the source volume`,
        );
      }
    });
  }
});

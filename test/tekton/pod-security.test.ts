import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../infra/function-bundling.ts';
import { baselineViolations, podsOfRun, restrictedViolations, strictestCommonLevel, strictestLevel, type PodSecurityPod } from './pod-security.ts';
import { pipelineRunsIn, readManifests } from './tekton-rules.ts';

const tekton = readManifests(path.join(projectRoot, 'tekton'));
const gitClone = readManifests(path.join(projectRoot, 'test', 'fixtures', 'tekton')).find((m) => m.name === 'git-clone')!;
const pipeline = tekton.find((m) => m.kind === 'Pipeline' && m.name === 'build-and-deploy')!;
const { run } = pipelineRunsIn(readManifests(path.join(projectRoot, 'triggers')), 'build-and-deploy')[0]!;
const taskOf = (pipelineTask: Record<string, any>) =>
  pipelineTask.taskRef?.resolver === 'git' ? gitClone.body : tekton.find((m) => m.kind === 'Task' && m.name === pipelineTask.taskRef.name)!.body;
const pods = podsOfRun(run, pipeline.body, taskOf);
const pod = (name: string) => pods.find((p) => p.name === name)!;
const namespaceLevel = (name: string) => tekton.find((m) => m.kind === 'Namespace' && m.name === name)!.body.metadata.labels['pod-security.kubernetes.io/enforce'];

describe('Pod Security Standards, measured on the pods of the default PipelineRun', () => {
  it('builds one pod per pipeline task, from the Tasks, the workspaces and the run’s pod template', () => {
    assert.deepEqual(pods.map((p) => p.name), ['fetch-source', 'build-image', 'deploy', 'notify']);
    assert.deepEqual(pod('fetch-source').securityContext, { fsGroup: 65532 });
    assert.deepEqual(pod('build-image').containers.map((c) => c.securityContext), [{ runAsUser: 0 }]);
    assert.ok(pod('deploy').volumes.some((v) => v.emptyDir !== undefined) && pod('deploy').volumes.some((v) => v.persistentVolumeClaim !== undefined));
  });

  it('every pod passes baseline', () => {
    assert.deepEqual(pods.flatMap(baselineViolations), []);
  });

  it('restricted refuses Kaniko (root) and the catalog git-clone (no allowPrivilegeEscalation: false, no drop ALL)', () => {
    const kaniko = restrictedViolations(pod('build-image'));
    assert.ok(kaniko.includes('build-image: containers.build-and-push.securityContext.runAsUser: must not be 0'), kaniko.join('\n'));
    const clone = restrictedViolations(pod('fetch-source'));
    assert.ok(clone.includes('fetch-source: containers.clone.securityContext.allowPrivilegeEscalation: must be false'), clone.join('\n'));
    assert.ok(clone.includes('fetch-source: containers.clone.securityContext.capabilities.drop: must include ALL'), clone.join('\n'));
    // git-clone is non-root already: only what its owner must add keeps it out.
    assert.equal(clone.some((v) => /runAsNonRoot|runAsUser/.test(v)), false, clone.join('\n'));
    assert.equal(strictestLevel(pod('build-image')), 'baseline');
    assert.equal(strictestLevel(pod('fetch-source')), 'baseline');
  });

  it('so the CI namespace enforces exactly baseline, the strictest level all of them pass', () => {
    assert.equal(strictestCommonLevel(pods), 'baseline');
    assert.equal(namespaceLevel('ci'), strictestCommonLevel(pods));
    assert.equal(namespaceLevel('apps'), 'baseline');
  });

  it('the checks catch what each level forbids', () => {
    const clean: PodSecurityPod = {
      name: 'clean',
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 1000 } }],
      volumes: [{ name: 'data', emptyDir: {} }],
    };
    assert.equal(strictestLevel(clean), 'restricted');
    const variants: Array<[string, (p: PodSecurityPod) => void, 'baseline' | 'privileged']> = [
      ['privileged', (p) => (p.containers[0]!.securityContext!.privileged = true), 'privileged'],
      ['hostPath', (p) => p.volumes.push({ name: 'root', hostPath: { path: '/' } }), 'privileged'],
      ['hostNetwork', (p) => (p.hostNetwork = true), 'privileged'],
      ['SYS_ADMIN', (p) => (p.containers[0]!.securityContext!.capabilities.add = ['SYS_ADMIN']), 'privileged'],
      ['a host port', (p) => (p.containers[0]!.ports = [{ hostPort: 80 }]), 'privileged'],
      ['seccomp Unconfined', (p) => (p.securityContext!.seccompProfile = { type: 'Unconfined' }), 'privileged'],
      ['root', (p) => (p.containers[0]!.securityContext!.runAsUser = 0), 'baseline'],
      ['privilege escalation', (p) => (p.containers[0]!.securityContext!.allowPrivilegeEscalation = true), 'baseline'],
      ['no seccomp', (p) => delete p.securityContext!.seccompProfile, 'baseline'],
      ['CHOWN added', (p) => (p.containers[0]!.securityContext!.capabilities.add = ['CHOWN']), 'baseline'],
      ['a nfs volume', (p) => p.volumes.push({ name: 'share', nfs: { server: 'x', path: '/' } }), 'baseline'],
    ];
    for (const [name, change, level] of variants) {
      const changed = structuredClone(clean);
      change(changed);
      assert.equal(strictestLevel(changed), level, name);
    }
  });
});

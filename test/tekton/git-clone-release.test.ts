import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { projectRoot } from '../../infra/function-bundling.ts';
import { gitCloneRelease } from './git-clone-release.ts';
import { readManifests } from './tekton-rules.ts';

// A bare clone of tektoncd-catalog/git-clone, where the machine has one (the project's development machines do).
const catalog = process.env.GIT_CLONE_CATALOG_REPO ?? '/work/.mirror/tektoncd-catalog+git-clone/repo';
const skip = existsSync(catalog) ? false : `no clone of tektoncd-catalog/git-clone at ${catalog}; set GIT_CLONE_CATALOG_REPO to a bare clone to run these`;

describe('the pinned git-clone release, against the catalog repository', { skip }, () => {
  const git = (...args: string[]) => execFileSync('git', ['-C', catalog, ...args], { encoding: 'utf8' }).trim();

  it('is the commit the release tag points at', () => {
    assert.equal(git('rev-parse', `${gitCloneRelease.tag}^{commit}`), gitCloneRelease.commit);
  });

  it('says the Tekton Pipelines minimum recorded beside the pin (and the README, test/tekton/manifests.test.ts)', () => {
    const task = parse(git('show', `${gitCloneRelease.commit}:${gitCloneRelease.pathInRepo}`)) as Record<string, any>;
    assert.equal(task.metadata.annotations['tekton.dev/pipelines.minVersion'], gitCloneRelease.pipelinesMinVersion);
  });

  it('has the interface and the step securityContext the stand-in fixture claims', () => {
    const task = parse(git('show', `${gitCloneRelease.commit}:${gitCloneRelease.pathInRepo}`)) as Record<string, any>;
    const [standIn] = readManifests(path.join(projectRoot, 'test', 'fixtures', 'tekton')).filter((m) => m.name === 'git-clone');
    const spec = standIn!.body.spec;
    for (const param of spec.params) {
      const real = task.spec.params.find((p: { name: string }) => p.name === param.name);
      assert.ok(real, `param ${param.name}`);
      assert.equal(real.default, param.default, `param ${param.name} default`);
    }
    assert.deepEqual(task.spec.params.filter((p: { default?: unknown }) => p.default === undefined).map((p: { name: string }) => p.name), ['url'], 'only url is required');
    assert.deepEqual(
      task.spec.workspaces.map((w: { name: string; optional?: boolean }) => [w.name, w.optional ?? false]),
      spec.workspaces.map((w: { name: string; optional?: boolean }) => [w.name, w.optional ?? false]),
    );
    assert.deepEqual(task.spec.results.map((r: { name: string }) => r.name).sort(), spec.results.map((r: { name: string }) => r.name).sort());
    assert.deepEqual(task.spec.steps.map((s: { securityContext?: unknown }) => s.securityContext), spec.steps.map((s: { securityContext?: unknown }) => s.securityContext));
    assert.equal(task.spec.stepTemplate?.securityContext, undefined);
  });
});

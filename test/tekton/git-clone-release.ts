/** The catalog git-clone release the Pipeline pins, as read from its repository (tektoncd-catalog/git-clone). */
export const gitCloneRelease = {
  tag: 'v1.7.0',
  /** The commit the tag points at: what the git resolver fetches. */
  commit: 'c166e56217829ecc2062059030a8a0fcc0e1a88f',
  pathInRepo: 'task/git-clone/git-clone.yaml',
  /** The Task's `tekton.dev/pipelines.minVersion`: README's Tekton Pipelines minimum. */
  pipelinesMinVersion: '1.0.0',
} as const;

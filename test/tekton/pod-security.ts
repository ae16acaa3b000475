/**
 * The Kubernetes Pod Security Standards' checks (kubernetes.io/docs/concepts/security/pod-security-standards/) over
 * the pods Tekton would run for a PipelineRun, worked out offline from the Tasks: one pod per pipeline task, a
 * container per step, the Task's volumes and the workspaces bound to it, the run's pod template. Tekton's own init
 * containers set no securityContext with its default feature flags, so they add nothing to either level's findings.
 */

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface PodSecurityPod {
  name: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: Record<string, any>;
  containers: Array<{ name: string; securityContext?: Record<string, any>; ports?: Array<{ hostPort?: number }> }>;
  volumes: Array<Record<string, any>>;
}

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** What the baseline level forbids: the known privilege escalations (privileged, host namespaces, hostPath, …). */
export function baselineViolations(pod: PodSecurityPod): string[] {
  const found: string[] = [];
  const at = (where: string, rule: string) => found.push(`${pod.name}: ${where}: ${rule}`);
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (pod[key] === true) at(key, 'host namespaces are forbidden');
  for (const volume of pod.volumes) if (volume.hostPath !== undefined) at(`volumes.${volume.name}`, 'hostPath volumes are forbidden');
  const contexts: Array<[string, Record<string, any> | undefined]> = [
    ['securityContext', pod.securityContext],
    ...pod.containers.map((c) => [`containers.${c.name}.securityContext`, c.securityContext] as [string, Record<string, any> | undefined]),
  ];
  for (const [where, context] of contexts) {
    if (context === undefined) continue;
    if (context.windowsOptions?.hostProcess === true) at(where, 'HostProcess is forbidden');
    if (context.privileged === true) at(where, 'privileged is forbidden');
    for (const capability of context.capabilities?.add ?? []) if (!BASELINE_CAPABILITIES.has(capability)) at(where, `capability ${capability} is beyond the baseline set`);
    if (context.seccompProfile?.type === 'Unconfined') at(where, 'seccomp Unconfined is forbidden');
    if (context.appArmorProfile?.type === 'Unconfined') at(where, 'AppArmor Unconfined is forbidden');
    if (context.seLinuxOptions !== undefined) {
      if (!SELINUX_TYPES.has(context.seLinuxOptions.type ?? '')) at(where, `SELinux type ${context.seLinuxOptions.type} is forbidden`);
      if (context.seLinuxOptions.user !== undefined || context.seLinuxOptions.role !== undefined) at(where, 'SELinux user and role must be unset');
    }
    if (context.procMount !== undefined && context.procMount !== 'Default') at(where, 'procMount must be Default');
    for (const sysctl of context.sysctls ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) at(where, `sysctl ${sysctl.name} is not in the safe set`);
  }
  for (const container of pod.containers) {
    for (const port of container.ports ?? []) if (port.hostPort !== undefined && port.hostPort !== 0) at(`containers.${container.name}.ports`, 'host ports are forbidden');
  }
  return found;
}

/** Baseline's rules and the restricted level's: non-root, no privilege escalation, seccomp, drop ALL, volume types. */
export function restrictedViolations(pod: PodSecurityPod): string[] {
  const found = baselineViolations(pod);
  const at = (where: string, rule: string) => found.push(`${pod.name}: ${where}: ${rule}`);
  for (const volume of pod.volumes) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (type !== undefined && !RESTRICTED_VOLUMES.has(type)) at(`volumes.${volume.name}`, `volume type ${type} is not allowed`);
  }
  const podContext = pod.securityContext ?? {};
  if (podContext.runAsUser === 0) at('securityContext.runAsUser', 'must not be 0');
  for (const container of pod.containers) {
    const where = `containers.${container.name}.securityContext`;
    const context = container.securityContext ?? {};
    if (context.allowPrivilegeEscalation !== false) at(`${where}.allowPrivilegeEscalation`, 'must be false');
    const nonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
    if (nonRoot !== true) at(`${where}.runAsNonRoot`, 'must be true (on the container or the pod)');
    if ((context.runAsUser ?? podContext.runAsUser) === 0) at(`${where}.runAsUser`, 'must not be 0');
    const seccomp = context.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') at(`${where}.seccompProfile`, 'must be RuntimeDefault or Localhost (on the container or the pod)');
    if (!(context.capabilities?.drop ?? []).includes('ALL')) at(`${where}.capabilities.drop`, 'must include ALL');
    for (const capability of context.capabilities?.add ?? []) if (capability !== 'NET_BIND_SERVICE') at(`${where}.capabilities.add`, `${capability} is not allowed`);
  }
  return found;
}

/** The strictest level a pod is admitted under. */
export function strictestLevel(pod: PodSecurityPod): PodSecurityLevel {
  if (restrictedViolations(pod).length === 0) return 'restricted';
  return baselineViolations(pod).length === 0 ? 'baseline' : 'privileged';
}

const ORDER: readonly PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];

/** The strictest level every one of the pods is admitted under: what a namespace running them all can enforce. */
export function strictestCommonLevel(pods: readonly PodSecurityPod[]): PodSecurityLevel {
  return pods.map(strictestLevel).reduce((a, b) => (ORDER.indexOf(a) <= ORDER.indexOf(b) ? a : b), 'restricted');
}

/**
 * The pods of a PipelineRun of `pipeline`: for each pipeline task, its Task's steps (with the Task's stepTemplate
 * securityContext underneath), its volumes, the workspaces bound to it as the run supplies them, the pod template.
 */
export function podsOfRun(run: Record<string, any>, pipeline: Record<string, any>, taskOf: (pipelineTask: Record<string, any>) => Record<string, any>): PodSecurityPod[] {
  const podTemplate = run.spec?.taskRunTemplate?.podTemplate ?? {};
  const runWorkspaces = new Map<string, Record<string, any>>((run.spec?.workspaces ?? []).map((w: Record<string, any>) => [w.name, w]));
  return [...(pipeline.spec.tasks ?? []), ...(pipeline.spec.finally ?? [])].map((pipelineTask: Record<string, any>) => {
    const task = taskOf(pipelineTask);
    const stepTemplate = task.spec.stepTemplate?.securityContext ?? {};
    const volumes = [...(task.spec.volumes ?? [])];
    for (const binding of pipelineTask.workspaces ?? []) {
      const supplied = runWorkspaces.get(binding.workspace);
      if (supplied === undefined) continue;
      if (supplied.volumeClaimTemplate !== undefined) volumes.push({ name: `ws-${binding.name}`, persistentVolumeClaim: { claimName: '(from the template)' } });
      else if (supplied.secret !== undefined) volumes.push({ name: `ws-${binding.name}`, secret: supplied.secret });
      else if (supplied.configMap !== undefined) volumes.push({ name: `ws-${binding.name}`, configMap: supplied.configMap });
      else if (supplied.emptyDir !== undefined) volumes.push({ name: `ws-${binding.name}`, emptyDir: supplied.emptyDir });
      else volumes.push({ name: `ws-${binding.name}`, ...supplied });
    }
    return {
      name: pipelineTask.name,
      ...(podTemplate.hostNetwork !== undefined && { hostNetwork: podTemplate.hostNetwork }),
      ...(podTemplate.securityContext !== undefined && { securityContext: podTemplate.securityContext }),
      containers: (task.spec.steps ?? []).map((step: Record<string, any>) => ({
        name: step.name,
        securityContext: { ...stepTemplate, ...(step.securityContext ?? {}) },
      })),
      volumes,
    };
  });
}

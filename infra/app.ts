// The CDK app: `npx cdk synth -c clusterName=NAME` (cdk.json runs `node infra/app.ts`). The context keys are those of
// infra/bridge-settings.ts (README: "Deploy on AWS"). It refuses to synthesize an invalid trigger configuration, and
// runs the cdk-nag AWS Solutions checks on every synth.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readBridgeSettings } from './bridge-settings.ts';
import { TektonBridgeStack } from './tekton-bridge-stack.ts';
import { WebhookFrontAclStack } from './webhook-front-acl.ts';

// Synthesized explicitly below, and only when everything was built: a configuration error leaves no template behind.
const app = new App({ autoSynth: false });
try {
  const { githubHookCidrs, ...settings } = readBridgeSettings(app.node);
  // The construct loads the trigger configuration itself: an invalid one throws here, naming file, object and field.
  new TektonBridgeStack(app, 'TektonBridge', settings);
  // The web ACL of the optional front: CloudFront's must live in us-east-1, so it is a stack of its own, deployed first.
  if (githubHookCidrs !== undefined) {
    new WebhookFrontAclStack(app, 'TektonBridgeFrontAcl', { stackName: `${settings.stackName}-front-acl`, env: { region: 'us-east-1' }, githubHookCidrs });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
} catch (error) {
  // One readable line instead of a stack trace: these are configuration mistakes, not bugs.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tekton-bridge: ${message}\n`);
  process.exitCode = 1;
}

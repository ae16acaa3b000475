import { Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The controller's service account, as the add-on installs it. */
const controllerServiceAccount = 'ebs-csi-controller-sa';

export interface EbsCsiDriverProps {
  readonly clusterName: string;
  readonly clusterArn: string;
}

/**
 * The Amazon EBS CSI driver add-on with its IAM role through EKS Pod Identity, for clusters that have no volume
 * provisioner (not Auto Mode, which brings its own): each PipelineRun's source workspace is a volume claim, and without a
 * provisioner and a default StorageClass (tekton/storage/) it stays Pending for ever.
 */
export class EbsCsiDriver extends Construct {
  readonly addon: eks.CfnAddon;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EbsCsiDriverProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: `EKS Pod Identity role of kube-system/${controllerServiceAccount} on ${props.clusterName}: the EBS CSI driver manages volumes`,
      assumedBy: new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal('pods.eks.amazonaws.com').withConditions({
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': props.clusterArn,
            'aws:RequestTag/kubernetes-namespace': 'kube-system',
            'aws:RequestTag/kubernetes-service-account': controllerServiceAccount,
          },
        }),
      ),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEBSCSIDriverPolicy')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]',
      reason:
        'AmazonEBSCSIDriverPolicy is the policy the EBS CSI driver documentation names, kept current by AWS as the driver changes; it is scoped by tags to volumes the driver created.',
    });
    this.addon = new eks.CfnAddon(this, 'Addon', {
      clusterName: props.clusterName,
      addonName: 'aws-ebs-csi-driver',
      podIdentityAssociations: [{ serviceAccount: controllerServiceAccount, roleArn: this.role.roleArn }],
    });
  }
}

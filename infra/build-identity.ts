import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The service account the build steps run as (tekton/20-service-accounts.yaml); Kaniko pushes as it. */
export const buildBotServiceAccount = 'build-bot';

export interface BuildIdentityProps {
  readonly clusterName: string;
  readonly clusterArn: string;
  /** The CI namespace: where build-bot lives and the PipelineRuns run. */
  readonly namespace: string;
  /**
   * Associate build-bot with the push role through EKS Pod Identity (default true). There is one association per
   * service account: a second bridge on the same cluster and namespace sets this false and shares the first's.
   */
  readonly createPodIdentityAssociation?: boolean;
}

/**
 * The image registry the pipeline pushes to and the identity it pushes as: an ECR repository with immutable tags
 * (a tag names one build for good; the build task tags each build uniquely, so a rebuild of a commit still pushes),
 * and an IAM role only this cluster's build-bot service account in the CI namespace may take, through Pod Identity.
 */
export class BuildIdentity extends Construct {
  readonly imageRepository: ecr.Repository;
  readonly buildBotRole: iam.Role;
  readonly podIdentityAssociation?: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: BuildIdentityProps) {
    super(scope, id);
    this.imageRepository = new ecr.Repository(this, 'ImageRepository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      // Kept on `cdk destroy`: running workloads still pull from it.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { description: 'Drop untagged images after 14 days', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(14) },
        { description: 'Keep the 500 most recent images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 500 },
      ],
    });

    this.buildBotRole = new iam.Role(this, 'BuildBotRole', {
      description: `EKS Pod Identity role of ${props.namespace}/${buildBotServiceAccount} on ${props.clusterName}: Kaniko pushes to ECR`,
      // Only this cluster's build-bot service account in this namespace may use it.
      assumedBy: new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal('pods.eks.amazonaws.com').withConditions({
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': props.clusterArn,
            'aws:RequestTag/kubernetes-namespace': props.namespace,
            'aws:RequestTag/kubernetes-service-account': buildBotServiceAccount,
          },
        }),
      ),
    });
    const pushPolicy = new iam.Policy(this, 'PushPolicy', {
      roles: [this.buildBotRole],
      statements: [
        new iam.PolicyStatement({ sid: 'RegistryLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'PushToOwnRepository',
          actions: [
            'ecr:BatchCheckLayerAvailability',
            'ecr:BatchGetImage',
            'ecr:CompleteLayerUpload',
            'ecr:GetDownloadUrlForLayer',
            'ecr:InitiateLayerUpload',
            'ecr:PutImage',
            'ecr:UploadLayerPart',
          ],
          resources: [this.imageRepository.repositoryArn],
        }),
      ],
    });
    Validations.of(pushPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken supports no resource-level permissions (it returns a registry login token); every push and pull action is limited to the one repository.',
    });

    if (props.createPodIdentityAssociation !== false) {
      this.podIdentityAssociation = new eks.CfnPodIdentityAssociation(this, 'PodIdentity', {
        clusterName: props.clusterName,
        namespace: props.namespace,
        serviceAccount: buildBotServiceAccount,
        roleArn: this.buildBotRole.roleArn,
      });
    }
  }
}

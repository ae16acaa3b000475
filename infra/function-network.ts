import { Annotations, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { FunctionPlacement } from './bridge-function.ts';

export interface FunctionNetworkProps {
  /** The cluster's VPC. */
  readonly vpcId: string;
  /** Subnets the functions run in: ones that reach the cluster's API endpoint (private subnets of the cluster). */
  readonly subnetIds: readonly string[];
  /** The functions' security groups; default: one made here, outbound HTTPS only. */
  readonly securityGroupIds?: readonly string[];
  /** Gets a 443 ingress rule from each of the functions' groups (EKS: the cluster security group). */
  readonly clusterSecurityGroupId?: string;
  /** Interface endpoints for Secrets Manager, SQS and KMS in those subnets, for subnets without a NAT gateway. */
  readonly createVpcEndpoints?: boolean;
}

/**
 * VPC mode, for clusters whose API endpoint is private or restricted by publicAccessCidrs: the functions run in the
 * cluster's subnets, the cluster security group lets them in on 443, and (without NAT) the AWS APIs they call are
 * reached through interface endpoints. STS needs none: the EKS token is a presigned URL made without a call.
 */
export class FunctionNetwork extends Construct {
  readonly placement: FunctionPlacement;
  readonly endpoints: ec2.InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, props: FunctionNetworkProps) {
    super(scope, id);
    // fromVpcAttributes needs no lookup (synth stays offline); the subnets are named explicitly, so the AZs are never read.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: Fn.getAzs() });
    Annotations.of(vpc).acknowledgeWarning('@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones', 'No construct here selects subnets by AZ');
    const subnets = props.subnetIds.map((subnetId, index) => {
      const subnet = ec2.Subnet.fromSubnetId(this, `Subnet${index}`, subnetId);
      Annotations.of(subnet).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId', 'The functions and endpoints need no route table id');
      return subnet;
    });
    const securityGroups =
      props.securityGroupIds !== undefined && props.securityGroupIds.length > 0
        ? props.securityGroupIds.map((groupId, index) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${index}`, groupId))
        : [this.functionsSecurityGroup(vpc)];
    this.placement = { vpc, vpcSubnets: { subnets }, securityGroups };

    if (props.clusterSecurityGroupId !== undefined) {
      for (const [index, group] of securityGroups.entries()) {
        new ec2.CfnSecurityGroupIngress(this, `ClusterApiFromFunctions${index}`, {
          groupId: props.clusterSecurityGroupId,
          ipProtocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          sourceSecurityGroupId: group.securityGroupId,
          description: 'tekton-bridge functions to the Kubernetes API',
        });
      }
    }

    if (props.createVpcEndpoints === true) {
      const endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc,
        description: 'Interface endpoints the tekton-bridge functions call (HTTPS from their security groups only)',
        allowAllOutbound: false,
      });
      for (const group of securityGroups) endpointGroup.addIngressRule(ec2.Peer.securityGroupId(group.securityGroupId), ec2.Port.tcp(443), 'tekton-bridge functions');
      const services = {
        SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
        Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      };
      for (const [name, service] of Object.entries(services)) {
        this.endpoints.push(
          new ec2.InterfaceVpcEndpoint(this, `${name}Endpoint`, {
            vpc,
            service,
            subnets: { subnets },
            securityGroups: [endpointGroup],
            // Not the whole VPC's CIDR: the group above lets in the functions only.
            open: false,
            // The functions call the regional host names; private DNS makes those resolve to the endpoint.
            privateDnsEnabled: true,
          }),
        );
      }
    }
  }

  private functionsSecurityGroup(vpc: ec2.IVpc): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc,
      description: 'tekton-bridge functions: HTTPS out to the Kubernetes API and AWS APIs, nothing in',
      allowAllOutbound: false,
    });
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the Kubernetes API and AWS APIs');
    return group;
  }
}
